#ifndef RAP_HASH_H
#define RAP_HASH_H

#include <stddef.h>

/* Streaming SHA-256 over OpenSSL, for hashing bytes as they pass. */
struct rap_sha256 {
	void *ctx; /* EVP_MD_CTX, owned */
};

void rap_sha256_init(struct rap_sha256 *h);
void rap_sha256_update(struct rap_sha256 *h, const void *data, size_t len);
/** Writes the digest as 64 hex digits and a NUL, and releases the context. */
void rap_sha256_final_hex(struct rap_sha256 *h, char out[65]);
/** Releases the context without a digest (on error paths); idempotent. */
void rap_sha256_cleanup(struct rap_sha256 *h);
/** One-shot digest of a buffer as hex. */
void rap_sha256_hex(const void *data, size_t len, char out[65]);

#endif
