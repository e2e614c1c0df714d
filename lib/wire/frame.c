/* frame.c: the frames between a worker and its sandboxed processor
 * (rap/frame.h): a 5-byte header (type, big-endian length), then the
 * payload.  The decoder takes bytes in chunks of any size and hands whole
 * frames to a sink; it never holds more than one frame. */
#include "rap/frame.h"
#include "rap/assert.h"
#include "rap/err.h"
#include "rap/io.h"
#include "rap/mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool rap_frame_type_known(unsigned t)
{
	return t >= RAP_FRAME_START && t <= RAP_FRAME_FAIL;
}

void rap_frame_header(unsigned char out[RAP_FRAME_HEADER], enum rap_frame_type t, uint32_t len)
{
	RAP_ASSERT(len <= RAP_FRAME_MAX);
	out[0] = (unsigned char)t;
	out[1] = (unsigned char)(len >> 24);
	out[2] = (unsigned char)(len >> 16);
	out[3] = (unsigned char)(len >> 8);
	out[4] = (unsigned char)len;
}

void rap_frame_decoder_init(struct rap_frame_decoder *d)
{
	memset(d, 0, sizeof(*d));
}

void rap_frame_decoder_cleanup(struct rap_frame_decoder *d)
{
	free(d->payload);
	memset(d, 0, sizeof(*d));
}

/* The header is whole: checks it and makes room for the payload. */
static int begin_payload(struct rap_frame_decoder *d)
{
	uint32_t len = (uint32_t)d->header[1] << 24 | (uint32_t)d->header[2] << 16 |
		       (uint32_t)d->header[3] << 8 | (uint32_t)d->header[4];

	if (!rap_frame_type_known(d->header[0]) || len > RAP_FRAME_MAX)
		return RAP_EPROTO;
	if (len > d->cap) {
		d->payload = rap_realloc(d->payload, len);
		d->cap = len;
	}
	d->len = len;
	d->have = 0;
	return RAP_OK;
}

/* A frame is whole: hands it over and starts the next. */
static int deliver(struct rap_frame_decoder *d, rap_frame_sink sink, void *ctx)
{
	d->have_header = 0;
	return sink(ctx, (enum rap_frame_type)d->header[0], d->payload, d->len);
}

int rap_frame_feed(struct rap_frame_decoder *d, const void *data, size_t n, rap_frame_sink sink,
		   void *ctx)
{
	const unsigned char *p = data;
	size_t take;
	int result;

	if (d->error)
		return d->error;
	while (n > 0) {
		if (d->have_header < RAP_FRAME_HEADER) {
			take = RAP_FRAME_HEADER - d->have_header;
			take = take < n ? take : n;
			memcpy(d->header + d->have_header, p, take);
			d->have_header += take;
			p += take;
			n -= take;
			if (d->have_header < RAP_FRAME_HEADER)
				break;
			result = begin_payload(d);
			if (result == RAP_OK && d->len == 0)
				result = deliver(d, sink, ctx);
			if (result != RAP_OK)
				goto out_fail;
			continue;
		}
		take = d->len - d->have;
		take = take < n ? take : n;
		memcpy(d->payload + d->have, p, take);
		d->have += (uint32_t)take;
		p += take;
		n -= take;
		if (d->have == d->len) {
			result = deliver(d, sink, ctx);
			if (result != RAP_OK)
				goto out_fail;
		}
	}
	return RAP_OK;

out_fail:
	d->error = result; /* the stream is out of step: it stays refused */
	return result;
}

bool rap_frame_idle(const struct rap_frame_decoder *d)
{
	return d->have_header == 0;
}

int rap_frame_write(int fd, enum rap_frame_type type, const void *payload, uint32_t len)
{
	unsigned char h[RAP_FRAME_HEADER];

	rap_frame_header(h, type, len);
	if (rap_write_all(fd, h, sizeof(h)) != RAP_OK)
		return RAP_EIO;
	return len ? rap_write_all(fd, payload, len) : RAP_OK;
}

bool rap_output_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n <= RAP_MAX_OUTPUT_NAME && name[0] != '.' &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
		       n;
}
