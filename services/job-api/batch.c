/* batch.c: POST /jobs/batch, many jobs created in one transaction. */
#include "job_api.h"

#include "rap/err.h"
#include "rap/hash.h"
#include "rap/http.h"
#include "rap/jobbatch.h"
#include "rap/log.h"
#include "rap/mem.h"
#include "rap/metrics.h"
#include "rap/pg.h"
#include "rap/webhook.h"
#include "rap/buf.h"
#include "rap/job_create.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* SHA-256 of the decoded batch: its requests' hashes in order. */
static void batch_hash(const struct rap_job_create *reqs, int n, char out[RAP_SHA256_HEXLEN])
{
	struct rap_buf b;
	char h[RAP_SHA256_HEXLEN];
	int i;

	rap_buf_init(&b, (size_t)n * 64 + 1);
	for (i = 0; i < n; i++) {
		rap_job_create_hash(&reqs[i], h);
		rap_buf_append(&b, h, 64);
	}
	rap_sha256_hex(b.data, b.len, out);
	rap_buf_cleanup(&b);
}

/* The first request whose type this platform does not run, or -1. */
static int unknown_type(struct job_api *api, const struct rap_job_create *reqs, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!job_api_type_enabled(api, reqs[i].type))
			return i;
	return -1;
}

/* The first request whose params do not fit its type's schema, or -1;
 * err names the field from jobs[i].params. */
static int invalid_params(struct job_api *api, const struct rap_job_create *reqs, int n, char *err)
{
	char root[32];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(root, sizeof(root), "jobs[%d].params", i);
		if (job_api_params_check(api, reqs[i].type, reqs[i].params, root, err) != RAP_OK)
			return i;
	}
	return -1;
}

static void reply_created(struct rap_http_req *req, const struct rap_jobbatch_created *out, int n,
			  bool existing)
{
	struct rap_buf b;
	int i;

	rap_buf_init(&b, (size_t)n * 80 + 64);
	rap_buf_appends(&b, "{\"jobs\":[");
	for (i = 0; i < n; i++)
		rap_buf_appendf(&b, "%s{\"job_id\":\"%s\",\"status\":\"%s\"}", i ? "," : "",
				out[i].job_id, out[i].status);
	rap_buf_appendf(&b, "]%s}", existing ? ",\"idempotent_replay\":true" : "");
	rap_http_reply(req, existing ? 200 : 202, b.data);
	rap_buf_cleanup(&b);
}

/*
 * Creates the batch; while it fails on an object that is a presigned upload
 * now in S3, completes that upload and tries again (at most once per job).
 */
static int create_verifying(struct job_api *api, PGconn *db, struct rap_http_req *req,
			    const struct rap_job_create *reqs, const int *max, int n,
			    const char *idem, const char *hash, struct rap_jobbatch_created *out,
			    bool *existing, int *bad, char *err)
{
	int result = RAP_EINVAL, verified, tries; /* n is at least 1: the loop runs */
	char traceparent[RAP_TRACEPARENT_LEN];

	rap_trace_format(&req->trace, traceparent);
	for (tries = 0; tries <= n; tries++) {
		result = rap_jobbatch_create(db, req->owner, reqs, max, n, idem, hash,
					     req->request_id, traceparent, out, existing, bad, err);
		if (result != RAP_ENOENT || *bad < 0)
			return result;
		verified =
			job_api_presigned_verify(api, db, req->owner, reqs[*bad].object_key, err);
		if (verified == RAP_ENOENT) {
			snprintf(err, RAP_ERRLEN,
				 "jobs[%d].object_key does not name a finished upload of yours",
				 *bad);
			return RAP_ENOENT;
		}
		if (verified != RAP_OK) {
			if (verified == RAP_EINVAL) {
				char why[RAP_ERRLEN];

				snprintf(why, sizeof(why), "jobs[%d]: %.200s", *bad, err);
				snprintf(err, RAP_ERRLEN, "%s", why);
				return RAP_ENOENT;
			}
			return verified;
		}
	}
	return result;
}

