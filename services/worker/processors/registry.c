/*
 * registry.c: the processors rap-processor knows (processor.h).  On the
 * i11-csv branch only the validating ones; the lead merges this list with
 * the sandbox branch's.
 */
#include "processor.h"
#include "validate.h"

const struct processor *const proc_registry[] = {
	&proc_csv_validate,
	&proc_xlsx_validate,
	&proc_xls_validate,
};

const size_t proc_registry_count = sizeof(proc_registry) / sizeof(proc_registry[0]);
