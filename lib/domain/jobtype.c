/*
 * jobtype.c: the job types (rap/jobtype.h).
 *
 * TEMPORARY, on branch i11-sandbox only: the registry engineer writes the
 * real table (every type, its pool, GET /job-types, the generated
 * definitions and docs); this one holds just the four types the sandbox
 * work runs (file.inspect, noop, test.fault, test.sandbox) with the limits
 * its tests rely on, and is replaced by that table at merge.  Keep the
 * test.sandbox row's limits (tests/integration/sandbox.test.mjs measures
 * them) and file.inspect's runner (RAP_RUN_SANDBOX).
 */
#include "rap/jobtype.h"

#include <stdio.h>
#include <string.h>

const struct rap_jobtype rap_jobtypes[] = {
	{
		.name = "file.inspect",
		.summary = "size, SHA-256 and detected type of a file",
		.content = "",
		.params_schema = NULL,
		.limits = { .wall_s = 3600,
			    .cpu_s = 1800,
			    .memory_mb = 256,
			    .output_mb = 1,
			    .input_mb = 0 },
		.max_attempts = 5,
		.pool = "light",
		.input = RAP_INPUT_STREAM,
		.runner = RAP_RUN_SANDBOX,
	},
	{
		.name = "noop",
		.summary = "does nothing: benchmarks and smoke checks",
		.content = "",
		.params_schema = NULL,
		.limits = { .wall_s = 10,
			    .cpu_s = 10,
			    .memory_mb = 64,
			    .output_mb = 0,
			    .input_mb = 0 },
		.max_attempts = 5,
		.pool = "light",
		.input = RAP_INPUT_NONE,
		.runner = RAP_RUN_IN_WORKER,
		.quick = true,
	},
	{
		.name = "test.fault",
		.summary = "drives the worker's own failure paths (tests only)",
		.content = "",
		.params_schema = NULL,
		.limits = { .wall_s = 3600,
			    .cpu_s = 60,
			    .memory_mb = 64,
			    .output_mb = 1,
			    .input_mb = 0 },
		.max_attempts = 5,
		.pool = "light",
		.input = RAP_INPUT_NONE,
		.runner = RAP_RUN_IN_WORKER,
		.test_only = true,
	},
	{
		/* Short limits: the sandbox tests run into each of them. */
		.name = "test.sandbox",
		.summary = "drives every outcome of the sandboxed processor (tests only)",
		.content = "",
		.params_schema = "test.sandbox.json",
		.limits = { .wall_s = 15,
			    .cpu_s = 3,
			    .memory_mb = 128,
			    .output_mb = 8,
			    .input_mb = 16 },
		.max_attempts = 3,
		.pool = "light",
		.input = RAP_INPUT_FILE,
		.runner = RAP_RUN_SANDBOX,
		.test_only = true,
	},
};

const size_t rap_jobtypes_count = sizeof(rap_jobtypes) / sizeof(rap_jobtypes[0]);

const struct rap_jobtype *rap_jobtype_find(const char *name)
{
	for (size_t i = 0; i < rap_jobtypes_count; i++)
		if (strcmp(rap_jobtypes[i].name, name) == 0)
			return &rap_jobtypes[i];
	return NULL;
}

void rap_jobtype_queue(const char *pool, char *out, size_t len)
{
	snprintf(out, len, "jobs.work.%s", pool);
}
