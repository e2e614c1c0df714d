/* Tests of services/worker/processors.c against the registry
 * (lib/domain/jobtype.c): the worker's table of in-worker processors and
 * the registry never disagree. */
#include <criterion/criterion.h>
#include <string.h>

#include "worker.h"
#include "rap/jobtype.h"

Test(worker_processors, every_type_the_registry_runs_in_the_worker_has_its_processor)
{
	for (size_t i = 0; i < rap_jobtypes_count; i++)
		if (rap_jobtypes[i].runner == RAP_RUN_IN_WORKER)
			cr_assert_not_null(worker_processor(rap_jobtypes[i].name),
					   "%s runs in the worker but has no processor there",
					   rap_jobtypes[i].name);
}

Test(worker_processors, every_in_worker_processor_is_a_type_of_the_registry)
{
	for (size_t i = 0; i < worker_processors_count; i++)
		cr_assert_not_null(rap_jobtype_find(worker_processors[i].type),
				   "processor %s names no type of the registry",
				   worker_processors[i].type);
	cr_assert_null(worker_processor("no.such"));
}

Test(worker_processors, quick_comes_from_the_registry)
{
	cr_assert(worker_quick("noop"));
	cr_assert_not(worker_quick("test.fault"));
	cr_assert_not(worker_quick("file.inspect"));
	cr_assert_not(worker_quick("csv.validate"), "no processor here (yet)");
	cr_assert_not(worker_quick("no.such"));
}
