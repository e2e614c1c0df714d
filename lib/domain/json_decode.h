#ifndef RAP_JSON_DECODE_H
#define RAP_JSON_DECODE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * The strict JSON reading that the domain's decoders share (internal to
 * lib/domain/).  Messages go to err (RAP_ERRLEN).
 */

/** Parses text that must be one JSON object and nothing else; NULL with a
 *  reason in err otherwise.  The caller puts the object. */
struct json_object *rap__json_decode_object(const char *body, size_t len, char *err);

/** Copies the string field key of o (1 to max bytes, no NUL) into out;
 *  RAP_EINVAL with a reason when it is not one, or when it is required
 *  and absent (an absent optional field leaves out as it was). */
int rap__json_decode_string(struct json_object *o, const char *key, char *out, size_t max,
			    bool required, char *err);

#endif
