/* processors.c: the job types this worker runs, and their processors
 * (the registry; each processor lives in a file of its own). */
#include "worker.h"

#include "rap/err.h"
#include "rap/mem.h"

#include <string.h>

/* noop: the durable no-op job of benchmarks and smoke checks. */
static int noop_run(struct job_run *run, char **result_json, char *err)
{
	*result_json = rap_strdup("{}");
	return RAP_OK;
}

static const struct processor processors[] = {
	{ "noop", noop_run, true },
	{ "file.inspect", worker_inspect_run, false },
	{ "test.fault", worker_fault_run, false },
};

const struct processor *worker_processor(const char *type)
{
	size_t i;

	for (i = 0; i < sizeof(processors) / sizeof(processors[0]); i++)
		if (strcmp(processors[i].type, type) == 0)
			return &processors[i];
	return NULL;
}
