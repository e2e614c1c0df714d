/*
 * multipart_upload.c: POST /uploads streams the `file` field of a
 * multipart/form-data body into S3 as it arrives, through the part writer
 * (parts.c: parts of RAP_UPLOAD_PART_SIZE, a fixed number in flight, so
 * memory is flat whatever the file size, and nothing touches local disk).
 * A file smaller than one part is stored with a single PUT.
 */
#include "upload_api.h"
#include "parts.h"

#include "rap/err.h"
#include "rap/hash.h"
#include "rap/jobstore.h"
#include "rap/log.h"
#include "rap/metrics.h"
#include "rap/mem.h"
#include "rap/multipart.h"
#include "rap/pg.h"
#include "rap/list.h"
#include "rap/str.h"
#include "rap/upload.h"
#include "rap/uuid.h"
#include "rap/job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct upload {
	struct upload_api *api;
	struct rap_http_req *req;
	struct rap_multipart *mp;
	struct parts *parts;        /* created at the `file` field */
	struct upload_place *place; /* its upload place (places.c) */
	unsigned long long size;
	char id[RAP_UUID_STRLEN];
	char key[RAP_UPLOAD_KEY_LEN];
	char filename[256];
	char content_type[128];
	char job_type[RAP_MAX_JOB_TYPE + 1]; /* the `job_type` field, before `file` */
	size_t job_type_len;
	bool in_job_type;
	bool in_file; /* inside the `file` field */
	bool have_file;
	bool file_done;
	bool stored;           /* the object is complete in S3 */
	bool failed;           /* an error reply is queued */
	long long clen;        /* the body's Content-Length, -1 if chunked */
	long long chunk_start; /* body offset of the chunk being parsed */
};

/* Replies with an error once; later errors of the same request are dropped. */
static int fail(struct upload *up, unsigned status, const char *code, const char *msg)
{
	if (!up->failed) {
		up->failed = true;
		rap_http_error(up->req, status, code, "%s", msg);
	}
	return RAP_ECANCELED;
}

/* A failed write: refused content (415) or the object store (502). */
static int storage_failed(struct upload *up, int result)
{
	char msg[RAP_ERRLEN];

	if (result == RAP_EUNSUPPORTED)
		return fail(up, 415, "unsupported_content", parts_errmsg(up->parts));
	snprintf(msg, sizeof(msg), "the object store failed: %s", parts_errmsg(up->parts));
	return fail(up, 502, "storage_failed", msg);
}

/* A `job_type` field sent before the file has the content checked against
 * that type's allow-list as the first bytes arrive (415 before they are
 * stored). */
static int declare_job_type(struct upload *up)
{
	char msg[RAP_ERRLEN];

	if (!up->job_type[0])
		return RAP_OK;
	if (!rap_list_contains(up->api->svc.cfg.job_types, up->job_type)) {
		snprintf(msg, sizeof(msg), "job type '%.64s' is not one of: %.150s", up->job_type,
			 up->api->svc.cfg.job_types);
		return fail(up, 422, "unknown_job_type", msg);
	}
	parts_check_content(up->parts, up->job_type);
	return RAP_OK;
}

static int on_part_begin(void *ctx, const char *name, const char *filename,
			 const char *content_type)
{
	struct upload *up = ctx;

	if (strcmp(name, "job_type") == 0 && !up->have_file) {
		up->in_job_type = true;
		return RAP_OK;
	}
	if (strcmp(name, "file") != 0)
		return RAP_OK; /* other fields are ignored */
	if (up->have_file)
		return fail(up, 400, "bad_request", "send exactly one 'file' field");
	if (content_type && !upload_content_type_ok(content_type))
		return fail(up, 400, "bad_request",
			    "the Content-Type of the 'file' part must be printable ASCII");
	up->have_file = true;
	up->in_file = true;
	upload_sanitize_filename(filename ? filename : "", up->filename, sizeof(up->filename));
	snprintf(up->content_type, sizeof(up->content_type), "%s",
		 content_type ? content_type : "application/octet-stream");
	up->parts = parts_new(up->api, up->key, up->content_type,
			      (size_t)up->api->cfg.upload_part_size);
	/* The file cannot go past the body's end: parts that are sure to fill
	 * stream to S3 while they arrive. */
	if (up->clen >= 0)
		parts_expect(up->parts, up->clen - up->chunk_start);
	return declare_job_type(up);
}

