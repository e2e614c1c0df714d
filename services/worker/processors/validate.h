#ifndef RAP_VALIDATE_H
#define RAP_VALIDATE_H

#include "processor.h"

/*
 * The validating processors (issue 11, points 3 and 4), in the library
 * rap_validate: csv.validate (csv.c), xlsx.validate (xlsx.c) and
 * xls.validate (xls.c).  Their params: proto/schemas/params/<type>.json;
 * their result: proto/schemas/validate-result.json.
 */
extern const struct processor proc_csv_validate;
extern const struct processor proc_xlsx_validate;
extern const struct processor proc_xls_validate;

#endif
