/*
 * server.c: rap-processor --server, the fork server (docs/sandbox.md, "The
 * fork server"; protocol in rap/forksrv.h).
 *
 * Why: ClamAV's engine takes 20 ms to load with a few custom signatures
 * and tens of seconds and over a GiB with the real database; it must be
 * loaded once and shared, never per job.  So a worker that runs virus.scan
 * starts one long-lived rap-processor --server, with an empty environment
 * and fds 0 (a SOCK_SEQPACKET control socket) and 1, 2 (the worker's log),
 * which loads the engine, then forks one child per scan: the child
 * inherits the engine copy-on-write and runs the job exactly as an exec'd
 * rap-processor would (child.c: START, prepare, the sandbox, the run).
 *
 * The double fork: the server forks an intermediate process, which forks
 * the real child and exits at once; the server reaps the intermediate,
 * and only then answers with the child's pid.  The orphaned child is
 * reparented to the nearest child subreaper, the worker, which then
 * supervises it as any child it started (wait4 with rusage, SIGKILL on a
 * limit or a cancel).  The child reads START (which the worker sends only
 * after the answer), sets PR_SET_PDEATHSIG and checks that the worker is
 * its parent.
 *
 * What the server keeps: the engine, the control socket, its log; it
 * never had the worker's environment (no credential) nor any of its
 * sockets.  Before it serves it sets PR_SET_NO_NEW_PRIVS, PR_SET_DUMPABLE
 * 0, no core, at most 64 descriptors, and a seccomp deny-list
 * (confine_server: no socket, no exec, no ptrace, no mount): it must
 * fork, wait and remove the scratch folders of children killed mid-scan,
 * so an allow-list as tight as a child's is not possible, and it parses
 * no input (a request is a fixed-size struct from its worker and four
 * descriptors it only passes on).
 */
#include "server.h"

#include "confine.h"
#include "job.h"
#include "virus.h"

#include "rap/clock.h"
#include "rap/err.h"
#include "rap/forksrv.h"
#include "rap/frame.h"
#include "rap/log.h"
#include "rap/str.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CTL_FD 0
/* Its socket and log, a request's four descriptors and a pipe, the
 * folder it sweeps (a scan child lowers it to 32 for itself). */
#define SERVER_NOFILE 64
#define HIGH_FD 16 /* above every descriptor the child ends up with */

/* The server's folder of its children's scratch folders (one each,
 * named by the child's pid). */
static char base[1024];
static const char *server_type;

static void send_json(struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	size_t n = strlen(s);

	if (send(CTL_FD, s, n > RAP_FORKSRV_READY_MAX ? RAP_FORKSRV_READY_MAX : n, MSG_NOSIGNAL) <
	    0)
		rap_log(RAP_LOG_ERROR, NULL, "fork server: cannot answer its worker: %s",
			strerror(errno));
	json_object_put(o);
}

/* Loads the engine and scans a few bytes once (what libclamav sets up at
 * its first scan is read now, never under a child's sandbox). */
static int load(const char *db, long long *ms, char *err)
{
	static const char sample[] = "rap fork server: warm-up scan\n";
	int64_t t0 = rap_now_ms();
	int fd, result;

	if (virus_engine_load(db, err) != RAP_OK || virus_engine_tmpdir(base, err) != RAP_OK)
		return RAP_EIO;
	fd = memfd_create("rap-warm-up", MFD_CLOEXEC);
	if (fd < 0 || write(fd, sample, sizeof(sample) - 1) != (ssize_t)sizeof(sample) - 1 ||
	    lseek(fd, 0, SEEK_SET) != 0) {
		snprintf(err, RAP_ERRLEN, "memfd for the first scan: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return RAP_EIO;
	}
	result = virus_engine_warm_up(fd, err);
	close(fd);
	*ms = rap_now_ms() - t0;
	return result;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* Removes the folders of children that are gone (killed mid-scan, they
 * may have left members of an archive behind). */
static void sweep(void)
{
	char path[sizeof(base) + 300];
	struct dirent *d;
	long long pid;
	DIR *dir = opendir(base);

	if (!dir)
		return;
	while ((d = readdir(dir))) {
		if (rap_strtonum(d->d_name, 1, INT_MAX, &pid) != RAP_OK)
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "%s/%s", base, d->d_name);
		nftw(path, remove_one, 8, FTW_DEPTH | FTW_PHYS);
	}
	closedir(dir);
}

/* In the forked child: the descriptors in place, its folder, the job. */
static void child_main(const struct rap_forksrv_request *rq, const int fds[RAP_FORKSRV_FDS])
{
	char dir[sizeof(base) + 32], err[RAP_ERRLEN];
	int hi[RAP_FORKSRV_FDS], i;
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (i = 0; i < RAP_FORKSRV_FDS; i++)
		hi[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, HIGH_FD);
	for (i = 0; i < RAP_FORKSRV_FDS; i++)
		if (hi[i] < 0 || dup2(hi[i], i) != i)
			_exit(RAP_CHILD_EXIT_PREPARE);
	/* Everything else goes: the control socket, the server's log. */
	close_range(RAP_FORKSRV_FDS, ~0U, 0);
	snprintf(dir, sizeof(dir), "%s/%d", base, (int)getpid());
	if (mkdir(dir, 0700) != 0 || virus_engine_tmpdir(dir, err) != RAP_OK) {
		fprintf(stderr, "rap-processor: scratch folder %s: %s\n", dir, strerror(errno));
		_exit(RAP_CHILD_EXIT_PREPARE);
	}
	_exit(child_job_run(&(struct child_job){ .type = server_type,
						 .memory_mb = rq->memory_mb,
						 .cpu_s = rq->cpu_s,
						 .worker = rq->worker,
						 .scratch = dir,
						 .scratch_base = base }));
}

/* Forks the child through an intermediate process, which is reaped
 * before this returns: the child's pid, or a negative errno. */
static pid_t fork_child(const struct rap_forksrv_request *rq, const int fds[RAP_FORKSRV_FDS])
{
	pid_t mid, pid = -EIO;
	int p[2];
	ssize_t n;

	if (pipe2(p, O_CLOEXEC) != 0)
		return -errno;
	mid = fork();
	if (mid < 0) {
		pid = -errno;
		goto out_close;
	}
	if (mid == 0) {
		close(p[0]);
		pid = fork();
		if (pid == 0) {
			close(p[1]);
			child_main(rq, fds);
		}
		if (pid < 0)
			pid = -errno;
		n = write(p[1], &pid, sizeof(pid));
		_exit(n == (ssize_t)sizeof(pid) ? 0 : 1);
	}
	close(p[1]);
	p[1] = -1;
	do
		n = read(p[0], &pid, sizeof(pid));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(pid))
		pid = -EIO;
	while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
		;
out_close:
	close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	return pid;
}

