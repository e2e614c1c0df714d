/* jobbatch.c: many jobs per statement (claims, completions, creations). */
#include "rap/jobbatch.h"
#include "rap/err.h"
#include "rap/mem.h"
#include "rap/pg.h"
#include "rap/job_create.h"
#include "rap/jobstore.h"
#include "rap/str.h"
#include "rap/uuid.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Serialises a json-c value into a string the caller frees. */
static char *json_text(struct json_object *o)
{
	char *s = rap_strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));

	json_object_put(o);
	return s;
}

/* The index of id among ids, or -1; ids come from messages in any case. */
static int find_id(const char *const *ids, int n, const char *id)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcasecmp(ids[i], id) == 0)
			return i;
	return -1;
}

static int check_n(int n, char *err)
{
	if (n < 1 || n > RAP_JOBBATCH_MAX) {
		snprintf(err, RAP_ERRLEN, "a batch holds 1 to %d jobs", RAP_JOBBATCH_MAX);
		return RAP_EINVAL;
	}
	return RAP_OK;
}

int rap_jobbatch_claim(PGconn *db, const char *const *ids, int n, const char *worker,
		       int lease_seconds, struct rap_jobbatch_claim *out, char *err)
{
	struct json_object *arr;
	char lease[12], *list;
	const char *p[3];
	PGresult *res;
	long long v;
	int result, i, k;

	memset(out, 0, sizeof(*out) * (size_t)(n > 0 ? n : 0));
	result = check_n(n, err);
	if (result != RAP_OK)
		return result;
	arr = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(arr, json_object_new_string(ids[i]));
	list = json_text(arr);
	snprintf(lease, sizeof(lease), "%d", lease_seconds);
	p[0] = list;
	p[1] = worker;
	p[2] = lease;
	/*
	 * The rows are locked in id order, so two workers that got copies of
	 * the same jobs cannot deadlock (the relay and the sweeper skip locked
	 * rows and never wait); the locking clause re-checks each row's state
	 * once it holds it.  The ids drive the plan (materialised), never
	 * an index of all waiting jobs, whose size is the backlog's: the
	 * state test is written so that no index can take it ("IS TRUE"),
	 * since the planner, which believes few jobs wait, would otherwise
	 * scan jobs_status, full of the dead entries of the jobs' churn.
	 * The statement is prepared: its one plan must hold for any batch.
	 */
	result = rap_pg_exec_prepared(
		db, "rap_batch_claim",
		"WITH why AS (SELECT set_config('rap.event_detail', 'claimed by ' || $2 || ' (batch)', true)),"
		" ids AS MATERIALIZED (SELECT DISTINCT x::uuid AS id"
		"          FROM json_array_elements_text($1::json) x),"
		" want AS (SELECT j.id, j.status AS was, j.updated_at AS since"
		"          FROM ids JOIN jobs j ON j.id = ids.id"
		"          WHERE j.attempt < j.max_attempts"
		"          AND (j.status IN ('CREATED', 'QUEUED', 'RETRYING')) IS TRUE"
		"          ORDER BY j.id FOR UPDATE)"
		" UPDATE jobs j SET status = 'PROCESSING', attempt = j.attempt + 1,"
		" lease_owner = $2, lease_until = now() + make_interval(secs => $3::int),"
		" started_at = coalesce(j.started_at, now())"
		" FROM why, want WHERE j.id = want.id"
		" RETURNING j.id, j.attempt, j.max_attempts, j.params::text,"
		" CASE WHEN want.was IN ('CREATED', 'QUEUED')"
		"   THEN extract(epoch FROM now() - want.since) END",
		3, p, &res, err);
	free(list);
	if (result != RAP_OK)
		return result;
	for (i = 0; i < PQntuples(res); i++) {
		k = find_id(ids, n, PQgetvalue(res, i, 0));
		if (k < 0)
			continue;
		out[k].claimed = true;
		rap_strtonum(PQgetvalue(res, i, 1), 0, 1000000, &v);
		out[k].attempt = (int)v;
		rap_strtonum(PQgetvalue(res, i, 2), 0, 1000000, &v);
		out[k].max_attempts = (int)v;
		out[k].params = rap_strdup(PQgetvalue(res, i, 3));
		out[k].queued_s = rap__job_queued_seconds(res, i, 4);
	}
	PQclear(res);
	return RAP_OK;
}

void rap_jobbatch_claims_cleanup(struct rap_jobbatch_claim *c, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		free(c[i].params);
		c[i].params = NULL;
	}
}

