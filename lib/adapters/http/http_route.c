/*
 * http_route.c: matching a request against a service's route table
 * (rap/http_route.h).  Pure: no server, no allocation beyond the captured
 * values, so the tables are tested on their own.
 */
#include "rap/http_route.h"
#include "rap/assert.h"
#include "rap/err.h"
#include "rap/mem.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The next segment of a path or pattern at *p (after its '/'): its start
 * and length; false at the end. */
static bool next_segment(const char **p, const char **seg, size_t *len)
{
	const char *s = *p;

	if (*s != '/')
		return false;
	s++;
	*seg = s;
	while (*s && *s != '/')
		s++;
	*len = (size_t)(s - *seg);
	*p = s;
	return true;
}

/* The path without a trailing '/' (but "/" stays): its length. */
static size_t trimmed(const char *path)
{
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		n--;
	return n;
}

/* Whether the path matches the pattern; captures into m when it does
 * (values of an earlier try are released first). */
static bool matches(const char *pattern, const char *path, size_t path_len,
		    struct rap_http_match *m)
{
	char buf[8192];
	const char *pp = pattern, *up = buf, *ps = NULL, *us = NULL;
	size_t pl = 0, ul = 0;

	if (path_len >= sizeof(buf))
		return false; /* longer than any path of ours */
	memcpy(buf, path, path_len);
	buf[path_len] = '\0';
	rap_http_match_cleanup(m);
	if (strcmp(pattern, "/") == 0)
		return strcmp(buf, "/") == 0;
	for (;;) {
		bool more_p = next_segment(&pp, &ps, &pl);
		bool more_u = next_segment(&up, &us, &ul);

		if (!more_p || !more_u)
			return !more_p && !more_u && *up == '\0';
		if (pl >= 2 && ps[0] == '{' && ps[pl - 1] == '}') {
			RAP_ASSERT(m->n < RAP_HTTP_ROUTE_PARAMS);
			if (ul == 0)
				return false;
			m->names[m->n] = ps + 1;
			m->name_lens[m->n] = pl - 2;
			m->values[m->n] = rap_strndup(us, ul);
			m->n++;
		} else if (pl != ul || memcmp(ps, us, ul) != 0) {
			return false;
		}
	}
}

/* Adds method to the comma-separated list of allowed methods, once. */
static void allow(struct rap_http_match *m, const char *method)
{
	size_t n = strlen(m->allow);

	if (!method || strstr(m->allow, method))
		return;
	snprintf(m->allow + n, sizeof(m->allow) - n, "%s%s", n ? ", " : "", method);
}

int rap_http_route_match(const struct rap_http_route *routes, size_t n, const char *method,
			 const char *path, struct rap_http_match *m)
{
	size_t len = trimmed(path), i, first;

	memset(m, 0, sizeof(*m));
	for (first = 0; first < n; first++)
		if (matches(routes[first].pattern, path, len, m))
			break;
	if (first == n) {
		rap_http_match_cleanup(m);
		return RAP_ENOENT;
	}
	/* The first pattern that matches names the resource; its routes (the
	 * same pattern, later in the table too) say which methods it takes. */
	for (i = first; i < n; i++) {
		if (strcmp(routes[i].pattern, routes[first].pattern) != 0)
			continue;
		if (!routes[i].method || strcmp(routes[i].method, method) == 0) {
			m->route = &routes[i];
			m->allow[0] = '\0';
			return RAP_OK;
		}
		allow(m, routes[i].method);
	}
	rap_http_match_cleanup(m);
	return RAP_EUNSUPPORTED;
}

void rap_http_match_cleanup(struct rap_http_match *m)
{
	for (unsigned i = 0; i < m->n; i++) {
		free(m->values[i]);
		m->values[i] = NULL;
	}
	m->n = 0;
}

const char *rap_http_match_param(const struct rap_http_match *m, const char *name)
{
	size_t len = strlen(name);

	for (unsigned i = 0; i < m->n; i++)
		if (m->name_lens[i] == len && memcmp(m->names[i], name, len) == 0)
			return m->values[i];
	return NULL;
}

int rap_http_route_find(const struct rap_http_route *routes, size_t n, const char *method,
			const char *override, const char *path, struct rap_http_match *m)
{
	int r = rap_http_route_match(routes, n, method, path, m);

	if (r != RAP_OK || !m->route->method_override || !override)
		return r;
	rap_http_match_cleanup(m);
	return rap_http_route_match(routes, n, override, path, m);
}
