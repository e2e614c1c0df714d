/* registry.c: the processors rap-processor knows, one file each.  A new
 * processor adds its line here and its row in lib/domain/jobtype.c. */
#include "processor.h"
#include "procs.h"

const struct processor *const proc_registry[] = {
	&proc_file_inspect,
	&proc_test_sandbox,
};

const size_t proc_registry_count = sizeof(proc_registry) / sizeof(proc_registry[0]);
