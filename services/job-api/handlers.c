/* handlers.c: job-api's HTTP routes. */
#include "job_api.h"

#include "rap/codec.h"
#include "rap/err.h"
#include "rap/hash.h"
#include "rap/http.h"
#include "rap/jobstate.h"
#include "rap/jobstore.h"
#include "rap/log.h"
#include "rap/metrics.h"
#include "rap/mem.h"
#include "rap/pg.h"
#include "rap/presigned.h"
#include "rap/s3.h"
#include "rap/util.h"
#include "rap/webhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_MAX_ATTEMPTS 5

PGconn *job_api_db_get(struct job_api *api, struct rap_http_req *req)
{
	char err[RAP_ERRLEN];
	PGconn *db;

	if (rap_pg_pool_get(api->pool, 5000, &db, err) != RAP_OK) {
		struct rap_log_ctx ctx = { .request_id = req->request_id };

		rap_log(RAP_LOG_WARN, &ctx, "no database connection: %s", err);
		rap_http_error(req, 503, "unavailable",
			       "the job store is unavailable; retry shortly");
		return NULL;
	}
	return db;
}

/* Checks a job id from the URL, then takes a connection; NULL once it has
 * answered (400 for a malformed id, 503 without a connection). */
static PGconn *db_for_job(struct job_api *api, struct rap_http_req *req, const char *id)
{
	if (!rap_uuid_valid(id)) {
		rap_http_error(req, 400, "bad_request", "job id must be a UUID");
		return NULL;
	}
	return job_api_db_get(api, req);
}

void job_api_store_error(struct rap_http_req *req, int result, const char *err)
{
	struct rap_log_ctx ctx = { .request_id = req->request_id };

	rap_log(RAP_LOG_ERROR, &ctx, "job store: %s", err);
	rap_http_error(req, 503, "unavailable", "the job store failed (%s); retry shortly",
		       rap_strerror(result));
}

bool job_api_create_headers(struct rap_http_req *req, const char **idem)
{
	const char *ctype = rap_http_get_header(req, "Content-Type");

	*idem = rap_http_get_header(req, "Idempotency-Key");
	if (!ctype || strncmp(ctype, "application/json", 16) != 0) {
		rap_http_error(req, 415, "unsupported_media_type",
			       "send the job as Content-Type: application/json");
		return false;
	}
	if (*idem && (strlen(*idem) == 0 || strlen(*idem) > 255)) {
		rap_http_error(req, 400, "bad_request", "Idempotency-Key must be 1 to 255 bytes");
		return false;
	}
	return true;
}

int job_api_max_attempts(struct job_api *api, const char *type)
{
	return (int)rap_list_number(api->svc.cfg.job_max_attempts, type, 1, 100,
				    DEFAULT_MAX_ATTEMPTS);
}

int job_api_content_check(struct job_api *api, PGconn *db, const char *owner,
			  const char *type, const char *object_key, char *err)
{
	const char *list = api->svc.cfg.job_content_types;
	char detected[128];
	int result;

	if (!rap_list_has(list, type))
		return RAP_OK;
	result = rap_upload_detected_type(db, owner, object_key, detected, sizeof(detected), err);
	if (result == RAP_ENOENT)
		return RAP_OK; /* job creation says the object is unknown */
	if (result != RAP_OK)
		return result;
	if (!detected[0]) {
		snprintf(err, RAP_ERRLEN, "job type '%s' takes only some content, and the content of "
			 "this upload is unknown (a presigned upload: the platform never saw it)", type);
		return RAP_EUNSUPPORTED;
	}
	if (!rap_list_allows(list, type, detected)) {
		snprintf(err, RAP_ERRLEN, "job type '%s' does not take %s content "
			 "(RAP_JOB_CONTENT_TYPES)", type, detected);
		return RAP_EUNSUPPORTED;
	}
	return RAP_OK;
}

int job_api_presigned_verify(struct job_api *api, PGconn *db, const char *owner,
			     const char *object_key, char *err)
{
	struct rap_s3_cfg cfg;
	struct rap_s3 *s3;
	int result;

	rap_service_s3_cfg(&api->svc, &cfg);
	s3 = rap_s3_new(&cfg);
	result = rap_presigned_verify(db, s3, owner, object_key, err);
	rap_s3_free(s3);
	return result;
}

