/*
 * tus.c: tus 1.0 resumable uploads at /files/ (the gateway's /api/files/):
 * core, creation, creation-with-upload, creation-defer-length,
 * termination, checksum, expiration and concatenation.
 *
 * Every PATCH streams through the part writer (parts.c) into the upload's
 * S3 multipart upload.  The state lives in PostgreSQL (lib/tus.c), never in
 * a process: after each stored part the upload's offset, part ETags and
 * SHA-256 state are saved, and when a PATCH ends (or its client goes away)
 * the bytes after the last part are stored as a tail object in S3 and
 * counted.  So HEAD answers the true offset after upload-api is killed, and
 * any instance can take the next PATCH: a PATCH holds a PostgreSQL
 * advisory lock on its upload, on a session of its own, and a second PATCH
 * of the same upload meanwhile is refused with 423.
 */
#include "upload_api.h"

#include "rap/err.h"
#include "rap/log.h"
#include "rap/mem.h"
#include "rap/metrics.h"
#include "rap/pg.h"
#include "rap/tus.h"
#include "rap/http.h"
#include "rap/list.h"
#include "rap/str.h"
#include "rap/uuid.h"
#include "rap/job.h"
#include "rap/hash.h"
#include "rap/tus_header.h"
#include "rap/upload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define S3_MAX_PARTS 10000
#define MiB (1024LL * 1024)

/* One PATCH (or a creation-with-upload POST) in progress. */
struct patch {
	struct upload_api *api;
	struct rap_http_req *req;
	PGconn *db;                 /* a session of its own: holds the lock */
	bool locked;
	bool admitted;              /* holds an upload place */
	struct rap_tus t;
	struct parts *parts;
	struct rap_digest sum;      /* Upload-Checksum, if sent */
	bool has_sum;
	unsigned char want[RAP_DIGEST_MAX];
	size_t want_len;
	long long limit;            /* the offset the body may reach */
	long long boundary;         /* object offset of the stored parts' end */
	char old_tail[160];         /* the tail object read back, if any */
	char job_type[RAP_MAX_JOB_TYPE + 1];          /* Upload-Metadata job_type: content checked */
	bool mpu_saved;             /* the writer's multipart upload is recorded */
	bool creating;              /* creation-with-upload: 201, not 204 */
	bool failed;                /* an error reply is queued */
	bool done;                  /* the outcome is saved */
};

static void tus_header(struct rap_http_req *req)
{
	rap_http_header(req, "Tus-Resumable", RAP_TUS_VERSION);
}

static void header_num(struct rap_http_req *req, const char *name, long long v)
{
	char s[24];

	snprintf(s, sizeof(s), "%lld", v);
	rap_http_header(req, name, s);
}

static void header_expires(struct rap_http_req *req, int seconds)
{
	char date[RAP_HTTP_DATE_LEN];

	rap_http_date(time(NULL) + seconds, date);
	rap_http_header(req, "Upload-Expires", date);
}

static void options(struct upload_api *api, struct rap_http_req *req)
{
	rap_http_header(req, "Tus-Version", RAP_TUS_VERSION);
	rap_http_header(req, "Tus-Extension", RAP_TUS_EXTENSIONS);
	rap_http_header(req, "Tus-Checksum-Algorithm", RAP_TUS_CHECKSUMS);
	header_num(req, "Tus-Max-Size", api->cfg.upload_max_bytes);
	rap_http_reply(req, 204, "");
}

/* A part size that keeps the upload within S3's 10,000 parts. */
static long long part_size_for(struct upload_api *api, long long length)
{
	long long size = api->cfg.upload_part_size;

	if (length < 0)
		length = api->cfg.upload_max_bytes;
	while (size * S3_MAX_PARTS < length)
		size += 8 * MiB;
	return size;
}

static bool parse_length(struct rap_http_req *req, const char *name, long long *out)
{
	const char *h = rap_http_get_header(req, name);

	if (!h || rap_strtonum(h, 0, INT64_MAX, out) != RAP_OK) {
		rap_http_error(req, 400, "bad_request", "%s must be a non-negative integer",
			       name);
		return false;
	}
	return true;
}

/* ---- saving progress ---- */

/* Deletes a tail object no longer needed (a leftover costs only space). */
static void drop_tail(struct patch *pt, const char *key)
{
	if (key[0] && upload_delete_object(pt->api, key) != RAP_OK)
		rap_log(RAP_LOG_WARN, NULL, "upload %s: could not delete %s", pt->t.id, key);
}