static int on_part_data(void *ctx, const char *data, size_t len)
{
	struct upload *up = ctx;
	int result;

	if (up->in_job_type) {
		if (up->job_type_len + len >= sizeof(up->job_type))
			return fail(up, 400, "bad_request", "the job_type field is too long");
		memcpy(up->job_type + up->job_type_len, data, len);
		up->job_type_len += len;
		up->job_type[up->job_type_len] = '\0';
		return RAP_OK;
	}
	if (!up->in_file)
		return RAP_OK;
	up->size += len;
	if (up->size > (unsigned long long)up->api->cfg.upload_max_bytes) {
		char msg[128];

		snprintf(msg, sizeof(msg), "the file is larger than the limit of %lld bytes",
			 up->api->cfg.upload_max_bytes);
		return fail(up, 413, "payload_too_large", msg);
	}
	result = parts_write(up->parts, data, len);
	return result == RAP_OK ? RAP_OK : storage_failed(up, result);
}

static int on_part_end(void *ctx)
{
	struct upload *up = ctx;

	up->in_job_type = false;
	if (up->in_file) {
		up->in_file = false;
		up->file_done = true;
	}
	return RAP_OK;
}

static const struct rap_multipart_cb upload_cb = {
	.part_begin = on_part_begin,
	.part_data = on_part_data,
	.part_end = on_part_end,
};

/* Releases everything; aborts the S3 upload unless the object is stored. */
static void upload_free(void *arg)
{
	struct upload *up = arg;

	if (up->parts && !up->stored)
		parts_abort(up->parts);
	parts_free(up->parts);
	rap_multipart_free(up->mp);
	upload_release(up->api, &up->place);
	if (!up->stored)
		rap_metric_inc(up->api->uploads_failed, 1);
	free(up);
}

static void begin(struct upload_api *api, struct rap_http_req *req)
{
	const char *ctype = rap_http_get_header(req, "Content-Type");
	const char *clen = rap_http_get_header(req, "Content-Length");
	char boundary[128];
	long long n;
	struct upload *up;
	struct upload_place *place = NULL;

	if (!rap_http_authenticate(req, api->auth))
		return;
	if (!ctype || rap_multipart_boundary(ctype, boundary, sizeof(boundary)) != RAP_OK) {
		rap_http_error(
			req, 415, "unsupported_media_type",
			"send the file as multipart/form-data with a boundary, in a field named 'file'");
		return;
	}
	if (clen && rap_strtonum(clen, 0, INT64_MAX, &n) == RAP_OK &&
	    n > api->cfg.upload_max_bytes + 64 * 1024) {
		rap_http_error(req, 413, "payload_too_large",
			       "the body of %lld bytes is larger than the limit of %lld bytes", n,
			       api->cfg.upload_max_bytes);
		return;
	}
	/* A refusal for lack of a place, or past the key's rate, waits for
	 * the body (read and thrown away, into no buffer): an answer before it
	 * reaches a client behind the gateway as a 502, not as the 503 or 429
	 * that says to retry. */
	req->defer_reply = true;
	if (!upload_rate_allowed(api, req) || !upload_admit(api, req, true, &place))
		return;
	req->defer_reply = false;
	up = rap_calloc(1, sizeof(*up));
	up->api = api;
	up->place = place;
	up->req = req;
	up->clen = clen && rap_strtonum(clen, 0, INT64_MAX, &n) == RAP_OK ? n : -1;
	up->mp = rap_multipart_new(boundary, &upload_cb, up);
	rap_uuid(up->id);
	snprintf(up->key, sizeof(up->key), "uploads/%s", up->id);
	req->data = up;
	req->data_free = upload_free;
	req->stream = true;
}

static void data(struct upload *up, const char *p, size_t len)
{
	int result;

	if (up->failed)
		return;
	/* Cut for its pace: upload_free aborts what reached S3. */
	if (!upload_place_bytes(up->api, up->place, len)) {
		up->failed = true;
		return;
	}
	up->chunk_start = (long long)up->req->body_bytes - (long long)len;
	result = rap_multipart_feed(up->mp, p, len);
	if (result == RAP_EPROTO)
		fail(up, 400, "bad_multipart", rap_multipart_errmsg(up->mp));
	else if (result != RAP_OK && result != RAP_ECANCELED)
		fail(up, 500, "internal", rap_strerror(result));
}