static void create_job(struct job_api *api, struct rap_http_req *req)
{
	const char *idem;
	struct rap_job_create in;
	struct rap_job_created out;
	char err[RAP_ERRLEN], hash[65], loc[128], *body;
	PGconn *db;
	int result;

	if (!job_api_create_headers(req, &idem))
		return;
	if (rap_job_create_decode(req->body.data, req->body.len, &in, err) != RAP_OK) {
		rap_http_error(req, 400, "bad_request", "%s", err);
		return;
	}
	if (!rap_list_contains(api->svc.cfg.job_types, in.type)) {
		rap_http_error(req, 422, "unknown_job_type",
			       "job type '%s' is not one of: %s", in.type,
			       api->svc.cfg.job_types);
		goto out_cleanup;
	}
	if (in.webhook_url && !rap_webhook_host_allowed(in.webhook_url, api->svc.cfg.webhook_hosts)) {
		rap_http_error(req, 422, "webhook_not_allowed",
			       "webhook_url must name one of the hosts in RAP_WEBHOOK_ALLOWED_HOSTS: %s",
			       api->svc.cfg.webhook_hosts);
		goto out_cleanup;
	}
	rap_job_create_hash(&in, hash);
	db = job_api_db_get(api, req);
	if (!db)
		goto out_cleanup;
	result = job_api_content_check(api, db, req->owner, in.type, in.object_key, err);
	if (result == RAP_OK)
		result = rap_job_create(db, req->owner, &in, job_api_max_attempts(api, in.type),
					idem, hash, req->request_id, &out, err);
	if (result == RAP_ENOENT) {
		/* Not a finished upload: perhaps a presigned one, now in S3. */
		char why[RAP_ERRLEN];
		int verified = job_api_presigned_verify(api, db, req->owner, in.object_key, why);

		if (verified == RAP_OK)
			result = rap_job_create(db, req->owner, &in,
						job_api_max_attempts(api, in.type), idem, hash,
						req->request_id, &out, err);
		else if (verified != RAP_ENOENT)
			snprintf(err, RAP_ERRLEN, "%s", why);
		if (verified == RAP_ES3 || verified == RAP_EDB)
			result = verified;
	}
	rap_pg_pool_put(api->pool, db);
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
	body = rap_asprintf("{\"job_id\":\"%s\",\"status\":\"%s\"%s}", out.job_id,
			    out.status, out.existing ? ",\"idempotent_replay\":true" : "");
	rap_http_reply(req, out.existing ? 200 : 202, body);
	free(body);
	{
		struct rap_log_ctx ctx = { .request_id = req->request_id, .job_id = out.job_id };

		rap_log(RAP_LOG_INFO, &ctx, "job %s (%s) for %s", out.existing ? "replayed" : "created",
			in.type, req->owner);
	}
out_cleanup:
	rap_job_create_cleanup(&in);
}

