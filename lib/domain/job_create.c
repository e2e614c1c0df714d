/*
 * job_create.c: the POST /jobs and POST /jobs/batch request bodies
 * (proto/schemas/job-create-request.json), decoded as strictly as their
 * schema, and the hash that identifies a request under an Idempotency-Key.
 */
#include "rap/job_create.h"
#include "json_decode.h"
#include "rap/buf.h"
#include "rap/err.h"
#include "rap/hash.h"
#include "rap/mem.h"
#include "rap/webhook.h"
#include "rap/job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool valid_type_name(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '.' ||
		      *s == '_' || *s == '-'))
			return false;
	return true;
}

/* qsort comparator of object keys. */
static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Appends v as JSON with object keys sorted and no whitespace, so that the
 * same value always has the same text (for hashing requests). */
static void canonical(struct json_object *v, struct rap_buf *out)
{
	size_t i, n;

	if (json_object_is_type(v, json_type_object)) {
		const char **keys;

		n = (size_t)json_object_object_length(v);
		keys = rap_calloc(n ? n : 1, sizeof(*keys));
		i = 0;
		json_object_object_foreach(v, key, val) {
			(void)val;
			keys[i++] = key;
		}
		qsort(keys, n, sizeof(*keys), cmp_keys);
		rap_buf_append(out, "{", 1);
		for (i = 0; i < n; i++) {
			struct json_object *k = json_object_new_string(keys[i]);
			struct json_object *member = NULL;

			rap_buf_appendf(out, "%s%s:", i ? "," : "",
					json_object_to_json_string_ext(k, JSON_C_TO_STRING_PLAIN));
			json_object_put(k);
			json_object_object_get_ex(v, keys[i], &member);
			canonical(member, out);
		}
		rap_buf_append(out, "}", 1);
		free(keys);
	} else if (json_object_is_type(v, json_type_array)) {
		n = json_object_array_length(v);
		rap_buf_append(out, "[", 1);
		for (i = 0; i < n; i++) {
			if (i)
				rap_buf_append(out, ",", 1);
			canonical(json_object_array_get_idx(v, i), out);
		}
		rap_buf_append(out, "]", 1);
	} else {
		rap_buf_appends(out, v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN)
				       : "null");
	}
}

/* Validates one job request object (the caller keeps o). */
static int decode_create(struct json_object *o, struct rap_job_create *out, char *err)
{
	struct json_object *v;
	int result = RAP_EINVAL;

	memset(out, 0, sizeof(*out));
	if (!json_object_is_type(o, json_type_object)) {
		snprintf(err, RAP_ERRLEN, "expected a JSON object");
		return RAP_EINVAL;
	}
	json_object_object_foreach(o, key, val) {
		(void)val;
		if (strcmp(key, "object_key") != 0 && strcmp(key, "type") != 0 &&
		    strcmp(key, "params") != 0 && strcmp(key, "max_attempts") != 0 &&
		    strcmp(key, "webhook_url") != 0) {
			snprintf(err, RAP_ERRLEN, "unknown field '%.64s'", key);
			goto out_put;
		}
	}
	if (rap__json_decode_string(o, "object_key", out->object_key, RAP_MAX_OBJECT_KEY, true,
				    err) != RAP_OK ||
	    rap__json_decode_string(o, "type", out->type, RAP_MAX_JOB_TYPE, true, err) != RAP_OK)
		goto out_put;
	if (!valid_type_name(out->type)) {
		snprintf(err, RAP_ERRLEN, "'type' may hold only a-z, 0-9, '.', '_' and '-'");
		goto out_put;
	}
	if (json_object_object_get_ex(o, "max_attempts", &v)) {
		if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 1 ||
		    json_object_get_int64(v) > 100) {
			snprintf(err, RAP_ERRLEN,
				 "'max_attempts' must be an integer from 1 to 100");
			goto out_put;
		}
		out->max_attempts = json_object_get_int(v);
	}
	if (json_object_object_get_ex(o, "webhook_url", &v)) {
		const char *u = json_object_is_type(v, json_type_string) ? json_object_get_string(v)
									 : NULL;

		if (!u || !rap_webhook_url_valid(u)) {
			snprintf(
				err, RAP_ERRLEN,
				"'webhook_url' must be an http:// or https:// URL "
				"with a host, at most %d bytes, without spaces or control characters",
				RAP_MAX_WEBHOOK_URL);
			goto out_put;
		}
		out->webhook_url = rap_strdup(u);
	}
	if (json_object_object_get_ex(o, "params", &v)) {
		if (!json_object_is_type(v, json_type_object)) {
			snprintf(err, RAP_ERRLEN, "'params' must be a JSON object");
			goto out_put;
		}
		struct rap_buf b;

		rap_buf_init(&b, 2 * 1024 * 1024);
		canonical(v, &b);
		out->params = rap_buf_take(&b);
	} else {
		out->params = rap_strdup("{}");
	}
	result = RAP_OK;
