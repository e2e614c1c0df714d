/* trace.c: W3C traceparent parsing, formatting and new ids. */
#include "rap/trace.h"
#include "rap/random.h"
#include "rap/str.h"

#include <stdio.h>
#include <string.h>

static bool lower_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool all_zeros(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != '0')
			return false;
	return true;
}

/* A random id of n bytes as 2n hex digits, never all zeros (invalid). */
static void random_id(char *out, size_t n)
{
	unsigned char raw[16];

	do {
		if (rap_random_cached(raw, n) != 0)
			memset(raw, 1, n); /* no kernel randomness: still valid */
		rap_hex(raw, n, out);
	} while (all_zeros(out, 2 * n));
}

bool rap_trace_parse(const char *v, struct rap_trace *out)
{
	if (!v || strlen(v) != RAP_TRACEPARENT_LEN - 1)
		return false;
	if (strncmp(v, "00-", 3) != 0 || v[35] != '-' || v[52] != '-')
		return false;
	if (!lower_hex(v + 3, 32) || !lower_hex(v + 36, 16) || !lower_hex(v + 53, 2))
		return false;
	if (all_zeros(v + 3, 32) || all_zeros(v + 36, 16))
		return false;
	memcpy(out->trace_id, v + 3, 32);
	out->trace_id[32] = '\0';
	memcpy(out->flags, v + 53, 2);
	out->flags[2] = '\0';
	random_id(out->span_id, 8);
	return true;
}

void rap_trace_start(struct rap_trace *out)
{
	random_id(out->trace_id, 16);
	random_id(out->span_id, 8);
	memcpy(out->flags, "01", 3);
}

void rap_trace_continue(const char *value, struct rap_trace *out)
{
	if (!rap_trace_parse(value, out))
		rap_trace_start(out);
}

void rap_trace_format(const struct rap_trace *t, char out[RAP_TRACEPARENT_LEN])
{
	snprintf(out, RAP_TRACEPARENT_LEN, "00-%.32s-%.16s-%.2s", t->trace_id, t->span_id,
		 t->flags);
}
