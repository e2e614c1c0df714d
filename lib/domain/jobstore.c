/*
 * jobstore.c: jobs in PostgreSQL, one SQL statement per operation.
 *
 * The jobs row is the job's only state; this file moves it between states
 * and the database guards each move.  A trigger (migration 0001) refuses a
 * change that is not in job_transitions, and every change, creation
 * included, writes a job_events row and a job.status event into the outbox
 * in the same transaction; a statement may explain the change through the
 * rap.event_detail setting.  A state change that needs a work message
 * (create, sweep, replay) inserts it into the outbox in the same statement,
 * so a job is never QUEUED without its message, nor the message sent for a
 * job that was not written (the outbox relay publishes both later).
 *
 * Workers own a job only through its lease: a claim sets lease_owner and
 * lease_until, and every later update by that worker (heartbeat, complete,
 * fail, retry, hand back) matches on lease_owner and PROCESSING, so a
 * worker whose lease was swept or cancelled gets RAP_ECONFLICT and changes
 * nothing.  The sweeper takes expired leases with FOR UPDATE SKIP LOCKED,
 * so several instances can sweep at once.  Attempts are counted at claim
 * time: a job whose attempts are used up becomes DEAD, never claimed again.
 */
#include "rap/jobstore.h"
#include "rap/assert.h"
#include "rap/err.h"
#include "rap/mem.h"
#include "rap/pg.h"
#include "rap/buf.h"
#include "rap/job_create.h"
#include "rap/str.h"
#include "rap/uuid.h"
#include "rap/job.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The job that an idempotency key already names, if the request matches. */
static int find_idempotent(PGconn *db, const char *owner, const char *idem_key,
			   const char *request_hash, struct rap_job_created *out, char *err)
{
	const char *p[2] = { owner, idem_key };
	PGresult *res;
	int result;

	result = rap_pg_exec(db,
			     "SELECT id, status, request_hash FROM jobs"
			     " WHERE owner = $1 AND idempotency_key = $2",
			     2, p, &res, err);
	if (result != RAP_OK)
		return result;
	if (PQntuples(res) == 0) {
		PQclear(res);
		snprintf(err, RAP_ERRLEN, "idempotency key vanished");
		return RAP_EDB;
	}
	if (strcmp(PQgetvalue(res, 0, 2), request_hash) != 0) {
		snprintf(err, RAP_ERRLEN,
			 "Idempotency-Key was already used with a different request body");
		result = RAP_ECONFLICT;
	} else {
		snprintf(out->job_id, sizeof(out->job_id), "%s", PQgetvalue(res, 0, 0));
		snprintf(out->status, sizeof(out->status), "%s", PQgetvalue(res, 0, 1));
		out->existing = true;
	}
	PQclear(res);
	return result;
}

/* The headers of a work message that re-queues a job: its trace
 * (migration 0016), so a retry, a sweep or a replay keeps the trace id. */
#define TRACE_HEADERS                                                                              \
	" CASE WHEN traceparent IS NULL THEN '{}'::jsonb"                                          \
	"   ELSE jsonb_build_object('traceparent', traceparent) END"

/*
 * One statement, so one transaction: the job only if the object is a
 * finished upload of the owner's, and its work message with it.
 */
#define CREATE_SQL                                                                                 \
	"WITH up AS (SELECT 1 FROM uploads WHERE object_key = $4 AND owner = $2"                   \
	"            AND state = 'COMPLETE'),"                                                     \
	" j AS (INSERT INTO jobs (id, owner, type, object_key, params, max_attempts,"              \
	"         idempotency_key, request_hash, webhook_url, traceparent)"                        \
	"       SELECT $1, $2, $3, $4, $5::jsonb, $6::int, $7, $8, $10, $11 FROM up"               \
	"       ON CONFLICT (owner, idempotency_key) WHERE idempotency_key IS NOT NULL"            \
	"       DO NOTHING"                                                                        \
	"       RETURNING id, type, object_key, owner)"                                            \
	" INSERT INTO outbox (kind, job_id, exchange, routing_key, body, headers)"                 \
	" SELECT 'job', j.id, 'jobs', j.type,"                                                     \
	"   rap_work_message(j.id, j.type, j.object_key, j.owner),"                                \
	"   jsonb_strip_nulls(jsonb_build_object('x-request-id', $9::text,"                        \
	"     'traceparent', $11::text))"                                                          \
	" FROM j RETURNING job_id"
#define CREATE_PARAMS 11

