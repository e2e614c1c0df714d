/* Tests of lib/domain/joberrors_read.c that need no database: the cursor. */
#include <criterion/criterion.h>

#include "rap/err.h"
#include "rap/joberrors_read.h"

Test(joberrors_read, a_cursor_is_row_colon_id)
{
	long long row = -1, id = -1;

	cr_assert_eq(rap_joberrors_cursor_parse("9:103", &row, &id), RAP_OK);
	cr_assert_eq(row, 9);
	cr_assert_eq(id, 103);
	cr_assert_eq(rap_joberrors_cursor_parse("0:0", &row, &id), RAP_OK);
}

Test(joberrors_read, anything_else_is_refused)
{
	const char *bad[] = { "",    "9",    "9:",   ":9",    "-1:2", "1:-2",
			      "a:1", "1:2x", "1 :2", "1:2:3", NULL };
	long long row, id;
	int i;

	cr_assert_eq(rap_joberrors_cursor_parse(NULL, &row, &id), RAP_EINVAL);
	for (i = 0; bad[i]; i++)
		cr_assert_eq(rap_joberrors_cursor_parse(bad[i], &row, &id), RAP_EINVAL, "%s",
			     bad[i]);
}