/* Copies the writer's stored parts into t (offset at their end, no tail). */
static void take_parts(struct patch *pt)
{
	unsigned n = parts_stored(pt->parts, &pt->boundary, pt->t.hash), i;
	const char *id = parts_upload_id(pt->parts);

	for (i = pt->t.parts; i < n; i++)
		rap_tus_add_part(&pt->t, parts_etag(pt->parts, i + 1));
	if (id && !pt->t.s3_upload_id)
		pt->t.s3_upload_id = rap_strdup(id);
	pt->t.has_hash = true;
	pt->t.offset = pt->boundary;
	pt->t.tail_len = 0;
	if (!pt->t.detected_type && parts_detected(pt->parts)[0])
		pt->t.detected_type = rap_strdup(parts_detected(pt->parts));
}

/* After a part: saves that bytes 0..boundary are in S3. */
static int save_parts(struct patch *pt)
{
	char err[RAP_ERRLEN];
	unsigned before = pt->t.parts;

	if (parts_stored(pt->parts, NULL, NULL) == before)
		return RAP_OK;
	take_parts(pt);
	if (rap_tus_save(pt->db, &pt->t, (int)pt->api->cfg.tus_expire_seconds, err) != RAP_OK) {
		rap_log(RAP_LOG_ERROR, NULL, "upload %s: saving progress: %s", pt->t.id, err);
		return RAP_EDB;
	}
	pt->mpu_saved = pt->t.s3_upload_id != NULL;
	if (pt->old_tail[0]) { /* its bytes are in a stored part now */
		drop_tail(pt, pt->old_tail);
		pt->old_tail[0] = '\0';
	}
	return RAP_OK;
}

/* The end of a PATCH that leaves the upload unfinished: the parts in
 * flight complete, the bytes after them become the tail object. */
static int save_tail(struct patch *pt, char *err)
{
	struct rap_s3 *s3;
	char key[160] = "";
	const char *tail;
	size_t len;
	int result;

	result = parts_drain(pt->parts);
	if (result != RAP_OK) {
		snprintf(err, RAP_ERRLEN, "the object store failed: %s", parts_errmsg(pt->parts));
		return result;
	}
	result = parts_detect(pt->parts);
	if (result != RAP_OK) {
		snprintf(err, RAP_ERRLEN, "%s", parts_errmsg(pt->parts));
		return result;
	}
	take_parts(pt);
	tail = parts_tail(pt->parts, &len);
	if (!pt->t.detected_type && parts_detected(pt->parts)[0])
		pt->t.detected_type = rap_strdup(parts_detected(pt->parts));
	if (len > 0) {
		rap_tus_tail_key(&pt->t, pt->boundary, key, sizeof(key));
		s3 = rap_s3_new(&pt->api->s3cfg);
		result = rap_s3_put(s3, key, tail, len, "application/octet-stream");
		if (result != RAP_OK)
			snprintf(err, RAP_ERRLEN, "the object store failed: %s", rap_s3_errmsg(s3));
		rap_s3_free(s3);
		if (result != RAP_OK)
			return result;
		pt->t.offset = pt->boundary + (long long)len;
		pt->t.tail_len = (long long)len;
	}
	result = rap_tus_save(pt->db, &pt->t, (int)pt->api->cfg.tus_expire_seconds, err);
	if (result != RAP_OK)
		return result;
	pt->mpu_saved = pt->t.s3_upload_id != NULL;
	if (strcmp(pt->old_tail, key) != 0)
		drop_tail(pt, pt->old_tail);
	pt->old_tail[0] = '\0';
	return RAP_OK;
}

/* The last byte arrived: the object is completed in S3 and recorded. */
static int finish(struct patch *pt, char *err)
{
	char sha[RAP_SHA256_HEXLEN];
	int result;

	result = parts_finish(pt->parts, sha);
	if (result != RAP_OK) {
		snprintf(err, RAP_ERRLEN, "%s%s", result == RAP_EUNSUPPORTED ? ""
			 : "the object store failed: ", parts_errmsg(pt->parts));
		return result;
	}
	if (!pt->t.detected_type && parts_detected(pt->parts)[0])
		pt->t.detected_type = rap_strdup(parts_detected(pt->parts));
	result = rap_tus_complete(pt->db, &pt->t, sha, err);
	if (result != RAP_OK)
		return result;
	pt->mpu_saved = true; /* completed: nothing to abort */
	drop_tail(pt, pt->old_tail);
	pt->old_tail[0] = '\0';
	rap_metric_inc(pt->api->uploads_ok, 1);
	rap_metric_inc(pt->api->upload_bytes, pt->t.offset);
	return RAP_OK;
}

