/*
 * rap-registry: prints what is generated from the job-type registry.
 *   rap-registry definitions       infra/rabbitmq/definitions.json
 *   rap-registry asyncapi-queues   the work-queue channels of proto/asyncapi.yaml
 *   rap-registry docs              docs/job-types.md
 * scripts/gen-registry writes all three into the tree.
 */
#include "registry.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	static const struct {
		const char *what;
		void (*print)(FILE *out);
	} commands[] = {
		{ "definitions", registry_definitions },
		{ "asyncapi-queues", registry_asyncapi_queues },
		{ "docs", registry_docs },
	};

	for (size_t i = 0; argc == 2 && i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].what) == 0) {
			commands[i].print(stdout);
			return fflush(stdout) == 0 ? 0 : 1;
		}
	fprintf(stderr, "usage: rap-registry definitions|asyncapi-queues|docs\n"
			"Prints what is generated from the job-type registry "
			"(lib/domain/jobtype.c);\nscripts/gen-registry writes it into the tree.\n");
	return 2;
}
