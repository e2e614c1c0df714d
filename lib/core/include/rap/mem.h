#ifndef RAP_MEM_H
#define RAP_MEM_H

#include <stdarg.h>
#include <stddef.h>

/*
 * One out-of-memory policy: these wrappers abort the process when the system
 * is out of memory (as Redis, h2o and Kore do).  Everything else that can be
 * too big has a maximum and fails with RAP_ETOOBIG instead (rap/buf.h).
 */
void *rap_malloc(size_t n);
void *rap_calloc(size_t nmemb, size_t size);
void *rap_realloc(void *p, size_t n);
char *rap_strdup(const char *s);
char *rap_strndup(const char *s, size_t n);
/** Returns a new string formatted like printf; the caller frees it. */
char *rap_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
