/* result.c: the result of a completed sandboxed job (the child's RESULT,
 * with its outputs, row error counts and output_key added; result.json
 * stored when output_key names it), and the JSON reading the supervisor
 * does on the child's frames, which it never trusts. */
#include "sandbox.h"

#include "rap/mem.h"
#include "rap/s3.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

const char *sbx_jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, key, &v) &&
			       json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

long long sbx_jint(struct json_object *o, const char *key, long long def)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_int)
		       ? json_object_get_int64(v)
		       : def;
}

struct json_object *sbx_json_object(const unsigned char *payload, uint32_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = json_tokener_parse_ex(tok, (const char *)payload, (int)len);

	json_tokener_free(tok);
	if (o && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

/* The result of a completed job: the child's, with its outputs, the row
 * error counts and output_key added (result.json stored when output_key
 * names it).  NULL with err set when it is not a JSON object or cannot be
 * stored. */
char *sbx_result(struct sbx *s, enum worker_sandbox_outcome *out, char *err)
{
	struct json_object *r =
		sbx_json_object((const unsigned char *)s->result, (uint32_t)strlen(s->result));
	struct json_object *list, *o, *counts;
	char key[RAP_MAX_OBJECT_KEY + 1];
	const char *text;
	char *json = NULL;

	if (!r) {
		snprintf(err, RAP_ERRLEN, "processor_crashed: its result is not a JSON object");
		*out = SBX_CRASHED;
		return NULL;
	}
	if (s->outs.n > 0) {
		list = json_object_new_array();
		for (int i = 0; i < s->outs.n; i++) {
			o = json_object_new_object();
			json_object_object_add(o, "name",
					       json_object_new_string(s->outs.list[i].name));
			json_object_object_add(o, "key",
					       json_object_new_string(s->outs.list[i].key));
			json_object_object_add(o, "bytes",
					       json_object_new_int64(s->outs.list[i].bytes));
			json_object_object_add(
				o, "content_type",
				json_object_new_string(s->outs.list[i].content_type));
			json_object_array_add(list, o);
		}
		json_object_object_add(r, "outputs", list);
	}
	if (s->rows.reported > 0) {
		counts = json_object_new_object();
		json_object_object_add(counts, "reported", json_object_new_int64(s->rows.reported));
		json_object_object_add(counts, "stored", json_object_new_int64(s->rows.stored));
		json_object_object_add(counts, "dropped",
				       json_object_new_int64(s->rows.reported - s->rows.stored));
		json_object_object_add(r, "row_errors", counts);
	}
	if (!sbx_jstr(r, "output_key")) {
		if (s->outs.n > 0)
			snprintf(key, sizeof(key), "%s", s->outs.list[0].key);
		else
			snprintf(key, sizeof(key), "processed/%s/result.json", s->run->msg->job_id);
		json_object_object_add(r, "output_key", json_object_new_string(key));
		text = json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE);
		/* A deterministic key: a duplicate run writes the same bytes again. */
		if (s->outs.n == 0 &&
		    rap_s3_put(s->w->s3, key, text, strlen(text), "application/json") != RAP_OK) {
			snprintf(err, RAP_ERRLEN, "writing %.100s: %.120s", key,
				 rap_s3_errmsg(s->w->s3));
			*out = SBX_TRANSIENT;
			json_object_put(r);
			return NULL;
		}
	}
	json = rap_strdup(json_object_to_json_string_ext(
		r, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(r);
	return json;
}