/* ---- PATCH ---- */

static void patch_fail(struct patch *pt, unsigned status, const char *code, const char *msg)
{
	if (pt->failed)
		return;
	pt->failed = true;
	rap_http_error(pt->req, status, code, "%s", msg);
}

static void discard_s3(struct upload_api *api, const struct rap_tus *t);

/* The first bytes are of a type the declared job type does not take: the
 * upload ends here, ABORTED, with nothing of it left in S3. */
static void refuse_content(struct patch *pt)
{
	char err[RAP_ERRLEN];

	patch_fail(pt, 415, "unsupported_content", parts_errmsg(pt->parts));
	pt->done = true;
	parts_abort(pt->parts);
	discard_s3(pt->api, &pt->t);
	if (pt->old_tail[0])
		drop_tail(pt, pt->old_tail);
	if (rap_tus_end(pt->db, pt->t.id, false, err) != RAP_OK)
		rap_log(RAP_LOG_WARN, NULL, "upload %s: %s", pt->t.id, err);
}

/* A multipart upload that this PATCH began but never recorded (a checksum
 * mismatch, a failed save, a client gone under Upload-Checksum) is known to
 * no one else: the next PATCH begins another.  Abort it, or its parts would
 * cost storage until a lifecycle rule finds them. */
static void abort_unrecorded(struct patch *pt)
{
	int result;

	if (pt->mpu_saved || !parts_upload_id(pt->parts))
		return;
	result = parts_abort(pt->parts);
	if (result != RAP_OK && result != RAP_EUNSUPPORTED) /* s3rver: no abort */
		rap_log(RAP_LOG_WARN, NULL, "upload %s: aborting an unrecorded multipart upload: %s",
			pt->t.id, parts_errmsg(pt->parts));
}

/* Bytes that never reached the end of their PATCH are kept when no
 * checksum asks for the whole PATCH or nothing. */
static void patch_free(void *arg)
{
	struct patch *pt = arg;
	char err[RAP_ERRLEN];

	if (pt->parts && !pt->done && !pt->failed && !pt->has_sum &&
	    save_tail(pt, err) != RAP_OK)
		rap_log(RAP_LOG_WARN, NULL, "upload %s: keeping an interrupted PATCH: %s",
			pt->t.id, err);
	if (pt->parts)
		abort_unrecorded(pt);
	parts_free(pt->parts);
	if (pt->has_sum)
		rap_digest_cleanup(&pt->sum);
	if (pt->locked)
		rap_tus_unlock(pt->db, pt->t.id);
	if (pt->db)
		PQfinish(pt->db);
	rap_tus_cleanup(&pt->t);
	upload_release(pt->api, &pt->admitted);
	free(pt);
}

static int parts_sink(void *ctx, const void *data, size_t len)
{
	return parts_write(ctx, data, len);
}

/* Streams the tail object into the writer, counting what arrives. */
struct tail_read {
	struct parts *parts;
	long long want, got;
};

static int tail_sink(void *ctx, const void *data, size_t len)
{
	struct tail_read *tr = ctx;

	tr->got += (long long)len;
	if (tr->got > tr->want)
		return RAP_ETOOBIG;
	return parts_write(tr->parts, data, len);
}

/* Reads the tail object back into the writer (hashing it again: the saved
 * state is at the last part's end).  A tail that S3 lost sends the upload
 * back to its last part. */
static int load_tail(struct patch *pt, bool *rolled_back)
{
	struct tail_read tr = { .parts = pt->parts, .want = pt->t.tail_len };
	struct rap_s3 *s3;
	char err[RAP_ERRLEN];
	int result;

	*rolled_back = false;
	if (pt->t.tail_len == 0)
		return RAP_OK;
	rap_tus_tail_key(&pt->t, pt->boundary, pt->old_tail, sizeof(pt->old_tail));
	s3 = rap_s3_new(&pt->api->s3cfg);
	result = rap_s3_get(s3, pt->old_tail, tail_sink, &tr);
	rap_s3_free(s3);
	if (result == RAP_OK && tr.got == tr.want)
		return RAP_OK;
	if (result != RAP_OK && result != RAP_ENOENT && result != RAP_ETOOBIG)
		return result;
	rap_log(RAP_LOG_WARN, NULL, "upload %s: tail object %s lost: back to offset %lld",
		pt->t.id, pt->old_tail, pt->boundary);
	/* Start the writer again from the last part. */
	parts_free(pt->parts);
	pt->parts = parts_new(pt->api, pt->t.object_key, pt->t.content_type,
			      (size_t)pt->t.part_size);
	result = parts_resume(pt->parts, pt->t.s3_upload_id, pt->t.etags, pt->t.parts,
			      pt->t.has_hash ? pt->t.hash : NULL);
	if (result != RAP_OK)
		return result;
	pt->t.offset = pt->boundary;
	pt->t.tail_len = 0;
	pt->old_tail[0] = '\0';
	*rolled_back = true;
	return rap_tus_save(pt->db, &pt->t, (int)pt->api->cfg.tus_expire_seconds, err);
}

