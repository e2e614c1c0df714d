#ifndef RAP_HASH_H
#define RAP_HASH_H

#include <stddef.h>

/* Streaming SHA-256 over OpenSSL, for hashing bytes as they pass. */

/** A SHA-256 digest: 32 bytes. */
#define RAP_SHA256_LEN 32
/** A SHA-256 digest in hex: 64 digits and the NUL. */
#define RAP_SHA256_HEXLEN 65

struct rap_sha256 {
	void *ctx; /* SHA256_CTX, owned */
};

void rap_sha256_init(struct rap_sha256 *h);
void rap_sha256_update(struct rap_sha256 *h, const void *data, size_t len);
/** Writes the digest as 64 hex digits and a NUL, and releases the context. */
void rap_sha256_final_hex(struct rap_sha256 *h, char out[RAP_SHA256_HEXLEN]);
/** Releases the context without a digest (on error paths); idempotent. */
void rap_sha256_cleanup(struct rap_sha256 *h);
/** One-shot digest of a buffer as hex. */
void rap_sha256_hex(const void *data, size_t len, char out[RAP_SHA256_HEXLEN]);

/*
 * A digest can stop and go on later, in another request or process: the
 * state of an unfinished SHA-256 saves to RAP_SHA256_STATE_LEN portable
 * bytes (tus uploads keep them in PostgreSQL between PATCH requests).
 */
#define RAP_SHA256_STATE_LEN 112
void rap_sha256_save(const struct rap_sha256 *h, unsigned char out[RAP_SHA256_STATE_LEN]);
/** Initialises h from saved bytes; RAP_EINVAL (h untouched) if they are
 *  not a saved state. */
int rap_sha256_restore(struct rap_sha256 *h, const void *in, size_t len);

/*
 * Digests that clients name (tus Upload-Checksum): sha1, md5, sha256 and
 * sha512, case-insensitive.
 */
#define RAP_DIGEST_MAX 64
struct rap_digest {
	void *ctx; /* EVP_MD_CTX, owned */
};

/** RAP_EUNSUPPORTED for an algorithm not in the list above. */
int rap_digest_init(struct rap_digest *d, const char *algorithm);
void rap_digest_update(struct rap_digest *d, const void *data, size_t len);
/** Writes the digest, returns its length and releases the context. */
size_t rap_digest_final(struct rap_digest *d, unsigned char out[RAP_DIGEST_MAX]);
/** Releases the context without a digest; idempotent. */
void rap_digest_cleanup(struct rap_digest *d);

#endif
