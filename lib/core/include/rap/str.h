#ifndef RAP_STR_H
#define RAP_STR_H

#include <stddef.h>

/** Parses a whole decimal string into [min, max]: RAP_EINVAL or RAP_ERANGE
 *  (no leading spaces, no trailing characters). */
int rap_strtonum(const char *s, long long min, long long max, long long *out);
/** Writes 2n lower-case hex digits of in and a NUL into out. */
void rap_hex(const unsigned char *in, size_t n, char *out);

#endif
