/* outbox.c: publishing the outbox with confirms (the transactional outbox). */
#include "rap/outbox.h"
#include "rap/amqp.h"
#include "rap/err.h"
#include "rap/mem.h"
#include "rap/pg.h"
#include "rap/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct returned {
	struct rap_buf ids; /* outbox ids of returned messages, comma-separated */
};

static void on_return(void *ctx, const char *message_id)
{
	struct returned *r = ctx;

	if (r->ids.len)
		rap_buf_append(&r->ids, ",", 1);
	rap_buf_appends(&r->ids, message_id);
}

/* Columns of the rows the relay reads. */
enum {
	COL_ID,
	COL_KIND,
	COL_JOB,
	COL_EXCHANGE,
	COL_KEY,
	COL_BODY,
	COL_REQUEST,
	COL_TRACE
};

/*
 * The headers of a message of rows first..last-1: their traceparent
 * (issue 16, point 3) when they all have the same one.  A batch of
 * several jobs' events has none: one header cannot name several traces,
 * and its events still carry their job ids.  hdrs holds 3 pointers.
 */
static const char *const *trace_headers(PGresult *rows, int first, int last, const char **hdrs)
{
	const char *t = PQgetvalue(rows, first, COL_TRACE);
	int i;

	if (!*t)
		return NULL;
	for (i = first + 1; i < last; i++)
		if (strcmp(PQgetvalue(rows, i, COL_TRACE), t) != 0)
			return NULL;
	hdrs[0] = "traceparent";
	hdrs[1] = t;
	hdrs[2] = NULL;
	return hdrs;
}

/* True when row j is a status event for the same exchange and key as row i. */
static bool same_run(PGresult *rows, int i, int j)
{
	return strcmp(PQgetvalue(rows, j, COL_KIND), "event") == 0 &&
	       strcmp(PQgetvalue(rows, j, COL_EXCHANGE), PQgetvalue(rows, i, COL_EXCHANGE)) == 0 &&
	       strcmp(PQgetvalue(rows, j, COL_KEY), PQgetvalue(rows, i, COL_KEY)) == 0;
}

/*
 * Publishes the status events of rows first..last-1 (one exchange and
 * routing key) as one job.status.batch message: a busy system records
 * transitions in batches, and one message for a run of them costs the
 * broker one publish, one delivery and one ack instead of one per event.
 * Their order is kept: runs are cut wherever the key changes.
 */
static int publish_run(PGresult *rows, int first, int last, struct rap_amqp *a, char *err)
{
	struct rap_buf body;
	char message_id[48];
	const char *hdrs[3];
	int i, result;

	rap_buf_init(&body, 64 * 1024 * 1024);
	rap_buf_appends(&body, "{\"v\":1,\"type\":\"job.status.batch\",\"events\":[");
	for (i = first; i < last; i++) {
		if (i > first)
			rap_buf_append(&body, ",", 1);
		rap_buf_append(&body, PQgetvalue(rows, i, COL_BODY),
			       (size_t)PQgetlength(rows, i, COL_BODY));
	}
	rap_buf_appends(&body, "]}");
	snprintf(message_id, sizeof(message_id), "%s-%s", PQgetvalue(rows, first, COL_ID),
		 PQgetvalue(rows, last - 1, COL_ID));
	result = rap_amqp_publish(a, PQgetvalue(rows, first, COL_EXCHANGE),
				  PQgetvalue(rows, first, COL_KEY), body.data, body.len, message_id,
				  NULL, false, trace_headers(rows, first, last, hdrs));
	if (result != RAP_OK)
		snprintf(err, RAP_ERRLEN, "%s", rap_amqp_errmsg(a));
	rap_buf_cleanup(&body);
	return result;
}

static int publish_rows(PGresult *rows, struct rap_amqp *a, struct rap_buf *ids, char *err)
{
	const char *hdrs[3];
	int i, end, n = PQntuples(rows);

	for (i = 0; i < n; i = end) {
		const char *id = PQgetvalue(rows, i, COL_ID);
		bool is_job = strcmp(PQgetvalue(rows, i, COL_KIND), "job") == 0;

		end = i + 1;
		while (!is_job && end < n && same_run(rows, i, end))
			end++;
		if (end - i > 1) {
			if (publish_run(rows, i, end, a, err) != RAP_OK)
				return RAP_EAMQP;
		} else if (rap_amqp_publish(a, PQgetvalue(rows, i, COL_EXCHANGE),
					    PQgetvalue(rows, i, COL_KEY),
					    PQgetvalue(rows, i, COL_BODY),
					    (size_t)PQgetlength(rows, i, COL_BODY), id,
					    PQgetvalue(rows, i, COL_REQUEST), is_job,
					    trace_headers(rows, i, end, hdrs)) != RAP_OK) {
			snprintf(err, RAP_ERRLEN, "%s", rap_amqp_errmsg(a));
			return RAP_EAMQP;
		}
		for (; i < end; i++)
			rap_buf_appendf(ids, "%s%s", ids->len ? "," : "",
					PQgetvalue(rows, i, COL_ID));
	}
	return RAP_OK;
}

/* The job ids of the work rows whose messages came back unroutable
 * (message ids, comma-separated: a work message's is its row's id). */
static void returned_jobs(PGresult *rows, const char *returned, struct rap_buf *out)
{
	int i, n = PQntuples(rows);

	for (i = 0; i < n; i++) {
		const char *id = PQgetvalue(rows, i, COL_ID), *p = returned;
		size_t len = strlen(id);

		if (strcmp(PQgetvalue(rows, i, COL_KIND), "job") != 0)
			continue;
		for (; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
			if (strncmp(p, id, len) == 0 && (p[len] == ',' || p[len] == '\0')) {
				rap_buf_appendf(out, "%s%s", out->len ? "," : "",
						PQgetvalue(rows, i, COL_JOB));
				break;
			}
		}
	}
}

