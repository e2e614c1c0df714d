/* Tests of lib/wire/frame.c: the frames between a worker and its child. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rap/err.h"
#include "rap/frame.h"

#define MAX_SEEN 16

/* What a sink saw: each frame's type and a copy of its payload. */
struct seen {
	int n;
	enum rap_frame_type type[MAX_SEEN];
	unsigned char *data[MAX_SEEN];
	uint32_t len[MAX_SEEN];
	int stop_at; /* the sink fails on this frame (1-based); 0: never */
};

static int record(void *ctx, enum rap_frame_type t, const unsigned char *payload, uint32_t len)
{
	struct seen *s = ctx;

	cr_assert_lt(s->n, MAX_SEEN);
	s->type[s->n] = t;
	s->len[s->n] = len;
	s->data[s->n] = malloc(len + 1);
	if (len)
		memcpy(s->data[s->n], payload, len);
	s->n++;
	return s->stop_at == s->n ? RAP_ECANCELED : RAP_OK;
}

static void seen_cleanup(struct seen *s)
{
	for (int i = 0; i < s->n; i++)
		free(s->data[i]);
}

/* Appends one frame to buf at *off. */
static void put(unsigned char *buf, size_t *off, enum rap_frame_type t, const void *p, uint32_t len)
{
	rap_frame_header(buf + *off, t, len);
	memcpy(buf + *off + RAP_FRAME_HEADER, p, len);
	*off += RAP_FRAME_HEADER + len;
}

Test(frame, header_is_type_and_big_endian_length)
{
	unsigned char h[RAP_FRAME_HEADER];

	rap_frame_header(h, RAP_FRAME_ROW_ERRORS, 0x000f0304);
	cr_assert_eq(h[0], 3);
	cr_assert_eq(h[1], 0);
	cr_assert_eq(h[2], 0x0f);
	cr_assert_eq(h[3], 3);
	cr_assert_eq(h[4], 4);
}

Test(frame, every_type_round_trips_whatever_the_chunk_size)
{
	static const enum rap_frame_type types[] = {
		RAP_FRAME_START,        RAP_FRAME_PROGRESS,    RAP_FRAME_ROW_ERRORS,
		RAP_FRAME_OUTPUT_BEGIN, RAP_FRAME_OUTPUT_DATA, RAP_FRAME_OUTPUT_END,
		RAP_FRAME_RESULT,       RAP_FRAME_FAIL,
	};
	unsigned char buf[4096];
	size_t total = 0, chunk, off;
	char text[64];

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		/* OUTPUT_END carries nothing; the others a payload of their own. */
		int len = types[i] == RAP_FRAME_OUTPUT_END
				  ? 0
				  : snprintf(text, sizeof(text), "{\"frame\":%zu}", i);
		put(buf, &total, types[i], text, (uint32_t)len);
	}
	/* 1 byte at a time, across headers, whole frames, all at once. */
	for (chunk = 1; chunk <= total; chunk = chunk < 7 ? chunk + 1 : chunk * 3) {
		struct rap_frame_decoder d;
		struct seen s = { 0 };

		rap_frame_decoder_init(&d);
		for (off = 0; off < total; off += chunk) {
			size_t n = total - off < chunk ? total - off : chunk;

			cr_assert_eq(rap_frame_feed(&d, buf + off, n, record, &s), RAP_OK);
		}
		cr_assert(rap_frame_idle(&d));
		cr_assert_eq(s.n, 8, "chunks of %zu: %d frames", chunk, s.n);
		for (int i = 0; i < 8; i++) {
			cr_assert_eq(s.type[i], types[i]);
			if (types[i] == RAP_FRAME_OUTPUT_END) {
				cr_assert_eq(s.len[i], 0);
				continue;
			}
			snprintf(text, sizeof(text), "{\"frame\":%d}", i);
			cr_assert_eq(s.len[i], strlen(text));
			cr_assert(memcmp(s.data[i], text, s.len[i]) == 0);
		}
		seen_cleanup(&s);
		rap_frame_decoder_cleanup(&d);
	}
}