/* Checks the request against the upload; false when it replied. */
static bool patch_check(struct patch *pt, long long offset, long long clen)
{
	struct rap_http_req *req = pt->req;
	struct rap_tus *t = &pt->t;
	const char *h = rap_http_get_header(req, "Upload-Length");
	long long len;

	if (strcmp(t->state, "COMPLETE") == 0 || (t->concat && strncmp(t->concat, "final", 5) == 0)) {
		header_num(req, "Upload-Offset", t->offset);
		patch_fail(pt, 403, "upload_complete",
			   t->concat && t->concat[0] == 'f' ? "a final upload takes no PATCH"
			   : "the upload is complete");
		return false;
	}
	if (t->expired) {
		patch_fail(pt, 410, "gone", "the upload expired");
		return false;
	}
	if (offset != t->offset) {
		char msg[128];

		header_num(req, "Upload-Offset", t->offset);
		snprintf(msg, sizeof(msg), "Upload-Offset is %lld but the upload is at %lld",
			 offset, t->offset);
		patch_fail(pt, 409, "offset_mismatch", msg);
		return false;
	}
	if (h) {
		if (rap_strtonum(h, 0, INT64_MAX, &len) != RAP_OK ||
		    (t->length >= 0 && len != t->length) || len < t->offset) {
			patch_fail(pt, 400, "bad_request",
				   "Upload-Length is malformed, smaller than the offset, or changes a "
				   "known length");
			return false;
		}
		if (len > pt->api->cfg.upload_max_bytes) {
			patch_fail(pt, 413, "payload_too_large", "Upload-Length is over the limit");
			return false;
		}
		t->length = len;
	}
	pt->limit = t->length >= 0 ? t->length : pt->api->cfg.upload_max_bytes;
	if (clen >= 0 && t->offset + clen > pt->limit) {
		patch_fail(pt, 413, "payload_too_large", t->length >= 0
			   ? "the PATCH goes past Upload-Length"
			   : "the PATCH goes past the size limit");
		return false;
	}
	return true;
}

/* Parses Upload-Checksum; false when it replied. */
static bool patch_checksum(struct patch *pt)
{
	const char *h = rap_http_get_header(pt->req, "Upload-Checksum");
	char algo[RAP_TUS_ALGO_LEN];

	if (!h)
		return true;
	if (rap_tus_checksum_parse(h, algo, pt->want, &pt->want_len) != RAP_OK) {
		patch_fail(pt, 400, "bad_checksum", "Upload-Checksum must be '<algorithm> <base64>'");
		return false;
	}
	if (rap_digest_init(&pt->sum, algo) != RAP_OK) {
		patch_fail(pt, 400, "unsupported_checksum",
			   "checksum algorithms: " RAP_TUS_CHECKSUMS);
		return false;
	}
	pt->has_sum = true;
	return true;
}