/* Tells the caller of each work message published (stats->on_work). */
static void report_work(PGresult *rows, const struct rap_outbox_stats *stats)
{
	int i;

	for (i = 0; stats->on_work && i < PQntuples(rows); i++)
		if (strcmp(PQgetvalue(rows, i, COL_KIND), "job") == 0)
			stats->on_work(stats->ctx, PQgetvalue(rows, i, COL_JOB),
				       PQgetvalue(rows, i, COL_TRACE));
}

int rap_outbox_relay(PGconn *db, struct rap_amqp *a, int limit, struct rap_outbox_stats *stats,
		     char *err)
{
	struct returned ret;
	struct rap_buf ids;
	char lim[12];
	const char *p[2];
	PGresult *rows = NULL, *res;
	unsigned nacked;
	int result;

	stats->published = stats->queued = stats->unroutable = 0;
	rap_buf_init(&ids, 16 * 1024 * 1024);
	rap_buf_init(&ret.ids, 16 * 1024 * 1024);
	snprintf(lim, sizeof(lim), "%d", limit);
	p[0] = lim;
	/* BEGIN and the batch's rows in one round trip. */
	result = rap_pg_exec_prepared_with(
		db, "BEGIN", "rap_outbox_take",
		"WITH work AS (SELECT * FROM outbox WHERE kind = 'job'"
		"   ORDER BY id LIMIT $1::int FOR UPDATE SKIP LOCKED),"
		" events AS (SELECT * FROM outbox WHERE kind = 'event'"
		"   ORDER BY id LIMIT $1::int FOR UPDATE SKIP LOCKED)"
		" SELECT id, kind, job_id, exchange, routing_key, body,"
		" coalesce(headers->>'x-request-id', ''), coalesce(headers->>'traceparent', '')"
		" FROM work"
		" UNION ALL SELECT id, kind, job_id, exchange, routing_key, body,"
		" coalesce(headers->>'x-request-id', ''), coalesce(headers->>'traceparent', '')"
		" FROM events",
		1, p, NULL, &rows, err);
	if (result != RAP_OK || PQntuples(rows) == 0)
		goto out_rollback;
	result = publish_rows(rows, a, &ids, err);
	if (result != RAP_OK)
		goto out_rollback;
	result = rap_amqp_wait_confirms(a, 10000, on_return, &ret, &nacked);
	if (result != RAP_OK) {
		snprintf(err, RAP_ERRLEN, "%s (%u nacked)", rap_amqp_errmsg(a), nacked);
		goto out_rollback;
	}
	/*
	 * Everything is confirmed: forget the rows and mark their jobs QUEUED
	 * in one statement, sent with the commit.  A worker that
	 * got the message at the moment of the confirm and claims a job whose
	 * row is locked here waits for this transaction, so the lock is taken
	 * last (it was taken before the rows' deletion: one more round trip,
	 * up to 9 ms under load).  A job row that is locked is being claimed by a
	 * worker that already got the message (CREATED -> PROCESSING): it is
	 * past QUEUED, so it is skipped rather than waited for, and the relay
	 * never holds up a claim.  The batch's own ids drive the statement: a
	 * plan that started from all CREATED jobs would cost as much as the
	 * backlog, every batch, so the state test is one no index can take
	 * ("IS TRUE"; the planner thinks few jobs are CREATED and would pick
	 * jobs_status, whose dead entries make it far larger than that).
	 */
	p[0] = ids.data;
	/* With the COMMIT in the same round trip, unless some work came back
	 * unroutable (rare): its jobs are buried first, in this transaction. */
	result = rap_pg_exec_prepared_with(
		db, NULL, "rap_outbox_done",
		"WITH gone AS (DELETE FROM outbox"
		"   WHERE id = ANY(string_to_array($1, ',')::bigint[]) RETURNING kind, job_id),"
		" claimable AS (SELECT j.id FROM gone JOIN jobs j ON j.id = gone.job_id"
		"   WHERE gone.kind = 'job' AND (j.status = 'CREATED') IS TRUE"
		"   FOR UPDATE OF j SKIP LOCKED)"
		" UPDATE jobs SET status = 'QUEUED' FROM claimable WHERE jobs.id = claimable.id",
		1, p, ret.ids.len ? NULL : "COMMIT", &res, err);
	if (result != RAP_OK)
		goto out_rollback;
	stats->queued = (unsigned)strtoul(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	if (ret.ids.len) { /* rare: a type no queue is bound for */
		struct rap_buf jobs;

		rap_buf_init(&jobs, 16 * 1024 * 1024);
		returned_jobs(rows, ret.ids.data, &jobs);
		p[0] = jobs.data ? jobs.data : "";
		result = rap_pg_exec(
			db,
			"UPDATE jobs SET status = 'DEAD', finished_at = now(),"
			" error = 'no queue is bound for job type ' || type"
			" WHERE status = 'QUEUED' AND id = ANY(string_to_array($1, ',')::uuid[])",
			1, p, &res, err);
		rap_buf_cleanup(&jobs);
		if (result != RAP_OK)
			goto out_rollback;
		stats->unroutable = (unsigned)strtoul(PQcmdTuples(res), NULL, 10);
		PQclear(res);
		result = rap_pg_commit(db, err);
	}
	if (result == RAP_OK) {
		stats->published = (unsigned)PQntuples(rows);
		report_work(rows, stats);
	}
	goto out_clear;

out_rollback:
	rap_pg_rollback(db);
out_clear:
	PQclear(rows);
	rap_buf_cleanup(&ret.ids);
	rap_buf_cleanup(&ids);
	return result;
}
