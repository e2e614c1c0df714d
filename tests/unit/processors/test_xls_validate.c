/* Tests of xls.validate (services/worker/processors/xls.c) on workbooks
 * that xlwt (Debian's python3-xlwt) writes at test time: make_xls.py. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fake_proc.h"
#include "validate.h"
#include "rap/err.h"

/* Debian's python3, which has xlwt (a python3 earlier on PATH may not). */
#define PYTHON "/usr/bin/python3"

static void make_xls(const char *kind, char path[64])
{
	char cmd[512];
	int fd;

	snprintf(path, 64, "/tmp/rap-xls-XXXXXX.xls");
	fd = mkstemps(path, 4);
	cr_assert_geq(fd, 0);
	close(fd);
	snprintf(cmd, sizeof(cmd), PYTHON " %s/tests/unit/processors/make_xls.py %s %s",
		 RAP_SOURCE_DIR, kind, path);
	cr_assert_eq(system(cmd), 0, "%s (python3-xlwt: scripts/install-deps.sh)", cmd);
}

static struct proc_ctx *run_file(const char *path, const char *params)
{
	struct proc_ctx *c = fake_proc_new(NULL, 0, 0, params);

	cr_assert_eq(proc_xls_validate.prepare(), RAP_OK);
	c->input_fd = open(path, O_RDONLY);
	cr_assert_geq(c->input_fd, 0);
	cr_assert_eq(proc_xls_validate.run(c), RAP_OK);
	cr_assert(c->result || c->fail_code, "one outcome");
	close(c->input_fd);
	unlink(path);
	return c;
}

static const char *people_params = "{\"sheet\":\"People\",\"columns\":["
				   "{\"name\":\"id\",\"type\":\"integer\",\"unique\":true},"
				   "{\"name\":\"name\",\"required\":true},"
				   "{\"name\":\"born\",\"type\":\"date\"},"
				   "{\"name\":\"score\",\"type\":\"decimal\"},"
				   "{\"name\":\"seen\",\"type\":\"datetime\"}]}";

Test(xls_validate, a_sheet_by_name_with_types_dates_and_row_errors)
{
	char path[64];
	struct proc_ctx *c;
	const struct fake_error *e;

	make_xls("people", path);
	c = run_file(path, people_params);
	cr_assert_null(c->fail_code, "%s", c->fail_message);
	cr_assert_str_eq(fake_proc_result_str(c, "sheet"), "People");
	cr_assert_eq(fake_proc_result_int(c, "sheet_index"), 2);
	cr_assert_eq(fake_proc_result_int(c, "rows_processed"), 4);
	cr_assert_eq(fake_proc_result_int(c, "rows_valid"), 1);
	cr_assert_eq(fake_proc_result_int(c, "rows_blank"), 1);
	cr_assert_not_null(e = fake_proc_error(c, "invalid_integer", 3));
	cr_assert_str_eq(e->value, "2.5");
	cr_assert_not_null(fake_proc_error(c, "required", 5));
	cr_assert_not_null(fake_proc_error(c, "duplicate", 6));
	cr_assert_eq(c->n_errors, 3);
	cr_assert_str_eq(
		c->output.data,
		"id,name,born,score,seen\r\n"
		"1,\"Zo\xC3\xAB, \"\"the first\"\"\",2024-02-29,2.5,2024-05-01T13:45:30\r\n");
	fake_proc_free(c);
}

Test(xls_validate, a_sheet_by_position_and_a_missing_sheet)
{
	char path[64];
	struct proc_ctx *c;

	make_xls("people", path);
	c = run_file(path, "{\"header\":false}");
	cr_assert_str_eq(fake_proc_result_str(c, "sheet"), "Notes");
	cr_assert_str_eq(c->output.data, "nothing here\r\n");
	fake_proc_free(c);
	make_xls("people", path);
	c = run_file(path, "{\"sheet\":\"Nope\"}");
	cr_assert_str_eq(c->fail_code, "invalid_input");
	cr_assert(strstr(c->fail_message, "Nope"));
	fake_proc_free(c);
}

Test(xls_validate, a_file_that_is_not_an_xls_or_is_cut_short)
{
	char path[64];
	struct proc_ctx *c;
	FILE *f;
	long size;

	snprintf(path, sizeof(path), "/tmp/rap-xls-XXXXXX");
	close(mkstemp(path));
	f = fopen(path, "w");
	fputs("a,b\n1,2\n", f);
	fclose(f);
	c = run_file(path, NULL);
	cr_assert_str_eq(c->fail_code, "invalid_input");
	fake_proc_free(c);

	make_xls("people", path);
	f = fopen(path, "r+");
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	cr_assert_eq(ftruncate(fileno(f), size / 2), 0);
	fclose(f);
	c = run_file(path, NULL);
	cr_assert_str_eq(c->fail_code, "invalid_input");
	fake_proc_free(c);
}

/* The address space this test process maps now, in bytes. */
static long long mapped_bytes(void)
{
	long long pages = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	cr_assert_eq(fscanf(f, "%lld", &pages), 1);
	fclose(f);
	return pages * sysconf(_SC_PAGESIZE);
}

/* Defined when AddressSanitizer's runtime is linked in. */
extern void __asan_init(void) __attribute__((weak));

Test(xls_validate, a_sheet_declaring_the_largest_dimension_fails_within_the_memory_limit)
{
	char path[64];
	struct proc_ctx *c;
	struct rlimit rl;

	if (__asan_init)
		cr_skip_test("ASan reserves more address space than any limit allows");
	make_xls("sparse", path);
	/* As the sandbox's child: 96 MiB more than is mapped now. */
	rl.rlim_cur = rl.rlim_max = (rlim_t)(mapped_bytes() + 96LL * 1024 * 1024);
	cr_assert_eq(setrlimit(RLIMIT_AS, &rl), 0);
	c = run_file(path, NULL);
	cr_assert_str_eq(c->fail_code, "too_large", "%s", c->fail_message);
	cr_assert(strstr(c->fail_message, "memory limit"), "%s", c->fail_message);
	fake_proc_free(c);
}
