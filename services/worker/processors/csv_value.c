/*
 * csv_value.c: the value types of a validate job's columns (csv_schema.h),
 * each a small hand-written scanner that follows the params schema's
 * description word for word: no locale, no allocation, no regex.
 */
#include "csv_schema.h"

#include <string.h>
#include <strings.h>

static inline bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Digits from s[*i] on; how many. */
static size_t digits(const char *s, size_t n, size_t *i)
{
	size_t start = *i;

	while (*i < n && is_digit(s[*i]))
		(*i)++;
	return *i - start;
}

bool csv_parse_integer(const char *v, size_t n, long long *out)
{
	unsigned long long acc = 0, limit = 9223372036854775807ull;
	bool neg = false;
	size_t i = 0;

	if (i < n && (v[i] == '+' || v[i] == '-'))
		neg = v[i++] == '-';
	if (i == n)
		return false;
	if (neg)
		limit++;
	for (; i < n; i++) {
		unsigned d = (unsigned)(v[i] - '0');

		if (d > 9 || acc > (limit - d) / 10)
			return false;
		acc = acc * 10 + d;
	}
	*out = neg ? (long long)(0 - acc) : (long long)acc;
	return true;
}

bool csv_is_decimal(const char *v, size_t n)
{
	size_t i = 0, whole, frac = 0;

	if (i < n && (v[i] == '+' || v[i] == '-'))
		i++;
	whole = digits(v, n, &i);
	if (i < n && v[i] == '.') {
		i++;
		frac = digits(v, n, &i);
	}
	if (whole + frac == 0)
		return false;
	if (i < n && (v[i] == 'e' || v[i] == 'E')) {
		i++;
		if (i < n && (v[i] == '+' || v[i] == '-'))
			i++;
		if (digits(v, n, &i) == 0)
			return false;
	}
	return i == n;
}

bool csv_parse_boolean(const char *v, size_t n, bool *out)
{
	static const char *const yes[] = { "true", "1", "yes" }, *const no[] = { "false", "0",
										 "no" };
	size_t k;

	for (k = 0; k < 3; k++) {
		if (n == strlen(yes[k]) && strncasecmp(v, yes[k], n) == 0) {
			*out = true;
			return true;
		}
		if (n == strlen(no[k]) && strncasecmp(v, no[k], n) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

/* The value of exactly w digits at v, or -1. */
static int fixed(const char *v, size_t w)
{
	int x = 0;
	size_t i;

	for (i = 0; i < w; i++) {
		if (!is_digit(v[i]))
			return -1;
		x = x * 10 + (v[i] - '0');
	}
	return x;
}

static bool date_at(const char *v)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y = fixed(v, 4), m = fixed(v + 5, 2), d = fixed(v + 8, 2), max;

	if (y < 0 || v[4] != '-' || v[7] != '-' || m < 1 || m > 12 || d < 1)
		return false;
	max = days[m - 1];
	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		max = 29;
	return d <= max;
}

bool csv_is_date(const char *v, size_t n)
{
	return n == 10 && date_at(v);
}

/* hh:mm from v[*i], at most hmax hours; moves *i past it. */
static bool clock_at(const char *v, size_t n, size_t *i, int hmax)
{
	int h, m;

	if (*i + 5 > n || v[*i + 2] != ':')
		return false;
	h = fixed(v + *i, 2);
	m = fixed(v + *i + 3, 2);
	*i += 5;
	return h >= 0 && h <= hmax && m >= 0 && m <= 59;
}

bool csv_is_datetime(const char *v, size_t n)
{
	size_t i = 11;
	int s;

	if (n < 16 || !date_at(v) || (v[10] != 'T' && v[10] != ' '))
		return false;
	if (!clock_at(v, n, &i, 23))
		return false;
	if (i < n && v[i] == ':') {
		if (i + 3 > n || (s = fixed(v + i + 1, 2)) < 0 || s > 59)
			return false;
		i += 3;
		if (i < n && v[i] == '.') {
			i++;
			if (digits(v, n, &i) == 0)
				return false;
		}
	}
	if (i == n)
		return true;
	if (v[i] == 'Z')
		return i + 1 == n;
	if (v[i] != '+' && v[i] != '-')
		return false;
	i++;
	return clock_at(v, n, &i, 23) && i == n;
}

bool csv_is_email(const char *v, size_t n)
{
	const char *at = memchr(v, '@', n);
	size_t i, local, dots = 0;

	if (!at || n > 254)
		return false;
	local = (size_t)(at - v);
	if (local == 0 || local + 1 == n)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c <= ' ' || c == 0x7f || (c == '@' && i != local))
			return false;
		if (i > local && c == '.') {
			/* No empty label: not first, not last, not doubled. */
			if (i == local + 1 || i + 1 == n || v[i - 1] == '.')
				return false;
			dots++;
		}
	}
	return dots > 0;
}
