/* Tests of cli/resume.c: the state file's name, text, storage and lock. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "rap/err.h"
#include "rap/buf.h"

static struct cli_state sample(void)
{
	struct cli_state s;

	memset(&s, 0, sizeof(s));
	snprintf(s.path, sizeof(s.path), "/home/me/video files/v.mp4");
	s.size = 10737418240LL;
	s.mtime_s = 1718000000;
	s.mtime_ns = 123456789;
	snprintf(s.url, sizeof(s.url), "http://127.0.0.1:8080");
	snprintf(s.type, sizeof(s.type), "file.inspect");
	snprintf(s.upload_url, sizeof(s.upload_url),
		 "http://127.0.0.1:8080/api/files/5f0c7a7e-3b1d-4c9a-9e2f-0a8b6c4d2e11");
	return s;
}

Test(cli_resume, a_record_reads_back_as_written)
{
	struct cli_state s = sample(), back;
	char err[RAP_ERRLEN];
	struct rap_buf b;

	rap_buf_init(&b, 16384);
	cr_assert_eq(cli_resume_format(&s, &b), RAP_OK);
	cr_assert(strstr(b.data, "\nmtime 1718000000.123456789\n"), "%s", b.data);
	cr_assert_eq(cli_resume_parse(b.data, &back, err), RAP_OK, "%s", err);
	cr_assert_str_eq(back.path, s.path);
	cr_assert_eq(back.size, s.size);
	cr_assert_eq(back.mtime_s, s.mtime_s);
	cr_assert_eq(back.mtime_ns, s.mtime_ns);
	cr_assert_str_eq(back.upload_url, s.upload_url);
	cr_assert(cli_resume_same_file(&s, &back));
	back.mtime_ns++;
	cr_assert_not(cli_resume_same_file(&s, &back), "a new mtime is another file");
	back.mtime_ns--;
	back.size--;
	cr_assert_not(cli_resume_same_file(&s, &back), "a new size is another file");
	rap_buf_cleanup(&b);
}

Test(cli_resume, damaged_records_are_refused_with_a_reason)
{
#define TAIL "url u\ntype t\nupload_url "
	static const char *const bad[] = {
		"version 1\npath /f\nsize 1\nmtime 1.000000000\nurl u\ntype t\n",
		"version 2\npath /f\nsize 1\nmtime 1.000000000\n" TAIL "http://x/y\n",
		"version 1\npath f\nsize 1\nmtime 1.000000000\n" TAIL "http://x/y\n",
		"version 1\npath /f\nsize -1\nmtime 1.000000000\n" TAIL "http://x/y\n",
		"version 1\npath /f\nsize 1\nmtime 1.5\n" TAIL "http://x/y\n",
		"version 1\npath /f\nsize 1\nmtime 1.000000000\n" TAIL "ftp://x/y\n",
		"version 1\npath /f\nsize 1x\nmtime 1.000000000\n" TAIL "http://x/y\n",
		"garbage",
		"",
	};
#undef TAIL
	struct cli_state s;
	char err[RAP_ERRLEN];

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert_eq(cli_resume_parse(bad[i], &s, err), RAP_EINVAL, "record %u", i);
		cr_assert(err[0], "record %u has a reason", i);
	}
	cr_assert_eq(cli_resume_parse("# note\nversion 1\nnewer_key x\npath /f\nsize 1\n"
				      "mtime 1.000000000\nurl u\ntype t\nupload_url http://x/y\n",
				      &s, err),
		     RAP_OK, "comments and unknown keys are skipped");
}

Test(cli_resume, a_name_with_a_line_break_is_not_recorded)
{
	struct cli_state s = sample();
	struct rap_buf b;

	snprintf(s.path, sizeof(s.path), "/tmp/a\nupload_url http://evil/x");
	rap_buf_init(&b, 16384);
	cr_assert_eq(cli_resume_format(&s, &b), RAP_EINVAL);
	rap_buf_cleanup(&b);
}

Test(cli_resume, the_name_depends_on_path_url_and_type)
{
	char a[128], b[128];

	cli_resume_name("/f", "http://h", "file.inspect", a, sizeof(a));
	cr_assert_eq(strlen(a), strlen("upload-") + 32 + strlen(".state"));
	cr_assert_eq(strncmp(a, "upload-", 7), 0);
	cli_resume_name("/f", "http://h", "file.inspect", b, sizeof(b));
	cr_assert_str_eq(a, b);
	cli_resume_name("/g", "http://h", "file.inspect", b, sizeof(b));
	cr_assert_str_neq(a, b);
	cli_resume_name("/f", "http://i", "file.inspect", b, sizeof(b));
	cr_assert_str_neq(a, b);
	cli_resume_name("/f", "http://h", "noop", b, sizeof(b));
	cr_assert_str_neq(a, b);
	cli_resume_name("/fhttp://h", "", "file.inspect", b, sizeof(b));
	cr_assert_str_neq(a, b, "fields do not run into each other");
}

Test(cli_resume, saved_state_loads_and_is_removed)
{
	char dir[] = "/tmp/rap-cli-unit-XXXXXX", sub[128], err[RAP_ERRLEN];
	struct cli_state s = sample(), back;

	cr_assert(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/a/b", dir);
	cr_assert_eq(cli_resume_load(sub, "x.state", &back, err), RAP_ENOENT);
	cr_assert_eq(cli_resume_save(sub, "x.state", &s, err), RAP_OK, "%s", err);
	cr_assert_eq(cli_resume_load(sub, "x.state", &back, err), RAP_OK, "%s", err);
	cr_assert(cli_resume_same_file(&s, &back));
	s.size = 5;
	cr_assert_eq(cli_resume_save(sub, "x.state", &s, err), RAP_OK, "overwritten");
	cr_assert_eq(cli_resume_load(sub, "x.state", &back, err), RAP_OK);
	cr_assert_eq(back.size, 5);
	cr_assert_eq(cli_resume_remove(sub, "x.state", err), RAP_OK);
	cr_assert_eq(cli_resume_remove(sub, "x.state", err), RAP_OK, "already gone is fine");
	cr_assert_eq(cli_resume_load(sub, "x.state", &back, err), RAP_ENOENT);
	snprintf(sub, sizeof(sub), "rm -rf %s", dir);
	cr_assert_eq(system(sub), 0);
}

Test(cli_resume, a_second_lock_holder_is_refused_until_the_first_lets_go)
{
	char dir[] = "/tmp/rap-cli-unit-XXXXXX", path[128], err[RAP_ERRLEN];
	int a, b;

	cr_assert(mkdtemp(dir));
	cr_assert_eq(cli_resume_lock(dir, "x.state", &a, err), RAP_OK, "%s", err);
	cr_assert_eq(cli_resume_lock(dir, "x.state", &b, err), RAP_ECONFLICT);
	cr_assert(strstr(err, "another rap upload of this file is running"), "%s", err);
	cli_resume_unlock(dir, "x.state", a);
	snprintf(path, sizeof(path), "%s/x.state.lock", dir);
	cr_assert_neq(access(path, F_OK), 0, "the lock file is removed");
	cr_assert_eq(cli_resume_lock(dir, "x.state", &b, err), RAP_OK);
	cli_resume_unlock(dir, "x.state", b);
	cr_assert_eq(rmdir(dir), 0);
}

Test(cli_resume, the_folder_comes_from_the_option_then_the_environment)
{
	char out[CLI_PATH_MAX];

	setenv("RAP_CLI_STATE_DIR", "/env/dir", 1);
	setenv("XDG_STATE_HOME", "/xdg", 1);
	setenv("HOME", "/home/me", 1);
	cr_assert_eq(cli_resume_dir("/opt", out, sizeof(out)), RAP_OK);
	cr_assert_str_eq(out, "/opt");
	cr_assert_eq(cli_resume_dir(NULL, out, sizeof(out)), RAP_OK);
	cr_assert_str_eq(out, "/env/dir");
	unsetenv("RAP_CLI_STATE_DIR");
	cr_assert_eq(cli_resume_dir(NULL, out, sizeof(out)), RAP_OK);
	cr_assert_str_eq(out, "/xdg/rap");
	setenv("XDG_STATE_HOME", "relative", 1);
	cr_assert_eq(cli_resume_dir(NULL, out, sizeof(out)), RAP_OK);
	cr_assert_str_eq(out, "/home/me/.local/state/rap", "XDG paths must be absolute");
	unsetenv("XDG_STATE_HOME");
	unsetenv("HOME");
	cr_assert_eq(cli_resume_dir(NULL, out, sizeof(out)), RAP_ENOENT);
}