void job_api_create_batch(void *svc, struct rap_http_req *req)
{
	struct job_api *api = svc;
	struct rap_log_ctx ctx = { .request_id = req->request_id };
	struct rap_jobbatch_created *out = NULL;
	struct rap_job_create *reqs;
	char err[RAP_ERRLEN], hash[RAP_SHA256_HEXLEN];
	const char *idem;
	int *max = NULL, n, i, bad, result;
	bool existing;
	PGconn *db;

	if (!job_api_create_headers(req, &idem))
		return;
	if (rap_job_create_batch_decode(req->body.data, req->body.len, &reqs, &n, err) != RAP_OK) {
		rap_http_error(req, 400, "bad_request", "%s", err);
		return;
	}
	/* A batch costs as many creations as it holds, whatever becomes of it. */
	if (!job_api_create_allowed(api, req, n))
		goto out_cleanup;
	bad = unknown_type(api, reqs, n);
	if (bad >= 0) {
		rap_http_error(req, 422, "unknown_job_type",
			       "jobs[%d]: job type '%s' is not one of: %s", bad, reqs[bad].type,
			       api->svc.cfg.job_types);
		goto out_cleanup;
	}
	if (invalid_params(api, reqs, n, err) >= 0) {
		rap_http_error(req, 422, "invalid_params", "%s", err);
		goto out_cleanup;
	}
	for (i = 0; i < n; i++) {
		if (reqs[i].webhook_url &&
		    rap_webhook_url_check(reqs[i].webhook_url, api->cfg.webhook_hosts, err) !=
			    RAP_OK) {
			rap_http_error(req, 400, "bad_request", "jobs[%d]: %s", i, err);
			goto out_cleanup;
		}
	}
	max = rap_calloc((size_t)n, sizeof(*max));
	for (i = 0; i < n; i++)
		max[i] = job_api_max_attempts(api, reqs[i].type);
	out = rap_calloc((size_t)n, sizeof(*out));
	batch_hash(reqs, n, hash);
	db = job_api_db_get(api, req);
	if (!db)
		goto out_cleanup;
	result = RAP_OK;
	for (i = 0; i < n && result == RAP_OK; i++) {
		result = job_api_content_check(api, db, req->owner, reqs[i].type,
					       reqs[i].object_key, err);
		if (result == RAP_EUNSUPPORTED) {
			char why[RAP_ERRLEN];

			snprintf(why, sizeof(why), "jobs[%d]: %.200s", i, err);
			snprintf(err, RAP_ERRLEN, "%s", why);
		}
	}
	if (result == RAP_OK)
		result = create_verifying(api, db, req, reqs, max, n, idem, hash, out, &existing,
					  &bad, err);
	rap_pg_pool_put(api->pool, db);
	if (result == RAP_OK)
		job_api_relay_kick(api);
	if (result == RAP_ENOENT)
		rap_http_error(req, 422, "unknown_object", "%s", err);
	else if (result == RAP_ECONFLICT)
		rap_http_error(req, 409, "idempotency_conflict", "%s", err);
	else if (result == RAP_EUNSUPPORTED)
		rap_http_error(req, 415, "unsupported_content", "%s", err);
	else if (result != RAP_OK)
		job_api_store_error(req, result, err);
	if (result != RAP_OK)
		goto out_cleanup;
	rap_metric_inc(existing ? api->jobs_idempotent : api->jobs_created, (unsigned)n);
	reply_created(req, out, n, existing);
	rap_log(RAP_LOG_INFO, &ctx, "batch of %d jobs %s for %s", n,
		existing ? "replayed" : "created", req->owner);
out_cleanup:
	free(out);
	free(max);
	rap_job_create_batch_cleanup(reqs, n);
}
