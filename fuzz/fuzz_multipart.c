/*
 * fuzz_multipart.c: the multipart/form-data parser (lib/wire/multipart.c).
 *
 * Input: a Content-Type value up to the first '\n' (its boundary, when
 * rap_multipart_boundary accepts it, else "XyZzy"), then the body.  The
 * body is fed in pieces whose size the Content-Type line's length picks,
 * so the same body is tried cut at many places.  Checked: the callbacks
 * alternate begin, data..., end; names are bounded; no more data comes out
 * than went in.
 */
#include "fuzz.h"

#include "rap/err.h"
#include "rap/multipart.h"

#include <stdbool.h>

struct fuzz_parts {
	bool in_part;
	unsigned parts;
	size_t data;
	unsigned sum;
};

static int on_begin(void *ctx, const char *name, const char *filename, const char *content_type)
{
	struct fuzz_parts *p = ctx;

	FUZZ_CHECK(!p->in_part);
	FUZZ_CHECK(name != NULL && strlen(name) < 256);
	FUZZ_CHECK(!filename || strlen(filename) < 1024);
	FUZZ_CHECK(!content_type || strlen(content_type) < 256);
	p->in_part = true;
	p->parts++;
	return RAP_OK;
}

static int on_data(void *ctx, const char *data, size_t len)
{
	struct fuzz_parts *p = ctx;

	FUZZ_CHECK(p->in_part);
	FUZZ_CHECK(len > 0);
	/* Every byte is read, as a consumer would (ASan checks each). */
	for (size_t i = 0; i < len; i++)
		p->sum += (unsigned char)data[i];
	p->data += len;
	return RAP_OK;
}

static int on_end(void *ctx)
{
	struct fuzz_parts *p = ctx;

	FUZZ_CHECK(p->in_part);
	p->in_part = false;
	return RAP_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct rap_multipart_cb cb = { on_begin, on_data, on_end };
	const uint8_t *nl = memchr(data, '\n', size);
	size_t hlen = nl ? (size_t)(nl - data) : 0;
	const char *body = nl ? (const char *)nl + 1 : (const char *)data;
	size_t blen = size - (nl ? hlen + 1 : 0), piece = hlen % 17 ? hlen % 17 : blen;
	char boundary[80], *ctype = fuzz_cstr(data, hlen);
	struct fuzz_parts parts = { 0 };
	struct rap_multipart *mp;
	int result = RAP_OK;

	if (rap_multipart_boundary(ctype, boundary, sizeof(boundary)) == RAP_OK)
		FUZZ_CHECK(strlen(boundary) >= 1 && strlen(boundary) <= 70);
	else
		snprintf(boundary, sizeof(boundary), "XyZzy");
	free(ctype);
	mp = rap_multipart_new(boundary, &cb, &parts);
	FUZZ_CHECK(mp != NULL);
	for (size_t off = 0; off < blen && result == RAP_OK; off += piece) {
		size_t n = blen - off < piece ? blen - off : piece;

		result = rap_multipart_feed(mp, body + off, n);
	}
	if (result == RAP_OK)
		result = rap_multipart_finish(mp);
	if (result == RAP_OK) {
		FUZZ_CHECK(rap_multipart_done(mp));
		FUZZ_CHECK(!parts.in_part);
	} else {
		FUZZ_CHECK(result == RAP_EPROTO);
		FUZZ_CHECK(rap_multipart_errmsg(mp)[0] != '\0');
	}
	FUZZ_CHECK(parts.data <= blen);
	rap_multipart_free(mp);
	return 0;
}
