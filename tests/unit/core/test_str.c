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

Test(utf8, valid_accepts_text_of_every_length)
{
	cr_assert(rap_utf8_valid("", 0));
	cr_assert(rap_utf8_valid("plain", 5));
	/* The smallest and largest of each length: U+0080, U+07FF, U+0800,
	 * U+FFFF, U+10000, U+10FFFF; and U+D7FF, U+E000 around the surrogates. */
	cr_assert(rap_utf8_valid("\xc2\x80\xdf\xbf", 4));
	cr_assert(rap_utf8_valid("\xe0\xa0\x80\xef\xbf\xbf", 6));
	cr_assert(rap_utf8_valid("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", 8));
	cr_assert(rap_utf8_valid("\xed\x9f\xbf\xee\x80\x80", 6));
	cr_assert_eq(rap_utf8_char("\xf0\x9d\x84\x9e", 4), 4);
	cr_assert_eq(rap_utf8_char("a", 0), 0, "nothing left is no character");
}

Test(utf8, valid_refuses_nul_overlongs_surrogates_and_truncations)
{
	cr_assert_not(rap_utf8_valid("a\0b", 3), "NUL");
	cr_assert_not(rap_utf8_valid("\xc0\x80", 2), "overlong NUL");
	cr_assert_not(rap_utf8_valid("\xc1\xbf", 2), "overlong 2-byte");
	cr_assert_not(rap_utf8_valid("\xe0\x80\xaf", 3), "overlong 3-byte '/'");
	cr_assert_not(rap_utf8_valid("\xe0\x9f\xbf", 3), "overlong U+07FF");
	cr_assert_not(rap_utf8_valid("\xf0\x80\x80\xaf", 4), "overlong 4-byte");
	cr_assert_not(rap_utf8_valid("\xf0\x8f\xbf\xbf", 4), "overlong U+FFFF");
	cr_assert_not(rap_utf8_valid("\xed\xa0\x80", 3), "U+D800");
	cr_assert_not(rap_utf8_valid("\xed\xbf\xbf", 3), "U+DFFF");
	cr_assert_not(rap_utf8_valid("\xed\xa0\xbd\xed\xb2\xa9", 6), "a CESU-8 pair");
	cr_assert_not(rap_utf8_valid("\xf4\x90\x80\x80", 4), "U+110000");
	cr_assert_not(rap_utf8_valid("\xf5\x80\x80\x80", 4), "F5 lead");
	cr_assert_not(rap_utf8_valid("\xf8\x88\x80\x80\x80", 5), "5-byte form");
	cr_assert_not(rap_utf8_valid("\xff", 1));
	cr_assert_not(rap_utf8_valid("\x80", 1), "lone continuation");
	cr_assert_not(rap_utf8_valid("\xc3", 1), "2-byte cut");
	cr_assert_not(rap_utf8_valid("\xe2\x82", 2), "3-byte cut");
	cr_assert_not(rap_utf8_valid("\xf0\x9d\x84", 3), "4-byte cut");
	cr_assert_not(rap_utf8_valid("\xe2\x82x", 3), "ASCII inside a sequence");
	/* The length bounds the check: a valid prefix of a longer buffer. */
	cr_assert(rap_utf8_valid("ab\xff", 2));
}

Test(utf8, printable_also_refuses_control_characters)
{
	cr_assert(rap_utf8_printable("key-1 \xc3\xa9\xc2\xa0", 10));
	cr_assert_not(rap_utf8_printable("a\tb", 3), "C0");
	cr_assert_not(rap_utf8_printable("a\r\nb", 4), "CR LF");
	cr_assert_not(rap_utf8_printable("a\x7f", 2), "DEL");
	cr_assert_not(rap_utf8_printable("\xc2\x85", 2), "C1 NEL");
	cr_assert_not(rap_utf8_printable("\xc2\x9f", 2), "C1");
	cr_assert_not(rap_utf8_printable("\xff", 1), "not UTF-8");
}
