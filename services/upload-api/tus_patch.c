/*
 * tus_patch.c: PATCH /files/{id}, and the body of a creation-with-upload.
 *
 * Every PATCH streams through the part writer (parts.c) into the upload's
 * S3 multipart upload.  The state lives in PostgreSQL (lib/domain/tus.c),
 * never in a process: after each stored part the upload's offset, part
 * ETags and SHA-256 state are saved, and when a PATCH ends (or its client
 * goes away) the bytes after the last part are stored as a tail object in
 * S3 and counted (tus_progress.c).  So HEAD answers the true offset after
 * upload-api is killed, and any instance can take the next PATCH: a PATCH
 * holds a PostgreSQL advisory lock on its upload, on a session of its own,
 * and a second PATCH of the same upload meanwhile is refused with 423.
 */
#include "tus_internal.h"

#include "rap/assert.h"
#include "rap/err.h"
#include "rap/log.h"
#include "rap/mem.h"
#include "rap/str.h"
#include "rap/tus_header.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const bool allowed[TUS_PATCH_STATES][TUS_PATCH_STATES] = {
	[TUS_PATCH_OPENING] = { [TUS_PATCH_RECEIVING] = true, [TUS_PATCH_FAILED] = true },
	[TUS_PATCH_RECEIVING] = { [TUS_PATCH_SAVED] = true, [TUS_PATCH_FAILED] = true },
};

bool tus_patch_transition_allowed(enum tus_patch_state from, enum tus_patch_state to)
{
	return from < TUS_PATCH_STATES && to < TUS_PATCH_STATES && allowed[from][to];
}

static void patch_to(struct tus_patch *pt, enum tus_patch_state to)
{
	RAP_ASSERT(tus_patch_transition_allowed(pt->state, to));
	pt->state = to;
}

/* Queues the PATCH's error answer, once: later errors are dropped. */
static void patch_fail(struct tus_patch *pt, unsigned status, const char *code, const char *msg)
{
	if (pt->state == TUS_PATCH_FAILED)
		return;
	patch_to(pt, TUS_PATCH_FAILED);
	rap_http_error(pt->req, status, code, "%s", msg);
}

/* The first bytes are of a type the declared job type does not take: the
 * upload ends here, ABORTED, with nothing of it left in S3. */
static void refuse_content(struct tus_patch *pt)
{
	char err[RAP_ERRLEN];

	patch_fail(pt, 415, "unsupported_content", parts_errmsg(pt->parts));
	parts_abort(pt->parts);
	tus_delete_s3(pt->api, &pt->t);
	if (pt->old_tail[0])
		tus_progress_drop_tail(pt, pt->old_tail);
	if (rap_tus_end(pt->db, pt->t.id, false, err) != RAP_OK)
		rap_log(RAP_LOG_WARN, NULL, "upload %s: %s", pt->t.id, err);
}

/* A multipart upload that this PATCH began but never recorded (a checksum
 * mismatch, a failed save, a client gone under Upload-Checksum) is known to
 * no one else: the next PATCH begins another.  Abort it, or its parts would
 * cost storage until a lifecycle rule finds them. */
static void abort_unrecorded(struct tus_patch *pt)
{
	int result;

	if (pt->mpu_saved || !parts_upload_id(pt->parts))
		return;
	result = parts_abort(pt->parts);
	if (result != RAP_OK && result != RAP_EUNSUPPORTED) /* s3rver: no abort */
		rap_log(RAP_LOG_WARN, NULL,
			"upload %s: aborting an unrecorded multipart upload: %s", pt->t.id,
			parts_errmsg(pt->parts));
}

/* Bytes that never reached the end of their PATCH are kept when no
 * checksum asks for the whole PATCH or nothing. */
