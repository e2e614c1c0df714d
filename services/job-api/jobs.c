/* jobs.c: the handlers of job-api's /jobs routes (the table: routes.c). */
#include "job_api.h"

#include "rap/list.h"

#include "rap/err.h"
#include "rap/frame.h"
#include "rap/hash.h"
#include "rap/http.h"
#include "rap/jobstate.h"
#include "rap/jobstore.h"
#include "rap/list.h"
#include "rap/log.h"
#include "rap/metrics.h"
#include "rap/mem.h"
#include "rap/pg.h"
#include "rap/presigned.h"
#include "rap/s3.h"
#include "rap/webhook.h"
#include "rap/job_create.h"
#include "rap/str.h"
#include "rap/upload.h"
#include "rap/uuid.h"
#include "rap/clock.h"
#include "rap/job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void job_api_create(void *svc, struct rap_http_req *req)
{
	struct job_api *api = svc;
	const char *idem;
	struct rap_job_create in;
	struct rap_job_created out;
	char err[RAP_ERRLEN], hash[RAP_SHA256_HEXLEN], loc[128], *body;
	char traceparent[RAP_TRACEPARENT_LEN];
	PGconn *db;
	int result;

	if (!job_api_create_headers(req, &idem))
		return;
	if (rap_job_create_decode(req->body.data, req->body.len, &in, err) != RAP_OK) {
		rap_http_error(req, 400, "bad_request", "%s", err);
		return;
	}
	if (!job_api_create_allowed(api, req, 1))
		goto out_cleanup;
	if (!job_api_type_enabled(api, in.type)) {
		rap_http_error(req, 422, "unknown_job_type", "job type '%s' is not one of: %s",
			       in.type, api->svc.cfg.job_types);
		goto out_cleanup;
	}
	if (job_api_params_check(api, in.type, in.params, "params", err) != RAP_OK) {
		rap_http_error(req, 422, "invalid_params", "%s", err);
		goto out_cleanup;
	}
	if (in.webhook_url &&
	    rap_webhook_url_check(in.webhook_url, api->cfg.webhook_hosts, err) != RAP_OK) {
		rap_http_error(req, 400, "bad_request", "%s", err);
		goto out_cleanup;
	}
	rap_job_create_hash(&in, hash);
	result = RAP_OK;
	if (rap_list_has(api->content_list, in.type)) {
		db = job_api_db_get(api, req);
		if (!db)
			goto out_cleanup;
		result = job_api_content_check(api, db, req->owner, in.type, in.object_key, err);
		rap_pg_pool_put(api->pool, db);
	}
	rap_trace_format(&req->trace, traceparent);
	if (result == RAP_OK) {
		/* With the creations of the other requests of the moment. */
		struct rap_job_create_item it = { .owner = req->owner,
						  .req = &in,
						  .max_attempts =
							  job_api_max_attempts(api, in.type),
						  .idem_key = idem,
						  .request_hash = hash,
						  .request_id = req->request_id,
						  .traceparent = traceparent };

		result = job_api_group_create(api->group, &it);
		out = it.out;
		snprintf(err, RAP_ERRLEN, "%s", it.err);
	}
	if (result == RAP_ENOENT) {
		/* Not a finished upload: perhaps a presigned one, now in S3. */
		char why[RAP_ERRLEN];
		int verified;

		db = job_api_db_get(api, req);
		if (!db)
			goto out_cleanup;
		verified = job_api_presigned_verify(api, db, req->owner, in.object_key, why);
		if (verified == RAP_OK)
			result = rap_job_create(db, req->owner, &in,
						job_api_max_attempts(api, in.type), idem, hash,
						req->request_id, traceparent, &out, err);
		else if (verified != RAP_ENOENT)
			snprintf(err, RAP_ERRLEN, "%s", why);
		if (verified == RAP_ES3 || verified == RAP_EDB)
			result = verified;
		rap_pg_pool_put(api->pool, db);
		if (result == RAP_OK)
			job_api_relay_kick(api);
	}
	if (result == RAP_ENOENT) {
		rap_http_error(req, 422, "unknown_object", "%s", err);
		goto out_cleanup;
	}
	if (result == RAP_EUNSUPPORTED) {
		rap_http_error(req, 415, "unsupported_content", "%s", err);
		goto out_cleanup;
	}
	if (result == RAP_ECONFLICT) {
		rap_http_error(req, 409, "idempotency_conflict", "%s", err);
		goto out_cleanup;
	}
	if (result != RAP_OK) {
		job_api_store_error(req, result, err);
		goto out_cleanup;
	}
	rap_metric_inc(out.existing ? api->jobs_idempotent : api->jobs_created, 1);
	snprintf(loc, sizeof(loc), "/api/jobs/%s", out.job_id);
	rap_http_header(req, "Location", loc);
	body = rap_asprintf("{\"job_id\":\"%s\",\"status\":\"%s\"%s}", out.job_id, out.status,
			    out.existing ? ",\"idempotent_replay\":true" : "");
	rap_http_reply(req, out.existing ? 200 : 202, body);
	free(body);
	{
		struct rap_log_ctx ctx = { .request_id = req->request_id, .job_id = out.job_id };

		rap_log(RAP_LOG_INFO, &ctx, "job %s (%s) for %s",
			out.existing ? "replayed" : "created", in.type, req->owner);
	}
out_cleanup:
	rap_job_create_cleanup(&in);
}

