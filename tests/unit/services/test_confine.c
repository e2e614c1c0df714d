/* Tests of services/worker/processors/confine.c: the child's sandbox, each
 * loaded in a forked child that then tries what the sandbox allows or
 * refuses. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "confine.h"
#include "rap/err.h"
#include "rap/frame.h"

enum attempt {
	TRY_SOCKET,
	TRY_OPEN,
	TRY_EXEC,
	TRY_EXEC_MAPPING,
	TRY_ALLOWED,
	TRY_THREAD,
	TRY_FORK,
};

/* A thread's work: proves it ran. */
static void *thread_main(void *arg)
{
	*(int *)arg = 42;
	return NULL;
}

/* Starts a thread and joins it: 0 when it ran. */
static int start_thread(void)
{
	pthread_t t;
	int ran = 0;

	if (pthread_create(&t, NULL, thread_main, &ran) != 0 || pthread_join(t, NULL) != 0)
		return 1;
	return ran == 42 ? 0 : 2;
}

/* Forks a child that closes the sandbox (with threads allowed or not) and
 * tries `what`; returns its wait status and what it wrote on fd 2 (into
 * log). */
static int run_confined_threads(enum attempt what, bool threads, char *log, size_t len)
{
	int errpipe[2], status;
	ssize_t n, got = 0;
	pid_t pid;

	cr_assert_eq(pipe(errpipe), 0);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		char err[RAP_ERRLEN];
		char *const argv[] = { "/bin/true", NULL };

		dup2(errpipe[1], STDERR_FILENO);
		close(errpipe[0]);
		if (confine_seccomp(threads, err) != RAP_OK)
			_exit(100);
		switch (what) {
		case TRY_SOCKET:
			socket(AF_INET, SOCK_STREAM, 0);
			break;
		case TRY_OPEN:
			open("/tmp/rap-confine-test", O_WRONLY | O_CREAT, 0600);
			break;
		case TRY_EXEC:
			execve(argv[0], argv, argv + 1);
			break;
		case TRY_EXEC_MAPPING:
			mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			break;
		case TRY_ALLOWED: {
			/* Memory, time, and writing to fds 1 and 2. */
			void *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			struct timespec ts = { 0, 1000000 };

			if (p == MAP_FAILED || munmap(p, 1 << 20) != 0)
				_exit(101);
			nanosleep(&ts, NULL);
			if (write(STDERR_FILENO, "still here\n", 11) != 11)
				_exit(102);
			/* Not _exit: under ASan it is intercepted, and the
			 * leak check of the unit tests' build would run. */
			syscall(SYS_exit_group, 0);
			break;
		}
		case TRY_THREAD:
			syscall(SYS_exit_group, start_thread());
			break;
		case TRY_FORK:
			fork();
			break;
		}
		_exit(99); /* the forbidden call came back */
	}
	close(errpipe[1]);
	while (got + 1 < (ssize_t)len && (n = read(errpipe[0], log + got, len - 1 - got)) > 0)
		got += n;
	log[got] = '\0';
	close(errpipe[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	return status;
}

static int run_confined(enum attempt what, char *log, size_t len)
{
	return run_confined_threads(what, false, log, len);
}

static void assert_violation_threads(enum attempt what, bool threads, long nr)
{
	char log[256], want[128];
	int status = run_confined_threads(what, threads, log, sizeof(log));

	cr_assert(WIFSIGNALED(status), "exited %d instead (log: %s)", WEXITSTATUS(status), log);
	cr_assert_eq(WTERMSIG(status), SIGSYS);
	snprintf(want, sizeof(want), RAP_SANDBOX_VIOLATION_LINE "%ld\n", nr);
	cr_assert_str_eq(log, want);
}

static void assert_violation(enum attempt what, long nr)
{
	assert_violation_threads(what, false, nr);
}

Test(confine, a_socket_kills_the_child_with_sigsys_and_names_the_call)
{
	assert_violation(TRY_SOCKET, SYS_socket);
}

Test(confine, opening_a_file_is_refused)
{
	assert_violation(TRY_OPEN, SYS_openat);
}

Test(confine, exec_is_refused)
{
	assert_violation(TRY_EXEC, SYS_execve);
}

Test(confine, memory_is_never_executable)
{
	assert_violation(TRY_EXEC_MAPPING, SYS_mmap);
}

Test(confine, memory_time_and_the_output_descriptors_still_work)
{
	char log[256];
	int status = run_confined(TRY_ALLOWED, log, sizeof(log));

	cr_assert(WIFEXITED(status), "killed by signal %d (log: %s)", WTERMSIG(status), log);
	cr_assert_eq(WEXITSTATUS(status), 0, "log: %s", log);
	cr_assert_str_eq(log, "still here\n");
}

Test(confine, rlimits_are_set)
{
	struct confine_limits l = { .memory_mb = 0, .cpu_s = 7 };
	struct rlimit r;
	char err[RAP_ERRLEN];
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		if (confine_rlimits(&l, err) != RAP_OK)
			_exit(1);
		getrlimit(RLIMIT_CPU, &r);
		if (r.rlim_cur != 7 || r.rlim_max != 8)
			_exit(2);
		getrlimit(RLIMIT_FSIZE, &r);
		if (r.rlim_cur != 0)
			_exit(3);
		getrlimit(RLIMIT_CORE, &r);
		if (r.rlim_cur != 0)
			_exit(4);
		getrlimit(RLIMIT_NOFILE, &r);
		if (r.rlim_cur > 8)
			_exit(5);
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	cr_assert_eq(WEXITSTATUS(status), 0);
}

/* Without .threads, a thread is refused like a process: glibc's first try,
 * clone3, traps.  glibc blocks every signal around it, so the trap is
 * forced to SIGSYS's default at once, without the handler's line. */
Test(confine, a_thread_is_refused_to_a_processor_without_threads)
{
	char log[256];
	int status = run_confined(TRY_THREAD, log, sizeof(log));

	cr_assert(WIFSIGNALED(status), "exited %d instead (log: %s)", WEXITSTATUS(status), log);
	cr_assert_eq(WTERMSIG(status), SIGSYS);
}

/* With .threads (libvips), a thread starts and runs... */
Test(confine, a_processor_with_threads_may_start_a_thread)
{
	char log[256];
	int status = run_confined_threads(TRY_THREAD, true, log, sizeof(log));

	cr_assert(WIFEXITED(status), "killed by signal %d (log: %s)", WTERMSIG(status), log);
	cr_assert_eq(WEXITSTATUS(status), 0, "log: %s", log);
}

/* ...but a new process is still refused: clone without CLONE_THREAD. */
Test(confine, a_processor_with_threads_still_cannot_fork)
{
	assert_violation_threads(TRY_FORK, true, SYS_clone);
}

/* A socket is as forbidden with threads as without. */
Test(confine, a_processor_with_threads_still_has_no_network)
{
	assert_violation_threads(TRY_SOCKET, true, SYS_socket);
}

/* A scratch processor's child (virus.scan): Landlock holds its files to
 * its own folder; nothing outside can be read, written or created, and
 * its folder can be removed at the end (from the base's rule). */
static int landlocked(const char *base, const char *dir)
{
	char err[RAP_ERRLEN], inside[600];
	int fd;

	if (confine_landlock(dir, base, err) != RAP_OK)
		return 10;
	if (open("/etc/hostname", O_RDONLY) >= 0 || errno != EACCES)
		return 11;
	if (open("/tmp/rap-landlock-outside", O_WRONLY | O_CREAT, 0600) >= 0 || errno != EACCES)
		return 12;
	snprintf(inside, sizeof(inside), "%s/member.tmp", dir);
	fd = open(inside, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, "x", 1) != 1 || close(fd) != 0 || unlink(inside) != 0)
		return 13;
	return rmdir(dir) == 0 ? 0 : 14;
}

Test(confine, landlock_holds_a_scratch_child_to_its_folder)
{
	char base[] = "/tmp/rap-landlock.XXXXXX", dir[64];
	int status;
	pid_t pid;

	cr_assert_not_null(mkdtemp(base));
	snprintf(dir, sizeof(dir), "%s/1", base);
	cr_assert_eq(mkdir(dir, 0700), 0);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0)
		_exit(landlocked(base, dir));
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "status %d", status);
	cr_assert_eq(WEXITSTATUS(status), 0);
	cr_assert_eq(access(dir, F_OK), -1, "the child removed its folder");
	cr_assert_eq(rmdir(base), 0);
}