/* The parameters of CREATE_SQL for it (id and max are its buffers). */
static void create_params(const struct rap_job_create_item *it, char *id, char *max, const char **p)
{
	rap_uuid(id);
	snprintf(max, 12, "%d", it->req->max_attempts ? it->req->max_attempts : it->max_attempts);
	p[0] = id;
	p[1] = it->owner;
	p[2] = it->req->type;
	p[3] = it->req->object_key;
	p[4] = it->req->params;
	p[5] = max;
	p[6] = it->idem_key;
	p[7] = it->request_hash;
	p[8] = it->request_id;
	p[9] = it->req->webhook_url; /* NULL: none */
	p[10] = it->traceparent && *it->traceparent ? it->traceparent : NULL;
}

/* Settles an item from its statement's rows: the new job, else the job its
 * idempotency key names, else RAP_ENOENT. */
static void created(PGconn *db, struct rap_job_create_item *it, PGresult *res)
{
	memset(&it->out, 0, sizeof(it->out));
	if (PQntuples(res) == 1) {
		snprintf(it->out.job_id, sizeof(it->out.job_id), "%s", PQgetvalue(res, 0, 0));
		snprintf(it->out.status, sizeof(it->out.status), "CREATED");
		it->result = RAP_OK;
		return;
	}
	/* Nothing inserted: no such upload, or the key names an earlier job. */
	if (it->idem_key) {
		it->result = find_idempotent(db, it->owner, it->idem_key, it->request_hash,
					     &it->out, it->err);
		if (it->result != RAP_EDB)
			return;
	}
	snprintf(it->err, RAP_ERRLEN, "object_key does not name a finished upload of yours");
	it->result = RAP_ENOENT;
}

static void create_one(PGconn *db, struct rap_job_create_item *it)
{
	char id[RAP_UUID_STRLEN], max[12];
	const char *p[CREATE_PARAMS];
	PGresult *res;

	create_params(it, id, max, p);
	it->result = rap_pg_exec_prepared(db, "rap_job_create", CREATE_SQL, CREATE_PARAMS, p, &res,
					  it->err);
	if (it->result != RAP_OK)
		return;
	created(db, it, res);
	PQclear(res);
}

int rap_job_create(PGconn *db, const char *owner, const struct rap_job_create *req,
		   int default_max_attempts, const char *idem_key, const char *request_hash,
		   const char *request_id, const char *traceparent, struct rap_job_created *out,
		   char *err)
{
	struct rap_job_create_item it = { .owner = owner,
					  .req = req,
					  .max_attempts = default_max_attempts,
					  .idem_key = idem_key,
					  .request_hash = request_hash,
					  .request_id = request_id,
					  .traceparent = traceparent };

	create_one(db, &it);
	*out = it.out;
	if (it.result != RAP_OK)
		snprintf(err, RAP_ERRLEN, "%s", it.err);
	return it.result;
}

/* Reads the next statement's result in pipeline mode (the NULL that ends
 * it included); NULL when there is none. */
static PGresult *pipeline_result(PGconn *db)
{
	PGresult *res = PQgetResult(db), *end;

	if (res && PQresultStatus(res) != PGRES_PIPELINE_SYNC) {
		end = PQgetResult(db);
		if (end) /* not expected: keep the first, drop the rest */
			PQclear(end);
	}
	return res;
}

/*
 * Sends BEGIN, the n creations and COMMIT in one pipeline (one round trip,
 * one WAL flush), and reads their results into res[] (the creations') ;
 * true when the transaction committed.
 */
static bool create_pipelined(PGconn *db, struct rap_job_create_item *items, int n, PGresult **res)
{
	char ids[RAP_JOB_GROUP_MAX][RAP_UUID_STRLEN], max[RAP_JOB_GROUP_MAX][12];
	const char *p[CREATE_PARAMS];
	PGresult *r;
	bool ok = true;
	int i;

	if (!PQenterPipelineMode(db))
		return false;
	ok = PQsendQueryParams(db, "BEGIN", 0, NULL, NULL, NULL, NULL, 0);
	for (i = 0; i < n && ok; i++) {
		create_params(&items[i], ids[i], max[i], p);
		ok = PQsendQueryPrepared(db, "rap_job_create", CREATE_PARAMS, p, NULL, NULL, 0);
	}
	ok = ok && PQsendQueryParams(db, "COMMIT", 0, NULL, NULL, NULL, NULL, 0);
	ok = PQpipelineSync(db) && ok;
	/* BEGIN, the creations, COMMIT, then the sync; read them all. */
	for (i = -1; i <= n; i++) {
		r = pipeline_result(db);
		if (!r) {
			ok = false;
			break;
		}
		if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) { /* sent fewer */
			PQclear(r);
			ok = false;
			goto out_exit;
		}
		if (i >= 0 && i < n) {
			res[i] = r;
			ok = ok && PQresultStatus(r) == PGRES_TUPLES_OK;
		} else {
			ok = ok && PQresultStatus(r) == PGRES_COMMAND_OK;
			PQclear(r);
		}
	}
	while ((r = PQgetResult(db)) != NULL) { /* up to the sync */
		bool sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;

		PQclear(r);
		if (sync)
			break;
	}
