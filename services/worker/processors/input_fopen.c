/*
 * input_fopen.c: fopen for libraries that only open a path, inside the
 * sandbox.  libfreexl 1.0.6 reads a workbook with fopen(path) and no other
 * way; the sandbox forbids opening by name (no openat).  rap-processor
 * defines fopen itself, so the libraries it links call this one: the path
 * /proc/self/fd/N of a descriptor the child already holds becomes
 * fdopen(dup(N)), which needs no openat, so the xls processor opens its
 * input after the sandbox closed, with hostile bytes parsed under the
 * limits and the filter.  Any other path goes to the C library's fopen
 * (which the filter stops once the sandbox is closed).  Linked into
 * rap-processor only: elsewhere (the unit tests) fopen is the C library's.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

FILE *fopen(const char *path, const char *mode);

/* The descriptor a /proc/self/fd/N path names, or -1. */
static int held_fd(const char *path)
{
	static const char prefix[] = "/proc/self/fd/";
	char *end;
	long n;

	if (strncmp(path, prefix, sizeof(prefix) - 1) != 0)
		return -1;
	n = strtol(path + sizeof(prefix) - 1, &end, 10);
	if (*end || n < 0 || n > 1024 || fcntl((int)n, F_GETFD) < 0)
		return -1;
	return (int)n;
}

FILE *fopen(const char *path, const char *mode)
{
	FILE *(*libc_fopen)(const char *, const char *);
	int fd = path && mode && mode[0] == 'r' && !strchr(mode, '+') ? held_fd(path) : -1;
	FILE *f;

	if (fd >= 0) {
		int copy = dup(fd);

		if (copy < 0)
			return NULL;
		lseek(copy, 0, SEEK_SET);
		f = fdopen(copy, mode);
		if (!f)
			close(copy);
		return f;
	}
	libc_fopen = (FILE * (*)(const char *, const char *)) dlsym(RTLD_NEXT, "fopen");
	return libc_fopen ? libc_fopen(path, mode) : NULL;
}
