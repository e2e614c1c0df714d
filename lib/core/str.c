/* str.c: numbers and bytes as text. */
#include "rap/str.h"
#include "rap/err.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

int rap_strtonum(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	if (!s || !*s || isspace((unsigned char)*s))
		return RAP_EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0')
		return RAP_EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return RAP_ERANGE;
	*out = v;
	return RAP_OK;
}

void rap_hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}
