/* Tests of lib/core/str.c and lib/core/uuid.c. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "rap/err.h"
#include "rap/str.h"
#include "rap/uuid.h"

Test(util, strtonum_checks_syntax_and_range)
{
	long long v;

	cr_assert_eq(rap_strtonum("42", 0, 100, &v), RAP_OK);
	cr_assert_eq(v, 42);
	cr_assert_eq(rap_strtonum("101", 0, 100, &v), RAP_ERANGE);
	cr_assert_eq(rap_strtonum("-1", 0, 100, &v), RAP_ERANGE);
	cr_assert_eq(rap_strtonum("4x", 0, 100, &v), RAP_EINVAL);
	cr_assert_eq(rap_strtonum("", 0, 100, &v), RAP_EINVAL);
	cr_assert_eq(rap_strtonum("99999999999999999999", 0, INT64_MAX, &v), RAP_ERANGE);
}

Test(util, uuids_are_valid_v4_and_distinct)
{
	char a[RAP_UUID_STRLEN], b[RAP_UUID_STRLEN];

	rap_uuid(a);
	rap_uuid(b);
	cr_assert(rap_uuid_valid(a));
	cr_assert_eq(a[14], '4');
	cr_assert_str_neq(a, b);
	cr_assert_not(rap_uuid_valid("0b0c6f1e-8a52-4c4e-9a43-3d2f1b7c9e1"));
	cr_assert_not(rap_uuid_valid("0b0c6f1e-8a52-4c4e-9a43_3d2f1b7c9e10"));
	cr_assert_not(rap_uuid_valid("zb0c6f1e-8a52-4c4e-9a43-3d2f1b7c9e10"));
}
