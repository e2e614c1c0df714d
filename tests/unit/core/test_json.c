/* Tests of lib/core/json.c. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "rap/buf.h"
#include "rap/json.h"

Test(log, json_quote_escapes_control_characters_and_quotes)
{
	struct rap_buf b;

	rap_buf_init(&b, 1024);
	rap_json_quote(&b, "a\"b\\c\nd\x01");
	cr_assert_str_eq(b.data, "\"a\\\"b\\\\c\\nd\\u0001\"");
	rap_buf_cleanup(&b);
}
