/* common.c: what job-api's route handlers share: a database connection or a
 * 503, the checks of a job creation, and the answer to a failed store. */
#include "job_api.h"

#include "rap/clock.h"
#include "rap/err.h"
#include "rap/http.h"
#include "rap/jobtype.h"
#include "rap/list.h"
#include "rap/log.h"
#include "rap/metrics.h"
#include "rap/pg.h"
#include "rap/str.h"
#include "rap/presigned.h"
#include "rap/keylimit.h"
#include "rap/s3.h"
#include "rap/upload.h"
#include "rap/uuid.h"

#include <stdio.h>
#include <string.h>

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
PGconn *job_api_db_for_job(struct job_api *api, struct rap_http_req *req, const char *id)
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
	/* It is stored and compared in SQL, so text only (issue 15). */
	if (*idem && !rap_utf8_printable(*idem, strlen(*idem))) {
		rap_http_error(req, 400, "bad_request",
			       "Idempotency-Key must be valid UTF-8 without control characters");
		return false;
	}
	return true;
}

/* Takes cost from the API key's bucket of limit; false once refused, with
 * the 429's Retry-After set and *retry its seconds (the caller says which
 * setting was passed).  A limit PostgreSQL cannot answer lets the request
 * through, with a warning. */
static bool limit_allows(struct rap_http_req *req, struct rap_keylimit *limit,
			 struct rap_metric *refused, double cost, long long *retry)
{
	char after[32], err[RAP_ERRLEN];
	bool admitted = true;

	if (rap_keylimit_take(limit, req->key_id, cost, rap_now_ms(), &admitted, retry, err) !=
	    RAP_OK) {
		struct rap_log_ctx ctx = { .request_id = req->request_id };

		rap_log(RAP_LOG_WARN, &ctx, "rate limit not checked: %s", err);
	}
	if (admitted)
		return true;
	rap_metric_inc(refused, 1);
	snprintf(after, sizeof(after), "%lld", *retry);
	rap_http_header(req, "Retry-After", after);
	return false;
}

bool job_api_create_allowed(struct job_api *api, struct rap_http_req *req, int n)
{
	long long retry = 1;

	if (limit_allows(req, api->create_limit, api->create_limited, (double)n, &retry))
		return true;
	rap_http_error(req, 429, "rate_limited",
		       "this API key is creating jobs faster than "
		       "RAP_JOB_CREATE_RATE=%lld a second (bursts of RAP_JOB_CREATE_BURST=%lld); "
		       "retry after %lld s",
		       api->cfg.job_create_rate, api->cfg.job_create_burst, retry);
	return false;
}

bool job_api_status_allowed(struct job_api *api, struct rap_http_req *req)
{
	long long retry = 1;

	if (limit_allows(req, api->status_limit, api->status_limited, 1, &retry))
		return true;
	rap_http_error(req, 429, "rate_limited",
		       "this API key is reading job status faster than "
		       "RAP_JOB_STATUS_RATE=%lld a second (bursts of RAP_JOB_STATUS_BURST=%lld); "
		       "retry after %lld s",
		       api->cfg.job_status_rate, api->cfg.job_status_burst, retry);
	return false;
}

int job_api_max_attempts(struct job_api *api, const char *type)
{
	const struct rap_jobtype *t = rap_jobtype_find(type);

	/* Only enabled types get here, and every one is in the registry. */
	return t ? rap_jobtype_effective_attempts(t, api->cfg.job_max_attempts) : 1;
}

int job_api_content_check(struct job_api *api, PGconn *db, const char *owner, const char *type,
			  const char *object_key, char *err)
{
	const char *list = api->content_list;
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
		snprintf(err, RAP_ERRLEN,
			 "job type '%s' takes only some content, and the content of "
			 "this upload is unknown (a presigned upload: the platform never saw it)",
			 type);
		return RAP_EUNSUPPORTED;
	}
	if (!rap_list_allows(list, type, detected)) {
		snprintf(err, RAP_ERRLEN,
			 "job type '%s' does not take %s content "
			 "(its allow-list: GET /api/job-types/%s)",
			 type, detected, type);
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
