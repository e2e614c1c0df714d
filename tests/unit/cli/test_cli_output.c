/* Tests of cli/output.c's pure part and of `rap output`'s command line. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "cli.h"
#include "rap/err.h"

#define JOB "9b2e4c1a-7d3f-4e8b-a5c6-1f0e2d3c4b5a"

Test(cli_output, the_command_takes_name_output_and_force)
{
	struct cli_opts o;
	enum cli_action a;
	char err[RAP_ERRLEN];

	cr_assert_eq(parse(&o, &a, err, "output", JOB, "--name", "page-00002.txt", "-o", "p2.txt",
			   "--force", "--quiet", NULL),
		     RAP_OK, "%s", err);
	cr_assert_eq(a, CLI_ACTION_RUN);
	cr_assert_str_eq(o.command, "output");
	cr_assert_str_eq(o.arg, JOB);
	cr_assert_str_eq(o.output_name, "page-00002.txt");
	cr_assert_str_eq(o.output_file, "p2.txt");
	cr_assert(o.force && o.quiet);
	cr_assert_eq(parse(&o, &a, err, "output", JOB, NULL), RAP_OK, "%s", err);
	cr_assert(o.output_name == NULL && o.output_file == NULL && !o.force);
	cr_assert_eq(parse(&o, &a, err, "output", "--output", "-", JOB, NULL), RAP_OK, "%s", err);
	cr_assert_str_eq(o.output_file, "-");
}

Test(cli_output, usage_errors_are_refused)
{
	struct cli_opts o;
	enum cli_action a;
	char err[RAP_ERRLEN];

	cr_assert_eq(parse(&o, &a, err, "output", "not-a-uuid", NULL), RAP_EINVAL);
	cr_assert_eq(parse(&o, &a, err, "output", NULL), RAP_EINVAL);
	cr_assert_eq(parse(&o, &a, err, "output", JOB, "-o", "-", "--json", NULL), RAP_EINVAL);
	cr_assert(strstr(err, "stdout"), "%s", err);
	cr_assert_eq(parse(&o, &a, err, "output", JOB, "-o", "", NULL), RAP_EINVAL);
	cr_assert_eq(parse(&o, &a, err, "output", JOB, "--type", "x", NULL), RAP_EINVAL);
	cr_assert(strstr(err, "--type is not an option of rap output"), "%s", err);
	cr_assert_eq(parse(&o, &a, err, "status", JOB, "--name", "x", NULL), RAP_EINVAL);
	cr_assert_eq(parse(&o, &a, err, "upload", "f", "--type", "t", "--force", NULL), RAP_EINVAL);
}

Test(cli_output, help_names_the_command)
{
	struct cli_opts o;
	enum cli_action a;
	char err[RAP_ERRLEN];

	cr_assert_eq(parse(&o, &a, err, "help", "output", NULL), RAP_OK, "%s", err);
	cr_assert_eq(a, CLI_ACTION_HELP);
	cr_assert_str_eq(o.command, "output");
}