/* GET /jobs/{id}/output[?name=NAME]: a presigned GET URL of a COMPLETED
 * job's output, the one of that name (its result's outputs) or its main
 * one (output_key). */
void job_api_output(void *svc, struct rap_http_req *req)
{
	struct job_api *api = svc;
	const char *id = rap_http_param(req, "id"), *name = rap_http_get_arg(req, "name"), *base;
	int expires = (int)api->svc.cfg.presign_seconds;
	char err[RAP_ERRLEN], key[1100], status[RAP_JOB_STATUS_LEN], until[RAP_ISO_TIME_LEN], *url,
		*body;
	time_t now = time(NULL);
	struct tm tm;
	PGconn *db;
	int result;

	if (!job_api_status_allowed(api, req))
		return;
	if (name && !rap_output_name_ok(name)) {
		rap_http_error(
			req, 400, "bad_request",
			"name must be an output's name: 1 to %d letters, digits, '.', '_' or '-'",
			RAP_MAX_OUTPUT_NAME);
		return;
	}
	db = job_api_db_for_job(api, req, id);
	if (!db)
		return;
	result = rap_job_output_key(db, req->owner, id, name, key, sizeof(key), status, err);
	rap_pg_pool_put(api->pool, db);
	if (result == RAP_ENOENT) {
		rap_http_error(req, 404, "not_found", "%s", err);
		return;
	}
	if (result == RAP_ECONFLICT) {
		rap_http_error(req, 409, "no_output", "%s", err);
		return;
	}
	if (result != RAP_OK) {
		job_api_store_error(req, result, err);
		return;
	}
	url = rap_s3_presign(api->presigner, "GET", key, (unsigned)expires, now);
	if (!url) {
		rap_http_error(req, 500, "internal", "the URL could not be signed");
		return;
	}
	now += expires;
	gmtime_r(&now, &tm);
	strftime(until, sizeof(until), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
	/* Output keys are processed/{job_id}/NAME, names of the bytes above
	 * (result.json for a result without outputs): no JSON escaping needed. */
	base = strrchr(key, '/');
	body = rap_asprintf("{\"job_id\":\"%s\",\"name\":\"%s\",\"object_key\":\"%s\","
			    "\"method\":\"GET\",\"url\":\"%s\",\"expires_at\":\"%s\"}",
			    id, base ? base + 1 : key, key, url, until);
	rap_http_reply(req, 200, body);
	free(body);
	free(url);
}

void job_api_get(void *svc, struct rap_http_req *req)
{
	struct job_api *api = svc;
	const char *id = rap_http_param(req, "id");
	char err[RAP_ERRLEN], *json = NULL;
	PGconn *db;
	int result;

	if (!job_api_status_allowed(api, req))
		return;
	db = job_api_db_for_job(api, req, id);
	if (!db)
		return;
	result = rap_job_get_json(db, req->owner, id, &json, err);
	rap_pg_pool_put(api->pool, db);
	if (result == RAP_ENOENT)
		rap_http_error(req, 404, "not_found", "no job %s", id);
	else if (result != RAP_OK)
		job_api_store_error(req, result, err);
	else
		rap_http_reply(req, 200, json);
	free(json);
}

void job_api_cancel(void *svc, struct rap_http_req *req)
{
	struct job_api *api = svc;
	const char *id = rap_http_param(req, "id");
	char err[RAP_ERRLEN], status[RAP_JOB_STATUS_LEN], *body;
	PGconn *db;
	int result;

	db = job_api_db_for_job(api, req, id);
	if (!db)
		return;
	result = rap_job_cancel(db, req->owner, id, status, err);
	rap_pg_pool_put(api->pool, db);
	if (result == RAP_OK)
		job_api_relay_kick(api);
	if (result == RAP_ENOENT) {
		rap_http_error(req, 404, "not_found", "no job %s", id);
	} else if (result == RAP_ECONFLICT) {
		rap_http_error(req, 409, "already_finished", "%s", err);
	} else if (result != RAP_OK) {
		job_api_store_error(req, result, err);
	} else {
		body = rap_asprintf("{\"job_id\":\"%s\",\"status\":\"%s\"}", id, status);
		rap_http_reply(req, 200, body);
		free(body);
	}
}

void job_api_list(void *svc, struct rap_http_req *req)
{
	struct job_api *api = svc;
	const char *status = rap_http_get_arg(req, "status");
	const char *type = rap_http_get_arg(req, "type");
	const char *after = rap_http_get_arg(req, "after");
	const char *lim = rap_http_get_arg(req, "limit");
	char err[RAP_ERRLEN], *json = NULL;
	enum rap_job_state st;
	long long limit = 50;
	const char *owner;
	bool foreign;
	PGconn *db;
	int result;

	if (status && rap_jobstate_parse(status, &st) != RAP_OK) {
		rap_http_error(req, 400, "bad_request",
			       "status must be one of CREATED, QUEUED, "
			       "PROCESSING, RETRYING, FAILED, COMPLETED, DEAD, CANCELLED");
		return;
	}
	if (type && (!type[0] || strlen(type) > RAP_MAX_JOB_TYPE)) {
		rap_http_error(req, 400, "bad_request", "type must be a job type name");
		return;
	}
	if (after && !rap_uuid_valid(after)) {
		rap_http_error(req, 400, "bad_request", "after must be a job id (UUID)");
		return;
	}
	if (lim && rap_strtonum(lim, 1, 500, &limit) != RAP_OK) {
		rap_http_error(req, 400, "bad_request",
			       "limit must be a whole number from 1 to 500");
		return;
	}
	if (!job_api_scope(req, &owner, &foreign))
		return;
	if (foreign && (!status || st != RAP_JOB_DEAD)) {
		rap_http_error(req, 400, "bad_request",
			       "owner and all list DEAD jobs only: add status=DEAD");
		return;
	}
	if (!job_api_status_allowed(api, req))
		return;
	db = job_api_db_get(api, req);
	if (!db)
		return;
	if (foreign)
		result = rap_job_list_dead_json(db, owner, after, (int)limit, &json, err);
	else
		result = rap_job_list_json(db, req->owner, status, type, after, (int)limit, &json,
					   err);
	rap_pg_pool_put(api->pool, db);
	if (result != RAP_OK)
		job_api_store_error(req, result, err);
	else
		rap_http_reply(req, 200, json);
	free(json);
}

/* POST /jobs/{id}/replay (id) or POST /jobs/replay-dead (id NULL). */
void job_api_replay(void *svc, struct rap_http_req *req)
{
	struct job_api *api = svc;
	const char *id = rap_http_param(req, "id");
	char err[RAP_ERRLEN], status[RAP_JOB_STATUS_LEN], by[128], *body;
	const char *owner = req->owner;
	bool foreign = false;
	unsigned count;
	PGconn *db;
	int result;

	/* By id, an admin reaches any owner's job; without, the scope says
	 * whose. */
	if (id && req->admin) {
		owner = NULL;
		foreign = true;
	} else if (!id && !job_api_scope(req, &owner, &foreign)) {
		return;
	}
	snprintf(by, sizeof(by), "replayed by admin %s", req->owner);
	db = id ? job_api_db_for_job(api, req, id) : job_api_db_get(api, req);
	if (!db)
		return;
	result = rap_job_replay(db, owner, id, foreign ? by : NULL, &count, status, err);
	rap_pg_pool_put(api->pool, db);
	if (result == RAP_OK)
		job_api_relay_kick(api);
	if (result == RAP_ENOENT) {
		rap_http_error(req, 404, "not_found", "no job %s", id);
		return;
	}
	if (result == RAP_ECONFLICT) {
		rap_http_error(req, 409, "not_dead", "%s", err);
		return;
	}
	if (result != RAP_OK) {
		job_api_store_error(req, result, err);
		return;
	}
	body = id ? rap_asprintf("{\"job_id\":\"%s\",\"status\":\"QUEUED\"}", id)
		  : rap_asprintf("{\"replayed\":%u}", count);
	rap_http_reply(req, 200, body);
	free(body);
}
