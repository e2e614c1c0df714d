/* io.c: writes that finish. */
#include "rap/io.h"
#include "rap/err.h"

#include <errno.h>
#include <unistd.h>

int rap_write_all(int fd, const void *p, size_t n)
{
	const char *b = p;
	ssize_t w;

	while (n > 0) {
		w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = ENOSPC;
			return RAP_EIO;
		}
		b += w;
		n -= (size_t)w;
	}
	return RAP_OK;
}
