#ifndef RAP_TUS_H
#define RAP_TUS_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "rap/hash.h"

/*
 * tus 1.0 resumable uploads (https://tus.io/protocols/resumable-upload):
 * the protocol's header grammar (this file's first half, pure) and the
 * upload state kept in PostgreSQL (second half, db/migrations/0008_tus.sql).
 */
#define RAP_TUS_VERSION "1.0.0"
#define RAP_TUS_EXTENSIONS "creation,creation-with-upload,creation-defer-length," \
			   "termination,checksum,expiration,concatenation"
#define RAP_TUS_CHECKSUMS "sha1,md5,sha256,sha512"
#define RAP_TUS_METADATA_MAX 4096  /* bytes of Upload-Metadata accepted */
#define RAP_TUS_CONCAT_MAX 64      /* partial uploads in one final upload */
#define RAP_TUS_CHECKSUM_MISMATCH 460

/** Decodes standard base64 (with padding) of len characters into out (cap
 *  bytes); *n is the decoded length.  RAP_EINVAL when malformed,
 *  RAP_ETOOBIG when it does not fit. */
int rap_base64_decode(const char *in, size_t len, unsigned char *out, size_t cap,
		      size_t *n);
/** Encodes n bytes as base64 into out (4 * ceil(n / 3) + 1 bytes). */
void rap_base64_encode(const void *in, size_t n, char *out);

/**
 * Checks an Upload-Metadata header ("key base64,key base64,key", keys
 * unique, without spaces or commas) and copies the decoded value of key
 * into out (len bytes, NUL-terminated; "" when the key is absent or has
 * no value; values with NUL bytes or longer than len - 1 are refused).
 * RAP_EINVAL with a reason in err when the header is malformed.
 */
int rap_tus_metadata_get(const char *meta, const char *key, char *out, size_t len,
			 char *err);

/** Splits "Upload-Checksum: <algorithm> <base64>"; the algorithm (not
 *  checked here) goes to algo, the digest to digest / *n.  RAP_EINVAL if
 *  malformed. */
int rap_tus_checksum_parse(const char *h, char algo[16],
			   unsigned char digest[RAP_DIGEST_MAX], size_t *n);

/**
 * Parses "final;<url> <url> ..." (Upload-Concat of a final upload) into the
 * upload ids, the last path segment of each URL, in order: at most max,
 * each a UUID.  RAP_EINVAL with a reason in err otherwise.
 */
int rap_tus_concat_parse(const char *h, char (*ids)[37], unsigned max, unsigned *n,
			 char *err);

/** An HTTP date (RFC 7231 IMF-fixdate) of t, for Upload-Expires. */
void rap_http_date(time_t t, char out[32]);

/* ---- upload state in PostgreSQL ---- */

struct rap_tus {
	char id[37];
	char object_key[64];
	char state[16];          /* UPLOADING, COMPLETE or ABORTED */
	long long length;        /* -1 while deferred */
	long long offset;
	long long part_size;
	long long tail_len;      /* bytes after the last part (a tail object) */
	char *s3_upload_id;      /* NULL before the first part */
	char **etags;            /* the stored parts, in order */
	unsigned parts;
	unsigned char hash[RAP_SHA256_STATE_LEN]; /* of the bytes in parts */
	bool has_hash;
	char *metadata;
	char *concat;            /* NULL, "partial" or "final;..." */
	char *content_type;
	char *detected_type;     /* NULL until known */
	time_t expires_at;       /* 0 once complete */
	bool expired;
};

/** What creating an upload records. */
struct rap_tus_new {
	const char *id;
	const char *owner;
	const char *object_key;
	const char *filename;     /* sanitized */
	const char *content_type;
	long long length;         /* -1: deferred */
	long long part_size;
	const char *metadata;
	const char *concat;       /* NULL, "partial" or "final;..." */
	int expire_s;
};

/** Records a new UPLOADING upload and its tus state in one transaction. */
int rap_tus_create(PGconn *db, const struct rap_tus_new *n, char *err);

/**
 * Loads the owner's upload id into t (rap_tus_cleanup frees it); owner NULL
 * for any owner's (the sweeper).
 * RAP_ENOENT when there is no such tus upload of the owner's, RAP_ECANCELED
 * when it was terminated (tus answers 410 Gone then).
 */
int rap_tus_load(PGconn *db, const char *owner, const char *id, struct rap_tus *t,
		 char *err);
void rap_tus_cleanup(struct rap_tus *t);

/** Adds an ETag to t's list of stored parts (copied). */
void rap_tus_add_part(struct rap_tus *t, const char *etag);

/**
 * Saves t's progress (offset, length, parts, tail, hash state, detected
 * type) and moves its expiry to expire_s seconds from now.
 */
int rap_tus_save(PGconn *db, const struct rap_tus *t, int expire_s, char *err);

/** Marks the upload COMPLETE with its size and sha256; the tus state keeps
 *  only what HEAD shows. */
int rap_tus_complete(PGconn *db, const struct rap_tus *t, const char *sha256, char *err);

/** Termination or expiry: ABORTED, or (drop) the rows deleted. */
int rap_tus_end(PGconn *db, const char *id, bool drop, char *err);

/**
 * Takes the upload's advisory lock on db's session without waiting:
 * RAP_OK when held, RAP_ECONFLICT when another session holds it.  The lock
 * goes with the session: a killed process never leaves an upload locked.
 */
int rap_tus_lock(PGconn *db, const char *id, char *err);
void rap_tus_unlock(PGconn *db, const char *id);

/** The S3 key of the tail object of t (bytes after its last part). */
void rap_tus_tail_key(const struct rap_tus *t, long long start, char *out, size_t len);

/** Up to max ids of unfinished uploads whose expiry passed (ids[i] has 37
 *  bytes); *n counts them. */
int rap_tus_expired(PGconn *db, char (*ids)[37], unsigned max, unsigned *n, char *err);

#endif
