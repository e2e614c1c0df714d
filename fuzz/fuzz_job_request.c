/*
 * fuzz_job_request.c: the job request decoders (lib/domain/job_create.c,
 * presigned.c): POST /jobs, POST /jobs/batch and POST /uploads/presigned
 * bodies, as the bytes a client sent (not NUL-terminated).  A request
 * accepted has its fields within their bounds and hashes.
 */
#include "fuzz.h"

#include "rap/err.h"
#include "rap/hash.h"
#include "rap/job_create.h"
#include "rap/presigned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	char err[RAP_ERRLEN], hash[RAP_SHA256_HEXLEN];
	struct rap_job_create c, *batch = NULL;
	struct rap_presigned_req pr;
	int n = 0;

	if (rap_job_create_decode(body, size, &c, err) == RAP_OK) {
		FUZZ_CHECK(c.object_key[0] && c.type[0] && c.params && c.params[0] == '{');
		rap_job_create_hash(&c, hash);
		FUZZ_CHECK(strlen(hash) == RAP_SHA256_HEXLEN - 1);
		rap_job_create_cleanup(&c);
	} else {
		FUZZ_CHECK(err[0] != '\0');
	}
	if (rap_job_create_batch_decode(body, size, &batch, &n, err) == RAP_OK) {
		FUZZ_CHECK(n >= 1 && n <= RAP_JOB_BATCH_MAX);
		rap_job_create_batch_cleanup(batch, n);
	}
	if (rap_presigned_decode(body, size, &pr, err) == RAP_OK)
		FUZZ_CHECK(strlen(pr.filename) < sizeof(pr.filename) &&
			   strlen(pr.content_type) < sizeof(pr.content_type));
	return 0;
}
