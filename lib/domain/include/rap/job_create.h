#ifndef RAP_JOB_CREATE_H
#define RAP_JOB_CREATE_H

#include <stddef.h>

#include "rap/hash.h"
#include "rap/job.h"

/*
 * The POST /jobs request body (proto/schemas/job-create-request.json) and
 * POST /jobs/batch's list of them, decoded as strictly as the schemas:
 * unknown fields are refused, and err (RAP_ERRLEN) says what is wrong.
 */
struct rap_job_create {
	char object_key[RAP_MAX_OBJECT_KEY + 1];
	char type[RAP_MAX_JOB_TYPE + 1];
	char *params;      /* canonical JSON object text: sorted keys, no
			      whitespace (owned; free it), "{}" if absent */
	int max_attempts;  /* 0 when absent */
	char *webhook_url; /* http(s) URL to POST the outcome to, or NULL (owned) */
};

/** Decodes and validates a POST /jobs body. */
int rap_job_create_decode(const char *body, size_t len, struct rap_job_create *out, char *err);
void rap_job_create_cleanup(struct rap_job_create *c);

/** SHA-256 (hex) of the decoded request: the same job asked for with other
 *  whitespace or key order hashes the same (params are canonical JSON). */
void rap_job_create_hash(const struct rap_job_create *c, char out[RAP_SHA256_HEXLEN]);

/** The most job requests one POST /jobs/batch takes. */
#define RAP_JOB_BATCH_MAX 1000

/** Decodes a POST /jobs/batch body, {"jobs":[request, ...]}: *out (n of
 *  them; free with rap_job_create_batch_cleanup) on success; err names the
 *  first bad request by its index. */
int rap_job_create_batch_decode(const char *body, size_t len, struct rap_job_create **out, int *n,
				char *err);
void rap_job_create_batch_cleanup(struct rap_job_create *reqs, int n);

#endif
