/*
 * test_sandbox.c: the test.sandbox processor, which drives each outcome of
 * the sandbox on purpose (params: proto/schemas/params/test.sandbox.json).
 * It runs only where RAP_JOB_TYPES lists it: the test stack.
 *
 *   succeed     reads its input, completes with its size
 *   loop        burns CPU until a limit stops it
 *   sleep       waits `seconds` (wall time, cancellation, long jobs)
 *   alloc       grows memory by `mb` MiB, touching every page
 *   crash       dereferences NULL
 *   syscall     opens a socket
 *   exec        calls execve
 *   open        opens a file for writing
 *   row_errors  reports `count` row errors, then completes
 *   output      writes `mb` MiB as the output data.bin
 *   progress    reports the stages download, parse, validate, write over
 *               `seconds`
 * A forbidden call that returns means the sandbox did not hold: the job
 * then FAILS sandbox_not_enforced, which a test would see.
 */
#include "procs.h"

#include "rap/err.h"
#include "rap/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024 * 1024)

struct params {
	const char *mode;
	long long seconds, mb, count;
};

static long long get_int(struct json_object *o, const char *key, long long def)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return def;
	return json_object_get_int64(v);
}

static void read_params(struct proc_ctx *c, struct params *p)
{
	struct json_object *o = proc_params(c), *v;

	p->mode = "succeed";
	if (o && json_object_object_get_ex(o, "mode", &v) &&
	    json_object_is_type(v, json_type_string))
		p->mode = json_object_get_string(v);
	p->seconds = get_int(o, "seconds", 1);
	p->mb = get_int(o, "mb", 1);
	p->count = get_int(o, "count", 1);
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int succeed_with(struct proc_ctx *c, const char *mode, const char *key, long long v)
{
	struct json_object *r = json_object_new_object();

	json_object_object_add(r, "mode", json_object_new_string(mode));
	if (key)
		json_object_object_add(r, key, json_object_new_int64(v));
	return proc_succeed(c, r);
}

static int run_succeed(struct proc_ctx *c)
{
	char buf[65536];
	long long total = 0;
	ssize_t n;

	while ((n = proc_read(c, buf, sizeof(buf))) > 0)
		total += n;
	if (n < 0)
		return (int)n;
	return succeed_with(c, "succeed", "bytes", total);
}

static int run_loop(struct proc_ctx *c)
{
	volatile unsigned long spin = 0;

	proc_progress(c, "loop", 0, -1);
	for (;;)
		spin++;
	return RAP_OK;
}

/* Waits seconds, saying so about once a second. */
static int run_sleep(struct proc_ctx *c, long long seconds)
{
	for (long long t = 0; t < seconds * 10; t++) {
		if (proc_progress(c, "sleep", 0, t / 10) != RAP_OK)
			return RAP_EIO;
		nap_ms(100);
	}
	return succeed_with(c, "sleep", "seconds", seconds);
}

static int run_alloc(struct proc_ctx *c, long long mb)
{
	/* Kept (never freed) until the end: the memory must really grow. */
	for (long long i = 0; i < mb; i++) {
		char *p = rap_malloc(MIB);

		memset(p, (int)(i & 0xff) | 1, MIB);
		proc_progress(c, "alloc", 0, i + 1);
	}
	return succeed_with(c, "alloc", "mb", mb);
}

/* A real NULL store in every build: UBSan would otherwise report it
 * (and its report reaches for files the sandbox refuses). */
__attribute__((no_sanitize_undefined)) static int run_crash(struct proc_ctx *c)
{
	volatile int *null = NULL;

	proc_progress(c, "crash", 0, -1);
	/* The crash is the point of this mode. */
	/* cppcheck-suppress nullPointer */
	*null = 1;
	return proc_fail(c, "sandbox_not_enforced", "the NULL store did not crash");
}

static int run_forbidden(struct proc_ctx *c, const char *mode)
{
	char *const argv[] = { "/bin/true", NULL }, *const envp[] = { NULL };
	int r;

	if (strcmp(mode, "syscall") == 0)
		r = socket(AF_INET, SOCK_STREAM, 0);
	else if (strcmp(mode, "exec") == 0)
		r = execve(argv[0], argv, envp);
	else
		r = open("/tmp/rap-test-sandbox-open", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	return proc_fail(c, "sandbox_not_enforced", "%s was not stopped (returned %d, %s)", mode, r,
			 strerror(errno));
}

static int run_row_errors(struct proc_ctx *c, long long count)
{
	char value[32];

	for (long long i = 0; i < count; i++) {
		int n = snprintf(value, sizeof(value), "x%lld", i);

		/* Row 1 is the header; one bad cell in each row after it. */
		if (proc_row_error(c, i + 2, i % 2 ? "amount" : NULL, "not_a_number",
				   "amount is not a number", value, (size_t)n) != RAP_OK)
			return RAP_EIO;
		proc_progress(c, "validate", 0, i + 1);
	}
	return succeed_with(c, "row_errors", "rows", count);
}

static int run_output(struct proc_ctx *c, long long mb)
{
	static unsigned char block[65536];
	long long i, blocks = mb * (MIB / (long long)sizeof(block));

	for (i = 0; i < (long long)sizeof(block); i++)
		block[i] = (unsigned char)(i * 7);
	if (proc_output_begin(c, "data.bin", "application/octet-stream") != RAP_OK)
		return RAP_EIO;
	for (i = 0; i < blocks; i++) {
		if (proc_output_write(c, block, sizeof(block)) != RAP_OK)
			return RAP_EIO;
		proc_progress(c, "write", 0, -1);
	}
	if (proc_output_end(c) != RAP_OK)
		return RAP_EIO;
	return succeed_with(c, "output", "bytes", mb * MIB);
}

/* The same output name twice, each a few bytes, then a result at once:
 * the worker refuses the second, however soon the child has exited. */
static int run_repeat_output(struct proc_ctx *c)
{
	for (int i = 0; i < 2; i++)
		if (proc_output_begin(c, "data.bin", "application/octet-stream") != RAP_OK ||
		    proc_output_write(c, "twice", 5) != RAP_OK || proc_output_end(c) != RAP_OK)
			return RAP_EIO;
	return succeed_with(c, "repeat_output", "bytes", 10);
}

static int run_progress(struct proc_ctx *c, long long seconds)
{
	static const char *const stages[] = { "download", "parse", "validate", "write" };
	long long size = proc_input_size(c), steps = seconds * 10;

	for (long long t = 0; t < steps; t++) {
		if (proc_progress(c, stages[t * 4 / steps], size > 0 ? size * t / steps : 0,
				  t * 100) != RAP_OK)
			return RAP_EIO;
		nap_ms(100);
	}
	return succeed_with(c, "progress", "rows", steps * 100);
}

static int sandbox_run(struct proc_ctx *c)
{
	struct params p;

	read_params(c, &p);
	if (strcmp(p.mode, "succeed") == 0)
		return run_succeed(c);
	if (strcmp(p.mode, "loop") == 0)
		return run_loop(c);
	if (strcmp(p.mode, "sleep") == 0)
		return run_sleep(c, p.seconds);
	if (strcmp(p.mode, "alloc") == 0)
		return run_alloc(c, p.mb);
	if (strcmp(p.mode, "crash") == 0)
		return run_crash(c);
	if (strcmp(p.mode, "syscall") == 0 || strcmp(p.mode, "exec") == 0 ||
	    strcmp(p.mode, "open") == 0)
		return run_forbidden(c, p.mode);
	if (strcmp(p.mode, "row_errors") == 0)
		return run_row_errors(c, p.count);
	if (strcmp(p.mode, "output") == 0)
		return run_output(c, p.mb);
	if (strcmp(p.mode, "progress") == 0)
		return run_progress(c, p.seconds);
	if (strcmp(p.mode, "repeat_output") == 0)
		return run_repeat_output(c);
	return proc_fail(c, "invalid_params", "unknown mode '%s'", p.mode);
}

const struct processor proc_test_sandbox = {
	.type = "test.sandbox",
	.prepare = NULL,
	.run = sandbox_run,
};
