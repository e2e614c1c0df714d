#ifndef RAP_JOBTYPE_H
#define RAP_JOBTYPE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The job types, declared once (lib/domain/jobtype.c): what each accepts,
 * the parameters it takes, its limits, its retry policy and the worker pool
 * that runs it.  job-api validates job creation against it and lists it at
 * GET /job-types; upload-api checks content against it; the worker runs
 * the types of the pools it serves; the RabbitMQ definitions, AsyncAPI and
 * docs/job-types.md are generated from it (a test fails when they drift).
 */

/** How a processor reads its input. */
enum rap_jobtype_input {
	RAP_INPUT_NONE,   /* reads nothing (noop) */
	RAP_INPUT_STREAM, /* reads the object once, front to back, from a pipe */
	RAP_INPUT_FILE    /* needs to seek (zip containers): a size-capped scratch copy */
};

/** Where a processor runs. */
enum rap_jobtype_runner {
	RAP_RUN_SANDBOX,  /* in a sandboxed child (rap-processor): the rule */
	RAP_RUN_IN_WORKER /* in the worker itself: only types that read no input
			      (noop) or that drive the worker's own failure paths
			      on purpose (test.fault, never enabled by default) */
};

/** What a type may use; each overridable per type by configuration
 *  (RAP_JOB_LIMITS). */
struct rap_jobtype_limits {
	long long wall_s;    /* wall-clock seconds of one attempt */
	long long cpu_s;     /* CPU seconds of the child */
	long long memory_mb; /* address space of the child */
	long long output_mb; /* bytes of all outputs together */
	long long input_mb;  /* largest input accepted (the scratch copy) */
};

struct rap_jobtype {
	const char *name;          /* "csv.validate" */
	const char *summary;       /* one line for GET /job-types and the docs */
	const char *content;       /* allowed detected types, "text/csv|text/plain|...",
				        "major/ *" forms allowed; "" = any content */
	const char *params_schema; /* name of its JSON Schema in proto/schemas/params/
				        ("csv.validate.json"); NULL: takes no params */
	struct rap_jobtype_limits limits;
	int max_attempts; /* retry policy: attempts before DEAD */
	const char *pool; /* worker pool: its queue is jobs.work.<pool> */
	enum rap_jobtype_input input;
	enum rap_jobtype_runner runner;
	bool quick;     /* bounded and short: claimed in batches */
	bool test_only; /* never in the default RAP_JOB_TYPES */
};

/** The registry, in a stable order. */
extern const struct rap_jobtype rap_jobtypes[];
extern const size_t rap_jobtypes_count;

/** The type of that name, or NULL. */
const struct rap_jobtype *rap_jobtype_find(const char *name);

/** The queue of a pool ("jobs.work.<pool>") into out (len bytes). */
void rap_jobtype_queue(const char *pool, char *out, size_t len);

#endif
