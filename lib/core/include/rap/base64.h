#ifndef RAP_BASE64_H
#define RAP_BASE64_H

#include <stddef.h>

/** The text length of n bytes in base64, with the NUL. */
#define RAP_BASE64_LEN(n) (4 * (((n) + 2) / 3) + 1)

/** Decodes standard base64 (with padding) of len characters into out (cap
 *  bytes); *n is the decoded length.  RAP_EINVAL when malformed,
 *  RAP_ETOOBIG when it does not fit. */
int rap_base64_decode(const char *in, size_t len, unsigned char *out, size_t cap, size_t *n);
/** Encodes n bytes as base64 into out (RAP_BASE64_LEN(n) bytes). */
void rap_base64_encode(const void *in, size_t n, char *out);

#endif
