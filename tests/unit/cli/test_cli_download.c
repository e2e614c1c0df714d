/* Tests of cli/download.c's pure part: the Content-Range of a resumed GET. */
#include <criterion/criterion.h>

#include "cli.h"
#include "rap/err.h"

Test(cli_download, a_partial_answer_gives_its_first_and_last_byte_and_the_size)
{
	long long s, e, t;

	cr_assert_eq(cli_download_content_range("bytes 100-199/1000", &s, &e, &t), RAP_OK);
	cr_assert(s == 100 && e == 199 && t == 1000);
	cr_assert_eq(cli_download_content_range("bytes 0-0/1", &s, &e, &t), RAP_OK);
	cr_assert(s == 0 && e == 0 && t == 1);
}

Test(cli_download, an_unknown_size_is_minus_one)
{
	long long s, e, t;

	cr_assert_eq(cli_download_content_range("bytes 5-9/*", &s, &e, &t), RAP_OK);
	cr_assert(s == 5 && e == 9 && t == -1);
}

Test(cli_download, a_416_gives_only_the_size)
{
	long long s, e, t;

	cr_assert_eq(cli_download_content_range("bytes */4096", &s, &e, &t), RAP_OK);
	cr_assert(s == -1 && e == -1 && t == 4096);
	cr_assert_eq(cli_download_content_range("bytes */*", &s, &e, &t), RAP_EINVAL);
}

Test(cli_download, malformed_ranges_are_refused)
{
	const char *bad[] = { "",
			      "bytes",
			      "bytes 1-2",
			      "items 1-2/3",
			      "bytes 5-4/10",
			      "bytes 0-10/10",
			      "bytes -1-2/3",
			      "bytes a-b/3",
			      "bytes 1-2/x",
			      "bytes 1-/3",
			      "bytes -2/3",
			      "bytes 99999999999999999999-1/2" };
	long long s, e, t;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(cli_download_content_range(bad[i], &s, &e, &t), RAP_EINVAL, "%s",
			     bad[i]);
}
