/* Tests of services/worker/processors/registry.c against the job-type
 * registry (lib/domain/jobtype.c): every sandboxed type has exactly one
 * processor with a run, and every processor is a sandboxed type. */
#include <criterion/criterion.h>
#include <string.h>

#include "processor.h"
#include "rap/jobtype.h"

Test(proc_registry, every_sandboxed_type_has_one_processor)
{
	for (size_t i = 0; i < rap_jobtypes_count; i++) {
		size_t found = 0;

		if (rap_jobtypes[i].runner != RAP_RUN_SANDBOX)
			continue;
		for (size_t j = 0; j < proc_registry_count; j++) {
			if (strcmp(proc_registry[j]->type, rap_jobtypes[i].name) != 0)
				continue;
			cr_assert_not_null(proc_registry[j]->run);
			found++;
		}
		cr_assert_eq(found, 1, "%s", rap_jobtypes[i].name);
	}
}

Test(proc_registry, every_processor_is_a_sandboxed_type)
{
	for (size_t j = 0; j < proc_registry_count; j++) {
		const struct rap_jobtype *t = rap_jobtype_find(proc_registry[j]->type);

		cr_assert_not_null(t, "%s", proc_registry[j]->type);
		cr_assert_eq(t->runner, RAP_RUN_SANDBOX, "%s", proc_registry[j]->type);
	}
}

Test(proc_registry, the_validating_types_are_there)
{
	const char *want[] = { "csv.validate", "xlsx.validate", "xls.validate" };

	for (size_t i = 0; i < 3; i++) {
		size_t found = 0;

		for (size_t j = 0; j < proc_registry_count; j++)
			found += strcmp(proc_registry[j]->type, want[i]) == 0;
		cr_assert_eq(found, 1, "%s", want[i]);
	}
}
