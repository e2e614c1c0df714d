/* units.c: sizes with suffixes, byte counts and durations for people. */
#include "cli.h"

#include "rap/err.h"
#include "rap/str.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The multiplier a suffix names: K, M, G, T, alone or with "B" or "iB"
 * (binary in every spelling: sizes here are file and buffer sizes). */
static int suffix_multiplier(const char *suffix, long long *mult)
{
	static const char units[] = "KMGT";
	int c = toupper((unsigned char)suffix[0]);
	const char *u;

	*mult = 1;
	if (!*suffix || strcasecmp(suffix, "B") == 0)
		return RAP_OK;
	u = c ? strchr(units, c) : NULL;
	if (!u)
		return RAP_EINVAL;
	if (suffix[1] && strcasecmp(suffix + 1, "B") != 0 && strcasecmp(suffix + 1, "iB") != 0)
		return RAP_EINVAL;
	for (long i = 0; i <= u - units; i++)
		*mult *= 1024;
	return RAP_OK;
}

int cli_units_parse_size(const char *s, long long min, long long max, long long *out)
{
	char digits[32];
	long long v, mult;
	size_t n;
	int result;

	if (!s)
		return RAP_EINVAL;
	n = strspn(s, "0123456789");
	if (n == 0 || n >= sizeof(digits))
		return n == 0 ? RAP_EINVAL : RAP_ERANGE;
	memcpy(digits, s, n);
	digits[n] = '\0';
	result = suffix_multiplier(s + n, &mult);
	if (result != RAP_OK)
		return result;
	result = rap_strtonum(digits, 0, INT64_MAX, &v);
	if (result != RAP_OK)
		return result;
	if (v > INT64_MAX / mult)
		return RAP_ERANGE;
	v *= mult;
	if (v < min || v > max)
		return RAP_ERANGE;
	*out = v;
	return RAP_OK;
}

void cli_units_bytes(double n, char *out, size_t len)
{
	static const char *const names[] = { "KiB", "MiB", "GiB", "TiB" };
	int i = -1;

	if (n < 1024) {
		snprintf(out, len, "%.0f B", n < 0 ? 0 : n);
		return;
	}
	while (n >= 1024 && i < 3) {
		n /= 1024;
		i++;
	}
	snprintf(out, len, "%.1f %s", n, names[i]);
}

void cli_units_duration(double s, char *out, size_t len)
{
	long long t;

	if (s < 0 || s > 359999999.0) {
		snprintf(out, len, "?");
		return;
	}
	t = (long long)(s + 0.5);
	if (t < 60)
		snprintf(out, len, "%llds", t);
	else if (t < 3600)
		snprintf(out, len, "%lldm%02llds", t / 60, t % 60);
	else
		snprintf(out, len, "%lldh%02lldm", t / 3600, t / 60 % 60);
}
