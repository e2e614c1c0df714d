/* registry.c: the processors rap-processor knows, one file each.  A new
 * processor adds its line here and its row in lib/domain/jobtype.c (a unit
 * test holds the two lists together). */
#include "processor.h"
#include "procs.h"
#include "validate.h"

const struct processor *const proc_registry[] = {
	&proc_file_inspect, &proc_csv_validate,    &proc_xlsx_validate,
	&proc_xls_validate, &proc_image_thumbnail, &proc_pdf_text,
	&proc_video_probe,  &proc_virus_scan,      &proc_test_sandbox,
};

const size_t proc_registry_count = sizeof(proc_registry) / sizeof(proc_registry[0]);
