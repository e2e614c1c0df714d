/* mem.c: allocation wrappers with one out-of-memory policy. */
#include "rap/mem.h"
#include "rap/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static rap_oom_handler oom_handler;

void rap_mem_set_oom(rap_oom_handler handler)
{
	oom_handler = handler;
}

static void oom(size_t n)
{
	if (oom_handler)
		oom_handler(n);
	fprintf(stderr, "{\"level\":\"fatal\",\"msg\":\"out of memory allocating %zu bytes\"}\n",
		n);
	abort();
}

void *rap_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *rap_calloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		oom(nmemb * size);
	return p;
}

void *rap_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom(n);
	return q;
}

char *rap_strdup(const char *s)
{
	return rap_strndup(s, strlen(s));
}

char *rap_strndup(const char *s, size_t n)
{
	char *p = rap_malloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *rap_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort(); /* a bad format is a bug: there is no message to return */
	p = rap_malloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}