static void conclude(struct upload *up)
{
	struct rap_http_req *req = up->req;
	char sha[RAP_SHA256_HEXLEN], err[RAP_ERRLEN], *body;
	PGconn *db;
	int result;

	if (up->failed)
		return;
	if (rap_multipart_finish(up->mp) != RAP_OK) {
		fail(up, 400, "bad_multipart",
		     req->body_bytes == 0 ? "the body is empty" : rap_multipart_errmsg(up->mp));
		return;
	}
	if (!up->file_done) {
		fail(up, 400, "missing_file", "the form has no field named 'file'");
		return;
	}
	result = parts_finish(up->parts, sha);
	if (result != RAP_OK) {
		storage_failed(up, result);
		return;
	}
	up->stored = true;
	if (rap_pg_pool_get(up->api->pool, 5000, &db, err) == RAP_OK) {
		result = rap_upload_record(
			db, up->id, req->owner, up->key, up->filename, up->content_type, up->size,
			sha, parts_detected(up->parts)[0] ? parts_detected(up->parts) : NULL, err);
		rap_pg_pool_put(up->api->pool, db);
	} else {
		result = RAP_EDB;
	}
	if (result != RAP_OK) {
		struct rap_log_ctx ctx = { .request_id = req->request_id };

		rap_log(RAP_LOG_ERROR, &ctx, "recording upload %s: %s", up->id, err);
		up->stored = false; /* not recorded: report failure */
		upload_delete_object(up->api, up->key);
		fail(up, 503, "unavailable", "the upload could not be recorded; retry");
		return;
	}
	rap_metric_inc(up->api->uploads_ok, 1);
	rap_metric_inc(up->api->upload_bytes, (long long)up->size);
	body = rap_asprintf("{\"upload_id\":\"%s\",\"object_key\":\"%s\",\"size\":%llu,"
			    "\"sha256\":\"%s\",\"filename\":\"%s\"}",
			    up->id, up->key, up->size, sha, up->filename);
	rap_http_header(req, "Location", up->key);
	rap_http_reply(req, 201, body);
	free(body);
}

/* The body arrived whole.  The place is given back before the answer goes
 * out: the client's next upload, sent as soon as it reads this one's
 * answer, must not meet a 503 for a place this one still held. */
static void end(struct upload *up)
{
	/* Cut just as its body ended: nothing is stored (upload_free aborts). */
	if (!upload_place_body_done(up->api, up->place))
		up->failed = true;
	conclude(up);
	upload_release(up->api, &up->place);
}

static void get_upload(struct upload_api *api, struct rap_http_req *req, const char *id)
{
	char err[RAP_ERRLEN], *json = NULL;
	PGconn *db;
	int result;

	if (!rap_uuid_valid(id)) {
		rap_http_error(req, 400, "bad_request", "upload id must be a UUID");
		return;
	}
	if (rap_pg_pool_get(api->pool, 5000, &db, err) != RAP_OK) {
		rap_http_error(req, 503, "unavailable", "the database is unavailable");
		return;
	}
	result = rap_upload_get(db, req->owner, id, &json, err);
	rap_pg_pool_put(api->pool, db);
	if (result == RAP_ENOENT)
		rap_http_error(req, 404, "not_found", "no upload %s", id);
	else if (result != RAP_OK)
		rap_http_error(req, 503, "unavailable", "the database failed");
	else
		rap_http_reply(req, 200, json);
	free(json);
}

void multipart_upload_post(void *svc, struct rap_http_req *req, enum rap_http_phase phase,
			   const char *p, size_t len)
{
	if (phase == RAP_HTTP_BEGIN)
		begin(svc, req);
	else if (phase == RAP_HTTP_DATA && req->data)
		data(req->data, p, len);
	else if (phase == RAP_HTTP_END && req->data)
		end(req->data);
}

void multipart_upload_get(void *svc, struct rap_http_req *req)
{
	get_upload(svc, req, rap_http_param(req, "id"));
}
