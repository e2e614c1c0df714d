/* The real rap-processor (next to this test binary) under the smallest
 * memory limit of any sandboxed type: the libraries it maps whole at exec
 * (FFmpeg's, ClamAV's, libvips's, poppler's: ~226 MiB of address space)
 * must never count against a job's limit.  When RLIMIT_AS held them,
 * every allocation of a 128 MiB type failed and file.inspect died of
 * SIGABRT in json-c; only the plain build sees it (under AddressSanitizer
 * RLIMIT_AS is not set), which is why this test runs the processor itself
 * rather than a processor's run(). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rap/frame.h"
#include "rap/jobtype.h"

/* The smallest memory_mb of the sandboxed types a worker execs. */
static long long smallest_limit(void)
{
	long long min = 0;

	for (size_t i = 0; i < rap_jobtypes_count; i++) {
		const struct rap_jobtype *t = &rap_jobtypes[i];

		if (t->runner != RAP_RUN_SANDBOX || t->fork_server || t->limits.memory_mb <= 0)
			continue;
		if (min == 0 || t->limits.memory_mb < min)
			min = t->limits.memory_mb;
	}
	return min;
}

Test(processor_limits, file_inspect_completes_under_the_smallest_memory_limit_of_any_type)
{
	static const char input[] = "hello world\n";
	static const char start[] = "{\"type\":\"file.inspect\",\"job_id\":"
				    "\"00000000-0000-0000-0000-000000000001\",\"params\":{},"
				    "\"input_size\":12}";
	char self[PATH_MAX], processor[PATH_MAX + 16], mb[24], out[4096];
	int in[2], frames[2], st[2], status;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	size_t got = 0;
	long long limit = smallest_limit();
	pid_t pid;

	cr_assert_gt(n, 0);
	self[n] = '\0';
	snprintf(processor, sizeof(processor), "%s/rap-processor", dirname(self));
	cr_assert_eq(access(processor, X_OK), 0, "%s", processor);
	cr_assert_gt(limit, 0);
	cr_assert_leq(limit, 128, "the test means the small limits (%lld MiB)", limit);
	snprintf(mb, sizeof(mb), "%lld", limit);
	cr_assert_eq(pipe(in), 0);
	cr_assert_eq(pipe(frames), 0);
	cr_assert_eq(pipe(st), 0);
	cr_assert_eq(write(in[1], input, sizeof(input) - 1), (ssize_t)(sizeof(input) - 1));
	close(in[1]);
	cr_assert_eq(rap_frame_write(st[1], RAP_FRAME_START, start, sizeof(start) - 1), 0);
	close(st[1]);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		static char *const empty_env[] = { NULL };
		int null = open("/dev/null", O_WRONLY);

		if (dup2(in[0], 0) < 0 || dup2(frames[1], 1) < 0 || dup2(null, 2) < 0 ||
		    dup2(st[0], 3) < 0)
			_exit(127);
		for (int fd = 4; fd < 64; fd++)
			close(fd);
		/* An empty environment, as spawn.c gives it (this runner's
		 * ASAN_OPTIONS would turn LeakSanitizer on in the child,
		 * whose exit scan the filter refuses). */
		execle(processor, "rap-processor", "--type", "file.inspect", "--memory-mb", mb,
		       "--cpu-s", "30", (char *)NULL, empty_env);
		_exit(127);
	}
	close(in[0]);
	close(frames[1]);
	close(st[0]);
	while (got < sizeof(out) - 1 && (n = read(frames[0], out + got, sizeof(out) - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(frames[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "killed by signal %d under %s MiB",
		  WIFSIGNALED(status) ? WTERMSIG(status) : 0, mb);
	cr_assert_eq(WEXITSTATUS(status), 0);
	/* The RESULT frame's JSON, after the progress frames. */
	cr_assert(memmem(out, got, "\"mime_type\":\"text/plain\"", 24), "%zu bytes of frames", got);
}