/* Locks and loads the upload and prepares the writer; false when it replied. */
static bool patch_open(struct patch *pt, const char *id, long long offset, long long clen)
{
	struct upload_api *api = pt->api;
	char err[RAP_ERRLEN];
	bool rolled_back;
	int result;

	if (rap_pg_connect(api->svc.cfg.pg_url, &pt->db, err) != RAP_OK) {
		patch_fail(pt, 503, "unavailable", "the database is unavailable; retry");
		return false;
	}
	result = rap_tus_lock(pt->db, id, err);
	if (result == RAP_ECONFLICT) {
		patch_fail(pt, 423, "locked", "another request is writing to this upload; "
			   "HEAD it and retry");
		return false;
	}
	if (result == RAP_OK) {
		pt->locked = true;
		snprintf(pt->t.id, sizeof(pt->t.id), "%s", id);
		result = rap_tus_load(pt->db, pt->req->owner, id, &pt->t, err);
	}
	if (result == RAP_ENOENT || result == RAP_ECANCELED) {
		patch_fail(pt, result == RAP_ENOENT ? 404 : 410, result == RAP_ENOENT
			   ? "not_found" : "gone", result == RAP_ENOENT ? "no such upload"
			   : "the upload was terminated");
		return false;
	}
	if (result != RAP_OK) {
		patch_fail(pt, 503, "unavailable", "the database failed; retry");
		return false;
	}
	pt->mpu_saved = pt->t.s3_upload_id != NULL;
	if (!patch_check(pt, offset, clen) || !patch_checksum(pt))
		return false;
	pt->parts = parts_new(api, pt->t.object_key, pt->t.content_type,
			      (size_t)pt->t.part_size);
	if (rap_tus_metadata_get(pt->t.metadata, "job_type", pt->job_type, sizeof(pt->job_type),
				 err) == RAP_OK && pt->job_type[0])
		parts_check_content(pt->parts, pt->job_type);
	pt->boundary = pt->t.offset - pt->t.tail_len;
	result = parts_resume(pt->parts, pt->t.s3_upload_id, pt->t.etags, pt->t.parts,
			      pt->t.has_hash ? pt->t.hash : NULL);
	/* With a Content-Length the PATCH's end is known: the parts it fills
	 * stream to S3 while they arrive. */
	if (clen >= 0)
		parts_expect(pt->parts, pt->t.offset + clen);
	if (result == RAP_OK)
		result = load_tail(pt, &rolled_back);
	if (result == RAP_OK && rolled_back) {
		header_num(pt->req, "Upload-Offset", pt->t.offset);
		patch_fail(pt, 409, "offset_mismatch", "the stored tail was lost: HEAD the "
			   "upload and resume from its offset");
		return false;
	}
	if (result != RAP_OK) {
		patch_fail(pt, 502, "storage_failed", "the upload's state could not be read back");
		return false;
	}
	return true;
}

/* PATCH /files/ID, or the body of a creation-with-upload. */
static void patch_begin(struct upload_api *api, struct rap_http_req *req, const char *id,
			bool creating)
{
	const char *ctype = rap_http_get_header(req, "Content-Type");
	const char *clen_h = rap_http_get_header(req, "Content-Length");
	long long offset = 0, clen = -1;
	struct patch *pt;
	bool held = false;

	if (creating) {
		/* The upload exists from here on, whatever becomes of its first
		 * bytes: every answer tells the client where to resume. */
		char loc[64];

		snprintf(loc, sizeof(loc), "/files/%s", id);
		rap_http_header(req, "Location", loc);
	}
	if (!ctype || strcasecmp(ctype, "application/offset+octet-stream") != 0) {
		rap_http_error(req, 415, "unsupported_media_type",
			       "a PATCH body is Content-Type: application/offset+octet-stream");
		return;
	}
	if (!creating && !parse_length(req, "Upload-Offset", &offset))
		return;
	if (clen_h && rap_strtonum(clen_h, 0, INT64_MAX, &clen) != RAP_OK)
		clen = -1;
	if (!upload_admit(api, req, &held))
		return;
	pt = rap_calloc(1, sizeof(*pt));
	pt->api = api;
	pt->req = req;
	pt->admitted = held;
	pt->creating = creating;
	req->data = pt;
	req->data_free = patch_free;
	if (!patch_open(pt, id, offset, clen))
		return;
	req->stream = true;
}

static void patch_data(struct patch *pt, const char *p, size_t len)
{
	if (pt->failed)
		return;
	if (parts_offset(pt->parts) + (long long)len > pt->limit) {
		patch_fail(pt, 413, "payload_too_large", pt->t.length >= 0
			   ? "the body goes past Upload-Length" : "the body goes past the size limit");
		return;
	}
	if (pt->has_sum)
		rap_digest_update(&pt->sum, p, len);
	switch (parts_write(pt->parts, p, len)) {
	case RAP_OK:
		break;
	case RAP_EUNSUPPORTED:
		refuse_content(pt);
		return;
	default:
		patch_fail(pt, 502, "storage_failed", parts_errmsg(pt->parts));
		return;
	}
	/* With a checksum, nothing counts until the whole PATCH is verified. */
	if (!pt->has_sum && save_parts(pt) != RAP_OK)
		patch_fail(pt, 503, "unavailable", "the database failed; retry from HEAD's offset");
}

