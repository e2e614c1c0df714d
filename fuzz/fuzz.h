#ifndef RAP_FUZZ_H
#define RAP_FUZZ_H

/*
 * What the fuzz targets share: libFuzzer's entry point (declared, for
 * -Wmissing-prototypes) and a NUL-terminated copy of an input for the
 * parsers that take C strings.  A broken invariant calls FUZZ_CHECK, which
 * aborts: libFuzzer reports it as a crash and saves the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__,       \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* A copy of data as a C string (the caller frees); a NUL inside ends it,
 * as it would end a header value. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
