/* random.c: bytes from the kernel's random source. */
#include "rap/random.h"
#include "rap/err.h"

#include <errno.h>
#include <sys/random.h>

int rap_random(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return RAP_EIO;
		}
		p += r;
		n -= (size_t)r;
	}
	return RAP_OK;
}
