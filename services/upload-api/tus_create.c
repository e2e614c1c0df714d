/*
 * tus_create.c: POST /files: creation (with a known or deferred length),
 * creation-with-upload (its body goes on as a PATCH, tus_patch.c), and
 * concatenation of finished partial uploads into a final one.
 */
#include "tus_internal.h"

#include "rap/err.h"
#include "rap/list.h"
#include "rap/log.h"
#include "rap/mem.h"
#include "rap/metrics.h"
#include "rap/s3.h"
#include "rap/tus_header.h"
#include "rap/upload.h"
#include "rap/uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* What a creation's Upload-Metadata declares. */
struct declared {
	const char *meta;   /* the header as sent, "" if absent */
	char filename[256]; /* sanitized */
	bool named;         /* the client gave a filename */
	char ctype[128];
	char job_type[RAP_MAX_JOB_TYPE + 1]; /* "" when none */
};

/* Reads filename, type and job type from Upload-Metadata into d; false
 * when it replied.  A declared job type must be one the platform runs: the
 * content is checked against its allow-list as the first bytes arrive. */
static bool creation_declared(struct upload_api *api, struct rap_http_req *req, struct declared *d)
{
	const char *meta = rap_http_get_header(req, "Upload-Metadata");
	char raw[256], err[RAP_ERRLEN];

	d->meta = meta ? meta : "";
	if (rap_tus_metadata_get(d->meta, "filename", raw, sizeof(raw), err) != RAP_OK ||
	    (!raw[0] && rap_tus_metadata_get(d->meta, "name", raw, sizeof(raw), err) != RAP_OK) ||
	    rap_tus_metadata_get(d->meta, "filetype", d->ctype, sizeof(d->ctype), err) != RAP_OK ||
	    (!d->ctype[0] &&
	     rap_tus_metadata_get(d->meta, "type", d->ctype, sizeof(d->ctype), err) != RAP_OK) ||
	    rap_tus_metadata_get(d->meta, "job_type", d->job_type, sizeof(d->job_type), err) !=
		    RAP_OK) {
		rap_http_error(req, 400, "bad_metadata", "%s", err);
		return false;
	}
	if (!upload_content_type_ok(d->ctype)) {
		rap_http_error(req, 400, "bad_metadata",
			       "the Upload-Metadata value of 'filetype' must be printable ASCII");
		return false;
	}
	upload_sanitize_filename(raw, d->filename, sizeof(d->filename));
	d->named = raw[0] != '\0';
	if (!d->ctype[0] || strpbrk(d->ctype, "\r\n\"\\"))
		snprintf(d->ctype, sizeof(d->ctype), "application/octet-stream");
	if (d->job_type[0] && !rap_list_contains(api->svc.cfg.job_types, d->job_type)) {
		rap_http_error(req, 422, "unknown_job_type", "job type '%s' is not one of: %s",
			       d->job_type, api->svc.cfg.job_types);
		return false;
	}
	return true;
}

static int parts_sink(void *ctx, const void *data, size_t len)
{
	return parts_write(ctx, data, len);
}

/* The partial uploads a final upload joins. */
struct concat {
	char ids[RAP_TUS_CONCAT_MAX][RAP_UUID_STRLEN];
	char keys[RAP_TUS_CONCAT_MAX][RAP_UPLOAD_KEY_LEN];
	unsigned count;
	long long total; /* the sum of their sizes */
};

/* Streams the partial uploads' objects into the final one. */
static int concat_copy(struct upload_api *api, struct parts *parts, const struct concat *c,
		       char sha[RAP_SHA256_HEXLEN], char *err)
{
	struct rap_s3 *s3 = rap_s3_new(&api->s3cfg);
	unsigned i;
	int result = RAP_OK;

	for (i = 0; i < c->count && result == RAP_OK; i++) {
		result = rap_s3_get(s3, c->keys[i], parts_sink, parts);
		if (result == RAP_EUNSUPPORTED) /* the declared job type refuses it */
			snprintf(err, RAP_ERRLEN, "%s", parts_errmsg(parts));
		else if (result != RAP_OK)
			snprintf(err, RAP_ERRLEN, "reading partial upload %.36s: %.180s", c->ids[i],
				 rap_s3_errmsg(s3)[0] ? rap_s3_errmsg(s3) : parts_errmsg(parts));
	}
	rap_s3_free(s3);
	if (result == RAP_OK && (result = parts_finish(parts, sha)) != RAP_OK)
		snprintf(err, RAP_ERRLEN, "%s%s",
			 result == RAP_EUNSUPPORTED ? "" : "the object store failed: ",
			 parts_errmsg(parts));
	return result;
}