/* The body arrived whole: saves the outcome and queues the answer. */
static void patch_conclude(struct patch *pt)
{
	struct rap_http_req *req = pt->req;
	unsigned char got[RAP_DIGEST_MAX];
	char err[RAP_ERRLEN];
	long long offset;
	int result;

	if (pt->failed)
		return;
	if (pt->has_sum) {
		size_t n = rap_digest_final(&pt->sum, got);

		pt->has_sum = false; /* released */
		if (n != pt->want_len || memcmp(got, pt->want, n) != 0) {
			pt->done = true; /* nothing of this PATCH is kept */
			patch_fail(pt, RAP_TUS_CHECKSUM_MISMATCH, "checksum_mismatch",
				   "the body does not match Upload-Checksum; nothing was stored");
			return;
		}
	}
	offset = parts_offset(pt->parts);
	if (offset == pt->t.length) {
		pt->t.offset = offset;
		result = finish(pt, err);
	} else {
		result = save_tail(pt, err);
	}
	pt->done = true;
	if (result == RAP_EUNSUPPORTED) {
		refuse_content(pt);
		return;
	}
	if (result != RAP_OK) {
		rap_log(RAP_LOG_ERROR, NULL, "upload %s: %s", pt->t.id, err);
		patch_fail(pt, result == RAP_EDB ? 503 : 502, result == RAP_EDB ? "unavailable"
			   : "storage_failed", "the PATCH could not be stored; HEAD and retry");
		return;
	}
	header_num(req, "Upload-Offset", offset);
	if (offset != pt->t.length)
		header_expires(req, (int)pt->api->cfg.tus_expire_seconds);
	rap_http_reply(req, pt->creating ? 201 : 204, "");
}

/*
 * The answer goes out once this returns; the lock and the upload place are
 * given back first, so the client's next request (tus clients send it at
 * once) finds them free instead of a 423 or a 503.  Nothing of this PATCH is still on its
 * way to S3 by then.
 */
static void patch_end(struct patch *pt)
{
	if (!pt->req->replied)
		patch_conclude(pt);
	if (pt->parts)
		parts_drain(pt->parts);
	if (pt->locked) {
		rap_tus_unlock(pt->db, pt->t.id);
		pt->locked = false;
	}
	upload_release(pt->api, &pt->admitted);
}

/* ---- creation and concatenation ---- */

/* What a creation's Upload-Metadata declares. */
struct declared {
	const char *meta;           /* the header as sent, "" if absent */
	char filename[256];         /* sanitized */
	bool named;                 /* the client gave a filename */
	char ctype[128];
	char job_type[RAP_MAX_JOB_TYPE + 1];          /* "" when none */
};

/* Reads filename, type and job type from Upload-Metadata into d; false
 * when it replied.  A declared job type must be one the platform runs: the
 * content is checked against its allow-list as the first bytes arrive. */
static bool creation_declared(struct upload_api *api, struct rap_http_req *req,
			      struct declared *d)
{
	const char *meta = rap_http_get_header(req, "Upload-Metadata");
	char raw[256], err[RAP_ERRLEN];

