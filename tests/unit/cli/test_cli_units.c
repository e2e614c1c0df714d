/* Tests of cli/units.c: sizes with suffixes, bytes and durations for people. */
#include <criterion/criterion.h>
#include <stdint.h>

#include "cli.h"
#include "rap/err.h"

Test(cli_units, sizes_take_binary_suffixes_in_every_spelling)
{
	long long v;

	cr_assert_eq(cli_units_parse_size("123", 0, INT64_MAX, &v), RAP_OK);
	cr_assert_eq(v, 123);
	cr_assert_eq(cli_units_parse_size("64K", 0, INT64_MAX, &v), RAP_OK);
	cr_assert_eq(v, 64 * 1024);
	cr_assert_eq(cli_units_parse_size("64M", 0, INT64_MAX, &v), RAP_OK);
	cr_assert_eq(v, 64LL << 20);
	cr_assert_eq(cli_units_parse_size("2g", 0, INT64_MAX, &v), RAP_OK);
	cr_assert_eq(v, 2LL << 30);
	cr_assert_eq(cli_units_parse_size("8MiB", 0, INT64_MAX, &v), RAP_OK);
	cr_assert_eq(v, 8LL << 20);
	cr_assert_eq(cli_units_parse_size("8mb", 0, INT64_MAX, &v), RAP_OK);
	cr_assert_eq(v, 8LL << 20);
	cr_assert_eq(cli_units_parse_size("1T", 0, INT64_MAX, &v), RAP_OK);
	cr_assert_eq(v, 1LL << 40);
	cr_assert_eq(cli_units_parse_size("512B", 0, INT64_MAX, &v), RAP_OK);
	cr_assert_eq(v, 512);
}

Test(cli_units, malformed_sizes_are_refused)
{
	long long v = 7;

	cr_assert_eq(cli_units_parse_size("", 0, INT64_MAX, &v), RAP_EINVAL);
	cr_assert_eq(cli_units_parse_size("M", 0, INT64_MAX, &v), RAP_EINVAL);
	cr_assert_eq(cli_units_parse_size("12Q", 0, INT64_MAX, &v), RAP_EINVAL);
	cr_assert_eq(cli_units_parse_size("12 M", 0, INT64_MAX, &v), RAP_EINVAL);
	cr_assert_eq(cli_units_parse_size("-5M", 0, INT64_MAX, &v), RAP_EINVAL);
	cr_assert_eq(cli_units_parse_size("1.5M", 0, INT64_MAX, &v), RAP_EINVAL);
	cr_assert_eq(cli_units_parse_size("5MX", 0, INT64_MAX, &v), RAP_EINVAL);
	cr_assert_eq(cli_units_parse_size(NULL, 0, INT64_MAX, &v), RAP_EINVAL);
	cr_assert_eq(v, 7, "a refused value leaves the output alone");
}

Test(cli_units, sizes_are_checked_against_the_range_after_the_suffix)
{
	long long v;

	cr_assert_eq(cli_units_parse_size("63K", 64 * 1024, 4LL << 30, &v), RAP_ERANGE);
	cr_assert_eq(cli_units_parse_size("64K", 64 * 1024, 4LL << 30, &v), RAP_OK);
	cr_assert_eq(cli_units_parse_size("4G", 64 * 1024, 4LL << 30, &v), RAP_OK);
	cr_assert_eq(cli_units_parse_size("4097M", 64 * 1024, 4LL << 30, &v), RAP_ERANGE);
	cr_assert_eq(cli_units_parse_size("9999999999T", 0, INT64_MAX, &v), RAP_ERANGE);
	cr_assert_eq(cli_units_parse_size("99999999999999999999999", 0, INT64_MAX, &v), RAP_ERANGE);
}

struct printed {
	double in;
	const char *out;
};

Test(cli_units, bytes_print_with_binary_units)
{
	static const struct printed cases[] = {
		{ 0, "0 B" },
		{ 1023, "1023 B" },
		{ 1536, "1.5 KiB" },
		{ 10.2 * 1024 * 1024, "10.2 MiB" },
		{ 10737418240.0, "10.0 GiB" },
	};
	char s[32];

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cli_units_bytes(cases[i].in, s, sizeof(s));
		cr_assert_str_eq(s, cases[i].out);
	}
}

Test(cli_units, durations_print_short)
{
	static const struct printed cases[] = {
		{ 0.4, "0s" }, { 7, "7s" }, { 125, "2m05s" }, { 3725, "1h02m" }, { -1, "?" },
	};
	char s[32];

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cli_units_duration(cases[i].in, s, sizeof(s));
		cr_assert_str_eq(s, cases[i].out);
	}
}