/* Checks the partial uploads of a final one: their keys and total size. */
static int concat_check(PGconn *db, const char *owner, struct concat *c, char *err)
{
	struct rap_tus t;
	unsigned i;
	int result;

	c->total = 0;
	for (i = 0; i < c->count; i++) {
		result = rap_tus_load(db, owner, c->ids[i], &t, err);
		if (result == RAP_ENOENT || result == RAP_ECANCELED) {
			snprintf(err, RAP_ERRLEN, "no partial upload %.36s", c->ids[i]);
			return RAP_EINVAL;
		}
		if (result != RAP_OK)
			return result;
		if (!t.concat || strcmp(t.concat, "partial") != 0 ||
		    strcmp(t.state, "COMPLETE") != 0) {
			snprintf(err, RAP_ERRLEN,
				 "upload %.36s is not a finished partial upload "
				 "(concatenation-unfinished is not supported)",
				 c->ids[i]);
			rap_tus_cleanup(&t);
			return RAP_EINVAL;
		}
		c->total += t.offset;
		snprintf(c->keys[i], sizeof(c->keys[i]), "%s", t.object_key);
		rap_tus_cleanup(&t);
	}
	return RAP_OK;
}

/* Records the final upload n, builds its object from the partial uploads
 * and answers: 201, or the error (the final upload is then removed). */
static void concat_build(struct upload_api *api, struct rap_http_req *req, PGconn *db,
			 const struct rap_tus_new *n, const struct concat *c, const char *job_type)
{
	char sha[RAP_SHA256_HEXLEN], err[RAP_ERRLEN], loc[64];
	struct rap_tus t = { 0 };
	struct parts *parts;
	struct upload_place *place = NULL;
	int result;

	/* A copy the server makes: it holds a place, but no client paces it. */
	if (!upload_admit(api, req, false, &place))
		return;
	result = rap_tus_create(db, n, err);
	if (result == RAP_OK)
		result = rap_tus_load(db, req->owner, n->id, &t, err);
	if (result != RAP_OK) {
		rap_http_error(req, 503, "unavailable", "the database failed; retry");
		goto out_tus;
	}
	parts = parts_new(api, n->object_key, n->content_type, (size_t)n->part_size);
	parts_expect(parts, c->total);
	if (job_type[0])
		parts_check_content(parts, job_type);
	result = concat_copy(api, parts, c, sha, err);
	if (result == RAP_OK) {
		t.offset = c->total;
		t.detected_type = parts_detected(parts)[0] ? rap_strdup(parts_detected(parts))
							   : NULL;
		result = rap_tus_complete(db, &t, sha, err);
	}
	if (result != RAP_OK) {
		parts_abort(parts);
		rap_tus_end(db, n->id, true, err);
		if (result == RAP_EUNSUPPORTED)
			rap_http_error(req, 415, "unsupported_content", "%s", parts_errmsg(parts));
		else
			rap_http_error(req, 502, "storage_failed",
				       "joining the uploads failed; retry");
		goto out_parts;
	}
	rap_metric_inc(api->uploads_ok, 1);
	rap_metric_inc(api->upload_bytes, c->total);
	snprintf(loc, sizeof(loc), "/files/%s", n->id);
	rap_http_header(req, "Location", loc);
	tus_add_num(req, "Upload-Offset", c->total);
	rap_http_reply(req, 201, "");
out_parts:
	parts_free(parts);
out_tus:
	rap_tus_cleanup(&t);
	upload_release(api, &place);
}

/* POST with Upload-Concat: final;...: the final upload is built at once,
 * with the filename, type and job type its Upload-Metadata declares. */
static void concat_final(struct upload_api *api, struct rap_http_req *req, const char *h)
{
	struct concat *c = rap_calloc(1, sizeof(*c));
	char id[RAP_UUID_STRLEN], key[RAP_UPLOAD_KEY_LEN], err[RAP_ERRLEN];
	struct rap_tus_new n;
	struct declared d;
	PGconn *db;
	int result;

	if (rap_tus_concat_parse(h, c->ids, RAP_TUS_CONCAT_MAX, &c->count, err) != RAP_OK) {
		rap_http_error(req, 400, "bad_concat", "%s", err);
		goto out_concat;
	}
	if (!creation_declared(api, req, &d))
		goto out_concat;
	if (rap_pg_pool_get(api->pool, 5000, &db, err) != RAP_OK) {
		rap_http_error(req, 503, "unavailable", "the database is unavailable; retry");
		goto out_concat;
	}
	result = concat_check(db, req->owner, c, err);
	if (result != RAP_OK) {
		rap_http_error(req, result == RAP_EINVAL ? 400 : 503,
			       result == RAP_EINVAL ? "bad_concat" : "unavailable", "%s", err);
		goto out_pool;
	}
	if (c->total > api->cfg.upload_max_bytes) {
		rap_http_error(req, 413, "payload_too_large",
			       "the joined upload is over the limit");
		goto out_pool;
	}
	rap_uuid(id);
	snprintf(key, sizeof(key), "uploads/%s", id);
	n = (struct rap_tus_new){ .id = id,
				  .owner = req->owner,
				  .object_key = key,
				  .filename = d.named ? d.filename : "concatenated.bin",
				  .content_type = d.ctype,
				  .length = c->total,
				  .part_size = tus_part_size_for(api, c->total),
				  .metadata = d.meta,
				  .concat = h,
				  .expire_s = (int)api->cfg.tus_expire_seconds };
	concat_build(api, req, db, &n, c, d.job_type);
out_pool:
	rap_pg_pool_put(api->pool, db);
out_concat:
	free(c);
}