Test(frame, a_half_read_frame_is_not_idle)
{
	struct rap_frame_decoder d;
	struct seen s = { 0 };
	unsigned char buf[64];
	size_t total = 0;

	put(buf, &total, RAP_FRAME_RESULT, "{}", 2);
	rap_frame_decoder_init(&d);
	cr_assert(rap_frame_idle(&d));
	cr_assert_eq(rap_frame_feed(&d, buf, 3, record, &s), RAP_OK);
	cr_assert_not(rap_frame_idle(&d), "inside the header");
	cr_assert_eq(rap_frame_feed(&d, buf + 3, 3, record, &s), RAP_OK);
	cr_assert_not(rap_frame_idle(&d), "inside the payload");
	cr_assert_eq(s.n, 0);
	cr_assert_eq(rap_frame_feed(&d, buf + 6, 1, record, &s), RAP_OK);
	cr_assert(rap_frame_idle(&d));
	cr_assert_eq(s.n, 1);
	seen_cleanup(&s);
	rap_frame_decoder_cleanup(&d);
}

Test(frame, the_largest_frame_passes_and_one_byte_more_is_refused)
{
	struct rap_frame_decoder d;
	struct seen s = { 0 };
	unsigned char *big = calloc(1, RAP_FRAME_MAX);
	unsigned char h[RAP_FRAME_HEADER];

	rap_frame_decoder_init(&d);
	rap_frame_header(h, RAP_FRAME_OUTPUT_DATA, RAP_FRAME_MAX);
	cr_assert_eq(rap_frame_feed(&d, h, sizeof(h), record, &s), RAP_OK);
	cr_assert_eq(rap_frame_feed(&d, big, RAP_FRAME_MAX, record, &s), RAP_OK);
	cr_assert_eq(s.n, 1);
	cr_assert_eq(s.len[0], RAP_FRAME_MAX);
	/* A length over the maximum is refused from its header alone. */
	h[0] = RAP_FRAME_OUTPUT_DATA;
	h[1] = 0;
	h[2] = 0x10;
	h[3] = 0;
	h[4] = 1;
	cr_assert_eq(rap_frame_feed(&d, h, sizeof(h), record, &s), RAP_EPROTO);
	cr_assert_eq(s.n, 1);
	/* The stream is out of step from there on. */
	cr_assert_eq(rap_frame_feed(&d, "\x07\0\0\0\0", 5, record, &s), RAP_EPROTO);
	seen_cleanup(&s);
	rap_frame_decoder_cleanup(&d);
	free(big);
}

Test(frame, an_unknown_type_is_a_protocol_error)
{
	struct rap_frame_decoder d;
	struct seen s = { 0 };

	rap_frame_decoder_init(&d);
	cr_assert_eq(rap_frame_feed(&d, "\x09\0\0\0\0", 5, record, &s), RAP_EPROTO);
	cr_assert_eq(rap_frame_feed(&d, "\x00\0\0\0\0", 5, record, &s), RAP_EPROTO);
	rap_frame_decoder_cleanup(&d);
	rap_frame_decoder_init(&d);
	cr_assert_eq(rap_frame_feed(&d, "\x00\0\0\0\0", 5, record, &s), RAP_EPROTO);
	cr_assert_eq(s.n, 0);
	cr_assert_not(rap_frame_type_known(0));
	cr_assert_not(rap_frame_type_known(9));
	cr_assert(rap_frame_type_known(RAP_FRAME_START));
	cr_assert(rap_frame_type_known(RAP_FRAME_FAIL));
	rap_frame_decoder_cleanup(&d);
}

Test(frame, the_sinks_error_stops_the_decoder)
{
	struct rap_frame_decoder d;
	struct seen s = { .stop_at = 2 };
	unsigned char buf[64];
	size_t total = 0;

	put(buf, &total, RAP_FRAME_PROGRESS, "{}", 2);
	put(buf, &total, RAP_FRAME_PROGRESS, "{}", 2);
	put(buf, &total, RAP_FRAME_RESULT, "{}", 2);
	rap_frame_decoder_init(&d);
	cr_assert_eq(rap_frame_feed(&d, buf, total, record, &s), RAP_ECANCELED);
	cr_assert_eq(s.n, 2, "nothing after the frame the sink refused");
	seen_cleanup(&s);
	rap_frame_decoder_cleanup(&d);
}
