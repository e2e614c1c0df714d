/*
 * tus_delete.c: the ends of an unfinished upload: DELETE /files/{id}
 * (termination), the sweeper of expired uploads, and what both free in S3.
 */
#include "tus_internal.h"

#include "rap/err.h"
#include "rap/log.h"
#include "rap/metrics.h"
#include "rap/s3.h"

#include <string.h>

/* Frees what an unfinished upload holds in S3: its multipart upload and
 * its tail object. */
void tus_delete_s3(struct upload_api *api, const struct rap_tus *t)
{
	struct rap_s3 *s3 = rap_s3_new(&api->s3cfg);
	char key[160];

	if (t->s3_upload_id) {
		struct rap_s3_mpu *mpu = rap_s3_mpu_resume(t->object_key, t->s3_upload_id);
		int result = rap_s3_mpu_abort(s3, mpu);

		if (result != RAP_OK && result != RAP_EUNSUPPORTED) /* s3rver: lifecycle */
			rap_log(RAP_LOG_WARN, NULL, "upload %s: abort: %s", t->id,
				rap_s3_errmsg(s3));
		rap_s3_mpu_free(mpu);
	}
	if (t->tail_len > 0) {
		rap_tus_tail_key(t, t->offset - t->tail_len, key, sizeof(key));
		rap_s3_delete(s3, key);
	}
	rap_s3_free(s3);
}

static void terminate(struct upload_api *api, struct rap_http_req *req, const char *id)
{
	struct rap_tus t = { 0 };
	char err[RAP_ERRLEN];
	PGconn *db;
	int result;

	if (rap_pg_pool_get(api->pool, 5000, &db, err) != RAP_OK) {
		rap_http_error(req, 503, "unavailable", "the database is unavailable; retry");
		return;
	}
	result = rap_tus_lock(db, id, err);
	if (result == RAP_ECONFLICT) {
		rap_http_error(req, 423, "locked", "a PATCH is writing to this upload; retry");
		goto out_pool;
	}
	if (result == RAP_OK)
		result = rap_tus_load(db, req->owner, id, &t, err);
	if (result == RAP_OK && strcmp(t.state, "COMPLETE") == 0) {
		rap_http_error(req, 409, "upload_complete",
			       "a finished upload is kept: jobs "
			       "may use it");
	} else if (result == RAP_OK) {
		tus_delete_s3(api, &t);
		if (rap_tus_end(db, id, false, err) == RAP_OK)
			rap_http_reply(req, 204, "");
		else
			rap_http_error(req, 503, "unavailable", "the database failed; retry");
	} else if (result == RAP_ENOENT || result == RAP_ECANCELED) {
		rap_http_error(req, result == RAP_ENOENT ? 404 : 410,
			       result == RAP_ENOENT ? "not_found" : "gone", "no such upload");
	} else {
		rap_http_error(req, 503, "unavailable", "the database failed; retry");
	}
	rap_tus_cleanup(&t);
	rap_tus_unlock(db, id);
out_pool:
	rap_pg_pool_put(api->pool, db);
}

void tus_delete(void *svc, struct rap_http_req *req, enum rap_http_phase phase, const char *data,
		size_t len)
{
	if (phase == RAP_HTTP_BEGIN && tus_accept(svc, req))
		terminate(svc, req, rap_http_param(req, "id"));
}

void tus_delete_expired(struct upload_api *api)
{
	const struct rap_log_ctx ctx = { .action = "sweep" };
	char ids[50][RAP_UUID_STRLEN], err[RAP_ERRLEN];
	unsigned n, i, swept = 0;
	struct rap_tus t;
	PGconn *db;

	if (rap_pg_pool_get(api->pool, 2000, &db, err) != RAP_OK)
		return;
	if (rap_tus_expired(db, ids, 50, &n, err) != RAP_OK)
		n = 0;
	for (i = 0; i < n; i++) {
		if (rap_tus_lock(db, ids[i], err) != RAP_OK)
			continue; /* a PATCH is on it (and will move its expiry) */
		if (rap_tus_load(db, NULL, ids[i], &t, err) == RAP_OK) {
			if (t.expired && strcmp(t.state, "UPLOADING") == 0) {
				tus_delete_s3(api, &t);
				if (rap_tus_end(db, ids[i], true, err) == RAP_OK)
					swept++;
			}
			rap_tus_cleanup(&t);
		}
		rap_tus_unlock(db, ids[i]);
	}
	rap_pg_pool_put(api->pool, db);
	if (swept) {
		rap_metric_inc(api->tus_expired, swept);
		rap_log(RAP_LOG_INFO, &ctx, "%u expired tus uploads removed", swept);
	}
}
