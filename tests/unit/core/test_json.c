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

Test(log, json_quote_copies_runs_and_escapes_between_them)
{
	struct rap_buf b;

	rap_buf_init(&b, 1024);
	rap_json_quote(&b, "");
	rap_json_quote(&b, "plain text, é");
	rap_json_quote(&b, "\"\"tab\there\x1f");
	cr_assert_str_eq(b.data, "\"\"\"plain text, é\"\"\\\"\\\"tab\\u0009here\\u001f\"");
	rap_buf_cleanup(&b);
}

Test(log, json_quote_writes_invalid_utf8_as_escaped_text)
{
	struct rap_buf b;

	rap_buf_init(&b, 1024);
	/* Valid characters pass; each byte that is not (a lone 0xff, a cut
	 * sequence, an overlong, a surrogate) becomes the text \xNN; DEL is
	 * escaped like the other control characters. */
	rap_json_quote(&b, "\xc3\xa9\xff|\xe2\x82|\xc0\xaf|\xed\xa0\x80|\x7f");
	cr_assert_str_eq(b.data, "\"\xc3\xa9\\\\xff|\\\\xe2\\\\x82|\\\\xc0\\\\xaf|"
				 "\\\\xed\\\\xa0\\\\x80|\\u007f\"");
	rap_buf_cleanup(&b);
}

Test(log, json_quote_reports_a_full_buffer)
{
	struct rap_buf b;

	rap_buf_init(&b, 8);
	cr_assert_neq(rap_json_quote(&b, "far too long for eight bytes"), 0);
	rap_buf_cleanup(&b);
}

Test(log, json_timestamp_is_utc_milliseconds_truncated)
{
	struct rap_buf b;

	rap_buf_init(&b, 1024);
	rap_json_timestamp(&b, "2026-12-06 06:14:14.473685");
	rap_buf_append(&b, ",", 1);
	rap_json_timestamp(&b, "2026-12-06 06:14:14.4");
	rap_buf_append(&b, ",", 1);
	rap_json_timestamp(&b, "2026-12-06 06:14:14");
	rap_buf_append(&b, ",", 1);
	rap_json_timestamp(&b, "2026-12-06 06:14:14.999999");
	cr_assert_str_eq(b.data, "\"2026-12-06T06:14:14.473Z\",\"2026-12-06T06:14:14.400Z\","
				 "\"2026-12-06T06:14:14.000Z\",\"2026-12-06T06:14:14.999Z\"");
	rap_buf_cleanup(&b);
}

Test(log, json_timestamp_quotes_other_shapes_as_they_are)
{
	struct rap_buf b;

	rap_buf_init(&b, 1024);
	rap_json_timestamp(&b, "infinity");
	rap_buf_append(&b, ",", 1);
	rap_json_timestamp(&b, "2026-12-06 06:14:14+00");
	cr_assert_str_eq(b.data, "\"infinity\",\"2026-12-06 06:14:14+00\"");
	rap_buf_cleanup(&b);
}
