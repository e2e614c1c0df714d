#ifndef RAP_CODEC_H
#define RAP_CODEC_H

#include <stdbool.h>
#include <stddef.h>

/*
 * JSON codecs for what crosses a boundary: the work message on the `jobs`
 * exchange (proto/schemas/job-message.json) and the POST /jobs request body
 * (proto/schemas/job-create-request.json).  Decoders validate as strictly
 * as the schemas and say what is wrong in err (RAP_ERRLEN).
 */
#define RAP_JOBMSG_VERSION 1
#define RAP_MAX_OBJECT_KEY 1024
#define RAP_MAX_JOB_TYPE 64

struct rap_jobmsg {
	int v;
	char job_id[37];
	char type[RAP_MAX_JOB_TYPE + 1];
	char object_key[RAP_MAX_OBJECT_KEY + 1];
	char owner[65];
};

/** Decodes a work message.  RAP_EINVAL: not JSON or a field is wrong;
 *  RAP_EUNSUPPORTED: a schema version this code does not know.  On failure
 *  out->job_id still holds the message's job_id when it was a valid UUID. */
int rap_jobmsg_decode(const char *body, size_t len, struct rap_jobmsg *out, char *err);

struct rap_job_create {
	char object_key[RAP_MAX_OBJECT_KEY + 1];
	char type[RAP_MAX_JOB_TYPE + 1];
	char *params;      /* canonical JSON object text: sorted keys, no
			      whitespace (owned; free it), "{}" if absent */
	int max_attempts;  /* 0 when absent */
	char *webhook_url; /* http(s) URL to POST the outcome to, or NULL (owned) */
};

/** The longest webhook_url a job may carry, in bytes. */
#define RAP_MAX_WEBHOOK_URL 2048
/** True for an http:// or https:// URL with a host, no credentials, no
 *  spaces or control characters, at most RAP_MAX_WEBHOOK_URL bytes. */
bool rap_webhook_url_valid(const char *url);

/** Decodes and validates a POST /jobs body; unknown fields are refused. */
int rap_job_create_decode(const char *body, size_t len, struct rap_job_create *out,
			  char *err);
void rap_job_create_cleanup(struct rap_job_create *c);

/** The most job requests one POST /jobs/batch takes. */
#define RAP_JOB_BATCH_MAX 1000

/** Decodes a POST /jobs/batch body, {"jobs":[request, ...]}: *out (n of
 *  them; free with rap_job_batch_cleanup) on success; err names the first
 *  bad request by its index. */
int rap_job_batch_decode(const char *body, size_t len, struct rap_job_create **out,
			 int *n, char *err);
void rap_job_batch_cleanup(struct rap_job_create *reqs, int n);

struct rap_presign_req {
	unsigned long long size;  /* bytes the client will PUT */
	char filename[256];       /* "" when absent (not yet sanitised) */
	char content_type[128];   /* "" when absent */
};

/** Decodes a POST /uploads/presign body {"size", "filename"?,
 *  "content_type"?}; unknown fields are refused. */
int rap_presign_decode(const char *body, size_t len, struct rap_presign_req *out,
		       char *err);

/** SHA-256 (hex) of the decoded request: the same job asked for with other
 *  whitespace or key order hashes the same (params are canonical JSON). */
void rap_job_create_hash(const struct rap_job_create *c, char out[65]);

/** True when name is in the comma-separated list. */
#include <stdbool.h>
bool rap_list_contains(const char *list, const char *name);

/** True when the comma-separated list has a "name=..." entry. */
bool rap_list_has(const char *list, const char *name);

/** Whether value is allowed by the "name=a|b|type/ *" entry of a
 *  comma-separated list: true when it matches one alternative ("type/ *",
 *  without the space, matches every subtype), and when the list has no
 *  entry for name. */
bool rap_list_allows(const char *list, const char *name, const char *value);

/** The number N of the "name=N" entry of a comma-separated list; def when
 *  the name is absent or its value is not a number in [min, max]. */
long long rap_list_number(const char *list, const char *name, long long min,
			  long long max, long long def);

#endif
