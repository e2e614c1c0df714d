/*
 * list.c: comma-separated lists as settings write them: "a,b,c" (names)
 * and "name=value,name=value" (a value per name).
 */
#include "rap/list.h"
#include "rap/err.h"
#include "rap/str.h"

#include <stdio.h>
#include <string.h>

bool rap_list_contains(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (len == n && strncmp(p, name, n) == 0)
			return true;
		if (!comma)
			break;
		p = comma + 1;
	}
	return false;
}

/* The value of the "name=value" entry of a comma-separated list into out;
 * false when the name is absent. */
static bool list_value(const char *list, const char *name, char *out, size_t out_len)
{
	size_t n = strlen(name);
	const char *p = list;

	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (len > n && strncmp(p, name, n) == 0 && p[n] == '=') {
			snprintf(out, out_len, "%.*s", (int)(len - n - 1), p + n + 1);
			return true;
		}
		if (!comma)
			break;
		p = comma + 1;
	}
	return false;
}

long long rap_list_number(const char *list, const char *name, long long min, long long max,
			  long long def)
{
	char num[24];
	long long v;

	if (!list_value(list, name, num, sizeof(num)))
		return def;
	return rap_strtonum(num, min, max, &v) == RAP_OK ? v : def;
}

bool rap_list_has(const char *list, const char *name)
{
	char v[2];

	return list_value(list, name, v, sizeof(v));
}

bool rap_list_allows(const char *list, const char *name, const char *value)
{
	char alts[1024], *p, *save = NULL;
	size_t n;

	if (!list_value(list, name, alts, sizeof(alts)))
		return true;
	for (p = strtok_r(alts, "|", &save); p; p = strtok_r(NULL, "|", &save)) {
		n = strlen(p);
		if (strcmp(p, value) == 0)
			return true;
		/* "video/ *" (no space) takes every video/... type. */
		if (n >= 2 && p[n - 1] == '*' && p[n - 2] == '/' && strncmp(p, value, n - 1) == 0)
			return true;
	}
	return false;
}
