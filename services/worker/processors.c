/* processors.c: where each job type runs.  A sandboxed type
 * (RAP_RUN_SANDBOX, the rule) runs in a rap-processor child (sandbox.c);
 * the few in-worker types are in the table here: noop, which reads
 * nothing, and test.fault, which drives the worker's own failure paths
 * (docs/sandbox.md, "What stays in the worker").  What a type is (quick,
 * its pool, its limits) is the registry's, lib/domain/jobtype.c; a unit
 * test holds that every in-worker type of the registry is in the table. */
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

worker_run_fn worker_runner(const struct rap_jobtype *t)
{
	const struct processor *p;

	if (!t)
		return NULL;
	if (t->runner == RAP_RUN_SANDBOX)
		return worker_sandbox_run;
	p = worker_processor(t->name);
	return p ? p->run : NULL;
}

bool worker_quick(const char *type)
{
	const struct rap_jobtype *t = rap_jobtype_find(type);

	return t && t->quick && worker_runner(t);
}
