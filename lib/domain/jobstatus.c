/*
 * jobstatus.c: one job as GET /jobs/{id} shows it, its webhook deliveries
 * and its events included.
 *
 * The database only reads the rows, in one statement and one round trip;
 * the JSON is written here.  Built by json_build_object and to_char, the
 * same answer cost PostgreSQL 2.2 times the CPU (pgbench on the statement
 * alone: 10,300 against 22,700 a second), and the status path is bound by
 * the database (issue 12).  Timestamps come as `t AT TIME ZONE 'UTC'`, whose
 * text does not depend on the session's TimeZone; the pool's connections
 * keep DateStyle ISO (rap_pg_connect).
 */
#include "rap/jobstore.h"
#include "rap/buf.h"
#include "rap/err.h"
#include "rap/json.h"
#include "rap/pg.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UTC(col) "(" col " AT TIME ZONE 'UTC')::text"

/* Three kinds of row, told apart by the first column: 0 the job, 1 a
 * webhook delivery, 2 an event; the columns each kind fills are below. */
#define STATUS_SQL                                                                                                                                                                                             \
	"SELECT 0, j.id::text, j.type, j.object_key, j.params::text, j.status,"                                                                                                                                \
	" j.attempt::text, j.max_attempts::text, j.progress::text, j.stage, j.rows_done::text,"                                                                                                                \
	" CASE WHEN j.status = 'PROCESSING' THEN " UTC(                                                                                                                                                        \
		"j.estimated_completion") " END,"                                                                                                                                                              \
					  " j.result::text, j.error, " UTC("j.created_at") ", " UTC(                                                                                                           \
						  "j.updated_at") ","                                                                                                                                          \
								  " " UTC("j.started_at") ", " UTC(                                                                                                            \
									  "j.finished_at") ", j.webhook_url,"                                                                                                  \
											   " j.traceparent FROM jobs j WHERE j.id = $1 AND j.owner = $2"                                                       \
											   " UNION ALL SELECT 1, w.id::text, CASE WHEN w.delivered_at IS NOT NULL THEN 'delivered'"                            \
											   "   WHEN w.failed_at IS NOT NULL THEN 'failed' ELSE 'pending' END,"                                                 \
											   " w.attempts::text, w.last_error, " UTC(                                                                            \
												   "w.delivered_at") ","                                                                                       \
														     " NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL"           \
														     ", NULL FROM webhook_deliveries w WHERE w.job_id = $1"                                    \
														     " UNION ALL SELECT 2, e.id::text, e.from_state, e.to_state, " UTC(                        \
															     "e.at") ","                                                                       \
																     " e.attempt::text, e.detail,"                                             \
																     " NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL" \
																     ", NULL FROM job_events e WHERE e.job_id = $1"

enum {
	KIND_JOB = 0,
	KIND_WEBHOOK = 1,
	KIND_EVENT = 2
};

enum field_kind {
	F_STR,
	F_NUM,
	F_JSON,
	F_TS,
	F_TRACE /* a traceparent, shown as its trace id */
};

struct field {
	const char *name;
	int col;
	enum field_kind kind;
};

static const struct field job_fields[] = {
	{ "job_id", 1, F_STR },
	{ "type", 2, F_STR },
	{ "object_key", 3, F_STR },
	{ "params", 4, F_JSON },
	{ "status", 5, F_STR },
	{ "attempt", 6, F_NUM },
	{ "max_attempts", 7, F_NUM },
	{ "progress", 8, F_NUM },
	{ "stage", 9, F_STR },
	{ "rows_done", 10, F_NUM },
	{ "estimated_completion", 11, F_TS },
	{ "result", 12, F_JSON },
	{ "error", 13, F_STR },
	{ "created_at", 14, F_TS },
	{ "updated_at", 15, F_TS },
	{ "started_at", 16, F_TS },
	{ "finished_at", 17, F_TS },
	{ "webhook_url", 18, F_STR },
	{ "trace_id", 19, F_TRACE },
};

static const struct field webhook_fields[] = {
	{ "delivery_id", 1, F_NUM }, { "status", 2, F_STR },      { "attempts", 3, F_NUM },
	{ "last_error", 4, F_STR },  { "delivered_at", 5, F_TS },
};

static const struct field event_fields[] = {
	{ "event_id", 1, F_NUM }, { "from", 2, F_STR },    { "to", 3, F_STR },
	{ "at", 4, F_TS },        { "attempt", 5, F_NUM }, { "detail", 6, F_STR },
};

/* A number as PostgreSQL wrote it is JSON too, but for NaN and Infinity,
 * which json_build_object also gave as strings. */
static bool json_number(const char *v)
{
	return (*v >= '0' && *v <= '9') || (*v == '-' && v[1] >= '0' && v[1] <= '9');
}

