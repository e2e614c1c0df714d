/* processors.c: the processors this worker runs itself, by job type
 * (each lives in a file of its own).  What a type is (quick, its pool, its
 * limits) is the registry's, lib/domain/jobtype.c; a unit test holds that
 * every type the registry runs in the worker has its processor here. */
#include "worker.h"

#include "rap/err.h"
#include "rap/jobtype.h"
#include "rap/mem.h"

#include <string.h>

/* noop: the durable no-op job of benchmarks and smoke checks. */
static int noop_run(struct job_run *run, char **result_json, char *err)
{
	*result_json = rap_strdup("{}");
	return RAP_OK;
}

const struct processor worker_processors[] = {
	{ "noop", noop_run },
	{ "file.inspect", worker_inspect_run },
	{ "test.fault", worker_fault_run },
};

const size_t worker_processors_count = sizeof(worker_processors) / sizeof(worker_processors[0]);

const struct processor *worker_processor(const char *type)
{
	size_t i;

	for (i = 0; i < worker_processors_count; i++)
		if (strcmp(worker_processors[i].type, type) == 0)
			return &worker_processors[i];
	return NULL;
}

bool worker_quick(const char *type)
{
	const struct rap_jobtype *t = rap_jobtype_find(type);

	return t && t->quick && worker_processor(type);
}
