#ifndef RAP_IO_H
#define RAP_IO_H

#include <stddef.h>

/** Writes all n bytes of p to fd, again after EINTR and short writes:
 *  RAP_OK, or RAP_EIO with errno the failed write's (ENOSPC for a write
 *  that took nothing). */
int rap_write_all(int fd, const void *p, size_t n);

#endif