	d->meta = meta ? meta : "";
	if (rap_tus_metadata_get(d->meta, "filename", raw, sizeof(raw), err) != RAP_OK ||
	    (!raw[0] && rap_tus_metadata_get(d->meta, "name", raw, sizeof(raw), err) != RAP_OK) ||
	    rap_tus_metadata_get(d->meta, "filetype", d->ctype, sizeof(d->ctype), err) != RAP_OK ||
	    (!d->ctype[0] && rap_tus_metadata_get(d->meta, "type", d->ctype, sizeof(d->ctype),
						  err) != RAP_OK) ||
	    rap_tus_metadata_get(d->meta, "job_type", d->job_type, sizeof(d->job_type),
				 err) != RAP_OK) {
		rap_http_error(req, 400, "bad_metadata", "%s", err);
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

/* The partial uploads a final upload joins. */
struct concat {
	char ids[RAP_TUS_CONCAT_MAX][RAP_UUID_STRLEN];
	char keys[RAP_TUS_CONCAT_MAX][RAP_UPLOAD_KEY_LEN];
	unsigned count;
	long long total;            /* the sum of their sizes */
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
			snprintf(err, RAP_ERRLEN, "reading partial upload %.36s: %.180s",
				 c->ids[i], rap_s3_errmsg(s3)[0] ? rap_s3_errmsg(s3)
				 : parts_errmsg(parts));
	}
	rap_s3_free(s3);
	if (result == RAP_OK && (result = parts_finish(parts, sha)) != RAP_OK)
		snprintf(err, RAP_ERRLEN, "%s%s", result == RAP_EUNSUPPORTED ? ""
			 : "the object store failed: ", parts_errmsg(parts));
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
			snprintf(err, RAP_ERRLEN, "upload %.36s is not a finished partial upload "
				 "(concatenation-unfinished is not supported)", c->ids[i]);
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
			 const struct rap_tus_new *n, const struct concat *c,
			 const char *job_type)
{
	char sha[RAP_SHA256_HEXLEN], err[RAP_ERRLEN], loc[64];
	struct rap_tus t = { 0 };
	struct parts *parts;
	bool held = false;
	int result;

	if (!upload_admit(api, req, &held))
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
		t.detected_type = parts_detected(parts)[0] ? rap_strdup(parts_detected(parts)) : NULL;
		result = rap_tus_complete(db, &t, sha, err);
	}
	if (result != RAP_OK) {
		parts_abort(parts);
		rap_tus_end(db, n->id, true, err);
		if (result == RAP_EUNSUPPORTED)
			rap_http_error(req, 415, "unsupported_content", "%s", parts_errmsg(parts));
		else
			rap_http_error(req, 502, "storage_failed", "joining the uploads failed; retry");
		goto out_parts;
	}
	rap_metric_inc(api->uploads_ok, 1);
	rap_metric_inc(api->upload_bytes, c->total);
	snprintf(loc, sizeof(loc), "/files/%s", n->id);
	rap_http_header(req, "Location", loc);
	header_num(req, "Upload-Offset", c->total);
	rap_http_reply(req, 201, "");
out_parts:
	parts_free(parts);
out_tus:
	rap_tus_cleanup(&t);
	upload_release(api, &held);
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
		rap_http_error(req, result == RAP_EINVAL ? 400 : 503, result == RAP_EINVAL
			       ? "bad_concat" : "unavailable", "%s", err);
		goto out_pool;
	}
	if (c->total > api->cfg.upload_max_bytes) {
		rap_http_error(req, 413, "payload_too_large", "the joined upload is over the limit");
		goto out_pool;
	}
	rap_uuid(id);
	snprintf(key, sizeof(key), "uploads/%s", id);
	n = (struct rap_tus_new){ .id = id, .owner = req->owner, .object_key = key,
		.filename = d.named ? d.filename : "concatenated.bin",
		.content_type = d.ctype, .length = c->total,
		.part_size = part_size_for(api, c->total), .metadata = d.meta, .concat = h,
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
static bool creation_check(struct upload_api *api, struct rap_http_req *req,
			   struct rap_tus_new *n, struct declared *d)
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
	if (!defer && !parse_length(req, "Upload-Length", &n->length))
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
	n->part_size = part_size_for(api, n->length);
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
	if (n.length != 0 && ctype_h && strcasecmp(ctype_h, "application/offset+octet-stream") == 0) {
		patch_begin(api, req, id, true); /* creation-with-upload */
		return;
	}
	snprintf(loc, sizeof(loc), "/files/%s", id);
	rap_http_header(req, "Location", loc);
	if (n.length != 0)
		header_expires(req, n.expire_s);
	else
		rap_http_header(req, "Upload-Offset", "0");
	rap_http_reply(req, 201, "");
}

/* ---- HEAD and DELETE ---- */

static void head(struct upload_api *api, struct rap_http_req *req, const char *id)
{
	struct rap_tus t;
	char err[RAP_ERRLEN];
	PGconn *db;
	int result;

	if (rap_pg_pool_get(api->pool, 5000, &db, err) != RAP_OK) {
		rap_http_error(req, 503, "unavailable", "the database is unavailable; retry");
		return;
	}
	result = rap_tus_load(db, req->owner, id, &t, err);
	rap_pg_pool_put(api->pool, db);
	if (result == RAP_ENOENT || result == RAP_ECANCELED) {
		rap_http_error(req, result == RAP_ENOENT ? 404 : 410, result == RAP_ENOENT
			       ? "not_found" : "gone", "no such upload");
		return;
	}
	if (result != RAP_OK) {
		rap_http_error(req, 503, "unavailable", "the database failed; retry");
		return;
	}
	if (t.expired) {
		rap_http_error(req, 410, "gone", "the upload expired");
		rap_tus_cleanup(&t);
		return;
	}
	header_num(req, "Upload-Offset", t.offset);
	if (t.length >= 0)
		header_num(req, "Upload-Length", t.length);
	else
		rap_http_header(req, "Upload-Defer-Length", "1");
	if (t.metadata[0])
		rap_http_header(req, "Upload-Metadata", t.metadata);
	if (t.concat)
		rap_http_header(req, "Upload-Concat", t.concat);
	if (t.expires_at > 0) {
		char date[RAP_HTTP_DATE_LEN];

		rap_http_date(t.expires_at, date);
		rap_http_header(req, "Upload-Expires", date);
	}
	rap_http_reply(req, 200, "");
	rap_tus_cleanup(&t);
}

