/* processors.c: where each job type runs.  A sandboxed type
 * (RAP_RUN_SANDBOX, the rule) runs in a rap-processor child
 * (sandbox.c); the few in-worker types are here: noop, which reads
 * nothing, and test.fault, which drives the worker's own failure paths
 * (docs/sandbox.md, "What stays in the worker"). */
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

worker_run_fn worker_runner(const struct rap_jobtype *t)
{
	if (!t)
		return NULL;
	if (t->runner == RAP_RUN_SANDBOX)
		return worker_sandbox_run;
	if (strcmp(t->name, "noop") == 0)
		return noop_run;
	if (strcmp(t->name, "test.fault") == 0)
		return worker_fault_run;
	return NULL;
}
