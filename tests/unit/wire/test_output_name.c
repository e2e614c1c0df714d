/* Tests of lib/wire/frame.c rap_output_name_ok: which names can name a job's
 * output (the worker writes processed/{job_id}/NAME under them, GET
 * /jobs/{id}/output?name= takes only them, and `rap output` writes a file of
 * that name in the current folder only when it passes). */
#include <criterion/criterion.h>
#include <string.h>
#include "rap/frame.h"

Test(output_name, takes_the_names_processors_write)
{
	cr_assert(rap_output_name_ok("valid.csv"));
	cr_assert(rap_output_name_ok("page-00002.txt"));
	cr_assert(rap_output_name_ok("thumb_320x240.webp"));
	cr_assert(rap_output_name_ok("a"));
	cr_assert(rap_output_name_ok("result.json"));
}

Test(output_name, refuses_paths_hidden_names_and_other_bytes)
{
	const char *bad[] = { "",
			      ".hidden",
			      "..",
			      "../x",
			      "a/b",
			      "a b",
			      "a%2fb",
			      "caf\xc3\xa9",
			      "a\"b",
			      "a\\b",
			      "name?x=1",
			      "tab\there",
			      "../etc/passwd",
			      "bell\a" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert(!rap_output_name_ok(bad[i]), "'%s' was taken", bad[i]);
}

Test(output_name, is_bounded_by_its_length)
{
	char name[RAP_MAX_OUTPUT_NAME + 2];

	memset(name, 'a', sizeof(name) - 1);
	name[RAP_MAX_OUTPUT_NAME] = '\0';
	cr_assert(rap_output_name_ok(name), "%d bytes", RAP_MAX_OUTPUT_NAME);
	name[RAP_MAX_OUTPUT_NAME] = 'a';
	name[RAP_MAX_OUTPUT_NAME + 1] = '\0';
	cr_assert(!rap_output_name_ok(name), "%d bytes", RAP_MAX_OUTPUT_NAME + 1);
}
