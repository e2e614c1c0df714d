/* subscribe.c: the WebSocket subscribe message,
 * {"type":"subscribe","api_key":...,"job_id"?,"since"?}, read and checked
 * apart from the socket (ws.c answers with what this returns), so that the
 * unit tests and the fuzz target (fuzz/fuzz_ws_subscribe.c) call it as is. */
#include "notifier.h"

#include "rap/auth.h"
#include "rap/uuid.h"

#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

static const char *jstring(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

const char *notifier_subscribe_decode(const struct rap_auth *auth, const char *msg,
				      struct notifier_subscribe *out)
{
	struct json_object *o = json_tokener_parse(msg);
	const char *type, *key, *job, *owner;
	const char *error = NULL;
	struct json_object *v;

	memset(out, 0, sizeof(*out));
	if (!o || !json_object_is_type(o, json_type_object)) {
		error = "{\"type\":\"error\",\"code\":\"bad_request\",\"message\":\"send a JSON object\"}";
		goto out_put;
	}
	type = jstring(o, "type");
	if (!type || strcmp(type, "subscribe") != 0) {
		error = "{\"type\":\"error\",\"code\":\"bad_request\",\"message\":\"unknown message type; send {\\\"type\\\":\\\"subscribe\\\",...}\"}";
		goto out_put;
	}
	key = jstring(o, "api_key");
	owner = key ? rap_auth_owner(auth, key) : NULL;
	if (!owner) {
		error = "{\"type\":\"error\",\"code\":\"unauthorized\",\"message\":\"missing or unknown api_key\"}";
		goto out_put;
	}
	job = jstring(o, "job_id");
	if (job && !rap_uuid_valid(job)) {
		error = "{\"type\":\"error\",\"code\":\"bad_request\",\"message\":\"job_id must be a UUID\"}";
		goto out_put;
	}
	if (json_object_object_get_ex(o, "since", &v) && json_object_is_type(v, json_type_int))
		out->since = json_object_get_int64(v);
	snprintf(out->owner, sizeof(out->owner), "%s", owner);
	snprintf(out->job_id, sizeof(out->job_id), "%s", job ? job : "");
	for (size_t i = 0; out->job_id[i]; i++)
		out->job_id[i] = (char)tolower((unsigned char)out->job_id[i]);
out_put:
	json_object_put(o);
	return error;
}
