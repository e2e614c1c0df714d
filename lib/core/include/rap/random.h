#ifndef RAP_RANDOM_H
#define RAP_RANDOM_H

#include <stddef.h>

/** Fills buf with n random bytes from the kernel; RAP_EIO on failure. */
int rap_random(void *buf, size_t n);

#endif
