/* codec.c: decoding and validating the JSON that crosses boundaries. */
#include "rap/codec.h"
#include "rap/err.h"
#include "rap/hash.h"
#include "rap/mem.h"
#include "rap/util.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Parses text that must be one JSON object and nothing else. */
static struct json_object *parse_object(const char *body, size_t len, char *err)
{
	struct json_tokener *tok;
	struct json_object *o;

	if (len == 0) {
		snprintf(err, RAP_ERRLEN, "the body is empty; expected a JSON object");
		return NULL;
	}
	tok = json_tokener_new();
	o = json_tokener_parse_ex(tok, body, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len) {
		snprintf(err, RAP_ERRLEN, "malformed JSON: %s",
			 o ? "trailing data after the object"
			   : json_tokener_error_desc(json_tokener_get_error(tok)));
		json_object_put(o);
		o = NULL;
	} else if (!json_object_is_type(o, json_type_object)) {
		snprintf(err, RAP_ERRLEN, "expected a JSON object");
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* Copies a required string field of at most max bytes. */
static int get_str(struct json_object *o, const char *key, char *out, size_t max,
		   bool required, char *err)
{
	struct json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, key, &v)) {
		if (!required)
			return RAP_OK;
		snprintf(err, RAP_ERRLEN, "'%s' is required", key);
		return RAP_EINVAL;
	}
	if (!json_object_is_type(v, json_type_string)) {
		snprintf(err, RAP_ERRLEN, "'%s' must be a string", key);
		return RAP_EINVAL;
	}
	s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) > max || strlen(s) == 0 ||
	    strlen(s) != (size_t)json_object_get_string_len(v)) {
		snprintf(err, RAP_ERRLEN, "'%s' must be 1 to %zu bytes without NUL", key, max);
		return RAP_EINVAL;
	}
	memcpy(out, s, strlen(s) + 1);
	return RAP_OK;
}

static bool valid_type_name(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '.' || *s == '_' || *s == '-'))
			return false;
	return true;
}

