#ifndef RAP_STR_H
#define RAP_STR_H

#include <stddef.h>

/** Parses a whole decimal string into [min, max]: RAP_EINVAL or RAP_ERANGE
 *  (no leading spaces, no trailing characters). */
int rap_strtonum(const char *s, long long min, long long max, long long *out);
/** Writes 2n lower-case hex digits of in and a NUL into out. */
void rap_hex(const unsigned char *in, size_t n, char *out);

/**
 * Copies the n bytes of s (any bytes: a value from a hostile file) into out
 * (size > 0) as valid UTF-8 text without a NUL inside: an invalid sequence
 * and a NUL each become U+FFFD, and the copy is cut at a character
 * boundary to fit.  Returns the length written (out is NUL-terminated).
 */
size_t rap_utf8_clean(const char *s, size_t n, char *out, size_t size);

#endif
