/*
 * fuzz_job_message.c: the work message decoder (lib/domain/jobmsg.c), fed
 * the bytes of an AMQP delivery.  A message accepted names a valid job id
 * and a type; one refused says why.
 */
#include "fuzz.h"

#include "rap/err.h"
#include "rap/jobmsg.h"
#include "rap/uuid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[RAP_ERRLEN] = "";
	struct rap_jobmsg m;
	int result = rap_jobmsg_decode((const char *)data, size, &m, err);

	if (result == RAP_OK) {
		FUZZ_CHECK(m.v == RAP_JOBMSG_VERSION);
		FUZZ_CHECK(rap_uuid_valid(m.job_id));
		FUZZ_CHECK(m.type[0] && m.object_key[0]);
	} else {
		FUZZ_CHECK(result == RAP_EINVAL || result == RAP_EUNSUPPORTED);
		FUZZ_CHECK(err[0] != '\0');
		FUZZ_CHECK(!m.job_id[0] || rap_uuid_valid(m.job_id));
	}
	return 0;
}
