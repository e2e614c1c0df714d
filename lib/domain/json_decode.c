/* json_decode.c: the strict JSON reading the domain's decoders share. */
#include "json_decode.h"
#include "rap/err.h"
#include "rap/str.h"

#include <stdio.h>
#include <string.h>

/* The longest field path named in an error ("params.a.b[3].c"). */
#define FIELD_PATH_MAX 128

/* Parses len bytes of body with json-c's strict reader, or returns NULL
 * with the tokener's error in *why. */
static struct json_object *parse(const char *body, size_t len, int flags,
				 enum json_tokener_error *why)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;

	json_tokener_set_flags(tok, flags);
	o = json_tokener_parse_ex(tok, body, (int)len);
	*why = json_tokener_get_error(tok);
	if (o && (*why != json_tokener_success || json_tokener_get_parse_end(tok) != len)) {
		json_object_put(o);
		o = NULL;
		if (*why == json_tokener_success)
			*why = json_tokener_error_size; /* marks trailing data */
	}
	json_tokener_free(tok);
	return o;
}

/* Whether body holds the escape \u0000 (a backslash run of odd length
 * before "u0000"): json-c cuts an object key at it, so only the text
 * shows it. */
static bool escaped_nul(const char *body, size_t len)
{
	size_t i, run = 0;

	for (i = 0; i < len; i++) {
		if (body[i] == '\\') {
			run++;
			continue;
		}
		if (run % 2 == 1 && body[i] == 'u' && len - i >= 5 &&
		    strncmp(body + i + 1, "0000", 4) == 0)
			return true;
		run = 0;
	}
	return false;
}

/* Checks every key and string under v (at path) for valid UTF-8 without
 * NUL; false with the field named in err at the first that is not. */
static bool text_valid(struct json_object *v, const char *path, char *err)
{
	char sub[FIELD_PATH_MAX];
	size_t i, n;

	if (json_object_is_type(v, json_type_string)) {
		if (rap_utf8_valid(json_object_get_string(v),
				   (size_t)json_object_get_string_len(v)))
			return true;
		snprintf(err, RAP_ERRLEN,
			 "'%s' must be valid UTF-8 text without NUL (\\u0000) characters", path);
		return false;
	}
	if (json_object_is_type(v, json_type_array)) {
		n = json_object_array_length(v);
		for (i = 0; i < n; i++) {
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			if (!text_valid(json_object_array_get_idx(v, i), sub, err))
				return false;
		}
		return true;
	}
	if (!json_object_is_type(v, json_type_object))
		return true;
	json_object_object_foreach(v, key, member) {
		if (!rap_utf8_valid(key, strlen(key))) {
			snprintf(err, RAP_ERRLEN, "a key in '%s' is not valid UTF-8",
				 path[0] ? path : "the body");
			return false;
		}
		snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "." : "", key);
		if (!text_valid(member, sub, err))
			return false;
	}
	return true;
}

/* Parses text that must be one JSON object and nothing else, every string
 * and key in it valid UTF-8 without NUL. */
struct json_object *rap__json_decode_object(const char *body, size_t len, char *err)
{
	enum json_tokener_error why;
	struct json_object *o;

	if (len == 0) {
		snprintf(err, RAP_ERRLEN, "the body is empty; expected a JSON object");
		return NULL;
	}
	o = parse(body, len, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8, &why);
	if (!o && why == json_tokener_error_parse_utf8_string) {
		/* Read it again without the check only to name the field; a
		 * body that then does not parse at all (a bad byte outside
		 * any string, or trailing after the object) names none. */
		o = parse(body, len, JSON_TOKENER_STRICT, &why);
		if (!o || text_valid(o, "", err))
			snprintf(err, RAP_ERRLEN, "the body is not valid UTF-8");
		json_object_put(o);
		return NULL;
	}
	if (!o) {
		snprintf(err, RAP_ERRLEN, "malformed JSON: %s",
			 why == json_tokener_error_size ? "trailing data after the object"
							: json_tokener_error_desc(why));
		return NULL;
	}
	if (!json_object_is_type(o, json_type_object)) {
		snprintf(err, RAP_ERRLEN, "expected a JSON object");
		goto out_put;
	}
	if (!text_valid(o, "", err))
		goto out_put;
	if (escaped_nul(body, len)) {
		snprintf(err, RAP_ERRLEN, "a key in the body holds a NUL (\\u0000) character");
		goto out_put;
	}
	return o;
out_put:
	json_object_put(o);
	return NULL;
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
