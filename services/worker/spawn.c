/*
 * spawn.c: starts a rap-processor child (docs/sandbox.md, "The child's
 * descriptors").  fork, then only async-signal-safe calls until exec (the
 * worker has threads): the child dies with the worker (PR_SET_PDEATHSIG,
 * and it checks that the worker is still its parent), gets exactly fds 0
 * to 3 (every other one is marked close-on-exec, so no socket, no
 * credential file and no database connection crosses), an empty signal
 * mask and an empty environment.  A pipe with close-on-exec tells the
 * worker whether exec itself failed.
 */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define HIGH_FD 16 /* above every descriptor the child ends up with */

/* In the forked child: fds 0..n-1 from src, the rest closed by exec. */
static void exec_child(const char *path, char *const argv[], const int *src, int n, pid_t parent,
		       int report_fd)
{
	static char *const envp[] = { NULL };
	int hi[SPAWN_FDS_MAX], i, e;
	sigset_t none;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || getppid() != parent)
		_exit(127);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* First out of the way (a source may already be 0..3), then in place:
	 * dup2 clears close-on-exec on the copies. */
	for (i = 0; i < n; i++)
		hi[i] = fcntl(src[i], F_DUPFD_CLOEXEC, HIGH_FD);
	for (i = 0; i < n; i++)
		if (hi[i] < 0 || dup2(hi[i], i) != i)
			goto out_report;
	if (close_range((unsigned)n, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
		goto out_report;
	execve(path, argv, envp);
out_report:
	e = errno;
	if (write(report_fd, &e, sizeof(e)) < 0)
		(void)0; /* the worker then sees exit 127 without an outcome */
	_exit(127);
}

static void close_pair(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	p[0] = p[1] = -1;
}

int sandbox_spawn_fds(const char *path, char *const argv[], const int *src, int n_src, pid_t *pid,
		      char *err)
{
	int rep[2] = { -1, -1 }, e = 0, result = RAP_EIO;
	pid_t parent = getpid();
	ssize_t n;

	*pid = -1;
	if (n_src > SPAWN_FDS_MAX || pipe2(rep, O_CLOEXEC) != 0) {
		snprintf(err, RAP_ERRLEN, "pipe: %s", strerror(errno));
		return RAP_EIO;
	}
	*pid = fork();
	if (*pid < 0) {
		snprintf(err, RAP_ERRLEN, "fork: %s", strerror(errno));
		goto out_close;
	}
	if (*pid == 0)
		exec_child(path, argv, src, n_src, parent, rep[1]);
	close(rep[1]);
	rep[1] = -1;
	do
		n = read(rep[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		snprintf(err, RAP_ERRLEN, "exec %s: %s", path, strerror(e));
		waitpid(*pid, NULL, 0);
		*pid = -1;
		goto out_close;
	}
	result = RAP_OK;
out_close:
	close_pair(rep);
	return result;
}

int sandbox_child_start(int in_fd, struct child *ch, sandbox_launch launch, void *ctx, char *err)
{
	int out[2] = { -1, -1 }, log[2] = { -1, -1 }, start[2] = { -1, -1 };
	pid_t pid = -1;

	memset(ch, 0, sizeof(*ch));
	ch->pid = -1;
	ch->out_fd = ch->err_fd = ch->start_fd = -1;
	if (pipe2(out, O_CLOEXEC) != 0 || pipe2(log, O_CLOEXEC) != 0 ||
	    pipe2(start, O_CLOEXEC) != 0) {
		snprintf(err, RAP_ERRLEN, "pipe: %s", strerror(errno));
		goto out_close;
	}
	if (launch(ctx, (const int[4]){ in_fd, out[1], log[1], start[0] }, &pid, err) != RAP_OK)
		goto out_close;
	ch->pid = pid;
	ch->out_fd = out[0];
	ch->err_fd = log[0];
	ch->start_fd = start[1];
	close(out[1]);
	close(log[1]);
	close(start[0]);
	return RAP_OK;

out_close:
	close_pair(out);
	close_pair(log);
	close_pair(start);
	return RAP_EIO;
}

struct exec_launch {
	const char *path;
	char *const *argv;
};

static int launch_exec(void *ctx, const int fds[4], pid_t *pid, char *err)
{
	const struct exec_launch *e = ctx;

	return sandbox_spawn_fds(e->path, e->argv, fds, 4, pid, err);
}

int sandbox_spawn(const char *path, char *const argv[], int in_fd, struct child *ch, char *err)
{
	struct exec_launch e = { path, argv };

	return sandbox_child_start(in_fd, ch, launch_exec, &e, err);
}
