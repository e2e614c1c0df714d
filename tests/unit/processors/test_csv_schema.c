/* Tests of services/worker/processors/csv_schema.c: every type, bound,
 * pattern, enum and unique, as the params schema describes them. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "csv_schema.h"
#include "rap/err.h"

static struct csv_schema *compile(const char *columns_json)
{
	struct json_object *cols = json_tokener_parse(columns_json);
	struct csv_schema *s = NULL;
	char err[RAP_ERRLEN] = "";

	cr_assert_not_null(cols);
	cr_assert_eq(csv_schema_compile(cols, 0, &s, err), RAP_OK, "%s", err);
	json_object_put(cols);
	cr_assert_not_null(s);
	return s;
}

/* The code checking v against the schema's first column gives ("" when
 * it passes). */
static const char *check(struct csv_schema *s, const char *v)
{
	char msg[CSV_MSGLEN];
	const char *code = csv_schema_check(s, &s->cols[0], v, strlen(v), msg);

	return code ? code : "";
}

static void expect_codes(const char *col, const char *const *values, const char *code)
{
	struct csv_schema *s = compile(col);

	for (; *values; values++)
		cr_assert_str_eq(check(s, *values), code, "%s: <%s>", col, *values);
	csv_schema_free(s);
}

#define V(...) ((const char *const[]){ __VA_ARGS__, NULL })

Test(csv_schema, integer)
{
	const char *c = "[{\"name\":\"n\",\"type\":\"integer\"}]";

	expect_codes(c, V("0", "-5", "+7", "9223372036854775807", "-9223372036854775808", ""), "");
	expect_codes(c, V("1.0", "1e3", " 1", "1 ", "--1", "+", "9223372036854775808", "0x10"),
		     "invalid_integer");
}

Test(csv_schema, decimal)
{
	const char *c = "[{\"name\":\"d\",\"type\":\"decimal\"}]";

	expect_codes(c, V("1", "-1.5", "+.5", "3.", "1e10", "2.5E-3", "0.000"), "");
	expect_codes(c, V(".", "1.2.3", "1e", "e5", "1,5", "NaN", "inf", "1 "), "invalid_decimal");
}

Test(csv_schema, boolean)
{
	const char *c = "[{\"name\":\"b\",\"type\":\"boolean\"}]";

	expect_codes(c, V("true", "FALSE", "Yes", "no", "1", "0"), "");
	expect_codes(c, V("t", "2", "y", "truee", "on"), "invalid_boolean");
}

Test(csv_schema, date_is_a_real_calendar_day)
{
	const char *c = "[{\"name\":\"d\",\"type\":\"date\"}]";

	expect_codes(c, V("2024-02-29", "2000-02-29", "1999-12-31", "0001-01-01"), "");
	expect_codes(c,
		     V("2023-02-29", "1900-02-29", "2024-13-01", "2024-04-31", "2024-1-01",
		       "2024/01/01", "2024-01-01T00:00", "20240101"),
		     "invalid_date");
}

Test(csv_schema, datetime_iso8601)
{
	const char *c = "[{\"name\":\"t\",\"type\":\"datetime\"}]";

	expect_codes(c,
		     V("2024-05-01T13:45", "2024-05-01 13:45:10", "2024-05-01T13:45:10.123",
		       "2024-05-01T13:45:10Z", "2024-05-01T13:45+02:00",
		       "2024-05-01T00:00:00.5-05:30"),
		     "");
	expect_codes(c,
		     V("2024-05-01", "2024-05-01T24:00", "2024-05-01T13:60", "2024-05-01T13:45:61",
		       "2024-05-01T13:45:10.", "2024-05-01T13:45+0200", "2024-02-30T10:00",
		       "2024-05-01T13:45Zx", "2024-05-01X13:45"),
		     "invalid_datetime");
}

Test(csv_schema, email)
{
	const char *c = "[{\"name\":\"e\",\"type\":\"email\"}]";

	expect_codes(c, V("a@b.co", "first.last+tag@sub.example.org"), "");
	expect_codes(c,
		     V("a@b", "@b.co", "a@", "a@@b.co", "a b@c.de", "a@.b.co", "a@b.co.", "a@b..co",
		       "plain"),
		     "invalid_email");
}

Test(csv_schema, enum_values_are_exact)
{
	const char *c = "[{\"name\":\"s\",\"type\":\"enum\",\"values\":[\"red\",\"green\",\"a\"]}]";

	expect_codes(c, V("red", "green", "a"), "");
	expect_codes(c, V("Red", "gree", "blue", " red"), "not_in_enum");
}

Test(csv_schema, required_and_empty_values)
{
	expect_codes("[{\"name\":\"r\",\"required\":true}]", V(""), "required");
	expect_codes("[{\"name\":\"r\",\"type\":\"integer\",\"min\":5}]", V(""), "");
}

Test(csv_schema, number_bounds)
{
	const char *c = "[{\"name\":\"n\",\"type\":\"integer\",\"min\":-2,\"max\":10}]";
	const char *d = "[{\"name\":\"n\",\"type\":\"decimal\",\"min\":0.5,\"max\":1.5}]";

	expect_codes(c, V("-2", "10", "0"), "");
	expect_codes(c, V("-3"), "too_small");
	expect_codes(c, V("11", "9223372036854775807"), "too_large");
	expect_codes(d, V("0.5", "1.5", "1"), "");
	expect_codes(d, V("0.49", "-1e3"), "too_small");
	expect_codes(d, V("1.51", "2e0"), "too_large");
}

