#ifndef REGISTRY_H
#define REGISTRY_H

#include <stdio.h>

/*
 * rap-registry: prints what is generated from the job-type registry
 * (lib/domain/jobtype.c), so that nothing of it is copied by hand.  A
 * contract test (tests/contract/registry.test.mjs) fails when the committed
 * files differ from what this prints; scripts/gen-registry rewrites them.
 */

/* definitions.c: infra/rabbitmq/definitions.json, the whole file: the
 * topology, with a work queue per pool and a binding per job type. */
void registry_definitions(FILE *out);

/* asyncapi.c: the channels of the work queues, as the block of
 * proto/asyncapi.yaml between its "generated" markers. */
void registry_asyncapi_queues(FILE *out);

/* docs.c: docs/job-types.md. */
void registry_docs(FILE *out);

/* The arguments of every work queue (the same as every pool's), as
 * definitions.json and AsyncAPI give them: name, and an integer value or
 * a string one. */
struct registry_arg {
	const char *name;
	const char *text; /* NULL: the value is num */
	long long num;
};

extern const struct registry_arg registry_work_args[];
extern const size_t registry_work_args_count;

#endif
