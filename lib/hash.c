/* hash.c: SHA-256 of streams. */
#include "rap/hash.h"
#include "rap/util.h"

#include <openssl/evp.h>
#include <stdlib.h>

void rap_sha256_init(struct rap_sha256 *h)
{
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
		abort(); /* only fails when out of memory */
}

void rap_sha256_update(struct rap_sha256 *h, const void *data, size_t len)
{
	EVP_DigestUpdate(h->ctx, data, len);
}

void rap_sha256_final_hex(struct rap_sha256 *h, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;

	EVP_DigestFinal_ex(h->ctx, md, &n);
	rap_hex(md, 32, out);
	rap_sha256_cleanup(h);
}

void rap_sha256_cleanup(struct rap_sha256 *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

void rap_sha256_hex(const void *data, size_t len, char out[65])
{
	struct rap_sha256 h;

	rap_sha256_init(&h);
	rap_sha256_update(&h, data, len);
	rap_sha256_final_hex(&h, out);
}
