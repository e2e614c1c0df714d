/* Tests of lib/core/buf.c. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "rap/err.h"
#include "rap/buf.h"

Test(buf, append_past_the_maximum_fails_and_keeps_the_content)
{
	struct rap_buf b;

	rap_buf_init(&b, 8);
	cr_assert_eq(rap_buf_appends(&b, "12345"), RAP_OK);
	cr_assert_eq(rap_buf_appends(&b, "6789"), RAP_ETOOBIG);
	cr_assert_str_eq(b.data, "12345");
	cr_assert_eq(rap_buf_appendf(&b, "%d", 678), RAP_OK);
	cr_assert_str_eq(b.data, "12345678");
	cr_assert_eq(rap_buf_append(&b, "x", 1), RAP_ETOOBIG);
	rap_buf_cleanup(&b);
}
