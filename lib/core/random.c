/* random.c: bytes from the kernel's random source. */
#include "rap/random.h"
#include "rap/err.h"

#include <errno.h>
#include <string.h>
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

int rap_random_cached(void *out, size_t n)
{
	static _Thread_local unsigned char cache[4096];
	static _Thread_local size_t left;

	if (n > sizeof(cache))
		return rap_random(out, n);
	if (left < n) {
		if (rap_random(cache, sizeof(cache)) != RAP_OK) {
			left = 0;
			return rap_random(out, n);
		}
		left = sizeof(cache);
	}
	memcpy(out, cache + sizeof(cache) - left, n);
	left -= n;
	return RAP_OK;
}