int rap_jobmsg_decode(const char *body, size_t len, struct rap_jobmsg *out, char *err)
{
	struct json_object *o = parse_object(body, len, err);
	struct json_object *v;
	int result = RAP_EINVAL;

	memset(out, 0, sizeof(*out));
	if (!o)
		return RAP_EINVAL;
	if (!json_object_object_get_ex(o, "v", &v) || !json_object_is_type(v, json_type_int)) {
		snprintf(err, RAP_ERRLEN, "'v' (schema version) must be an integer");
		goto out_put;
	}
	out->v = json_object_get_int(v);
	/* Keep a valid job_id even from a message we cannot read, so the
	 * caller can mark its job DEAD when it dead-letters the message. */
	if (get_str(o, "job_id", out->job_id, 36, true, err) != RAP_OK ||
	    !rap_uuid_valid(out->job_id))
		out->job_id[0] = '\0';
	if (out->v != RAP_JOBMSG_VERSION) {
		snprintf(err, RAP_ERRLEN, "schema version %d is not supported (this worker speaks %d)",
			 out->v, RAP_JOBMSG_VERSION);
		result = RAP_EUNSUPPORTED;
		goto out_put;
	}
	if (!out->job_id[0]) {
		snprintf(err, RAP_ERRLEN, "'job_id' must be a UUID");
		goto out_put;
	}
	if (get_str(o, "type", out->type, RAP_MAX_JOB_TYPE, true, err) != RAP_OK ||
	    get_str(o, "object_key", out->object_key, RAP_MAX_OBJECT_KEY, true, err) != RAP_OK ||
	    get_str(o, "owner", out->owner, 64, false, err) != RAP_OK)
		goto out_put;
	result = RAP_OK;
out_put:
	json_object_put(o);
	return result;
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

bool rap_webhook_url_valid(const char *u)
{
	size_t n = strlen(u), scheme;
	const char *host, *p;

	if (n > RAP_MAX_WEBHOOK_URL)
		return false;
	if (strncasecmp(u, "http://", 7) == 0)
		scheme = 7;
	else if (strncasecmp(u, "https://", 8) == 0)
		scheme = 8;
	else
		return false;
	for (p = u; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return false;
	host = u + scheme;
	/* A host before any path, query or fragment; no user:password@. */
	for (p = host; *p && *p != '/' && *p != '?' && *p != '#'; p++)
		if (*p == '@')
			return false;
	return p > host && *host != ':';
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
	if (get_str(o, "object_key", out->object_key, RAP_MAX_OBJECT_KEY, true, err) != RAP_OK ||
	    get_str(o, "type", out->type, RAP_MAX_JOB_TYPE, true, err) != RAP_OK)
		goto out_put;
	if (!valid_type_name(out->type)) {
		snprintf(err, RAP_ERRLEN, "'type' may hold only a-z, 0-9, '.', '_' and '-'");
		goto out_put;
	}
	if (json_object_object_get_ex(o, "max_attempts", &v)) {
		if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 1 ||
		    json_object_get_int64(v) > 100) {
			snprintf(err, RAP_ERRLEN, "'max_attempts' must be an integer from 1 to 100");
			goto out_put;
		}
		out->max_attempts = json_object_get_int(v);
	}
	if (json_object_object_get_ex(o, "webhook_url", &v)) {
		const char *u = json_object_is_type(v, json_type_string) ? json_object_get_string(v)
									 : NULL;

		if (!u || !rap_webhook_url_valid(u)) {
			snprintf(err, RAP_ERRLEN, "'webhook_url' must be an http:// or https:// URL "
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

int rap_job_create_decode(const char *body, size_t len, struct rap_job_create *out,
			  char *err)
{
	struct json_object *o = parse_object(body, len, err);
	int result;

	memset(out, 0, sizeof(*out));
	if (!o)
		return RAP_EINVAL;
	result = decode_create(o, out, err);
	json_object_put(o);
	return result;
}

int rap_job_batch_decode(const char *body, size_t len, struct rap_job_create **out,
			 int *n, char *err)
{
	struct json_object *o = parse_object(body, len, err), *jobs;
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
			rap_job_batch_cleanup(*out, i + 1);
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

void rap_job_batch_cleanup(struct rap_job_create *reqs, int n)
{
	int i;

	if (!reqs)
		return;
	for (i = 0; i < n; i++)
		rap_job_create_cleanup(&reqs[i]);
	free(reqs);
}

void rap_job_create_hash(const struct rap_job_create *c, char out[65])
{
	struct rap_buf b;

	rap_buf_init(&b, 4 * 1024 * 1024);
	rap_buf_appendf(&b, "%s%c%s%c%d%c%s", c->type, 0, c->object_key, 0, c->max_attempts,
			0, c->params ? c->params : "{}");
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

bool rap_list_contains(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (len == n && strncmp(p, name, n) == 0)
			return true;
		if (!comma)
			break;
		p = comma + 1;
	}
	return false;
}

/* The value of the "name=value" entry of a comma-separated list into out;
 * false when the name is absent. */
static bool list_value(const char *list, const char *name, char *out, size_t out_len)
{
	size_t n = strlen(name);
	const char *p = list;

	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (len > n && strncmp(p, name, n) == 0 && p[n] == '=') {
			snprintf(out, out_len, "%.*s", (int)(len - n - 1), p + n + 1);
			return true;
		}
		if (!comma)
			break;
		p = comma + 1;
	}
	return false;
}

long long rap_list_number(const char *list, const char *name, long long min,
			  long long max, long long def)
{
	char num[24];
	long long v;

	if (!list_value(list, name, num, sizeof(num)))
		return def;
	return rap_strtonum(num, min, max, &v) == RAP_OK ? v : def;
}

bool rap_list_has(const char *list, const char *name)
{
	char v[2];

	return list_value(list, name, v, sizeof(v));
}

bool rap_list_allows(const char *list, const char *name, const char *value)
{
	char alts[1024], *p, *save = NULL;
	size_t n;

	if (!list_value(list, name, alts, sizeof(alts)))
		return true;
	for (p = strtok_r(alts, "|", &save); p; p = strtok_r(NULL, "|", &save)) {
		n = strlen(p);
		if (strcmp(p, value) == 0)
			return true;
		/* "video/ *" (no space) takes every video/... type. */
		if (n >= 2 && p[n - 1] == '*' && p[n - 2] == '/' && strncmp(p, value, n - 1) == 0)
			return true;
	}
	return false;
}

/* A MIME type: type/subtype of RFC 6838 restricted-name characters. */
static bool valid_mime(const char *s)
{
	const char *slash = strchr(s, '/');

	if (!slash || slash == s || !slash[1] || strchr(slash + 1, '/'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("/!#$&^_.+-", *s)))
			return false;
	return true;
}

int rap_presign_decode(const char *body, size_t len, struct rap_presign_req *out, char *err)
{
	struct json_object *o = parse_object(body, len, err), *v;
	int result = RAP_EINVAL;

	memset(out, 0, sizeof(*out));
	if (!o)
		return RAP_EINVAL;
	json_object_object_foreach(o, key, val) {
		(void)val;
		if (strcmp(key, "size") != 0 && strcmp(key, "filename") != 0 &&
		    strcmp(key, "content_type") != 0) {
			snprintf(err, RAP_ERRLEN, "unknown field '%.64s'", key);
			goto out_put;
		}
	}
	if (!json_object_object_get_ex(o, "size", &v) || !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 0) {
		snprintf(err, RAP_ERRLEN, "'size' is required: the file's size in bytes, an integer >= 0");
		goto out_put;
	}
	out->size = (unsigned long long)json_object_get_int64(v);
	if (get_str(o, "filename", out->filename, sizeof(out->filename) - 1, false, err) != RAP_OK ||
	    get_str(o, "content_type", out->content_type, sizeof(out->content_type) - 1, false,
		    err) != RAP_OK)
		goto out_put;
	if (out->content_type[0] && !valid_mime(out->content_type)) {
		snprintf(err, RAP_ERRLEN, "'content_type' must be a MIME type such as video/mp4");
		goto out_put;
	}
	result = RAP_OK;
out_put:
	json_object_put(o);
	return result;
}