static void patch_free(void *arg)
{
	struct tus_patch *pt = arg;
	char err[RAP_ERRLEN];

	if (pt->state == TUS_PATCH_RECEIVING && !pt->has_sum &&
	    tus_progress_save_tail(pt, err) != RAP_OK)
		rap_log(RAP_LOG_WARN, NULL, "upload %s: keeping an interrupted PATCH: %s", pt->t.id,
			err);
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
	upload_release(pt->api, &pt->place);
	free(pt);
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
static int load_tail(struct tus_patch *pt, bool *rolled_back)
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
	rap_log(RAP_LOG_WARN, NULL, "upload %s: tail object %s lost: back to offset %lld", pt->t.id,
		pt->old_tail, pt->boundary);
	/* Start the writer again from the last part. */
	parts_free(pt->parts);
	pt->parts =
		parts_new(pt->api, pt->t.object_key, pt->t.content_type, (size_t)pt->t.part_size);
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
static bool patch_check(struct tus_patch *pt, long long offset, long long clen)
{
	struct rap_http_req *req = pt->req;
	struct rap_tus *t = &pt->t;
	const char *h = rap_http_get_header(req, "Upload-Length");
	long long len;

	if (strcmp(t->state, "COMPLETE") == 0 ||
	    (t->concat && strncmp(t->concat, "final", 5) == 0)) {
		tus_add_num(req, "Upload-Offset", t->offset);
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

		tus_add_num(req, "Upload-Offset", t->offset);
		snprintf(msg, sizeof(msg), "Upload-Offset is %lld but the upload is at %lld",
			 offset, t->offset);
		patch_fail(pt, 409, "offset_mismatch", msg);
		return false;
	}
	if (h) {
		if (rap_strtonum(h, 0, INT64_MAX, &len) != RAP_OK ||
		    (t->length >= 0 && len != t->length) || len < t->offset) {
			patch_fail(
				pt, 400, "bad_request",
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
		patch_fail(pt, 413, "payload_too_large",
			   t->length >= 0 ? "the PATCH goes past Upload-Length"
					  : "the PATCH goes past the size limit");
		return false;
	}
	return true;
}

/* Parses Upload-Checksum; false when it replied. */
static bool patch_checksum(struct tus_patch *pt)
{
	const char *h = rap_http_get_header(pt->req, "Upload-Checksum");
	char algo[RAP_TUS_ALGO_LEN];

	if (!h)
		return true;
	if (rap_tus_checksum_parse(h, algo, pt->want, &pt->want_len) != RAP_OK) {
		patch_fail(pt, 400, "bad_checksum",
			   "Upload-Checksum must be '<algorithm> <base64>'");
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
static bool patch_open(struct tus_patch *pt, const char *id, long long offset, long long clen)
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
		patch_fail(pt, 423, "locked",
			   "another request is writing to this upload; "
			   "HEAD it and retry");
		return false;
	}
	if (result == RAP_OK) {
		pt->locked = true;
		snprintf(pt->t.id, sizeof(pt->t.id), "%s", id);
		result = rap_tus_load(pt->db, pt->req->owner, id, &pt->t, err);
	}
	if (result == RAP_ENOENT || result == RAP_ECANCELED) {
		patch_fail(pt, result == RAP_ENOENT ? 404 : 410,
			   result == RAP_ENOENT ? "not_found" : "gone",
			   result == RAP_ENOENT ? "no such upload" : "the upload was terminated");
		return false;
	}
	if (result != RAP_OK) {
		patch_fail(pt, 503, "unavailable", "the database failed; retry");
		return false;
	}
	pt->mpu_saved = pt->t.s3_upload_id != NULL;
	if (!patch_check(pt, offset, clen) || !patch_checksum(pt))
		return false;
	pt->parts = parts_new(api, pt->t.object_key, pt->t.content_type, (size_t)pt->t.part_size);
	if (rap_tus_metadata_get(pt->t.metadata, "job_type", pt->job_type, sizeof(pt->job_type),
				 err) == RAP_OK &&
	    pt->job_type[0])
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
		tus_add_num(pt->req, "Upload-Offset", pt->t.offset);
		patch_fail(pt, 409, "offset_mismatch",
			   "the stored tail was lost: HEAD the "
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
void tus_patch_begin(struct upload_api *api, struct rap_http_req *req, const char *id,
		     bool creating)
{
	const char *ctype = rap_http_get_header(req, "Content-Type");
	const char *clen_h = rap_http_get_header(req, "Content-Length");
	long long offset = 0, clen = -1;
	struct tus_patch *pt;
	struct upload_place *place = NULL;

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
	if (!creating && !tus_parse_length(req, "Upload-Offset", &offset))
		return;
	if (clen_h && rap_strtonum(clen_h, 0, INT64_MAX, &clen) != RAP_OK)
		clen = -1;
	if (!upload_admit(api, req, true, &place))
		return;
	pt = rap_calloc(1, sizeof(*pt));
	pt->api = api;
	pt->req = req;
	pt->place = place;
	pt->creating = creating;
	req->data = pt;
	req->data_free = patch_free;
	if (!patch_open(pt, id, offset, clen))
		return;
	RAP_ASSERT(pt->parts);
	patch_to(pt, TUS_PATCH_RECEIVING);
	req->stream = true;
}

static void patch_data(struct tus_patch *pt, const char *p, size_t len)
{
	if (pt->state == TUS_PATCH_FAILED)
		return;
	RAP_ASSERT(pt->state == TUS_PATCH_RECEIVING);
	if (parts_offset(pt->parts) + (long long)len > pt->limit) {
		patch_fail(pt, 413, "payload_too_large",
			   pt->t.length >= 0 ? "the body goes past Upload-Length"
					     : "the body goes past the size limit");
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
	RAP_ASSERT(parts_offset(pt->parts) <= pt->limit);
	/* With a checksum, nothing counts until the whole PATCH is verified. */
	if (!pt->has_sum && tus_progress_save_parts(pt) != RAP_OK) {
		patch_fail(pt, 503, "unavailable", "the database failed; retry from HEAD's offset");
		return;
	}
	/* Cut for its pace after these bytes are in: patch_free keeps them, as
	 * for a client gone, and the client resumes from HEAD's offset. */
	upload_place_bytes(pt->api, pt->place, len);
}

/* The body arrived whole: saves the outcome and queues the answer. */
static void patch_conclude(struct tus_patch *pt)
{
	struct rap_http_req *req = pt->req;
	unsigned char got[RAP_DIGEST_MAX];
	char err[RAP_ERRLEN];
	long long offset;
	int result;

	if (pt->state == TUS_PATCH_FAILED)
		return;
	RAP_ASSERT(pt->state == TUS_PATCH_RECEIVING);
	if (pt->has_sum) {
		size_t n = rap_digest_final(&pt->sum, got);

		pt->has_sum = false; /* released */
		if (n != pt->want_len || memcmp(got, pt->want, n) != 0) {
			/* nothing of this PATCH is kept */
			patch_fail(pt, RAP_TUS_CHECKSUM_MISMATCH, "checksum_mismatch",
				   "the body does not match Upload-Checksum; nothing was stored");
			return;
		}
	}
	offset = parts_offset(pt->parts);
	if (offset == pt->t.length) {
		pt->t.offset = offset;
		result = tus_progress_finish(pt, err);
	} else {
		result = tus_progress_save_tail(pt, err);
	}
	if (result == RAP_EUNSUPPORTED) {
		refuse_content(pt);
		return;
	}
	if (result != RAP_OK) {
		rap_log(RAP_LOG_ERROR, NULL, "upload %s: %s", pt->t.id, err);
		patch_fail(pt, result == RAP_EDB ? 503 : 502,
			   result == RAP_EDB ? "unavailable" : "storage_failed",
			   "the PATCH could not be stored; HEAD and retry");
		return;
	}
	patch_to(pt, TUS_PATCH_SAVED);
	tus_add_num(req, "Upload-Offset", offset);
	if (offset != pt->t.length)
		tus_add_expires(req, (int)pt->api->cfg.tus_expire_seconds);
	rap_http_reply(req, pt->creating ? 201 : 204, "");
}

/*
 * The answer goes out once this returns; the lock and the upload place are
 * given back first, so the client's next request (tus clients send it at
 * once) finds them free instead of a 423 or a 503.  Nothing of this PATCH is still on its
 * way to S3 by then.
 */
static void patch_end(struct tus_patch *pt)
{
	/* Cut for its pace just as its body ended: it ends as for a client
	 * gone, patch_free keeping what arrived under the lock it holds. */
	if (!upload_place_body_done(pt->api, pt->place))
		return;
	if (!pt->req->replied)
		patch_conclude(pt);
	if (pt->parts)
		parts_drain(pt->parts);
	if (pt->locked) {
		rap_tus_unlock(pt->db, pt->t.id);
		pt->locked = false;
	}
	upload_release(pt->api, &pt->place);
}

void tus_patch_body(struct rap_http_req *req, enum rap_http_phase phase, const char *data,
		    size_t len)
{
	if (phase == RAP_HTTP_DATA && req->data && !req->replied)
		patch_data(req->data, data, len);
	else if (phase == RAP_HTTP_END && req->data)
		patch_end(req->data);
}

void tus_patch(void *svc, struct rap_http_req *req, enum rap_http_phase phase, const char *data,
	       size_t len)
{
	if (phase != RAP_HTTP_BEGIN)
		tus_patch_body(req, phase, data, len);
	else if (tus_accept(svc, req) && upload_rate_allowed(svc, req))
		tus_patch_begin(svc, req, rap_http_param(req, "id"), false);
}