/* Frees what an unfinished upload holds in S3: its multipart upload and
 * its tail object. */
static void discard_s3(struct upload_api *api, const struct rap_tus *t)
{
	struct rap_s3 *s3 = rap_s3_new(&api->s3cfg);
	char key[160];

	if (t->s3_upload_id) {
		struct rap_s3_mpu *mpu = rap_s3_mpu_resume(t->object_key, t->s3_upload_id);
		int result = rap_s3_mpu_abort(s3, mpu);

		if (result != RAP_OK && result != RAP_EUNSUPPORTED) /* s3rver: lifecycle */
			rap_log(RAP_LOG_WARN, NULL, "upload %s: abort: %s", t->id, rap_s3_errmsg(s3));
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
		rap_http_error(req, 409, "upload_complete", "a finished upload is kept: jobs "
			       "may use it");
	} else if (result == RAP_OK) {
		discard_s3(api, &t);
		if (rap_tus_end(db, id, false, err) == RAP_OK)
			rap_http_reply(req, 204, "");
		else
			rap_http_error(req, 503, "unavailable", "the database failed; retry");
	} else if (result == RAP_ENOENT || result == RAP_ECANCELED) {
		rap_http_error(req, result == RAP_ENOENT ? 404 : 410, result == RAP_ENOENT
			       ? "not_found" : "gone", "no such upload");
	} else {
		rap_http_error(req, 503, "unavailable", "the database failed; retry");
	}
	rap_tus_cleanup(&t);
	rap_tus_unlock(db, id);
out_pool:
	rap_pg_pool_put(api->pool, db);
}

void tus_sweep(struct upload_api *api)
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
				discard_s3(api, &t);
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

/* ---- routing ---- */

void tus_handle(void *svc, struct rap_http_req *req, enum rap_http_phase phase,
		const char *data, size_t len)
{
	struct upload_api *api = svc;
	const char *override = rap_http_get_header(req, "X-HTTP-Method-Override");
	const char *method = override ? override : req->method;
	const char *id = rap_http_param(req, "id");
	const char *version;

	if (phase == RAP_HTTP_DATA) {
		if (req->data && !req->replied)
			patch_data(req->data, data, len);
		return;
	}
	if (phase == RAP_HTTP_END) {
		if (req->data)
			patch_end(req->data);
		return;
	}
	/* Every answer waits for the request's body (drained if refused):
	 * nginx streams bodies, and an early answer would reach the client as
	 * a 502 instead of the 409, 423 or 460 that tells it what to do. */
	req->defer_reply = true;
	if (!id)
		id = "";
	tus_header(req); /* on every answer */
	if (strcmp(method, "OPTIONS") == 0) {
		options(api, req);
		return;
	}
	version = rap_http_get_header(req, "Tus-Resumable");
	if (!version || strcmp(version, RAP_TUS_VERSION) != 0) {
		rap_http_header(req, "Tus-Version", RAP_TUS_VERSION);
		rap_http_error(req, 412, "unsupported_version",
			       "send Tus-Resumable: " RAP_TUS_VERSION);
		return;
	}
	if (!rap_http_authenticate(req, api->auth))
		return;
	if (!*id) {
		if (strcmp(method, "POST") == 0)
			create(api, req);
		else
			rap_http_error(req, 405, "method_not_allowed", "POST creates an upload");
		return;
	}
	if (!rap_uuid_valid(id)) {
		rap_http_error(req, 404, "not_found", "no such upload");
	} else if (strcmp(method, "HEAD") == 0) {
		head(api, req, id);
	} else if (strcmp(method, "PATCH") == 0) {
		patch_begin(api, req, id, false);
	} else if (strcmp(method, "DELETE") == 0) {
		terminate(api, req, id);
	} else {
		rap_http_error(req, 405, "method_not_allowed",
			       "an upload takes HEAD, PATCH or DELETE");
	}
}