out_put:
	if (result != RAP_OK)
		rap_job_create_cleanup(out);
	return result;
}

int rap_job_create_decode(const char *body, size_t len, struct rap_job_create *out, char *err)
{
	struct json_object *o = rap__json_decode_object(body, len, err);
	int result;

	memset(out, 0, sizeof(*out));
	if (!o)
		return RAP_EINVAL;
	result = decode_create(o, out, err);
	json_object_put(o);
	return result;
}

int rap_job_create_batch_decode(const char *body, size_t len, struct rap_job_create **out, int *n,
				char *err)
{
	struct json_object *o = rap__json_decode_object(body, len, err), *jobs;
	char why[RAP_ERRLEN];
	int result = RAP_EINVAL, i, count;

	*out = NULL;
	*n = 0;
	if (!o)
		return RAP_EINVAL;
	json_object_object_foreach(o, key, val) {
		(void)val;
		if (strcmp(key, "jobs") != 0) {
			snprintf(err, RAP_ERRLEN, "unknown field '%.64s'", key);
			goto out_put;
		}
	}
	if (!json_object_object_get_ex(o, "jobs", &jobs) ||
	    !json_object_is_type(jobs, json_type_array)) {
		snprintf(err, RAP_ERRLEN, "'jobs' must be an array of job requests");
		goto out_put;
	}
	count = (int)json_object_array_length(jobs);
	if (count < 1 || count > RAP_JOB_BATCH_MAX) {
		snprintf(err, RAP_ERRLEN, "'jobs' must hold 1 to %d job requests",
			 RAP_JOB_BATCH_MAX);
		goto out_put;
	}
	*out = rap_calloc((size_t)count, sizeof(**out));
	for (i = 0; i < count; i++) {
		if (decode_create(json_object_array_get_idx(jobs, i), &(*out)[i], why) != RAP_OK) {
			snprintf(err, RAP_ERRLEN, "jobs[%d]: %.200s", i, why);
			rap_job_create_batch_cleanup(*out, i + 1);
			*out = NULL;
			goto out_put;
		}
	}
	*n = count;
	result = RAP_OK;
out_put:
	json_object_put(o);
	return result;
}

void rap_job_create_batch_cleanup(struct rap_job_create *reqs, int n)
{
	int i;

	if (!reqs)
		return;
	for (i = 0; i < n; i++)
		rap_job_create_cleanup(&reqs[i]);
	free(reqs);
}

void rap_job_create_hash(const struct rap_job_create *c, char out[RAP_SHA256_HEXLEN])
{
	struct rap_buf b;

	rap_buf_init(&b, 4 * 1024 * 1024);
	rap_buf_appendf(&b, "%s%c%s%c%d%c%s", c->type, 0, c->object_key, 0, c->max_attempts, 0,
			c->params ? c->params : "{}");
	/* Only when set: keys recorded before webhooks existed still match. */
	if (c->webhook_url)
		rap_buf_appendf(&b, "%c%s", 0, c->webhook_url);
	rap_sha256_hex(b.data, b.len, out);
	rap_buf_cleanup(&b);
}

void rap_job_create_cleanup(struct rap_job_create *c)
{
	free(c->params);
	c->params = NULL;
	free(c->webhook_url);
	c->webhook_url = NULL;
}
