/* buf.c: rap_buf, the growable byte buffer with a hard maximum.  Invariants,
 * asserted where the buffer grows: len <= max, and len < cap (room for the
 * NUL) whenever there is storage. */
#include "rap/buf.h"
#include "rap/assert.h"
#include "rap/err.h"
#include "rap/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rap_buf_init(struct rap_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void rap_buf_cleanup(struct rap_buf *b)
{
	free(b->data);
	rap_buf_init(b, b->max);
}

void rap_buf_reset(struct rap_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

/* Makes room for n more bytes plus the terminating NUL. */
static int buf_reserve(struct rap_buf *b, size_t n)
{
	size_t need, cap;

	RAP_ASSERT(b->len <= b->max && (!b->data || b->len < b->cap));
	if (n > b->max || b->len > b->max - n)
		return RAP_ETOOBIG;
	need = b->len + n + 1;
	if (need <= b->cap)
		return RAP_OK;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > ((size_t)-1) / 2 ? need : cap * 2;
	b->data = rap_realloc(b->data, cap);
	b->cap = cap;
	RAP_ASSERT(b->len + n < b->cap);
	return RAP_OK;
}

int rap_buf_append(struct rap_buf *b, const void *p, size_t n)
{
	int result = buf_reserve(b, n);

	if (result != RAP_OK)
		return result;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return RAP_OK;
}

int rap_buf_appends(struct rap_buf *b, const char *s)
{
	return rap_buf_append(b, s, strlen(s));
}

int rap_buf_vappendf(struct rap_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n, result;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return RAP_EINVAL;
	result = buf_reserve(b, (size_t)n);
	if (result != RAP_OK)
		return result;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return RAP_OK;
}

int rap_buf_appendf(struct rap_buf *b, const char *fmt, ...)
{
	va_list ap;
	int result;

	va_start(ap, fmt);
	result = rap_buf_vappendf(b, fmt, ap);
	va_end(ap);
	return result;
}

char *rap_buf_take(struct rap_buf *b)
{
	char *p = b->data ? b->data : rap_strdup("");

	rap_buf_init(b, b->max);
	return p;
}
