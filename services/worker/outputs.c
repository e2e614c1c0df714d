/*
 * outputs.c: a sandboxed job's outputs, stored as processed/<job_id>/<name>
 * while the child writes them.  Bytes gather in a part buffer; a full
 * buffer starts or continues a multipart upload, and goes to S3 on a pool
 * thread while the next one fills (one part in flight: the child is held
 * up only when S3 is slower than it), so an output of any size costs two
 * part buffers of the worker's memory.  Parts start at PART_FIRST and
 * double every PART_GROW_EVERY parts up to PART_MAX: a small output costs
 * little memory, a large one few requests (each costs an S3 server a fixed
 * overhead: s3rver stores 8 MiB parts at about 100 MiB/s, 32 MiB ones at
 * about 160, docs/benchmarks.md).  Parts complete in order: a
 * part is sent only once the one before is stored.  An output that ends
 * before the first buffer fills is one PUT.  The
 * total of all outputs is capped by the type's limit; the key names are
 * the child's, so they are checked: it could otherwise name another key.
 */
#include "sandbox.h"

#include "rap/mem.h"
#include "rap/s3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PART_FIRST ((size_t)8 * 1024 * 1024)
#define PART_MAX ((size_t)32 * 1024 * 1024)
#define PART_GROW_EVERY 4

void outputs_init(struct outputs *o, struct rap_s3 *s3, const struct rap_s3_cfg *cfg,
		  const char *job_id, long long limit)
{
	memset(o, 0, sizeof(*o));
	o->s3 = s3;
	o->s3_flight = rap_s3_new(cfg);
	o->pool = rap_pool_new(1);
	o->limit = limit;
	snprintf(o->prefix, sizeof(o->prefix), "processed/%s/", job_id);
	o->part_size = PART_FIRST;
	rap_buf_init(&o->part, PART_MAX);
	rap_buf_init(&o->flight, PART_MAX);
}

static bool name_ok(const struct outputs *o, const char *name)
{
	if (!rap_output_name_ok(name) || strcmp(name, "result.json") == 0)
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
	if (o->n == o->cap) {
		o->cap = o->cap ? (o->cap * 2 < OUTPUTS_MAX ? o->cap * 2 : OUTPUTS_MAX) : 4;
		o->list = rap_realloc(o->list, (size_t)o->cap * sizeof(*o->list));
	}
	out = &o->list[o->n];
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", name);
	snprintf(out->key, sizeof(out->key), "%s%s", o->prefix, name);
	snprintf(out->content_type, sizeof(out->content_type), "%s",
		 content_type && content_type[0] ? content_type : "application/octet-stream");
	rap_buf_reset(&o->part);
	o->part_size = PART_FIRST;
	o->open = true;
	return RAP_OK;
}

/* The in-flight part's upload, on the pool's thread. */
static void upload_flight(void *arg)
{
	struct outputs *o = arg;

	o->flight_result = rap_s3_mpu_upload(o->s3_flight, o->mpu, o->flight_no, o->flight.data,
					     o->flight.len, o->flight_etag);
}

/* Waits for the part in flight, if any, and books it: RAP_OK or RAP_ES3. */
static int land_flight(struct outputs *o)
{
	struct output *out = &o->list[o->n];
	int result;

	if (!o->flight_no)
		return RAP_OK;
	if (!o->flight_inline)
		rap_pool_wait(o->pool, &o->job);
	result = o->flight_result;
	if (result == RAP_OK)
		rap_s3_mpu_set_etag(o->mpu, o->flight_no, o->flight_etag);
	else
		snprintf(o->err, sizeof(o->err), "storing %.100s part %u: %.120s", out->key,
			 o->flight_no, rap_s3_errmsg(o->s3_flight));
	o->flight_no = 0;
	rap_buf_reset(&o->flight);
	return result == RAP_OK ? RAP_OK : RAP_ES3;
}

/* Sends the full part buffer as the next part, starting the upload: on
 * the pool once the part before landed, or here when no thread can run. */
static int send_part(struct outputs *o)
{
	struct output *out = &o->list[o->n];
	struct rap_buf swap;

	if (!o->mpu && rap_s3_mpu_begin(o->s3, out->key, out->content_type, &o->mpu) != RAP_OK)
		goto out_fail;
	if (land_flight(o) != RAP_OK)
		return RAP_ES3;
	swap = o->flight;
	o->flight = o->part;
	o->part = swap;
	o->flight_no = rap_s3_mpu_parts(o->mpu) + 1;
	if (o->flight_no % PART_GROW_EVERY == 0 && o->part_size < PART_MAX)
		o->part_size *= 2;
	o->flight_inline = rap_pool_submit(o->pool, &o->job, upload_flight, o) != RAP_OK;
	if (o->flight_inline)
		upload_flight(o); /* no thread could start: here, then booked */
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
		take = o->part_size - o->part.len < n ? o->part_size - o->part.len : n;
		rap_buf_append(&o->part, p, take);
		p += take;
		n -= take;
		if (o->part.len == o->part_size && send_part(o) != RAP_OK)
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
	o->open = false;
	if (!o->mpu) {
		result = rap_s3_put(o->s3, out->key, o->part.data ? o->part.data : "", o->part.len,
				    out->content_type);
	} else {
		if (land_flight(o) != RAP_OK) /* o->err says why */
			return RAP_ES3;
		result = o->part.len ? rap_s3_mpu_part(o->s3, o->mpu, o->part.data, o->part.len)
				     : RAP_OK;
		if (result == RAP_OK)
			result = rap_s3_mpu_complete(o->s3, o->mpu);
	}
	rap_buf_reset(&o->part);
	if (result != RAP_OK) {
		snprintf(o->err, sizeof(o->err), "storing %.100s: %.120s", out->key,
			 rap_s3_errmsg(o->s3));
		return RAP_ES3;
	}
	rap_s3_mpu_free(o->mpu);
	o->mpu = NULL;
	o->n++;
	return RAP_OK;
}

void outputs_cleanup(struct outputs *o)
{
	land_flight(o);
	rap_pool_free(o->pool);
	o->pool = NULL;
	rap_s3_free(o->s3_flight);
	o->s3_flight = NULL;
	rap_buf_cleanup(&o->flight);
	if (o->mpu) {
		/* s3rver lacks abort (RAP_EUNSUPPORTED): the bucket's lifecycle
		 * rule then removes the parts (docs/decisions/s3-client.md). */
		rap_s3_mpu_abort(o->s3, o->mpu);
		rap_s3_mpu_free(o->mpu);
		o->mpu = NULL;
	}
	o->open = false;
	rap_buf_cleanup(&o->part);
	free(o->list);
	o->list = NULL;
	o->cap = o->n = 0;
}
