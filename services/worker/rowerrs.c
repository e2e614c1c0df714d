/*
 * rowerrs.c: the row errors a child reports (ROW_ERRORS frames, a JSON
 * array each), stored RAP_JOBERRORS_BATCH rows per statement up to the
 * job's cap, the rest only counted (the result says how many of each).
 * The child is not trusted: each field is checked and its text cleaned to
 * valid UTF-8 and cut to its size, as PostgreSQL would refuse a batch
 * with one bad string.
 */
#include "sandbox.h"

#include "rap/mem.h"
#include "rap/str.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHORT_TEXT 128 /* column names and codes */
#define MESSAGE_TEXT 512
#define VALUE_TEXT 256

void rowerrs_init(struct rowerrs *r, PGconn *db, const char *job_id, int attempt, long long cap)
{
	memset(r, 0, sizeof(*r));
	r->db = db;
	r->job_id = job_id;
	r->attempt = attempt;
	r->cap = cap;
}

static void free_batch(struct rowerrs *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free((char *)r->batch[i].column);
		free((char *)r->batch[i].code);
		free((char *)r->batch[i].message);
		free((char *)r->batch[i].value);
	}
	r->n = 0;
}

int rowerrs_flush(struct rowerrs *r)
{
	int result = rap_joberrors_insert(r->db, r->job_id, r->attempt, r->batch, r->n, r->err);

	if (result == RAP_OK)
		r->stored += (long long)r->n;
	free_batch(r);
	return result;
}

void rowerrs_cleanup(struct rowerrs *r)
{
	free_batch(r);
}

/* A cleaned copy of a string field (NULL when absent or null); false when
 * the field is there but is no string. */
static bool text(struct json_object *o, const char *key, size_t max, char **out)
{
	struct json_object *v;
	char *buf;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) || !v)
		return true;
	if (!json_object_is_type(v, json_type_string))
		return false;
	buf = rap_malloc(max + 1);
	rap_utf8_clean(json_object_get_string(v), (size_t)json_object_get_string_len(v), buf,
		       max + 1);
	*out = buf;
	return true;
}

/* Checks one row error and queues it; false when it is malformed. */
static bool add_one(struct rowerrs *r, struct json_object *o)
{
	struct rap_joberror *e = &r->batch[r->n];
	struct json_object *v;
	char *column, *code, *message, *value;
	bool ok;

	if (!json_object_is_type(o, json_type_object))
		return false;
	memset(e, 0, sizeof(*e));
	e->row = -1;
	if (json_object_object_get_ex(o, "row", &v) && v) {
		if (!json_object_is_type(v, json_type_int))
			return false;
		e->row = json_object_get_int64(v);
	}
	/* Each call sets its string, so all four are freed on failure. */
	ok = text(o, "column", SHORT_TEXT, &column);
	ok = text(o, "code", SHORT_TEXT, &code) && ok;
	ok = text(o, "message", MESSAGE_TEXT, &message) && ok;
	ok = text(o, "value", VALUE_TEXT, &value) && ok;
	if (!ok) {
		free(column);
		free(code);
		free(message);
		free(value);
		return false;
	}
	e->column = column;
	e->code = code ? code : rap_strdup("invalid");
	e->message = message ? message : rap_strdup("");
	e->value = value;
	r->n++;
	return true;
}

int rowerrs_add(struct rowerrs *r, const unsigned char *payload, uint32_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *a = json_tokener_parse_ex(tok, (const char *)payload, (int)len);
	int result = RAP_OK;
	size_t i, count;

	json_tokener_free(tok);
	if (!a || !json_object_is_type(a, json_type_array)) {
		snprintf(r->err, sizeof(r->err), "ROW_ERRORS is not a JSON array");
		result = RAP_EPROTO;
		goto out_put;
	}
	count = json_object_array_length(a);
	for (i = 0; i < count; i++) {
		r->reported++;
		if (r->stored + (long long)r->n >= r->cap)
			continue; /* over the cap: counted only */
		if (!add_one(r, json_object_array_get_idx(a, i))) {
			snprintf(r->err, sizeof(r->err), "row error %zu of a frame is malformed",
				 i);
			result = RAP_EPROTO;
			goto out_put;
		}
		if (r->n == RAP_JOBERRORS_BATCH && rowerrs_flush(r) != RAP_OK) {
			result = RAP_EDB;
			goto out_put;
		}
	}
out_put:
	json_object_put(a);
	return result;
}