out_exit:
	PQexitPipelineMode(db);
	if (PQtransactionStatus(db) == PQTRANS_INERROR ||
	    PQtransactionStatus(db) == PQTRANS_INTRANS)
		rap_pg_rollback(db);
	return ok && PQtransactionStatus(db) == PQTRANS_IDLE;
}

int rap_job_create_group(PGconn *db, struct rap_job_create_item *items, int n, char *err)
{
	PGresult *res[RAP_JOB_GROUP_MAX] = { NULL };
	bool committed;
	int i, result;

	RAP_ASSERT(n > 0 && n <= RAP_JOB_GROUP_MAX);
	if (n == 1) {
		create_one(db, &items[0]);
		return RAP_OK;
	}
	result = rap_pg_prepare(db, "rap_job_create", CREATE_SQL, CREATE_PARAMS, err);
	if (result != RAP_OK)
		return result;
	committed = create_pipelined(db, items, n, res);
	for (i = 0; i < n; i++) {
		if (committed)
			created(db, &items[i], res[i]);
		PQclear(res[i]);
	}
	if (committed)
		return RAP_OK;
	/* One of them failed (bytes PostgreSQL refuses, say), and so did the
	 * transaction: each on its own, so each gets its own answer. */
	if (!rap_pg_alive(db)) {
		snprintf(err, RAP_ERRLEN, "%s", PQerrorMessage(db));
		return RAP_EDB;
	}
	for (i = 0; i < n; i++)
		create_one(db, &items[i]);
	return RAP_OK;
}

double rap__job_queued_seconds(const PGresult *res, int row, int col)
{
	char *end;
	double v;

	if (PQgetisnull(res, row, col))
		return -1;
	v = strtod(PQgetvalue(res, row, col), &end);
	return *end == '\0' && v >= 0 ? v : 0;
}

