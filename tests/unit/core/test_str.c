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

Test(utf8, clean_keeps_valid_text_and_replaces_the_rest)
{
	char out[64];

	cr_assert_eq(rap_utf8_clean("abc", 3, out, sizeof(out)), 3);
	cr_assert_str_eq(out, "abc");
	/* é (2 bytes), € (3), 𝄞 (4) pass as they are. */
	cr_assert_eq(rap_utf8_clean("\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e", 9, out, sizeof(out)),
		     9);
	cr_assert_str_eq(out, "\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e");
	/* A NUL, a lone continuation byte, an overlong '/', a surrogate, a
	 * truncated sequence and 0xff: each one U+FFFD. */
	rap_utf8_clean("a\0b", 3, out, sizeof(out));
	cr_assert_str_eq(out, "a\xef\xbf\xbd"
			      "b");
	rap_utf8_clean("\x80", 1, out, sizeof(out));
	cr_assert_str_eq(out, "\xef\xbf\xbd");
	rap_utf8_clean("\xc0\xaf", 2, out, sizeof(out));
	cr_assert_str_eq(out, "\xef\xbf\xbd\xef\xbf\xbd");
	rap_utf8_clean("\xed\xa0\x80", 3, out, sizeof(out));
	cr_assert_str_eq(out, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	rap_utf8_clean("x\xe2\x82", 3, out, sizeof(out));
	cr_assert_str_eq(out, "x\xef\xbf\xbd\xef\xbf\xbd");
	rap_utf8_clean("\xff", 1, out, sizeof(out));
	cr_assert_str_eq(out, "\xef\xbf\xbd");
	rap_utf8_clean("\xf4\x90\x80\x80", 4, out, sizeof(out));
	cr_assert_str_eq(out, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", "over U+10FFFF");
}

Test(utf8, clean_cuts_at_a_character_boundary)
{
	char out[5];

	/* "a€b" is 5 bytes: with room for 4 and the NUL only "a€" fits. */
	cr_assert_eq(rap_utf8_clean("a\xe2\x82\xac"
				    "b",
				    5, out, sizeof(out)),
		     4);
	cr_assert_str_eq(out, "a\xe2\x82\xac");
	cr_assert_eq(rap_utf8_clean("\xe2\x82\xac\xe2\x82\xac", 6, out, sizeof(out)), 3,
		     "never half a character");
	cr_assert_eq(rap_utf8_clean("abc", 3, out, 1), 0);
	cr_assert_str_eq(out, "");
}
