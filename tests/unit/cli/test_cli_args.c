/* Tests of cli/args.c: options, defaults from the environment, checks. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "cli.h"
#include "rap/err.h"

#define JOB "9b2e4c1a-7d3f-4e8b-a5c6-1f0e2d3c4b5a"

Test(cli_args, an_upload_takes_its_defaults_and_options_anywhere)
{
	struct cli_opts o;
	enum cli_action a;
	char err[RAP_ERRLEN];

	unsetenv("RAP_URL");
	unsetenv("RAP_API_KEY");
	cr_assert_eq(parse(&o, &a, err, "--quiet", "upload", "f.bin", "--type", "file.inspect",
			   "-w", NULL),
		     RAP_OK, "%s", err);
	cr_assert_eq(a, CLI_ACTION_RUN);
	cr_assert_str_eq(o.command, "upload");
	cr_assert_str_eq(o.arg, "f.bin");
	cr_assert_str_eq(o.type, "file.inspect");
	cr_assert(o.watch && o.quiet && !o.json && !o.no_resume);
	cr_assert_str_eq(o.url, "http://127.0.0.1:8080");
	cr_assert_str_eq(o.api_key, "dev-key");
	cr_assert_eq(o.chunk_size, 64LL << 20);
	cr_assert_eq(o.retry_timeout_s, 600);
	cr_assert_eq(o.stall_timeout_s, 30);
}

Test(cli_args, the_environment_sets_defaults_and_options_win)
{
	struct cli_opts o;
	enum cli_action a;
	char err[RAP_ERRLEN];

	setenv("RAP_URL", "https://rap.example/", 1);
	setenv("RAP_API_KEY", "env-key", 1);
	cr_assert_eq(parse(&o, &a, err, "status", JOB, NULL), RAP_OK, "%s", err);
	cr_assert_str_eq(o.url, "https://rap.example", "the trailing slash goes");
	cr_assert_str_eq(o.api_key, "env-key");
	cr_assert_eq(
		parse(&o, &a, err, "status", JOB, "--url", "http://h:1//", "--api-key", "k2", NULL),
		RAP_OK);
	cr_assert_str_eq(o.url, "http://h:1");
	cr_assert_str_eq(o.api_key, "k2");
	unsetenv("RAP_URL");
	unsetenv("RAP_API_KEY");
}

Test(cli_args, numbers_are_parsed_with_their_ranges)
{
	struct cli_opts o;
	enum cli_action a;
	char err[RAP_ERRLEN];

	cr_assert_eq(parse(&o, &a, err, "upload", "f", "-t", "noop", "--chunk-size", "5M",
			   "--retry-timeout", "9", "--stall-timeout", "2", "--max-attempts", "1",
			   NULL),
		     RAP_OK, "%s", err);
	cr_assert_eq(o.chunk_size, 5LL << 20);
	cr_assert_eq(o.retry_timeout_s, 9);
	cr_assert_eq(o.stall_timeout_s, 2);
	cr_assert_eq(o.max_attempts, 1);
	cr_assert_eq(parse(&o, &a, err, "upload", "f", "-t", "noop", "--chunk-size", "8G", NULL),
		     RAP_EINVAL);
	cr_assert(strstr(err, "--chunk-size 8G"), "%s", err);
	cr_assert_eq(parse(&o, &a, err, "upload", "f", "-t", "noop", "--retry-timeout", "0", NULL),
		     RAP_EINVAL);
	cr_assert_eq(parse(&o, &a, err, "upload", "f", "-t", "noop", "--max-attempts", "101", NULL),
		     RAP_EINVAL);
	cr_assert_eq(parse(&o, &a, err, "upload", "f", "-t", "noop", "--stall-timeout", "x", NULL),
		     RAP_EINVAL);
}

Test(cli_args, what_each_command_needs_is_checked)
{
	struct cli_opts o;
	enum cli_action a;
	char err[RAP_ERRLEN];

	cr_assert_eq(parse(&o, &a, err, NULL), RAP_EINVAL);
	cr_assert_eq(parse(&o, &a, err, "upload", "f", NULL), RAP_EINVAL);
	cr_assert(strstr(err, "--type"), "%s", err);
	cr_assert_eq(parse(&o, &a, err, "upload", "f", "-t", "File.Inspect", NULL), RAP_EINVAL);
	cr_assert_eq(parse(&o, &a, err, "upload", "f", "g", "-t", "noop", NULL), RAP_EINVAL);
	cr_assert_eq(parse(&o, &a, err, "upload", "f", "-t", "noop", "--params", "[]", NULL),
		     RAP_EINVAL);
	cr_assert_eq(parse(&o, &a, err, "upload", "f", "-t", "noop", "--params", "{\"a\":1}", NULL),
		     RAP_OK);
	cr_assert_eq(parse(&o, &a, err, "upload", "f", "-t", "noop", "--url", "ftp://x", NULL),
		     RAP_EINVAL);
	cr_assert_eq(parse(&o, &a, err, "upload", "f", "-t", "noop", "--api-key", "a b", NULL),
		     RAP_EINVAL);
	cr_assert_eq(parse(&o, &a, err, "watch", "123", NULL), RAP_EINVAL);
	cr_assert(strstr(err, "UUID"), "%s", err);
	cr_assert_eq(parse(&o, &a, err, "watch", JOB, "--chunk-size", "5M", NULL), RAP_EINVAL);
	cr_assert(strstr(err, "--chunk-size is not an option of rap watch"), "%s", err);
	cr_assert_eq(parse(&o, &a, err, "launch", JOB, NULL), RAP_EINVAL);
	cr_assert(strstr(err, "unknown command 'launch'"), "%s", err);
	cr_assert_eq(parse(&o, &a, err, "status", JOB, "--frob", NULL), RAP_EINVAL);
	cr_assert(strstr(err, "--frob"), "%s", err);
}

Test(cli_args, help_and_version_win_over_the_rest)
{
	struct cli_opts o;
	enum cli_action a;
	char err[RAP_ERRLEN];

	cr_assert_eq(parse(&o, &a, err, "--help", NULL), RAP_OK);
	cr_assert_eq(a, CLI_ACTION_HELP);
	cr_assert_null(o.command);
	cr_assert_eq(parse(&o, &a, err, "upload", "--help", NULL), RAP_OK);
	cr_assert_eq(a, CLI_ACTION_HELP);
	cr_assert_str_eq(o.command, "upload");
	cr_assert_eq(parse(&o, &a, err, "help", "watch", NULL), RAP_OK);
	cr_assert_eq(a, CLI_ACTION_HELP);
	cr_assert_str_eq(o.command, "watch");
	cr_assert_eq(parse(&o, &a, err, "help", "nope", NULL), RAP_EINVAL);
	cr_assert_eq(parse(&o, &a, err, "-V", NULL), RAP_OK);
	cr_assert_eq(a, CLI_ACTION_VERSION);
}

Test(cli_args, the_help_of_a_command_lists_its_options_only)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	cli_args_help(out, "status");
	fclose(out);
	cr_assert(strstr(text, "Usage: rap status JOB_ID"));
	cr_assert(strstr(text, "--url URL"));
	cr_assert_null(strstr(text, "--chunk-size"));
	cr_assert(strstr(text, "  130  interrupted"));
	for (const char *p = text; *p; p += strcspn(p, "\n") + (p[strcspn(p, "\n")] != '\0'))
		cr_assert(strcspn(p, "\n") < 88, "a long line: %.90s", p);
	free(text);
}
