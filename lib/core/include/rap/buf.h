#ifndef RAP_BUF_H
#define RAP_BUF_H

#include <stdarg.h>
#include <stddef.h>

/**
 * A growable byte buffer with a hard maximum (curl's dynbuf).  The data is
 * always NUL-terminated so text can be used as a C string.
 */
struct rap_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};

/** Initialises an empty buffer that may never hold more than max bytes. */
void rap_buf_init(struct rap_buf *b, size_t max);
/** Frees the storage; the buffer may be initialised again. */
void rap_buf_cleanup(struct rap_buf *b);
/** Empties the buffer and keeps its storage. */
void rap_buf_reset(struct rap_buf *b);
/** Appends n bytes; RAP_ETOOBIG (buffer unchanged) past the maximum. */
int rap_buf_append(struct rap_buf *b, const void *p, size_t n);
int rap_buf_appends(struct rap_buf *b, const char *s);
int rap_buf_appendf(struct rap_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int rap_buf_vappendf(struct rap_buf *b, const char *fmt, va_list ap);
/** Takes the data out of the buffer (caller frees it) and empties it. */
char *rap_buf_take(struct rap_buf *b);

#endif
