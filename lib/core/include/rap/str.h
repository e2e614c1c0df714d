#ifndef RAP_STR_H
#define RAP_STR_H

#include <stdbool.h>
#include <stddef.h>

/** Parses a whole decimal string into [min, max]: RAP_EINVAL or RAP_ERANGE
 *  (no leading spaces, no trailing characters). */
int rap_strtonum(const char *s, long long min, long long max, long long *out);
/** Writes 2n lower-case hex digits of in and a NUL into out. */
void rap_hex(const unsigned char *in, size_t n, char *out);

/**
 * The length (1 to 4) of the valid UTF-8 character that starts s (n bytes
 * left), or 0 when none does there: a NUL, a stray continuation byte, an
 * overlong form, a surrogate (U+D800..U+DFFF), a code point over U+10FFFF,
 * a sequence cut short by the end, or n == 0.
 */
size_t rap_utf8_char(const char *s, size_t n);
/** Whether the n bytes of s are valid UTF-8 without a NUL (the text that may
 *  enter JSON, SQL and logs). */
bool rap_utf8_valid(const char *s, size_t n);
/** rap_utf8_valid and no control character either (C0, DEL, C1): text for a
 *  header value or a key. */
bool rap_utf8_printable(const char *s, size_t n);

/**
 * Copies the n bytes of s (any bytes: a value from a hostile file) into out
 * (size > 0) as valid UTF-8 text without a NUL inside: an invalid sequence
 * and a NUL each become U+FFFD, and the copy is cut at a character
 * boundary to fit.  Returns the length written (out is NUL-terminated).
 */
size_t rap_utf8_clean(const char *s, size_t n, char *out, size_t size);

#endif