/* One request: 1 served (or refused), 0 the worker closed the socket. */
static int serve_one(void)
{
	struct rap_forksrv_request rq = { 0 };
	struct rap_forksrv_reply rep = { .magic = RAP_FORKSRV_MAGIC, .pid = -EPROTO };
	char cbuf[CMSG_SPACE(sizeof(int) * RAP_FORKSRV_FDS)];
	struct iovec iov = { .iov_base = &rq, .iov_len = sizeof(rq) };
	struct msghdr m = { .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	int fds[RAP_FORKSRV_FDS], nfds = 0;
	struct cmsghdr *c;
	ssize_t n;

	memset(cbuf, 0, sizeof(cbuf));
	do
		n = recvmsg(CTL_FD, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return 0;
	c = CMSG_FIRSTHDR(&m);
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
		nfds = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		memcpy(fds, CMSG_DATA(c),
		       sizeof(int) * (size_t)(nfds < RAP_FORKSRV_FDS ? nfds : RAP_FORKSRV_FDS));
	}
	if (n == (ssize_t)sizeof(rq) && rq.magic == RAP_FORKSRV_MAGIC && rq.worker > 0 &&
	    nfds == RAP_FORKSRV_FDS && !(m.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		sweep();
		rep.pid = fork_child(&rq, fds);
	}
	for (int i = 0; i < nfds && i < RAP_FORKSRV_FDS; i++)
		close(fds[i]);
	if (rep.pid < 0)
		rap_log(RAP_LOG_ERROR, NULL, "fork server: a request failed: %s",
			strerror((int)-rep.pid));
	if (send(CTL_FD, &rep, sizeof(rep), MSG_NOSIGNAL) != (ssize_t)sizeof(rep))
		return 0;
	return 1;
}

/* No new privileges, no core, no ptrace by the same user, at most 64
 * descriptors, and the deny-list filter (confine_server): no socket, no
 * exec, no ptrace, no mount. */
static int harden(char *err)
{
	struct rlimit none = { 0, 0 }, files = { SERVER_NOFILE, SERVER_NOFILE };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 || setrlimit(RLIMIT_CORE, &none) != 0 ||
	    setrlimit(RLIMIT_NOFILE, &files) != 0) {
		snprintf(err, RAP_ERRLEN, "prctl/setrlimit: %s", strerror(errno));
		return RAP_EIO;
	}
	return confine_server(err);
}

int server_main(const char *type, const char *db, const char *tmp)
{
	struct json_object *o = json_object_new_object();
	char err[RAP_ERRLEN];
	long long ms = 0;
	unsigned served = 0;

	rap_log_init("rap-processor", "info");
	server_type = type;
	/* Local time is UTC, settled before any child (as child.c does). */
	setenv("TZ", "UTC0", 1);
	tzset();
	snprintf(base, sizeof(base), "%s/rap-scan.XXXXXX", tmp);
	if (strcmp(type, "virus.scan") != 0)
		snprintf(err, sizeof(err), "no fork server for the type '%s'", type);
	else if (!mkdtemp(base))
		snprintf(err, sizeof(err), "scratch folder %.160s: %s", base, strerror(errno));
	else if (load(db, &ms, err) == RAP_OK && harden(err) == RAP_OK)
		err[0] = '\0';
	if (err[0]) {
		json_object_object_add(o, "error", json_object_new_string(err));
		send_json(o);
		rmdir(base);
		return RAP_CHILD_EXIT_PREPARE;
	}
	json_object_object_add(o, "signatures", json_object_new_int64(virus_engine_signatures()));
	json_object_object_add(o, "version", json_object_new_string(virus_engine_version()));
	json_object_object_add(o, "load_ms", json_object_new_int64(ms));
	send_json(o);
	rap_log(RAP_LOG_INFO, NULL,
		"fork server: %u signatures of %s loaded in %lld ms; scratch folders in %s",
		virus_engine_signatures(), db, ms, base);
	while (serve_one())
		served++;
	sweep();
	rmdir(base);
	rap_log(RAP_LOG_INFO, NULL, "fork server: its worker closed the socket after %u scans",
		served);
	virus_engine_free();
	return RAP_CHILD_EXIT_OK;
}
