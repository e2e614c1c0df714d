/*
 * outputs.c: a sandboxed job's outputs, stored as processed/<job_id>/<name>
 * while the child writes them.  Bytes gather in a part buffer of 5 MiB
 * (S3's smallest multipart part); a full buffer starts or continues a
 * multipart upload, so an output of any size costs 5 MiB of the worker's
 * memory.  An output that ends before the buffer fills is one PUT.  The
 * total of all outputs is capped by the type's limit; the key names are
 * the child's, so they are checked: it could otherwise name another key.
 */
#include "sandbox.h"

#include "rap/s3.h"

#include <stdio.h>
#include <string.h>

#define PART_SIZE (5 * 1024 * 1024)

void outputs_init(struct outputs *o, struct rap_s3 *s3, const char *job_id, long long limit)
{
	memset(o, 0, sizeof(*o));
	o->s3 = s3;
	o->limit = limit;
	snprintf(o->prefix, sizeof(o->prefix), "processed/%s/", job_id);
	rap_buf_init(&o->part, PART_SIZE);
}

static bool name_ok(const struct outputs *o, const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > OUTPUT_NAME_MAX || name[0] == '.' || strcmp(name, "result.json") == 0)
		return false;
	for (i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9') || strchr("._-", name[i])))
			return false;
	for (int k = 0; k < o->n; k++)
		if (strcmp(o->list[k].name, name) == 0)
			return false;
	return true;
}

int outputs_begin(struct outputs *o, const char *name, const char *content_type)
{
	struct output *out;

	if (o->open || o->n >= OUTPUTS_MAX || !name_ok(o, name)) {
		snprintf(o->err, sizeof(o->err), "output '%.100s' refused", name);
		return RAP_EPROTO;
	}
	out = &o->list[o->n];
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", name);
	snprintf(out->key, sizeof(out->key), "%s%s", o->prefix, name);
	snprintf(out->content_type, sizeof(out->content_type), "%s",
		 content_type && content_type[0] ? content_type : "application/octet-stream");
	rap_buf_reset(&o->part);
	o->open = true;
	return RAP_OK;
}

/* Sends the full part buffer as the next part, starting the upload. */
static int send_part(struct outputs *o)
{
	struct output *out = &o->list[o->n];

	if (!o->mpu && rap_s3_mpu_begin(o->s3, out->key, out->content_type, &o->mpu) != RAP_OK)
		goto out_fail;
	if (rap_s3_mpu_part(o->s3, o->mpu, o->part.data, o->part.len) != RAP_OK)
		goto out_fail;
	rap_buf_reset(&o->part);
	return RAP_OK;

out_fail:
	snprintf(o->err, sizeof(o->err), "storing %.100s: %.120s", out->key, rap_s3_errmsg(o->s3));
	return RAP_ES3;
}

int outputs_write(struct outputs *o, const void *data, size_t n)
{
	const char *p = data;
	size_t take;

	if (!o->open) {
		snprintf(o->err, sizeof(o->err), "output data without an output");
		return RAP_EPROTO;
	}
	if (o->total + (long long)n > o->limit) {
		snprintf(o->err, sizeof(o->err), "outputs over %lld bytes", o->limit);
		return RAP_ETOOBIG;
	}
	o->total += (long long)n;
	o->list[o->n].bytes += (long long)n;
	while (n > 0) {
		take = PART_SIZE - o->part.len < n ? PART_SIZE - o->part.len : n;
		rap_buf_append(&o->part, p, take);
		p += take;
		n -= take;
		if (o->part.len == PART_SIZE && send_part(o) != RAP_OK)
			return RAP_ES3;
	}
	return RAP_OK;
}

int outputs_end(struct outputs *o)
{
	struct output *out = &o->list[o->n];
	int result;

	if (!o->open) {
		snprintf(o->err, sizeof(o->err), "output end without an output");
		return RAP_EPROTO;
	}
	if (!o->mpu) {
		result = rap_s3_put(o->s3, out->key, o->part.data ? o->part.data : "", o->part.len,
				    out->content_type);
	} else {
		result = o->part.len ? rap_s3_mpu_part(o->s3, o->mpu, o->part.data, o->part.len)
				     : RAP_OK;
		if (result == RAP_OK)
			result = rap_s3_mpu_complete(o->s3, o->mpu);
		rap_s3_mpu_free(o->mpu);
		o->mpu = NULL;
	}
	rap_buf_reset(&o->part);
	o->open = false;
	if (result != RAP_OK) {
		snprintf(o->err, sizeof(o->err), "storing %.100s: %.120s", out->key,
			 rap_s3_errmsg(o->s3));
		return RAP_ES3;
	}
	o->n++;
	return RAP_OK;
}

void outputs_cleanup(struct outputs *o)
{
	if (o->mpu) {
		/* s3rver lacks abort (RAP_EUNSUPPORTED): the bucket's lifecycle
		 * rule then removes the parts (docs/decisions/s3-client.md). */
		rap_s3_mpu_abort(o->s3, o->mpu);
		rap_s3_mpu_free(o->mpu);
		o->mpu = NULL;
	}
	o->open = false;
	rap_buf_cleanup(&o->part);
}
