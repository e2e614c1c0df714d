/* jobmsg.c: the work message on the `jobs` exchange
 * (proto/schemas/job-message.json), decoded as strictly as its schema. */
#include "rap/jobmsg.h"
#include "json_decode.h"
#include "rap/err.h"
#include "rap/uuid.h"
#include "rap/job.h"

#include <stdio.h>
#include <string.h>

int rap_jobmsg_decode(const char *body, size_t len, struct rap_jobmsg *out, char *err)
{
	struct json_object *o = rap__json_decode_object(body, len, err);
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
	if (rap__json_decode_string(o, "job_id", out->job_id, 36, true, err) != RAP_OK ||
	    !rap_uuid_valid(out->job_id))
		out->job_id[0] = '\0';
	if (out->v != RAP_JOBMSG_VERSION) {
		snprintf(err, RAP_ERRLEN,
			 "schema version %d is not supported (this worker speaks %d)", out->v,
			 RAP_JOBMSG_VERSION);
		result = RAP_EUNSUPPORTED;
		goto out_put;
	}
	if (!out->job_id[0]) {
		snprintf(err, RAP_ERRLEN, "'job_id' must be a UUID");
		goto out_put;
	}
	if (rap__json_decode_string(o, "type", out->type, RAP_MAX_JOB_TYPE, true, err) != RAP_OK ||
	    rap__json_decode_string(o, "object_key", out->object_key, RAP_MAX_OBJECT_KEY, true,
				    err) != RAP_OK ||
	    rap__json_decode_string(o, "owner", out->owner, 64, false, err) != RAP_OK)
		goto out_put;
	result = RAP_OK;
out_put:
	json_object_put(o);
	return result;
}
