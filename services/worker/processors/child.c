/*
 * child.c: rap-processor, the sandboxed child that runs one job's
 * processor (docs/sandbox.md).  The worker starts it with an empty
 * environment and exactly these descriptors: 0 the input (a pipe, or a
 * read-only scratch file), 1 frames out, 2 log lines, 3 the START frame
 * (then closed).  Its arguments name the type and the limits:
 *
 *   rap-processor --type T --memory-mb N --cpu-s N
 *
 * Order matters: START and the processor's prepare come first (they may
 * need the file system); then the sandbox closes (confine.c) and only then
 * does the processor see its input.
 */
#include "confine.h"
#include "processor.h"
#include "runtime.h"

#include "rap/err.h"
#include "rap/frame.h"
#include "rap/str.h"

#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define START_FD 3

/* AddressSanitizer's options for the child, which gets no environment:
 * no leak check (it would clone a tracer), no handlers of its own for
 * SIGSEGV and friends (a crash must die of its signal), no symbolizer
 * (it would open files and run a program), a small quarantine (freed
 * memory would count against the worker's RSS watch). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0:handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_abort=0:"
	       "handle_sigill=0:use_sigaltstack=0:symbolize=0:abort_on_error=1:quarantine_size_mb=16";
}

struct args {
	const char *type;
	long long memory_mb;
	long long cpu_s;
};

static int parse_args(int argc, char **argv, struct args *a)
{
	int i;

	memset(a, 0, sizeof(*a));
	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--type") == 0)
			a->type = argv[i + 1];
		else if (strcmp(argv[i], "--memory-mb") == 0 &&
			 rap_strtonum(argv[i + 1], 0, 1 << 30, &a->memory_mb) == RAP_OK)
			continue;
		else if (strcmp(argv[i], "--cpu-s") == 0 &&
			 rap_strtonum(argv[i + 1], 0, 1 << 30, &a->cpu_s) == RAP_OK)
			continue;
		else
			return RAP_EINVAL;
	}
	return i == argc && a->type ? RAP_OK : RAP_EINVAL;
}

/* The START frame, as it arrives on START_FD. */
struct start {
	struct json_object *o;
	int frames;
};

static int on_start(void *ctx, enum rap_frame_type t, const unsigned char *payload, uint32_t len)
{
	struct start *s = ctx;
	struct json_tokener *tok;

	if (t != RAP_FRAME_START || s->frames++)
		return RAP_EPROTO;
	tok = json_tokener_new();
	s->o = json_tokener_parse_ex(tok, (const char *)payload, (int)len);
	json_tokener_free(tok);
	return s->o && json_object_is_type(s->o, json_type_object) ? RAP_OK : RAP_EPROTO;
}

/* Reads the START frame to its end; the object (caller puts) or NULL. */
static struct json_object *read_start(void)
{
	struct rap_frame_decoder d;
	struct start s = { 0 };
	char buf[16384];
	ssize_t n;
	int result = RAP_OK;

	rap_frame_decoder_init(&d);
	for (;;) {
		n = read(START_FD, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		result = rap_frame_feed(&d, buf, (size_t)n, on_start, &s);
		if (result != RAP_OK)
			break;
	}
	if (result != RAP_OK || n < 0 || !rap_frame_idle(&d) || s.frames != 1) {
		json_object_put(s.o);
		s.o = NULL;
	}
	rap_frame_decoder_cleanup(&d);
	close(START_FD);
	return s.o;
}

static const struct processor *find(const char *type)
{
	for (size_t i = 0; i < proc_registry_count; i++)
		if (strcmp(proc_registry[i]->type, type) == 0)
			return proc_registry[i];
	return NULL;
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

/* Everything after the arguments: START, prepare, the sandbox, the run. */
static int run_child(const struct args *a)
{
	const struct processor *p = find(a->type);
	struct confine_limits lim = { .memory_mb = a->memory_mb,
				      .cpu_s = a->cpu_s,
				      .threads = p && p->threads };
	struct json_object *start = read_start(), *params = NULL, *v;
	const char *type = start ? jstr(start, "type") : NULL,
		   *job = start ? jstr(start, "job_id") : NULL;
	struct proc_ctx c;
	char err[RAP_ERRLEN];
	int status;

	if (!p || !type || !job || strcmp(type, a->type) != 0) {
		fprintf(stderr, "rap-processor: no START frame for a known type '%s'\n", a->type);
		json_object_put(start);
		return RAP_CHILD_EXIT_USAGE;
	}
	if (json_object_object_get_ex(start, "params", &v) &&
	    json_object_is_type(v, json_type_object))
		params = json_object_get(v);
	runtime_init(&c, STDIN_FILENO, STDOUT_FILENO, job, params,
		     json_object_object_get_ex(start, "input_size", &v) ? json_object_get_int64(v)
									: -1);
	json_object_put(start);
	/* Local time is UTC, settled now: glibc would otherwise read
	 * /etc/localtime at the first localtime() (libzip's entry times),
	 * after the sandbox closed. */
	setenv("TZ", "UTC0", 1);
	tzset();
	if (p->prepare && p->prepare() != RAP_OK) {
		fprintf(stderr, "rap-processor: %s could not prepare\n", p->type);
		status = RAP_CHILD_EXIT_PREPARE;
		goto out_cleanup;
	}
	confine_oom_report(STDOUT_FILENO, a->memory_mb);
	if (confine_rlimits(&lim, err) != RAP_OK || confine_seccomp(lim.threads, err) != RAP_OK) {
		fprintf(stderr, "rap-processor: sandbox: %s\n", err);
		status = RAP_CHILD_EXIT_PREPARE;
		goto out_cleanup;
	}
	if (c.state == PROC_RUNNING)
		p->run(&c);
	status = runtime_finish(&c);
out_cleanup:
	runtime_cleanup(&c);
	return status;
}

int main(int argc, char **argv)
{
	struct args a;

	/* Dies with the worker: a job is never left running unsupervised
	 * (the worker set it before exec too, and checked its parent). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
		return RAP_CHILD_EXIT_WORKER;
	if (parse_args(argc, argv, &a) != RAP_OK) {
		fprintf(stderr, "usage: rap-processor --type T [--memory-mb N] [--cpu-s N]\n"
				"(started by the worker: fd 0 input, 1 frames, 2 log, 3 START)\n");
		return RAP_CHILD_EXIT_USAGE;
	}
	return run_child(&a);
}
