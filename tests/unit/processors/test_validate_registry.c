/* Tests of services/worker/processors/registry.c: the validating types
 * are there, each with its run, and no type twice. */
#include <criterion/criterion.h>
#include <string.h>

#include "processor.h"

Test(validate_registry, lists_the_three_validating_types_once)
{
	const char *want[] = { "csv.validate", "xlsx.validate", "xls.validate" };
	size_t i, j, found;

	for (i = 0; i < 3; i++) {
		found = 0;
		for (j = 0; j < proc_registry_count; j++) {
			if (strcmp(proc_registry[j]->type, want[i]) != 0)
				continue;
			cr_assert_not_null(proc_registry[j]->run);
			found++;
		}
		cr_assert_eq(found, 1, "%s", want[i]);
	}
}
