#ifndef RAP_MEM_H
#define RAP_MEM_H

#include <stdarg.h>
#include <stddef.h>

/*
 * One out-of-memory policy: these wrappers abort the process when the system
 * is out of memory (as Redis, h2o and Kore do).  Everything else that can be
 * too big has a maximum and fails with RAP_ETOOBIG instead (rap/buf.h).
 * A process that must tell its parent why it ends (the sandboxed processor:
 * out of memory is memory_limit, not a crash) installs a handler that runs
 * first.
 */

/** Called with the size that could not be allocated; it should end the
 *  process (the policy aborts when it returns).  Must not allocate. */
typedef void (*rap_oom_handler)(size_t n);

/** Installs handler (NULL: none); call once at start, before threads.  Like
 *  the stop flag it is process-wide, because out of memory is. */
void rap_mem_set_oom(rap_oom_handler handler);

void *rap_malloc(size_t n);
void *rap_calloc(size_t nmemb, size_t size);
void *rap_realloc(void *p, size_t n);
char *rap_strdup(const char *s);
char *rap_strndup(const char *s, size_t n);
/** Returns a new string formatted like printf; the caller frees it. */
char *rap_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