int rap_jobbatch_complete(PGconn *db, const char *const *ids, const char *const *results, int n,
			  const char *worker, bool *done, char *err)
{
	struct json_object *arr, *row;
	const char *p[2];
	PGresult *res;
	char *rows;
	int result, i, k;

	memset(done, 0, sizeof(*done) * (size_t)(n > 0 ? n : 0));
	result = check_n(n, err);
	if (result != RAP_OK)
		return result;
	arr = json_object_new_array();
	for (i = 0; i < n; i++) {
		row = json_object_new_object();
		json_object_object_add(row, "id", json_object_new_string(ids[i]));
		json_object_object_add(row, "result", json_object_new_string(results[i]));
		json_object_array_add(arr, row);
	}
	rows = json_text(arr);
	p[0] = rows;
	p[1] = worker;
	result = rap_pg_exec_prepared(
		db, "rap_batch_complete",
		"WITH why AS (SELECT set_config('rap.event_detail', '', true))"
		" UPDATE jobs j SET status = 'COMPLETED', result = r.result::jsonb, progress = 1,"
		" error = NULL, finished_at = clock_timestamp(), lease_owner = NULL,"
		" lease_until = NULL"
		" FROM json_to_recordset($1::json) AS r(id uuid, result text), why"
		" WHERE j.id = r.id AND j.status = 'PROCESSING' AND j.lease_owner = $2"
		" RETURNING j.id",
		2, p, &res, err);
	free(rows);
	if (result != RAP_OK)
		return result;
	for (i = 0; i < PQntuples(res); i++) {
		k = find_id(ids, n, PQgetvalue(res, i, 0));
		if (k >= 0)
			done[k] = true;
	}
	PQclear(res);
	return RAP_OK;
}

/* The rows of a batch as json_to_recordset reads them (caller frees). */
static char *create_rows(const struct rap_job_create *reqs, const int *max_attempts, int n,
			 const char *idem_key, struct rap_jobbatch_created *out)
{
	struct json_object *arr = json_object_new_array(), *row;
	char key[300];
	int i;

	for (i = 0; i < n; i++) {
		rap_uuid(out[i].job_id);
		snprintf(out[i].status, sizeof(out[i].status), "CREATED");
		row = json_object_new_object();
		json_object_object_add(row, "i", json_object_new_int(i));
		json_object_object_add(row, "id", json_object_new_string(out[i].job_id));
		json_object_object_add(row, "type", json_object_new_string(reqs[i].type));
		json_object_object_add(row, "object_key",
				       json_object_new_string(reqs[i].object_key));
		json_object_object_add(
			row, "params",
			json_object_new_string(reqs[i].params ? reqs[i].params : "{}"));
		json_object_object_add(row, "max_attempts",
				       json_object_new_int(reqs[i].max_attempts
								   ? reqs[i].max_attempts
								   : max_attempts[i]));
		if (reqs[i].webhook_url)
			json_object_object_add(row, "webhook_url",
					       json_object_new_string(reqs[i].webhook_url));
		if (idem_key) {
			snprintf(key, sizeof(key), "%s#%d", idem_key, i);
			json_object_object_add(row, "idem", json_object_new_string(key));
		}
		json_object_array_add(arr, row);
	}
	return json_text(arr);
}

#define BATCH_ROWS                                                                                 \
	"json_to_recordset($2::json) AS r(i int, id uuid, type text,"                              \
	" object_key text, params text, max_attempts int, idem text, webhook_url text)"

/* The jobs that an earlier batch under the same key created, if the whole
 * batch is there with the same request; RAP_ECONFLICT otherwise. */
static int find_batch(PGconn *db, const char *owner, const char *rows, int n,
		      const char *request_hash, struct rap_jobbatch_created *out, char *err)
{
	const char *p[3] = { owner, rows, request_hash };
	PGresult *res;
	int result, i;

	result = rap_pg_exec(
		db,
		"SELECT r.i, j.id, j.status, j.request_hash = $3 FROM " BATCH_ROWS
		" JOIN jobs j ON j.owner = $1 AND j.idempotency_key = r.idem ORDER BY r.i",
		3, p, &res, err);
	if (result != RAP_OK)
		return result;
	result = PQntuples(res) == n ? RAP_OK : RAP_ECONFLICT;
	for (i = 0; result == RAP_OK && i < n; i++) {
		if (strcmp(PQgetvalue(res, i, 3), "t") != 0) {
			result = RAP_ECONFLICT;
			break;
		}
		snprintf(out[i].job_id, sizeof(out[i].job_id), "%s", PQgetvalue(res, i, 1));
		snprintf(out[i].status, sizeof(out[i].status), "%s", PQgetvalue(res, i, 2));
	}
	PQclear(res);
	if (result == RAP_ECONFLICT)
		snprintf(err, RAP_ERRLEN,
			 "Idempotency-Key was already used with a different request body");
	return result;
}

