#ifndef RAP_JOBMSG_H
#define RAP_JOBMSG_H

#include <stddef.h>

#include "rap/job.h"
#include "rap/uuid.h"

/*
 * The work message on the `jobs` exchange (proto/schemas/job-message.json),
 * decoded as strictly as the schema; err (RAP_ERRLEN) says what is wrong.
 */
#define RAP_JOBMSG_VERSION 1

struct rap_jobmsg {
	int v;
	char job_id[RAP_UUID_STRLEN];
	char type[RAP_MAX_JOB_TYPE + 1];
	char object_key[RAP_MAX_OBJECT_KEY + 1];
	char owner[RAP_MAX_OWNER + 1];
};

/** Decodes a work message.  RAP_EINVAL: not JSON or a field is wrong;
 *  RAP_EUNSUPPORTED: a schema version this code does not know.  On failure
 *  out->job_id still holds the message's job_id when it was a valid UUID. */
int rap_jobmsg_decode(const char *body, size_t len, struct rap_jobmsg *out, char *err);

#endif