Test(csv_schema, length_bounds_count_characters)
{
	const char *c = "[{\"name\":\"s\",\"min\":2,\"max\":3}]";

	expect_codes(c, V("ab", "\xC3\xA9\xC3\xA9\xC3\xA9", "abc"), "");
	expect_codes(c, V("a", "\xC3\xA9"), "too_short");
	expect_codes(c, V("abcd"), "too_long");
	expect_codes("[{\"name\":\"e\",\"type\":\"email\",\"max\":6}]", V("ab@c.de"), "too_long");
}

Test(csv_schema, patterns_are_anchored_at_both_ends)
{
	const char *c = "[{\"name\":\"p\",\"pattern\":\"[A-Z]{2}[0-9]+\"}]";

	expect_codes(c, V("AB1", "XY123"), "");
	expect_codes(c, V("xAB1", "AB1x", "AB", "ab1"), "pattern_mismatch");
	/* Alternatives are anchored as a whole. */
	expect_codes("[{\"name\":\"p\",\"pattern\":\"a|ab\"}]", V("a", "ab"), "");
	expect_codes("[{\"name\":\"p\",\"pattern\":\"a|ab\"}]", V("abc", "b"), "pattern_mismatch");
	/* UTF-8 characters are characters. */
	expect_codes("[{\"name\":\"p\",\"pattern\":\".{2}\"}]", V("\xC3\xA9\xC3\xA9"), "");
}

Test(csv_schema, a_runaway_pattern_hits_the_match_limit)
{
	struct csv_schema *s = compile("[{\"name\":\"p\",\"pattern\":\"(a|aa)+(b|c)\"}]");
	char v[64], msg[CSV_MSGLEN];

	memset(v, 'a', sizeof(v) - 1);
	v[sizeof(v) - 1] = '\0';
	cr_assert_str_eq(csv_schema_check(s, &s->cols[0], v, strlen(v), msg), "pattern_mismatch");
	cr_assert(strstr(msg, "limits"), "%s", msg);
	csv_schema_free(s);
}

Test(csv_schema, unique_finds_duplicates_and_ignores_empty_values)
{
	struct csv_schema *s = compile("[{\"name\":\"id\",\"unique\":true}]");
	char v[32];
	int i;

	cr_assert_str_eq(check(s, "a"), "");
	cr_assert_str_eq(check(s, "b"), "");
	cr_assert_str_eq(check(s, "a"), "duplicate");
	cr_assert_str_eq(check(s, ""), "");
	cr_assert_str_eq(check(s, ""), "");
	/* Through several doublings of the set. */
	for (i = 0; i < 100000; i++) {
		snprintf(v, sizeof(v), "v%d", i);
		cr_assert_str_eq(check(s, v), "");
	}
	cr_assert_str_eq(check(s, "v4242"), "duplicate");
	cr_assert_not(s->cols[0].unique_full);
	csv_schema_free(s);
}

Test(csv_schema, unique_stops_at_its_limit_and_says_so)
{
	struct json_object *cols = json_tokener_parse("[{\"name\":\"id\",\"unique\":true}]");
	struct csv_schema *s;
	char err[RAP_ERRLEN];

	cr_assert_eq(csv_schema_compile(cols, 2, &s, err), RAP_OK);
	cr_assert_str_eq(check(s, "a"), "");
	cr_assert_str_eq(check(s, "b"), "");
	cr_assert_str_eq(check(s, "c"), "");
	cr_assert(s->cols[0].unique_full);
	cr_assert_str_eq(check(s, "a"), "", "the check stopped");
	csv_schema_free(s);
	json_object_put(cols);
}

Test(csv_schema, unique_limits_share_one_budget)
{
	struct json_object *cols = json_tokener_parse(
		"[{\"name\":\"a\",\"unique\":true},{\"name\":\"b\",\"unique\":true}]");
	struct csv_schema *s;
	char err[RAP_ERRLEN];

	cr_assert_eq(csv_schema_compile(cols, 4000000, &s, err), RAP_OK);
	cr_assert_eq(s->unique_limit, CSV_UNIQUE_BUDGET / 2);
	csv_schema_free(s);
	json_object_put(cols);
}

Test(csv_schema, malformed_columns_are_refused_with_a_message)
{
	const char *bad[] = {
		"[{\"type\":\"integer\"}]",
		"[{\"name\":\"x\",\"type\":\"money\"}]",
		"[{\"name\":\"x\",\"type\":\"enum\"}]",
		"[{\"name\":\"x\",\"type\":\"enum\",\"values\":[1]}]",
		"[{\"name\":\"x\",\"pattern\":\"(unclosed\"}]",
		"[{\"name\":\"x\",\"pattern\":7}]",
		"[42]",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct json_object *cols = json_tokener_parse(bad[i]);
		struct csv_schema *s = (struct csv_schema *)1;
		char err[RAP_ERRLEN] = "";

		cr_assert_eq(csv_schema_compile(cols, 0, &s, err), RAP_EINVAL, "%s", bad[i]);
		cr_assert_null(s);
		cr_assert_neq(err[0], '\0');
		json_object_put(cols);
	}
}

Test(csv_schema, hash_spreads_near_values)
{
	cr_assert_neq(csv_hash64("a", 1), csv_hash64("b", 1));
	cr_assert_neq(csv_hash64("", 0), csv_hash64("\0", 1));
	cr_assert_neq(csv_hash64("0123456789abcdefX", 17), csv_hash64("0123456789abcdefY", 17));
	cr_assert_eq(csv_hash64("same", 4), csv_hash64("same", 4));
}
