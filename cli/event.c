/*
 * event.c: a job's transitions as the watcher reads and prints them.  The
 * same shape arrives two ways: job.status messages on the WebSocket
 * (proto/schemas/job-status-event.json) and the "events" of GET
 * /api/jobs/{id} (proto/schemas/job.json); both have event_id, from, to,
 * attempt and detail.  Besides them, job.progress messages
 * (proto/schemas/job-progress.json): where a running job stands.
 */
#include "cli.h"

#include "rap/err.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Copies the string (or null: "") member name of o into out. */
static int get_text(struct json_object *o, const char *name, bool nullable, char *out, size_t len)
{
	struct json_object *v;

	out[0] = '\0';
	if (!json_object_object_get_ex(o, name, &v) || (!v && !nullable))
		return RAP_EINVAL;
	if (!v)
		return RAP_OK;
	if (!json_object_is_type(v, json_type_string))
		return RAP_EINVAL;
	snprintf(out, len, "%s", json_object_get_string(v));
	return RAP_OK;
}

int cli_event_parse(struct json_object *o, struct cli_event *e)
{
	struct json_object *id, *attempt;

	memset(e, 0, sizeof(*e));
	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "event_id", &id) ||
	    !json_object_is_type(id, json_type_int) ||
	    !json_object_object_get_ex(o, "attempt", &attempt) ||
	    !json_object_is_type(attempt, json_type_int))
		return RAP_EINVAL;
	e->event_id = json_object_get_int64(id);
	e->attempt = json_object_get_int(attempt);
	if (e->event_id < 1 || get_text(o, "to", false, e->to, sizeof(e->to)) != RAP_OK ||
	    !e->to[0] || get_text(o, "from", true, e->from, sizeof(e->from)) != RAP_OK ||
	    get_text(o, "detail", true, e->detail, sizeof(e->detail)) != RAP_OK)
		return RAP_EINVAL;
	return RAP_OK;
}

void cli_event_format(const char *job_id, const struct cli_event *e, char *out, size_t len)
{
	snprintf(out, len, "job %s: %s -> %s (attempt %d)%s%s", job_id,
		 e->from[0] ? e->from : "new", e->to, e->attempt, e->detail[0] ? ": " : "",
		 e->detail);
}

bool cli_event_terminal(const char *state)
{
	return strcmp(state, "COMPLETED") == 0 || strcmp(state, "FAILED") == 0 ||
	       strcmp(state, "DEAD") == 0 || strcmp(state, "CANCELLED") == 0;
}

int cli_event_exit_code(const char *state)
{
	if (strcmp(state, "COMPLETED") == 0)
		return CLI_EXIT_OK;
	if (strcmp(state, "FAILED") == 0)
		return CLI_EXIT_FAILED;
	if (strcmp(state, "DEAD") == 0)
		return CLI_EXIT_DEAD;
	if (strcmp(state, "CANCELLED") == 0)
		return CLI_EXIT_CANCELLED;
	return CLI_EXIT_ERROR;
}

/* An ISO 8601 UTC time as the platform writes it (2026-12-05T12:03:04.123Z)
 * in seconds since the epoch; -1 when it is not one. */
static time_t iso_utc(const char *s)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		return -1;
	return timegm(&tm);
}

int cli_event_progress_line(const char *job_id, struct json_object *o, time_t now, char *out,
			    size_t len, char stage[32])
{
	struct json_object *v;
	char rows[48] = "", eta[64] = "", left[32];
	const char *st, *when;
	double progress;
	time_t at;

	if (!json_object_object_get_ex(o, "progress", &v) ||
	    (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int)))
		return RAP_EINVAL;
	progress = json_object_get_double(v);
	st = cli_json_string(o, "stage");
	snprintf(stage, 32, "%s", st ? st : "");
	if (json_object_object_get_ex(o, "rows", &v) && json_object_is_type(v, json_type_int))
		snprintf(rows, sizeof(rows), ", %lld rows", (long long)json_object_get_int64(v));
	when = cli_json_string(o, "estimated_completion");
	if (when && (at = iso_utc(when)) >= 0) {
		cli_units_duration(at > now ? (double)(at - now) : 0, left, sizeof(left));
		snprintf(eta, sizeof(eta), ", done in about %s", left);
	}
	snprintf(out, len, "job %s: %s%s%d%%%s%s", job_id, stage, stage[0] ? " " : "",
		 (int)(progress * 100), rows, eta);
	return RAP_OK;
}
