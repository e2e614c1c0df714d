/* str.c: numbers and bytes as text. */
#include "rap/str.h"
#include "rap/err.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

/* The length of the valid UTF-8 sequence at p (n bytes left), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (n == 0)
		return 0;
	if (p[0] > 0 && p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0; /* NUL, a continuation byte, C0, C1, F5..FF */
	/* The second byte's range rules out overlong forms, surrogates and
	 * code points over U+10FFFF. */
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

size_t rap_utf8_char(const char *s, size_t n)
{
	return utf8_seq((const unsigned char *)s, n);
}

bool rap_utf8_valid(const char *s, size_t n)
{
	size_t i = 0, len;

	while (i < n) {
		len = utf8_seq((const unsigned char *)s + i, n - i);
		if (len == 0)
			return false;
		i += len;
	}
	return true;
}

bool rap_utf8_printable(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, len;

	while (i < n) {
		len = utf8_seq(p + i, n - i);
		/* C0 controls and DEL, then C1 controls (U+0080..U+009F). */
		if (len == 0 || (len == 1 && (p[i] < 0x20 || p[i] == 0x7f)) ||
		    (len == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0))
			return false;
		i += len;
	}
	return true;
}

size_t rap_utf8_clean(const char *s, size_t n, char *out, size_t size)
{
	static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0, len, take;
	const char *from;

	while (i < n) {
		len = utf8_seq(p + i, n - i);
		from = len ? s + i : replacement;
		take = len ? len : 3;
		if (o + take >= size)
			break;
		memcpy(out + o, from, take);
		o += take;
		i += len ? len : 1;
	}
	out[o] = '\0';
	return o;
}
