/* Tests of lib/adapters/http/http.c. */
#include <criterion/criterion.h>
#include <string.h>
#include "rap/http.h"

Test(tus, http_date_is_imf_fixdate)
{
	char d[32];

	rap_http_date(784111777, d);
	cr_assert_str_eq(d, "Sun, 06 Nov 1994 08:49:37 GMT");
}