static int value(struct rap_buf *b, PGresult *res, int row, const struct field *f)
{
	const char *v = PQgetvalue(res, row, f->col);

	if (PQgetisnull(res, row, f->col))
		return rap_buf_append(b, "null", 4);
	switch (f->kind) {
	case F_NUM:
		return json_number(v) ? rap_buf_appends(b, v) : rap_json_quote(b, v);
	case F_JSON: /* jsonb's text is JSON */
		return rap_buf_appends(b, v);
	case F_TS:
		return rap_json_timestamp(b, v);
	case F_TRACE: /* "00-<trace id>-...", formatted by job-api: hex only */
		return strlen(v) < 35 ? rap_buf_append(b, "null", 4)
				      : rap_buf_appendf(b, "\"%.32s\"", v + 3);
	default:
		return rap_json_quote(b, v);
	}
}

/* The fields of one row as the members of an object, without the braces. */
static int object(struct rap_buf *b, PGresult *res, int row, const struct field *fs, int n)
{
	int i, result = RAP_OK;

	for (i = 0; i < n && result == RAP_OK; i++) {
		result = rap_buf_appendf(b, "%s\"%s\":", i ? "," : "", fs[i].name);
		if (result == RAP_OK)
			result = value(b, res, row, &fs[i]);
	}
	return result;
}

struct row_ref {
	long long id;
	int row;
};

static int by_id(const void *a, const void *b)
{
	const struct row_ref *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

/* The rows of one kind as a JSON array, in id order (UNION ALL promises no
 * order, and sorting a job's few rows here costs nothing). */
static int array(struct rap_buf *b, PGresult *res, int kind, const struct field *fs, int n,
		 struct row_ref *refs)
{
	int rows = PQntuples(res), count = 0, i, result;

	for (i = 0; i < rows; i++)
		if (atoi(PQgetvalue(res, i, 0)) == kind)
			refs[count++] =
				(struct row_ref){ strtoll(PQgetvalue(res, i, 1), NULL, 10), i };
	qsort(refs, (size_t)count, sizeof(*refs), by_id);
	result = rap_buf_append(b, "[", 1);
	for (i = 0; i < count && result == RAP_OK; i++) {
		result = rap_buf_append(b, i ? ",{" : "{", i ? 2 : 1);
		if (result == RAP_OK)
			result = object(b, res, refs[i].row, fs, n);
		if (result == RAP_OK)
			result = rap_buf_append(b, "}", 1);
	}
	return result == RAP_OK ? rap_buf_append(b, "]", 1) : result;
}

static int status_json(struct rap_buf *b, PGresult *res, int job_row)
{
	struct row_ref *refs = calloc((size_t)PQntuples(res), sizeof(*refs));
	int result = refs ? RAP_OK : RAP_ENOMEM;

	if (result == RAP_OK)
		result = rap_buf_append(b, "{", 1);
	if (result == RAP_OK)
		result = object(b, res, job_row, job_fields,
				(int)(sizeof(job_fields) / sizeof(job_fields[0])));
	if (result == RAP_OK)
		result = rap_buf_appends(b, ",\"webhooks\":");
	if (result == RAP_OK)
		result = array(b, res, KIND_WEBHOOK, webhook_fields,
			       (int)(sizeof(webhook_fields) / sizeof(webhook_fields[0])), refs);
	if (result == RAP_OK)
		result = rap_buf_appends(b, ",\"events\":");
	if (result == RAP_OK)
		result = array(b, res, KIND_EVENT, event_fields,
			       (int)(sizeof(event_fields) / sizeof(event_fields[0])), refs);
	if (result == RAP_OK)
		result = rap_buf_append(b, "}", 1);
	free(refs);
	return result;
}

int rap_job_get_json(PGconn *db, const char *owner, const char *job_id, char **json, char *err)
{
	const char *p[2] = { job_id, owner };
	PGresult *res = NULL;
	struct rap_buf b;
	int result, i, job_row = -1;

	result = rap_pg_exec_prepared(db, "rap_job_status", STATUS_SQL, 2, p, &res, err);
	if (result != RAP_OK)
		return result;
	for (i = 0; i < PQntuples(res) && job_row < 0; i++)
		if (atoi(PQgetvalue(res, i, 0)) == KIND_JOB)
			job_row = i;
	if (job_row < 0) { /* no such job, or another owner's */
		PQclear(res);
		return RAP_ENOENT;
	}
	rap_buf_init(&b, (size_t)1 << 30);
	result = status_json(&b, res, job_row);
	PQclear(res);
	if (result != RAP_OK) {
		rap_buf_cleanup(&b);
		snprintf(err, RAP_ERRLEN, "job status: %s", rap_strerror(result));
		return result;
	}
	*json = rap_buf_take(&b);
	return RAP_OK;
}