/* RAP_ENOENT with *bad_index set when an object is not the owner's upload. */
static int check_objects(PGconn *db, const char *owner, const char *rows, int *bad_index, char *err)
{
	const char *p[2] = { owner, rows };
	PGresult *res;
	long long v;
	int result;

	result = rap_pg_exec(
		db,
		"SELECT min(r.i) FROM " BATCH_ROWS " WHERE NOT EXISTS (SELECT 1 FROM uploads u"
		" WHERE u.object_key = r.object_key AND u.owner = $1 AND u.state = 'COMPLETE')",
		2, p, &res, err);
	if (result != RAP_OK)
		return result;
	if (!PQgetisnull(res, 0, 0) &&
	    rap_strtonum(PQgetvalue(res, 0, 0), 0, RAP_JOBBATCH_MAX, &v) == RAP_OK) {
		*bad_index = (int)v;
		snprintf(err, RAP_ERRLEN,
			 "jobs[%d].object_key does not name a finished upload of yours", (int)v);
		result = RAP_ENOENT;
	}
	PQclear(res);
	return result;
}

int rap_jobbatch_create(PGconn *db, const char *owner, const struct rap_job_create *reqs,
			const int *max_attempts, int n, const char *idem_key,
			const char *request_hash, const char *request_id, const char *traceparent,
			struct rap_jobbatch_created *out, bool *existing, int *bad_index, char *err)
{
	const char *p[5] = { owner, NULL, idem_key ? request_hash : NULL, request_id,
			     traceparent && *traceparent ? traceparent : NULL };
	PGresult *res;
	char *rows;
	int result, inserted;

	*existing = false;
	*bad_index = -1;
	result = check_n(n, err);
	if (result != RAP_OK)
		return result;
	rows = create_rows(reqs, max_attempts, n, idem_key, out);
	p[1] = rows;
	result = rap_pg_begin(db, err);
	if (result != RAP_OK)
		goto out_free;
	result = check_objects(db, owner, rows, bad_index, err);
	if (result != RAP_OK)
		goto out_rollback;
	result = rap_pg_exec_prepared(
		db, "rap_batch_create",
		"WITH j AS (INSERT INTO jobs (id, owner, type, object_key, params, max_attempts,"
		"             idempotency_key, request_hash, webhook_url, traceparent)"
		"           SELECT r.id, $1, r.type, r.object_key, r.params::jsonb, r.max_attempts,"
		"             r.idem, $3, r.webhook_url, $5 FROM " BATCH_ROWS " ORDER BY r.i"
		"           ON CONFLICT (owner, idempotency_key) WHERE idempotency_key IS NOT NULL"
		"           DO NOTHING"
		"           RETURNING id, type, object_key, owner)"
		" INSERT INTO outbox (kind, job_id, exchange, routing_key, body, headers)"
		" SELECT 'job', j.id, 'jobs', j.type,"
		"   rap_work_message(j.id, j.type, j.object_key, j.owner),"
		"   jsonb_strip_nulls(jsonb_build_object('x-request-id', $4::text,"
		"     'traceparent', $5::text))"
		" FROM j",
		5, p, &res, err);
	if (result != RAP_OK)
		goto out_rollback;
	inserted = (int)strtol(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	if (inserted != n) {
		/* Some keys were taken: the batch was sent before, or clashes. */
		result = inserted == 0 ? find_batch(db, owner, rows, n, request_hash, out, err)
				       : RAP_ECONFLICT;
		if (result == RAP_ECONFLICT && inserted != 0)
			snprintf(err, RAP_ERRLEN,
				 "Idempotency-Key was already used with a different request body");
		*existing = result == RAP_OK;
		goto out_rollback;
	}
	result = rap_pg_commit(db, err);
	if (result != RAP_OK)
		goto out_rollback;
	goto out_free;

out_rollback:
	rap_pg_rollback(db);
out_free:
	free(rows);
	return result;
}
