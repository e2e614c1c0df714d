#ifndef RAP_TUS_HEADER_H
#define RAP_TUS_HEADER_H

#include <stddef.h>

#include "rap/hash.h"
#include "rap/uuid.h"

/*
 * tus 1.0 resumable uploads (https://tus.io/protocols/resumable-upload):
 * the protocol's constants and header grammar, pure functions over header
 * text that the server (upload-api) and the client (rap) share.
 */
#define RAP_TUS_VERSION "1.0.0"
#define RAP_TUS_EXTENSIONS                                                                         \
	"creation,creation-with-upload,creation-defer-length,"                                     \
	"termination,checksum,expiration,concatenation"
#define RAP_TUS_CHECKSUMS "sha1,md5,sha256,sha512"
#define RAP_TUS_METADATA_MAX 4096 /* bytes of Upload-Metadata accepted */
#define RAP_TUS_CONCAT_MAX 64     /* partial uploads in one final upload */
#define RAP_TUS_CHECKSUM_MISMATCH 460
#define RAP_TUS_ALGO_LEN 16 /* an Upload-Checksum algorithm name and the NUL */

/**
 * Checks an Upload-Metadata header ("key base64,key base64,key", keys
 * unique printable ASCII, every decoded value valid UTF-8 without NUL) and
 * copies the decoded value of key into out (len bytes, NUL-terminated; ""
 * when the key is absent or has no value; longer than len - 1 is refused).
 * RAP_EINVAL with a reason in err when the header is malformed.
 */
int rap_tus_metadata_get(const char *meta, const char *key, char *out, size_t len, char *err);

/** Splits "Upload-Checksum: <algorithm> <base64>"; the algorithm (not
 *  checked here) goes to algo, the digest to digest / *n.  RAP_EINVAL if
 *  malformed. */
int rap_tus_checksum_parse(const char *h, char algo[RAP_TUS_ALGO_LEN],
			   unsigned char digest[RAP_DIGEST_MAX], size_t *n);

/**
 * Parses "final;<url> <url> ..." (Upload-Concat of a final upload) into the
 * upload ids, the last path segment of each URL, in order: at most max,
 * each a UUID.  RAP_EINVAL with a reason in err otherwise.
 */
int rap_tus_concat_parse(const char *h, char (*ids)[RAP_UUID_STRLEN], unsigned max, unsigned *n,
			 char *err);

#endif