/* An empty upload is complete at creation. */
static int create_empty(struct upload_api *api, PGconn *db, const char *owner, const char *id,
			char *err)
{
	struct parts *parts;
	struct rap_tus t;
	char sha[RAP_SHA256_HEXLEN];
	int result;

	result = rap_tus_load(db, owner, id, &t, err);
	if (result != RAP_OK)
		return result;
	parts = parts_new(api, t.object_key, t.content_type, (size_t)t.part_size);
	result = parts_finish(parts, sha);
	if (result != RAP_OK)
		snprintf(err, RAP_ERRLEN, "%s", parts_errmsg(parts));
	else
		result = rap_tus_complete(db, &t, sha, err);
	parts_free(parts);
	rap_tus_cleanup(&t);
	return result;
}

/* Checks a creation's headers into n, which points into d; false when it
 * replied. */
static bool creation_check(struct upload_api *api, struct rap_http_req *req, struct rap_tus_new *n,
			   struct declared *d)
{
	const char *defer = rap_http_get_header(req, "Upload-Defer-Length");
	const char *concat = rap_http_get_header(req, "Upload-Concat");

	n->length = -1;
	if (concat && strcmp(concat, "partial") != 0) {
		rap_http_error(req, 400, "bad_concat",
			       "Upload-Concat must be 'partial' or 'final;<upload URLs>'");
		return false;
	}
	if (defer && strcmp(defer, "1") != 0) {
		rap_http_error(req, 400, "bad_request", "Upload-Defer-Length must be 1");
		return false;
	}
	if (!defer && !rap_http_get_header(req, "Upload-Length")) {
		rap_http_error(req, 400, "bad_request",
			       "send Upload-Length (or Upload-Defer-Length: 1)");
		return false;
	}
	if (!defer && !tus_parse_length(req, "Upload-Length", &n->length))
		return false;
	if (n->length > api->cfg.upload_max_bytes) {
		rap_http_error(req, 413, "payload_too_large",
			       "Upload-Length %lld is over the limit of %lld bytes", n->length,
			       api->cfg.upload_max_bytes);
		return false;
	}
	if (!creation_declared(api, req, d))
		return false;
	n->metadata = d->meta;
	n->filename = d->filename;
	n->content_type = d->ctype;
	n->concat = concat;
	n->part_size = tus_part_size_for(api, n->length);
	n->expire_s = (int)api->cfg.tus_expire_seconds;
	return true;
}

/* POST /files/: a new upload (maybe with its first bytes). */
static void create(struct upload_api *api, struct rap_http_req *req)
{
	const char *concat = rap_http_get_header(req, "Upload-Concat");
	const char *ctype_h = rap_http_get_header(req, "Content-Type");
	char id[RAP_UUID_STRLEN], key[RAP_UPLOAD_KEY_LEN], err[RAP_ERRLEN], loc[64];
	struct rap_tus_new n = { 0 };
	struct declared d;
	PGconn *db;
	int result;

	if (concat && strncmp(concat, "final;", 6) == 0) {
		concat_final(api, req, concat);
		return;
	}
	if (!creation_check(api, req, &n, &d))
		return;
	rap_uuid(id);
	snprintf(key, sizeof(key), "uploads/%s", id);
	n.id = id;
	n.owner = req->owner;
	n.object_key = key;
	if (rap_pg_pool_get(api->pool, 5000, &db, err) != RAP_OK) {
		rap_http_error(req, 503, "unavailable", "the database is unavailable; retry");
		return;
	}
	result = rap_tus_create(db, &n, err);
	if (result == RAP_OK && n.length == 0)
		result = create_empty(api, db, req->owner, id, err);
	rap_pg_pool_put(api->pool, db);
	if (result != RAP_OK) {
		rap_log(RAP_LOG_ERROR, NULL, "creating upload %s: %s", id, err);
		rap_http_error(req, 503, "unavailable", "the upload could not be recorded; retry");
		return;
	}
	if (n.length != 0 && ctype_h &&
	    strcasecmp(ctype_h, "application/offset+octet-stream") == 0) {
		tus_patch_begin(api, req, id, true); /* creation-with-upload */
		return;
	}
	snprintf(loc, sizeof(loc), "/files/%s", id);
	rap_http_header(req, "Location", loc);
	if (n.length != 0)
		tus_add_expires(req, n.expire_s);
	else
		rap_http_header(req, "Upload-Offset", "0");
	rap_http_reply(req, 201, "");
}

/* The body of a creation-with-upload goes on as a PATCH. */
void tus_create(void *svc, struct rap_http_req *req, enum rap_http_phase phase, const char *data,
		size_t len)
{
	if (phase != RAP_HTTP_BEGIN)
		tus_patch_body(req, phase, data, len);
	else if (tus_accept(svc, req) && upload_rate_allowed(svc, req))
		create(svc, req);
}
