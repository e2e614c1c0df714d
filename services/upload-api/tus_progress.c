/*
 * tus_progress.c: saving a PATCH's progress in PostgreSQL (lib/domain/tus.c)
 * as its bytes reach S3: after each stored part, when the PATCH ends short
 * of the upload's length (the bytes after the last part become the tail
 * object), and when the last byte arrives (the object is completed).
 */
#include "tus_internal.h"

#include "rap/assert.h"
#include "rap/err.h"
#include "rap/log.h"
#include "rap/mem.h"
#include "rap/metrics.h"
#include "rap/s3.h"

#include <stdio.h>
#include <string.h>

/* Deletes a tail object no longer needed (a leftover costs only space). */
void tus_progress_drop_tail(struct tus_patch *pt, const char *key)
{
	if (key[0] && upload_delete_object(pt->api, key) != RAP_OK)
		rap_log(RAP_LOG_WARN, NULL, "upload %s: could not delete %s", pt->t.id, key);
}

/* Copies the writer's stored parts into t (offset at their end, no tail). */
static void take_parts(struct tus_patch *pt)
{
	unsigned n = parts_stored(pt->parts, &pt->boundary, pt->t.hash), i;
	const char *id = parts_upload_id(pt->parts);

	/* Stored parts only add up: the writer resumed at the saved ones. */
	RAP_ASSERT(n >= pt->t.parts && pt->boundary <= parts_offset(pt->parts));
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
int tus_progress_save_parts(struct tus_patch *pt)
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
		tus_progress_drop_tail(pt, pt->old_tail);
		pt->old_tail[0] = '\0';
	}
	return RAP_OK;
}

/* The end of a PATCH that leaves the upload unfinished: the parts in
 * flight complete, the bytes after them become the tail object. */
int tus_progress_save_tail(struct tus_patch *pt, char *err)
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
	RAP_ASSERT(pt->t.offset == parts_offset(pt->parts));
	result = rap_tus_save(pt->db, &pt->t, (int)pt->api->cfg.tus_expire_seconds, err);
	if (result != RAP_OK)
		return result;
	pt->mpu_saved = pt->t.s3_upload_id != NULL;
	if (strcmp(pt->old_tail, key) != 0)
		tus_progress_drop_tail(pt, pt->old_tail);
	pt->old_tail[0] = '\0';
	return RAP_OK;
}

/* The last byte arrived: the object is completed in S3 and recorded. */
int tus_progress_finish(struct tus_patch *pt, char *err)
{
	char sha[RAP_SHA256_HEXLEN];
	int result;

	result = parts_finish(pt->parts, sha);
	if (result != RAP_OK) {
		snprintf(err, RAP_ERRLEN, "%s%s",
			 result == RAP_EUNSUPPORTED ? "" : "the object store failed: ",
			 parts_errmsg(pt->parts));
		return result;
	}
	if (!pt->t.detected_type && parts_detected(pt->parts)[0])
		pt->t.detected_type = rap_strdup(parts_detected(pt->parts));
	result = rap_tus_complete(pt->db, &pt->t, sha, err);
	if (result != RAP_OK)
		return result;
	pt->mpu_saved = true; /* completed: nothing to abort */
	tus_progress_drop_tail(pt, pt->old_tail);
	pt->old_tail[0] = '\0';
	rap_metric_inc(pt->api->uploads_ok, 1);
	rap_metric_inc(pt->api->upload_bytes, pt->t.offset);
	return RAP_OK;
}
