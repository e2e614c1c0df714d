#ifndef RAP_UTIL_H
#define RAP_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Parses a whole decimal string into [min, max]: RAP_EINVAL or RAP_ERANGE. */
int rap_strtonum(const char *s, long long min, long long max, long long *out);
/** Fills buf with n random bytes from the kernel; RAP_EIO on failure. */
int rap_random(void *buf, size_t n);
/** Writes a random version-4 UUID in canonical text (37 bytes with NUL). */
void rap_uuid(char out[37]);
/** True when s is a canonical UUID (any version, lower or upper case). */
bool rap_uuid_valid(const char *s);
/** Writes 2n lower-case hex digits and a NUL. */
void rap_hex(const unsigned char *in, size_t n, char *out);
/** Milliseconds of a monotonic clock. */
int64_t rap_now_ms(void);
/** Writes the current UTC time as ISO 8601 with milliseconds. */
void rap_iso_time(char out[32]);
/** Sleeps ms milliseconds unless *stop becomes true first (checked each 50 ms). */
void rap_sleep_ms(int ms, const volatile int *stop);

#endif
