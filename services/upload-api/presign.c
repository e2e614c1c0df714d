/*
 * presign.c: POST /uploads/presign.  The client declares the size of its
 * file and gets a presigned S3 PUT URL for a fresh object key; the bytes
 * go straight to S3.  The upload is recorded as UPLOADING, and the first
 * job created for its key checks that the object is there with that size
 * (lib/presigned.c).
 */
#include "upload_api.h"

#include "rap/err.h"
#include "rap/log.h"
#include "rap/mem.h"
#include "rap/pg.h"
#include "rap/presigned.h"
#include "rap/s3.h"
#include "rap/uuid.h"
#include "rap/clock.h"
#include "rap/upload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ISO 8601 UTC with milliseconds, like every time of the API. */
static void iso_time(time_t t, char out[RAP_ISO_TIME_LEN])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
}

void presign_post(void *svc, struct rap_http_req *req)
{
	struct upload_api *api = svc;
	const char *ctype = rap_http_get_header(req, "Content-Type");
	int expires = (int)api->svc.cfg.presign_seconds;
	struct rap_presigned_req in;
	char err[RAP_ERRLEN], id[RAP_UUID_STRLEN], key[RAP_UPLOAD_KEY_LEN], filename[256],
		until[RAP_ISO_TIME_LEN], *url, *body;
	time_t now = time(NULL);
	PGconn *db;
	int result;

	if (!upload_rate_allowed(api, req))
		return;
	if (!ctype || strncmp(ctype, "application/json", 16) != 0) {
		rap_http_error(req, 415, "unsupported_media_type",
			       "send {\"size\":N} as Content-Type: application/json");
		return;
	}
	if (rap_presigned_decode(req->body.data, req->body.len, &in, err) != RAP_OK) {
		rap_http_error(req, 400, "bad_request", "%s", err);
		return;
	}
	if (in.size > (unsigned long long)api->cfg.upload_max_bytes) {
		rap_http_error(req, 413, "payload_too_large", "the file may be at most %lld bytes",
			       api->cfg.upload_max_bytes);
		return;
	}
	upload_sanitize_filename(in.filename, filename, sizeof(filename));
	rap_uuid(id);
	snprintf(key, sizeof(key), "uploads/%s", id);
	url = rap_s3_presign(api->presigner, "PUT", key, (unsigned)expires, now);
	if (!url) {
		rap_http_error(req, 500, "internal", "the URL could not be signed");
		return;
	}
	if (rap_pg_pool_get(api->pool, 5000, &db, err) != RAP_OK) {
		rap_http_error(req, 503, "unavailable", "the database is unavailable");
		goto out_free;
	}
	result = rap_presigned_record(db, id, req->owner, key, filename,
				      in.content_type[0] ? in.content_type : NULL, in.size, expires,
				      err);
	rap_pg_pool_put(api->pool, db);
	if (result != RAP_OK) {
		struct rap_log_ctx ctx = { .request_id = req->request_id };

		rap_log(RAP_LOG_ERROR, &ctx, "recording a presigned upload: %s", err);
		rap_http_error(req, 503, "unavailable", "the database failed; retry shortly");
		goto out_free;
	}
	iso_time(now + expires, until);
	/* The URL holds only URL-safe characters: no JSON escaping needed. */
	body = rap_asprintf("{\"upload_id\":\"%s\",\"object_key\":\"%s\",\"size\":%llu,"
			    "\"filename\":\"%s\",\"method\":\"PUT\",\"url\":\"%s\","
			    "\"expires_at\":\"%s\"}",
			    id, key, in.size, filename, url, until);
	rap_http_reply(req, 201, body);
	free(body);
out_free:
	free(url);
}
