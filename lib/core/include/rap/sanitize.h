#ifndef RAP_SANITIZE_H
#define RAP_SANITIZE_H

/*
 * Whether this build runs under AddressSanitizer (cmake -DRAP_SANITIZE=ON),
 * as a constant that code tests with a plain `if`, so that no .c file needs
 * an #ifdef.  ASan reserves terabytes of address space at start, so an
 * RLIMIT_AS (or RLIMIT_DATA) set later refuses every allocation: code that
 * limits memory that way asks here first (docs/sandbox.md).
 */
#if defined(__SANITIZE_ADDRESS__)
#define RAP_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RAP_ASAN 1
#endif
#endif
#ifndef RAP_ASAN
#define RAP_ASAN 0
#endif

#endif
