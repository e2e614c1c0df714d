/* json_decode.c: the strict JSON reading the domain's decoders share. */
#include "json_decode.h"
#include "rap/err.h"

#include <stdio.h>
#include <string.h>

/* Parses text that must be one JSON object and nothing else. */
struct json_object *rap__json_decode_object(const char *body, size_t len, char *err)
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
int rap__json_decode_string(struct json_object *o, const char *key, char *out, size_t max,
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