int rap_job_claim(PGconn *db, const char *job_id, const char *worker, int lease_seconds,
		  bool takeover, struct rap_job_claim *out, char *err)
{
	char lease[12];
	const char *p[4] = { job_id, worker, lease, takeover ? "true" : "false" };
	PGresult *res;
	long long v;
	int result;

	memset(out, 0, sizeof(*out));
	snprintf(lease, sizeof(lease), "%d", lease_seconds);
	result = rap_pg_exec_prepared(
		db, "rap_job_claim",
		"WITH why AS (SELECT set_config('rap.event_detail', 'claimed by ' || $2"
		"   || CASE WHEN $4::bool THEN ' (redelivered)' ELSE '' END, true))"
		" UPDATE jobs SET status = 'PROCESSING', attempt = attempt + 1,"
		" lease_owner = $2, lease_until = now() + make_interval(secs => $3::int),"
		" started_at = coalesce(started_at, now()),"
		" progress = 0, stage = NULL, rows_done = NULL, estimated_completion = NULL"
		" FROM why, (SELECT status AS was, updated_at AS since FROM jobs WHERE id = $1) old"
		" WHERE id = $1 AND attempt < max_attempts"
		" AND (status IN ('CREATED', 'QUEUED', 'RETRYING')"
		"   OR (status = 'PROCESSING' AND (lease_until < now() OR $4::bool)))"
		" RETURNING attempt, max_attempts, params::text,"
		" CASE WHEN old.was IN ('CREATED', 'QUEUED')"
		"   THEN extract(epoch FROM now() - old.since) END",
		4, p, &res, err);
	if (result != RAP_OK)
		return result;
	if (PQntuples(res) == 1) {
		rap_strtonum(PQgetvalue(res, 0, 0), 0, 1000000, &v);
		out->attempt = (int)v;
		rap_strtonum(PQgetvalue(res, 0, 1), 0, 1000000, &v);
		out->max_attempts = (int)v;
		out->params = rap_strdup(PQgetvalue(res, 0, 2));
		out->queued_s = rap__job_queued_seconds(res, 0, 3);
		snprintf(out->status, sizeof(out->status), "PROCESSING");
		PQclear(res);
		return RAP_OK;
	}
	PQclear(res);
	/* Not claimed: a job every attempt of which was lost (its workers
	 * died) is DEAD now; otherwise say why. */
	result = rap_pg_exec(
		db,
		"UPDATE jobs SET status = 'DEAD', finished_at = now(),"
		" error = format('attempts exhausted: %s of %s started, the last one lost its worker',"
		"                attempt, max_attempts),"
		" lease_owner = NULL, lease_until = NULL"
		" WHERE id = $1 AND attempt >= max_attempts"
		" AND (status IN ('QUEUED', 'RETRYING')"
		"   OR (status = 'PROCESSING' AND (lease_until < now() OR $2::bool)))"
		" RETURNING status",
		2, (const char *const[]){ job_id, p[3] }, &res, err);
	if (result != RAP_OK)
		return result;
	if (PQntuples(res) == 1) {
		PQclear(res);
		out->exhausted = true;
		snprintf(out->status, sizeof(out->status), "DEAD");
		snprintf(err, RAP_ERRLEN, "attempts exhausted: the job is DEAD");
		return RAP_ECONFLICT;
	}
	PQclear(res);
	result = rap_pg_exec(db, "SELECT status FROM jobs WHERE id = $1", 1, p, &res, err);
	if (result != RAP_OK)
		return result;
	if (PQntuples(res) == 0) {
		PQclear(res);
		snprintf(err, RAP_ERRLEN, "job %s does not exist", job_id);
		return RAP_ENOENT;
	}
	snprintf(out->status, sizeof(out->status), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if (strcmp(out->status, "PROCESSING") == 0) {
		snprintf(err, RAP_ERRLEN, "another worker holds the lease");
		return RAP_AGAIN;
	}
	snprintf(err, RAP_ERRLEN, "job is %s", out->status);
	return RAP_ECONFLICT;
}

void rap_job_claim_cleanup(struct rap_job_claim *c)
{
	free(c->params);
	c->params = NULL;
}

/* Runs an UPDATE guarded by the lease; RAP_ECONFLICT when it matched no row. */
static int leased_update(PGconn *db, const char *name, const char *sql, int n, const char *const *p,
			 char *err)
{
	PGresult *res;
	int result = rap_pg_exec_prepared(db, name, sql, n, p, &res, err);

	if (result != RAP_OK)
		return result;
	result = strcmp(PQcmdTuples(res), "1") == 0 ? RAP_OK : RAP_ECONFLICT;
	if (result != RAP_OK)
		snprintf(err, RAP_ERRLEN, "this worker no longer holds the job");
	PQclear(res);
	return result;
}

int rap_job_heartbeat(PGconn *db, const char *job_id, const char *worker, int lease_seconds,
		      const struct rap_job_progress *pr, char *err)
{
	char lease[12], prog[32], rows[24], eta[24];
	const char *p[7] = { job_id, worker, lease, prog, NULL, NULL, NULL };

	snprintf(lease, sizeof(lease), "%d", lease_seconds);
	if (!pr)
		return leased_update(
			db, "rap_job_beat",
			"UPDATE jobs SET lease_until = now() + make_interval(secs => $3::int)"
			" WHERE id = $1 AND status = 'PROCESSING' AND lease_owner = $2",
			3, p, err);
	snprintf(prog, sizeof(prog), "%.4f",
		 pr->fraction < 0   ? 0
		 : pr->fraction > 1 ? 1
				    : pr->fraction);
	snprintf(rows, sizeof(rows), "%lld", pr->rows);
	snprintf(eta, sizeof(eta), "%lld", pr->eta_ms);
	p[4] = pr->stage;
	p[5] = pr->rows >= 0 ? rows : NULL;
	p[6] = pr->eta_ms >= 0 ? eta : NULL;
	/* The stage and rows stay as they were when this beat does not know
	 * them; the estimate is replaced (NULL: none can be made yet). */
	return leased_update(
		db, "rap_job_beat_progress",
		"UPDATE jobs SET lease_until = now() + make_interval(secs => $3::int),"
		" progress = $4::real, stage = coalesce($5, stage),"
		" rows_done = coalesce($6::bigint, rows_done),"
		" estimated_completion = now() + make_interval(secs => $7::bigint / 1000.0)"
		" WHERE id = $1 AND status = 'PROCESSING' AND lease_owner = $2",
		7, p, err);
}

int rap_job_complete(PGconn *db, const char *job_id, const char *worker, const char *result_json,
		     char *err)
{
	const char *p[3] = { job_id, worker, result_json };

	return leased_update(
		db, "rap_job_complete",
		"UPDATE jobs SET status = 'COMPLETED', result = $3::jsonb, progress = 1,"
		" error = NULL, finished_at = now(), lease_owner = NULL, lease_until = NULL"
		" WHERE id = $1 AND status = 'PROCESSING' AND lease_owner = $2",
		3, p, err);
}

int rap_job_fail(PGconn *db, const char *job_id, const char *worker, const char *state,
		 const char *error, char *err)
{
	const char *p[4] = { job_id, worker, state, error };

	return leased_update(db, "rap_job_fail",
			     "UPDATE jobs SET status = $3, error = $4, finished_at = now(),"
			     " lease_owner = NULL, lease_until = NULL"
			     " WHERE id = $1 AND status = 'PROCESSING' AND lease_owner = $2",
			     4, p, err);
}

int rap_job_retry(PGconn *db, const char *job_id, const char *worker, const char *error, char *err)
{
	const char *p[3] = { job_id, worker, error };

	return leased_update(db, "rap_job_retry",
			     "UPDATE jobs SET status = 'RETRYING', error = $3,"
			     " lease_owner = NULL, lease_until = NULL"
			     " WHERE id = $1 AND status = 'PROCESSING' AND lease_owner = $2",
			     3, p, err);
}

/*
 * Says why an owner's request on a job changed nothing: RAP_ENOENT when the
 * owner has no such job, else RAP_ECONFLICT with its state in status (16
 * bytes) and "<why> <state>" in err.
 */
static int refused(PGconn *db, const char *owner, const char *job_id, char *status, const char *why,
		   char *err)
{
	const char *p[2] = { job_id, owner };
	PGresult *res;
	int result;

	result = rap_pg_exec(db,
			     "SELECT status FROM jobs WHERE id = $1::uuid"
			     " AND ($2::text IS NULL OR owner = $2)",
			     2, p, &res, err);
	if (result != RAP_OK)
		return result;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return RAP_ENOENT;
	}
	snprintf(status, 16, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	snprintf(err, RAP_ERRLEN, "%s %s", why, status);
	return RAP_ECONFLICT;
}

int rap_job_cancel(PGconn *db, const char *owner, const char *job_id, char *status, char *err)
{
	const char *p[2] = { job_id, owner };
	PGresult *res;
	int result;

	result = rap_pg_exec(
		db,
		"UPDATE jobs SET status = 'CANCELLED', finished_at = now(),"
		" lease_owner = NULL, lease_until = NULL, error = 'cancelled by the owner'"
		" WHERE id = $1 AND owner = $2"
		" AND status IN ('CREATED', 'QUEUED', 'PROCESSING', 'RETRYING')",
		2, p, &res, err);
	if (result != RAP_OK)
		return result;
	result = strcmp(PQcmdTuples(res), "1") == 0 ? RAP_OK : RAP_ECONFLICT;
	PQclear(res);
	if (result == RAP_OK) {
		snprintf(status, 16, "CANCELLED");
		return RAP_OK;
	}
	return refused(db, owner, job_id, status, "the job is already", err);
}

const char *const rap_open_states[RAP_OPEN_STATES] = {
	"CREATED", "QUEUED", "PROCESSING", "RETRYING", "DEAD",
};

int rap_job_stats(PGconn *db, struct rap_job_stats *st, char *err)
{
	PGresult *res;
	int result, i, j;

	memset(st, 0, sizeof(*st));
	/* The WHERE matches the partial index jobs_status (migration 0001). */
	result = rap_pg_exec(
		db,
		"SELECT status, count(*) FROM jobs"
		" WHERE status NOT IN ('COMPLETED', 'FAILED', 'CANCELLED') GROUP BY status"
		" UNION ALL SELECT 'outbox', count(*) FROM outbox"
		" UNION ALL SELECT 'outbox_age', coalesce((extract(epoch FROM now() - min(created_at))"
		"                                         * 1000)::bigint, 0) FROM outbox",
		0, NULL, &res, err);
	if (result != RAP_OK)
		return result;
	for (i = 0; i < PQntuples(res); i++) {
		const char *state = PQgetvalue(res, i, 0);
		long long v = 0;

		rap_strtonum(PQgetvalue(res, i, 1), 0, INT64_MAX, &v);
		if (strcmp(state, "outbox") == 0)
			st->outbox_pending = v;
		else if (strcmp(state, "outbox_age") == 0)
			st->outbox_oldest_ms = v;
		for (j = 0; j < RAP_OPEN_STATES; j++)
			if (strcmp(state, rap_open_states[j]) == 0)
				st->open[j] = v;
	}
	PQclear(res);
	return RAP_OK;
}

int rap_job_expire(PGconn *db, long long days, int limit,
		   int (*drop)(void *ctx, const char *output_key), void *ctx, unsigned *expired,
		   char *err)
{
	char d[24], lim[12];
	const char *p[2] = { d, lim };
	struct rap_buf ids;
	PGresult *res;
	int result, i, n, kept = 0;

	*expired = 0;
	snprintf(d, sizeof(d), "%lld", days);
	snprintf(lim, sizeof(lim), "%d", limit);
	/* The WHERE matches the partial index jobs_finished (migration 0009). */
	result = rap_pg_exec(db,
			     "SELECT id, coalesce(result->>'output_key', '') FROM jobs"
			     " WHERE status IN ('COMPLETED', 'FAILED', 'CANCELLED')"
			     "   AND finished_at < now() - make_interval(days => $1::int)"
			     " ORDER BY finished_at LIMIT $2::int",
			     2, p, &res, err);
	if (result != RAP_OK)
		return result;
	n = PQntuples(res);
	if (n == 0) {
		PQclear(res);
		return RAP_OK;
	}
	rap_buf_init(&ids, (size_t)limit * 40 + 16);
	rap_buf_appends(&ids, "{");
	for (i = 0; i < n; i++) {
		const char *key = PQgetvalue(res, i, 1);

		if (key[0] && drop(ctx, key) != RAP_OK)
			continue; /* the object stays named: tried again next time */
		rap_buf_appendf(&ids, "%s%s", kept++ ? "," : "", PQgetvalue(res, i, 0));
	}
	rap_buf_appends(&ids, "}");
	PQclear(res);
	if (kept) {
		const char *q[1] = { ids.data };

		/* Finished jobs never change state again; the status test only
		 * guards against a row an operator edited in between.  Their
		 * errors and webhook deliveries go by cascade, their events
		 * here (no foreign key: migration 0014). */
		result = rap_pg_exec(
			db,
			"WITH gone AS (DELETE FROM jobs WHERE id = ANY($1::uuid[])"
			"                AND status IN ('COMPLETED', 'FAILED', 'CANCELLED')"
			"              RETURNING id),"
			" events AS (DELETE FROM job_events WHERE job_id IN (SELECT id FROM gone))"
			" SELECT count(*) FROM gone",
			1, q, &res, err);
		if (result == RAP_OK) {
			long long v = 0;

			rap_strtonum(PQgetvalue(res, 0, 0), 0, INT64_MAX, &v);
			*expired = (unsigned)v;
			PQclear(res);
		}
	}
	rap_buf_cleanup(&ids);
	return result;
}

int rap_job_sweep(PGconn *db, int limit, unsigned *requeued, unsigned *buried, char *err)
{
	char lim[12];
	const char *p[1] = { lim };
	PGresult *res;
	int result, i;

	*requeued = *buried = 0;
	snprintf(lim, sizeof(lim), "%d", limit);
	/*
	 * One statement: lock the expired leases, bury the jobs that used every
	 * attempt, hand the others back to the queue with a new work message.
	 */
	result = rap_pg_exec(
		db,
		"WITH expired AS (SELECT id FROM jobs WHERE status = 'PROCESSING'"
		"                 AND lease_until < now() ORDER BY lease_until"
		"                 LIMIT $1::int FOR UPDATE SKIP LOCKED),"
		" dead AS (UPDATE jobs j SET status = 'DEAD', finished_at = now(),"
		"            error = format('attempts exhausted: the worker of attempt %s of %s stopped heartbeating',"
		"                           j.attempt, j.max_attempts),"
		"            lease_owner = NULL, lease_until = NULL"
		"          FROM expired e WHERE j.id = e.id AND j.attempt >= j.max_attempts"
		"          RETURNING j.id),"
		" back AS (UPDATE jobs j SET status = 'QUEUED',"
		"            error = format('the worker of attempt %s stopped heartbeating; re-queued',"
		"                           j.attempt),"
		"            lease_owner = NULL, lease_until = NULL"
		"          FROM expired e WHERE j.id = e.id AND j.attempt < j.max_attempts"
		"          RETURNING j.id, j.type, j.object_key, j.owner, j.traceparent),"
		" msgs AS (INSERT INTO outbox (kind, job_id, exchange, routing_key, body, headers)"
		"          SELECT 'job', id, 'jobs', type,"
		"            rap_work_message(id, type, object_key, owner), " TRACE_HEADERS
		"          FROM back RETURNING 1)"
		" SELECT (SELECT count(*) FROM back), (SELECT count(*) FROM dead)",
		1, p, &res, err);
	if (result != RAP_OK)
		return result;
	for (i = 0; i < 2; i++) {
		long long v = 0;

		rap_strtonum(PQgetvalue(res, 0, i), 0, 1000000000, &v);
		*(i ? buried : requeued) = (unsigned)v;
	}
	PQclear(res);
	return RAP_OK;
}

int rap_job_handback(PGconn *db, const char *job_id, const char *worker, char *err)
{
	const char *p[2] = { job_id, worker };

	return leased_update(
		db, "rap_job_handback",
		"UPDATE jobs SET status = 'QUEUED', error = 'handed back: the worker shut down',"
		" lease_owner = NULL, lease_until = NULL"
		" WHERE id = $1 AND status = 'PROCESSING' AND lease_owner = $2",
		2, p, err);
}

int rap_job_handback_requeue(PGconn *db, const char *job_id, const char *worker, char *err)
{
	const char *p[2] = { job_id, worker };
	PGresult *res;
	int result;

	/* One statement: the job goes back with a new work message, so it is
	 * never QUEUED without one. */
	result = rap_pg_exec(
		db,
		"WITH back AS (UPDATE jobs SET status = 'QUEUED',"
		"   error = 'handed back: the worker shut down',"
		"   lease_owner = NULL, lease_until = NULL"
		"   WHERE id = $1 AND status = 'PROCESSING' AND lease_owner = $2"
		"   RETURNING id, type, object_key, owner, traceparent)"
		" INSERT INTO outbox (kind, job_id, exchange, routing_key, body, headers)"
		" SELECT 'job', id, 'jobs', type, rap_work_message(id, type, object_key, owner), " TRACE_HEADERS
		" FROM back RETURNING 1",
		2, p, &res, err);
	if (result != RAP_OK)
		return result;
	result = PQntuples(res) == 1 ? RAP_OK : RAP_ECONFLICT;
	PQclear(res);
	if (result != RAP_OK)
		snprintf(err, RAP_ERRLEN, "this worker no longer holds the job");
	return result;
}

int rap_job_retry_now(PGconn *db, const char *job_id, const char *worker, const char *error,
		      char *err)
{
	const char *p[3] = { job_id, worker, error };
	PGresult *res;
	int result;

	result = rap_pg_exec(
		db,
		"WITH again AS (UPDATE jobs SET status = 'RETRYING', error = $3,"
		"   lease_owner = NULL, lease_until = NULL"
		"   WHERE id = $1 AND status = 'PROCESSING' AND lease_owner = $2"
		"   RETURNING id, type, object_key, owner, traceparent)"
		" INSERT INTO outbox (kind, job_id, exchange, routing_key, body, headers)"
		" SELECT 'job', id, 'jobs', type, rap_work_message(id, type, object_key, owner), " TRACE_HEADERS
		" FROM again RETURNING 1",
		3, p, &res, err);
	if (result != RAP_OK)
		return result;
	result = PQntuples(res) == 1 ? RAP_OK : RAP_ECONFLICT;
	PQclear(res);
	if (result != RAP_OK)
		snprintf(err, RAP_ERRLEN, "this worker no longer holds the job");
	return result;
}

int rap_job_list_json(PGconn *db, const char *owner, const char *status, const char *type,
		      const char *after, int limit, char **json, char *err)
{
	char lim[12];
	const char *p[5] = { owner, status, after, lim, type };

	snprintf(lim, sizeof(lim), "%d", limit);
	return rap_pg_one_text(
		db,
		"WITH page AS (SELECT j.* FROM jobs j WHERE j.owner = $1"
		"   AND ($2::text IS NULL OR j.status = $2)"
		"   AND ($5::text IS NULL OR j.type = $5)"
		"   AND ($3::uuid IS NULL OR (j.created_at, j.id) <"
		"        (SELECT created_at, id FROM jobs WHERE id = $3::uuid AND owner = $1))"
		"   ORDER BY j.created_at DESC, j.id DESC LIMIT $4::int)"
		" SELECT json_build_object('jobs', coalesce(json_agg(json_build_object("
		"   'job_id', id, 'type', type, 'object_key', object_key, 'status', status,"
		"   'attempt', attempt, 'max_attempts', max_attempts, 'error', error,"
		"   'created_at', rap_ts(created_at), 'updated_at', rap_ts(updated_at),"
		"   'finished_at', rap_ts(finished_at))"
		"   ORDER BY created_at DESC, id DESC), '[]'),"
		"  'next', CASE WHEN count(*) = $4::int"
		"   THEN (array_agg(id ORDER BY created_at DESC, id DESC))[$4::int] END)::text"
		" FROM page",
		5, p, json, err);
}

int rap_job_list_dead_json(PGconn *db, const char *owner, const char *after, int limit, char **json,
			   char *err)
{
	char lim[12];
	const char *p[3] = { owner, after, lim };

	snprintf(lim, sizeof(lim), "%d", limit);
	return rap_pg_one_text(
		db,
		"WITH page AS (SELECT j.* FROM jobs j WHERE j.status = 'DEAD'"
		"   AND ($1::text IS NULL OR j.owner = $1)"
		"   AND ($2::uuid IS NULL OR (j.created_at, j.id) <"
		"        (SELECT created_at, id FROM jobs WHERE id = $2::uuid))"
		"   ORDER BY j.created_at DESC, j.id DESC LIMIT $3::int)"
		" SELECT json_build_object('jobs', coalesce(json_agg(json_build_object("
		"   'job_id', id, 'owner', owner, 'type', type, 'object_key', object_key,"
		"   'status', status, 'attempt', attempt, 'max_attempts', max_attempts,"
		"   'error', error, 'created_at', rap_ts(created_at),"
		"   'updated_at', rap_ts(updated_at), 'finished_at', rap_ts(finished_at))"
		"   ORDER BY created_at DESC, id DESC), '[]'),"
		"  'next', CASE WHEN count(*) = $3::int"
		"   THEN (array_agg(id ORDER BY created_at DESC, id DESC))[$3::int] END)::text"
		" FROM page",
		3, p, json, err);
}

int rap_job_replay(PGconn *db, const char *owner, const char *job_id, const char *by,
		   unsigned *count, char *status, char *err)
{
	const char *p[3] = { owner, job_id, by };
	PGresult *res;
	long long n = 0;
	int result;

	*count = 0;
	result = rap_pg_exec(
		db,
		"WITH why AS (SELECT set_config('rap.event_detail',"
		"            coalesce($3, 'replayed by the owner'), true)),"
		" back AS (UPDATE jobs j SET status = 'QUEUED', attempt = 0, error = NULL,"
		"            finished_at = NULL, lease_owner = NULL, lease_until = NULL, progress = 0"
		"          FROM why WHERE ($1::text IS NULL OR j.owner = $1) AND j.status = 'DEAD'"
		"          AND ($2::uuid IS NULL OR j.id = $2::uuid)"
		"          RETURNING j.id, j.type, j.object_key, j.owner, j.traceparent),"
		" msgs AS (INSERT INTO outbox (kind, job_id, exchange, routing_key, body, headers)"
		"          SELECT 'job', id, 'jobs', type,"
		"            rap_work_message(id, type, object_key, owner), " TRACE_HEADERS
		"          FROM back RETURNING 1)"
		" SELECT count(*) FROM msgs",
		3, p, &res, err);
	if (result != RAP_OK)
		return result;
	rap_strtonum(PQgetvalue(res, 0, 0), 0, 1000000000, &n);
	PQclear(res);
	*count = (unsigned)n;
	if (!job_id || n > 0) {
		snprintf(status, 16, "QUEUED");
		return RAP_OK;
	}
	return refused(db, owner, job_id, status, "only DEAD jobs can be replayed; this one is",
		       err);
}

int rap_job_bury(PGconn *db, const char *job_id, const char *reason, char *err)
{
	const char *p[2] = { job_id, reason };

	return rap_pg_exec(db,
			   "UPDATE jobs SET status = 'DEAD', error = $2, finished_at = now(),"
			   " lease_owner = NULL, lease_until = NULL"
			   " WHERE id = $1 AND status IN ('QUEUED', 'PROCESSING', 'RETRYING')",
			   2, p, NULL, err);
}

int rap_job_output_key(PGconn *db, const char *owner, const char *job_id, const char *name,
		       char *key, size_t key_len, char status[RAP_JOB_STATUS_LEN], char *err)
{
	const char *p[3] = { job_id, owner, name };
	PGresult *res;
	int result;

	/* outputs: [{name, key, bytes, content_type}, ...] (services/worker/
	 * result.c); a result without the list has no named output. */
	result = rap_pg_one(db,
			    "SELECT status, coalesce(CASE WHEN $3::text IS NULL"
			    " THEN result->>'output_key' ELSE (SELECT o->>'key'"
			    " FROM jsonb_array_elements(CASE jsonb_typeof(result->'outputs')"
			    " WHEN 'array' THEN result->'outputs' ELSE '[]'::jsonb END) o"
			    " WHERE o->>'name' = $3 LIMIT 1) END, '')"
			    " FROM jobs WHERE id = $1 AND owner = $2",
			    3, p, &res, err);
	if (result == RAP_ENOENT)
		snprintf(err, RAP_ERRLEN, "no job %s", job_id);
	if (result != RAP_OK)
		return result;
	snprintf(status, RAP_JOB_STATUS_LEN, "%s", PQgetvalue(res, 0, 0));
	snprintf(key, key_len, "%s", PQgetvalue(res, 0, 1));
	PQclear(res);
	if (strcmp(status, "COMPLETED") != 0) {
		snprintf(err, RAP_ERRLEN, "job %s is %s, not COMPLETED", job_id, status);
		return RAP_ECONFLICT;
	}
	if (key[0] == '\0' && name) {
		snprintf(err, RAP_ERRLEN, "job %s has no output named %.100s", job_id, name);
		return RAP_ENOENT;
	}
	if (key[0] == '\0') {
		snprintf(err, RAP_ERRLEN, "job %s is COMPLETED without an output", job_id);
		return RAP_ECONFLICT;
	}
	return RAP_OK;
}
