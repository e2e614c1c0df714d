/*
 * child.c: rap-processor, the sandboxed child that runs one job's
 * processor (docs/sandbox.md).  The worker starts it with an empty
 * environment and exactly these descriptors: 0 the input (a pipe, or a
 * read-only scratch file), 1 frames out, 2 log lines, 3 the START frame
 * (then closed).  Its arguments name the type and the limits:
 *
 *   rap-processor --type T --memory-mb N --cpu-s N
 *
 * The job itself is job.c's; with --server it is the fork server
 * (server.c), which runs job.c in a child it forks for each job.
 */
#include "job.h"
#include "server.h"

#include "rap/err.h"
#include "rap/frame.h"
#include "rap/str.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

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
	bool server;
	const char *db;
	const char *tmp;
};

static int parse_args(int argc, char **argv, struct args *a)
{
	int i;

	memset(a, 0, sizeof(*a));
	if (argc > 1 && strcmp(argv[1], "--server") == 0) {
		a->server = true;
		argc--;
		argv++;
	}
	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--type") == 0)
			a->type = argv[i + 1];
		else if (a->server && strcmp(argv[i], "--db") == 0)
			a->db = argv[i + 1];
		else if (a->server && strcmp(argv[i], "--tmp") == 0)
			a->tmp = argv[i + 1];
		else if (strcmp(argv[i], "--memory-mb") == 0 &&
			 rap_strtonum(argv[i + 1], 0, 1 << 30, &a->memory_mb) == RAP_OK)
			continue;
		else if (strcmp(argv[i], "--cpu-s") == 0 &&
			 rap_strtonum(argv[i + 1], 0, 1 << 30, &a->cpu_s) == RAP_OK)
			continue;
		else
			return RAP_EINVAL;
	}
	if (a->server && (!a->db || !a->tmp))
		return RAP_EINVAL;
	return i == argc && a->type ? RAP_OK : RAP_EINVAL;
}

int main(int argc, char **argv)
{
	struct args a;

	/* Dies with the worker: a job is never left running unsupervised
	 * (the worker set it before exec too, and checked its parent). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
		return RAP_CHILD_EXIT_WORKER;
	if (parse_args(argc, argv, &a) != RAP_OK) {
		fprintf(stderr,
			"usage: rap-processor --type T [--memory-mb N] [--cpu-s N]\n"
			"(started by the worker: fd 0 input, 1 frames, 2 log, 3 START)\n"
			"       rap-processor --server --type virus.scan --db DIR --tmp DIR\n"
			"(the fork server: fd 0 its control socket, 2 its log)\n");
		return RAP_CHILD_EXIT_USAGE;
	}
	if (a.server)
		return server_main(a.type, a.db, a.tmp);
	return child_job_run(
		&(struct child_job){ .type = a.type, .memory_mb = a.memory_mb, .cpu_s = a.cpu_s });
}
