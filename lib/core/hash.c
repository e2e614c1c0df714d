/*
 * hash.c: digests of streams.  SHA-256 uses OpenSSL's low-level context
 * (its assembly, and a state that can be saved and restored: a tus upload
 * is hashed across many requests, possibly by several processes); the
 * checksums that clients choose go through EVP.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_CTX: the state we save */
#include "rap/hash.h"
#include "rap/err.h"
#include "rap/mem.h"
#include "rap/str.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const unsigned char state_magic[4] = { 'R', 'S', '2', '1' };

void rap_sha256_init(struct rap_sha256 *h)
{
	h->ctx = rap_malloc(sizeof(SHA256_CTX));
	SHA256_Init(h->ctx);
}

void rap_sha256_update(struct rap_sha256 *h, const void *data, size_t len)
{
	SHA256_Update(h->ctx, data, len);
}

void rap_sha256_final_hex(struct rap_sha256 *h, char out[RAP_SHA256_HEXLEN])
{
	unsigned char md[RAP_SHA256_LEN];

	SHA256_Final(md, h->ctx);
	rap_hex(md, 32, out);
	rap_sha256_cleanup(h);
}

void rap_sha256_cleanup(struct rap_sha256 *h)
{
	free(h->ctx);
	h->ctx = NULL;
}

void rap_sha256_hex(const void *data, size_t len, char out[RAP_SHA256_HEXLEN])
{
	struct rap_sha256 h;

	rap_sha256_init(&h);
	rap_sha256_update(&h, data, len);
	rap_sha256_final_hex(&h, out);
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Layout: magic, h[8], Nl, Nh, num (little-endian words), then the 64
 * bytes of the unfinished block as bytes. */
void rap_sha256_save(const struct rap_sha256 *h, unsigned char out[RAP_SHA256_STATE_LEN])
{
	const SHA256_CTX *c = h->ctx;
	unsigned char *p = out;
	int i;

	memcpy(p, state_magic, 4);
	p += 4;
	for (i = 0; i < 8; i++, p += 4)
		put32(p, c->h[i]);
	put32(p, c->Nl);
	put32(p + 4, c->Nh);
	put32(p + 8, c->num);
	memcpy(p + 12, c->data, 64);
}

int rap_sha256_restore(struct rap_sha256 *h, const void *in, size_t len)
{
	const unsigned char *p = in;
	SHA256_CTX *c;
	int i;

	if (len != RAP_SHA256_STATE_LEN || memcmp(p, state_magic, 4) != 0 ||
	    get32(p + 4 + 40) >= 64)
		return RAP_EINVAL;
	rap_sha256_init(h);
	c = h->ctx;
	p += 4;
	for (i = 0; i < 8; i++, p += 4)
		c->h[i] = get32(p);
	c->Nl = get32(p);
	c->Nh = get32(p + 4);
	c->num = get32(p + 8);
	memcpy(c->data, p + 12, 64);
	return RAP_OK;
}

int rap_digest_init(struct rap_digest *d, const char *algorithm)
{
	const EVP_MD *md = NULL;

	if (strcasecmp(algorithm, "sha1") == 0)
		md = EVP_sha1();
	else if (strcasecmp(algorithm, "md5") == 0)
		md = EVP_md5();
	else if (strcasecmp(algorithm, "sha256") == 0)
		md = EVP_sha256();
	else if (strcasecmp(algorithm, "sha512") == 0)
		md = EVP_sha512();
	if (!md)
		return RAP_EUNSUPPORTED;
	d->ctx = EVP_MD_CTX_new();
	if (!d->ctx || EVP_DigestInit_ex(d->ctx, md, NULL) != 1)
		abort(); /* only fails when out of memory */
	return RAP_OK;
}

void rap_digest_update(struct rap_digest *d, const void *data, size_t len)
{
	EVP_DigestUpdate(d->ctx, data, len);
}

size_t rap_digest_final(struct rap_digest *d, unsigned char out[RAP_DIGEST_MAX])
{
	unsigned int n = 0;

	EVP_DigestFinal_ex(d->ctx, out, &n);
	rap_digest_cleanup(d);
	return n;
}

void rap_digest_cleanup(struct rap_digest *d)
{
	EVP_MD_CTX_free(d->ctx);
	d->ctx = NULL;
}
