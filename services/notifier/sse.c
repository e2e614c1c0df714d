/*
 * sse.c: the Server-Sent Events side's request and text, apart from the
 * socket (ws.c serves the streams), so that the unit tests call them as
 * they are.  GET /jobs/{id}/events follows one job, GET /events every job
 * of the key's owner (the gateway maps /api/... to them).  The key comes
 * as to every service (Authorization: Bearer, or X-API-Key) or, for a
 * browser's EventSource that cannot set headers, in the api_key query
 * parameter; Last-Event-ID (or the since query
 * parameter on a first connect) is the event id to resume after.  Each
 * stored event is written with its event id as `id:`, so a reconnecting
 * EventSource resumes where it was; a stream never writes the same event
 * twice nor an id at or below the one it resumed after (the recent ids
 * it wrote are kept here, struct notifier_sse_seen).
 */
#include "notifier.h"

#include "rap/auth.h"
#include "rap/buf.h"
#include "rap/err.h"
#include "rap/uuid.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JOBS_PREFIX "/jobs/"
#define EVENTS_SUFFIX "/events"

bool notifier_sse_path(const char *path, char job_id[RAP_UUID_STRLEN])
{
	size_t len = strlen(path), pre = sizeof(JOBS_PREFIX) - 1, suf = sizeof(EVENTS_SUFFIX) - 1;

	job_id[0] = '\0';
	if (strcmp(path, "/events") == 0)
		return true;
	if (len <= pre + suf || strncmp(path, JOBS_PREFIX, pre) != 0 ||
	    strcmp(path + len - suf, EVENTS_SUFFIX) != 0 || len - pre - suf >= RAP_UUID_STRLEN)
		return false;
	memcpy(job_id, path + pre, len - pre - suf);
	job_id[len - pre - suf] = '\0';
	return strchr(job_id, '/') == NULL;
}

/* An event id as sent (decimal digits, at most 18): its value, or -1. */
static long long event_id_value(const char *s)
{
	long long v = 0;
	size_t i;

	for (i = 0; s[i]; i++) {
		if (!isdigit((unsigned char)s[i]) || i >= 18)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return i ? v : -1;
}

int notifier_sse_decode(const struct rap_auth *auth, const char *path, const char *key,
			const char *last_event_id, const char *since, struct notifier_sse_req *out,
			const char **code, const char **msg)
{
	const char *owner;

	memset(out, 0, sizeof(*out));
	*code = "not_found";
	*msg = "no such endpoint";
	if (!notifier_sse_path(path, out->job_id))
		return 404;
	owner = key && key[0] ? rap_auth_owner(auth, key) : NULL;
	if (!owner) {
		*code = "unauthorized";
		*msg = "missing or unknown API key: send 'Authorization: Bearer <key>', or the "
		       "api_key query parameter";
		return 401;
	}
	if (out->job_id[0] && !rap_uuid_valid(out->job_id)) {
		*code = "bad_request";
		*msg = "the job id must be a UUID";
		return 400;
	}
	for (size_t i = 0; out->job_id[i]; i++)
		out->job_id[i] = (char)tolower((unsigned char)out->job_id[i]);
	/* Last-Event-ID is what an EventSource sends on reconnecting: it wins
	 * over the since of the URL it reconnects to. */
	if (last_event_id) {
		out->since = event_id_value(last_event_id);
		if (out->since < 0) {
			*code = "bad_request";
			*msg = "Last-Event-ID must be an event id (a non-negative integer)";
			return 400;
		}
		out->resumed = true;
	} else if (since) {
		out->since = event_id_value(since);
		if (out->since < 0) {
			*code = "bad_request";
			*msg = "since must be an event id (a non-negative integer)";
			return 400;
		}
		out->resumed = true;
	}
	snprintf(out->owner, sizeof(out->owner), "%s", owner);
	*code = NULL;
	*msg = NULL;
	return 0;
}

int notifier_sse_event(struct rap_buf *b, long long id, const char *type, const char *data,
		       size_t len)
{
	size_t start = b->len, i, from;
	int r = RAP_OK;

	if (id > 0)
		r = rap_buf_appendf(b, "id: %lld\n", id);
	if (r == RAP_OK)
		r = rap_buf_appendf(b, "event: %s\n", type);
	/* A line of data per line of the text (JSON has none, but a raw
	 * newline would end the field early). */
	for (from = 0, i = 0; r == RAP_OK && i <= len; i++) {
		if (i < len && data[i] != '\n')
			continue;
		r = rap_buf_appends(b, "data: ");
		if (r == RAP_OK)
			r = rap_buf_append(b, data + from, i - from);
		if (r == RAP_OK)
			r = rap_buf_appends(b, "\n");
		from = i + 1;
	}
	if (r == RAP_OK)
		r = rap_buf_appends(b, "\n");
	if (r != RAP_OK) {
		b->len = start; /* nothing of a half event */
		if (b->data)
			b->data[start] = '\0';
	}
	return r;
}

bool notifier_sse_seen_add(struct notifier_sse_seen *s, long long id)
{
	for (unsigned i = 0; i < s->n; i++)
		if (s->ids[i] == id)
			return false;
	s->ids[s->pos] = id;
	s->pos = (s->pos + 1) % NOTIFIER_SSE_SEEN;
	if (s->n < NOTIFIER_SSE_SEEN)
		s->n++;
	return true;
}