/* GET /jobs/{id}/output: a presigned GET URL of a COMPLETED job's output. */
static void get_output(struct job_api *api, struct rap_http_req *req, const char *id)
{
	int expires = (int)api->svc.cfg.presign_seconds;
	char err[RAP_ERRLEN], key[1100], status[16], until[32], *url, *body;
	time_t now = time(NULL);
	struct tm tm;
	PGconn *db;
	int result;

	db = db_for_job(api, req, id);
	if (!db)
		return;
	result = rap_job_output_key(db, req->owner, id, key, sizeof(key), status, err);
	rap_pg_pool_put(api->pool, db);
	if (result == RAP_ENOENT) {
		rap_http_error(req, 404, "not_found", "no job %s", id);
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
	/* Output keys are processed/{job_id}/...: no JSON escaping needed. */
	body = rap_asprintf("{\"job_id\":\"%s\",\"object_key\":\"%s\",\"method\":\"GET\","
			    "\"url\":\"%s\",\"expires_at\":\"%s\"}", id, key, url, until);
	rap_http_reply(req, 200, body);
	free(body);
	free(url);
}

static void get_job(struct job_api *api, struct rap_http_req *req, const char *id)
{
	char err[RAP_ERRLEN], *json = NULL;
	PGconn *db;
	int result;

	db = db_for_job(api, req, id);
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

static void cancel_job(struct job_api *api, struct rap_http_req *req, const char *id)
{
	char err[RAP_ERRLEN], status[16], *body;
	PGconn *db;
	int result;

	db = db_for_job(api, req, id);
	if (!db)
		return;
	result = rap_job_cancel(db, req->owner, id, status, err);
	rap_pg_pool_put(api->pool, db);
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

static void list_jobs(struct job_api *api, struct rap_http_req *req)
{
	const char *status = rap_http_get_arg(req, "status");
	const char *after = rap_http_get_arg(req, "after");
	const char *lim = rap_http_get_arg(req, "limit");
	char err[RAP_ERRLEN], *json = NULL;
	enum rap_job_state st;
	long long limit = 50;
	PGconn *db;
	int result;

	if (status && rap_jobstate_parse(status, &st) != RAP_OK) {
		rap_http_error(req, 400, "bad_request", "status must be one of CREATED, QUEUED, "
			       "PROCESSING, RETRYING, FAILED, COMPLETED, DEAD, CANCELLED");
		return;
	}
	if (after && !rap_uuid_valid(after)) {
		rap_http_error(req, 400, "bad_request", "after must be a job id (UUID)");
		return;
	}
	if (lim && rap_strtonum(lim, 1, 500, &limit) != RAP_OK) {
		rap_http_error(req, 400, "bad_request", "limit must be a whole number from 1 to 500");
		return;
	}
	db = job_api_db_get(api, req);
	if (!db)
		return;
	result = rap_job_list_json(db, req->owner, status, after, (int)limit, &json, err);
	rap_pg_pool_put(api->pool, db);
	if (result != RAP_OK)
		job_api_store_error(req, result, err);
	else
		rap_http_reply(req, 200, json);
	free(json);
}

/* POST /jobs/{id}/replay (id) or POST /jobs/replay-dead (id NULL). */
static void replay_jobs(struct job_api *api, struct rap_http_req *req, const char *id)
{
	char err[RAP_ERRLEN], status[16], *body;
	unsigned count;
	PGconn *db;
	int result;

	db = id ? db_for_job(api, req, id) : job_api_db_get(api, req);
	if (!db)
		return;
	result = rap_job_replay(db, req->owner, id, &count, status, err);
	rap_pg_pool_put(api->pool, db);
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

void job_api_handle(void *svc, struct rap_http_req *req, enum rap_http_phase phase,
		    const char *data, size_t len)
{
	struct job_api *api = svc;
	const char *url = req->url;

	if (phase == RAP_HTTP_BEGIN) {
		/* Refuse early, before a body is read. */
		if (strncmp(url, "/jobs", 5) != 0 || (url[5] != '\0' && url[5] != '/'))
			rap_http_error(req, 404, "not_found", "no such endpoint: %s", url);
		else
			rap_http_authenticate(req, api->auth);
		return;
	}
	if (phase != RAP_HTTP_END)
		return;
	if (strcmp(url, "/jobs") == 0 || strcmp(url, "/jobs/") == 0) {
		if (strcmp(req->method, "POST") == 0)
			create_job(api, req);
		else if (strcmp(req->method, "GET") == 0)
			list_jobs(api, req);
		else
			rap_http_error(req, 405, "method_not_allowed", "use GET or POST /jobs");
		return;
	}
	if (strcmp(url, "/jobs/batch") == 0) {
		if (strcmp(req->method, "POST") == 0)
			job_api_create_batch(api, req);
		else
			rap_http_error(req, 405, "method_not_allowed", "use POST /jobs/batch");
		return;
	}
	if (strcmp(url, "/jobs/replay-dead") == 0) {
		if (strcmp(req->method, "POST") == 0)
			replay_jobs(api, req, NULL);
		else
			rap_http_error(req, 405, "method_not_allowed", "use POST /jobs/replay-dead");
		return;
	}
	/* /jobs/{36-character id}/cancel and /jobs/{id}/replay */
	if (strlen(url) > 42 && url[42] == '/' &&
	    (strcmp(url + 42, "/cancel") == 0 || strcmp(url + 42, "/replay") == 0)) {
		bool cancel = strcmp(url + 42, "/cancel") == 0;
		char id[37];

		snprintf(id, sizeof(id), "%.36s", url + 6);
		if (strcmp(req->method, "POST") != 0)
			rap_http_error(req, 405, "method_not_allowed", "use POST %s", url);
		else if (cancel)
			cancel_job(api, req, id);
		else
			replay_jobs(api, req, id);
		return;
	}
	if (strlen(url) == 49 && strcmp(url + 42, "/output") == 0) {
		char id[37];

		snprintf(id, sizeof(id), "%.36s", url + 6);
		if (strcmp(req->method, "GET") == 0)
			get_output(api, req, id);
		else
			rap_http_error(req, 405, "method_not_allowed", "use GET %s", url);
		return;
	}
	if (strcmp(req->method, "GET") == 0)
		get_job(api, req, url + 6);
	else
		rap_http_error(req, 405, "method_not_allowed", "use GET /jobs/{id}");
}
