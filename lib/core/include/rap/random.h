#ifndef RAP_RANDOM_H
#define RAP_RANDOM_H

#include <stddef.h>

/** Fills buf with n random bytes from the kernel; RAP_EIO on failure. */
int rap_random(void *buf, size_t n);
/**
 * As rap_random, from a per-thread cache of kernel bytes refilled 4 KiB at
 * a time: for ids made per request (request, trace and span ids), where a
 * getrandom() each was one system call in eight on the status path.  A
 * process forked from a thread that used it would share that thread's
 * bytes: the HTTP services do not fork, and the worker's forked children
 * make no ids.
 */
int rap_random_cached(void *out, size_t n);

#endif
