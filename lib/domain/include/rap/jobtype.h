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
	/* Not in the default RAP_JOB_TYPES either: it needs what only the
	 * operator can provide (virus.scan: ClamAV's signatures, without
	 * which a worker that serves its pool stops at start). */
	bool opt_in;
	/* Its child is forked from a long-lived `rap-processor --server`
	 * that loaded the type's shared state once (ClamAV's engine), not
	 * started by exec (docs/sandbox.md, "The fork server"). */
	bool fork_server;
};

/** The registry, in a stable order. */
extern const struct rap_jobtype rap_jobtypes[];
extern const size_t rap_jobtypes_count;

/** The type of that name, or NULL. */
const struct rap_jobtype *rap_jobtype_find(const char *name);

/** The longest queue name of a pool, with its NUL. */
#define RAP_JOBTYPE_QUEUE_LEN 64
/** The most pools the registry may name. */
#define RAP_JOBTYPE_POOLS_MAX 16

/** The queue of a pool ("jobs.work.<pool>") into out (len bytes). */
void rap_jobtype_queue(const char *pool, char *out, size_t len);

/** The pools the registry names, each once, in the order of their first
 *  type, into out (at most max); returns how many. */
size_t rap_jobtype_pools(const char **out, size_t max);

/** True when a type of the registry runs in that pool. */
bool rap_jobtype_pool_exists(const char *pool);

/*
 * A pool's defaults: how many deliveries of its queue one worker holds at
 * once (its prefetch; RAP_WORKER_PREFETCH replaces it for every pool), and
 * why.  Each worker serves each of its pools on a slot of its own (a
 * thread with its own connections), so a long job of one pool never holds
 * up the deliveries of another.
 */
struct rap_jobpool {
	const char *name;
	int prefetch;
	const char *why;
};
extern const struct rap_jobpool rap_jobpools[];
extern const size_t rap_jobpools_count;

/** The pool of that name's prefetch (1 for a pool the table lacks). */
int rap_jobtype_pool_prefetch(const char *pool);

/** The pools a worker serves, from its RAP_WORKER_POOLS (comma-separated;
 *  NULL or "": every pool), into out (at most max, each once); *n says how
 *  many.  RAP_EINVAL with err (RAP_ERRLEN) naming an entry that is not a
 *  pool of the registry, or one named twice. */
int rap_jobtype_pools_select(const char *list, const char **out, size_t max, size_t *n, char *err);

/** "none", "stream" or "file", as GET /job-types and the docs say it. */
const char *rap_jobtype_input_name(enum rap_jobtype_input input);

/*
 * The settings that refine the registry, as their variables hold them
 * (NULL or "": unset).  Each names job types, and only types of the
 * registry:
 *   RAP_JOB_TYPES          the enabled types: "file.inspect,noop"
 *   RAP_JOB_CONTENT_TYPES  allow-lists that replace the registry's:
 *                          "type=mime|major/ *|...,type=*" (no space; *: any)
 *   RAP_JOB_LIMITS         limits that replace the registry's:
 *                          "type=key:value;key:value,...", keys wall and cpu
 *                          (seconds, or with s, m or h), memory, output and
 *                          input (MiB, or with M or G)
 *   RAP_JOB_MAX_ATTEMPTS   attempts that replace the registry's: "type=N,..."
 */
struct rap_jobtype_settings {
	const char *types;
	const char *content;
	const char *limits;
	const char *attempts;
	const char *scan_first; /* the worker's RAP_JOB_SCAN_FIRST; NULL: not set */
};

/** Checks every setting that is set, strictly: RAP_EINVAL with err
 *  (RAP_ERRLEN) naming the variable, the entry and what is wrong (an
 *  unknown type, key or unit, a value out of bounds, a name twice). */
int rap_jobtype_settings_check(const struct rap_jobtype_settings *s, char *err);

/**
 * The limits of type with the RAP_JOB_LIMITS overrides (checked at start)
 * applied, into out.  RAP_EINVAL when overrides are malformed: out then
 * holds the registry's limits.
 */
int rap_jobtype_effective_limits(const struct rap_jobtype *type, const char *overrides,
				 struct rap_jobtype_limits *out);

/** The allow-list of type, "a|b|major/ *" or "" for any content: its
 *  RAP_JOB_CONTENT_TYPES entry ("*" meaning any) when overrides has one,
 *  else the registry's; into out (len bytes). */
void rap_jobtype_effective_content(const struct rap_jobtype *type, const char *overrides, char *out,
				   size_t len);

/** Every type's effective allow-list that does not take any content, as
 *  one comma list "type=a|b,type=c" that rap_list_allows reads (a type
 *  without an entry takes anything).  The caller frees it. */
char *rap_jobtype_content_list(const char *overrides);

/** The attempts of type: its RAP_JOB_MAX_ATTEMPTS entry, else the
 *  registry's max_attempts. */
int rap_jobtype_effective_attempts(const struct rap_jobtype *type, const char *overrides);

/** A params schema compiled into the library: proto/schemas/params/<name>
 *  (cmake/embed_schemas.cmake), len bytes of JSON text. */
struct rap_params_schema {
	const char *name;
	const char *text;
	size_t len;
};

extern const struct rap_params_schema rap_params_schemas[];
extern const size_t rap_params_schemas_count;

/** The compiled-in schema of that file name ("csv.validate.json"), or NULL. */
const struct rap_params_schema *rap_params_schema_find(const char *name);

#endif
