/* Tests of lib/core/err.c. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "rap/err.h"

Test(errors, every_code_has_a_name)
{
	for (int e = RAP_AGAIN; e >= RAP_EUNSUPPORTED; e--)
		cr_assert_str_neq(rap_strerror(e), "unknown error", "code %d", e);
}
