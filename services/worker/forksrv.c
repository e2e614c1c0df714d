/*
 * forksrv.c: the worker's side of the fork server (sandbox.h; protocol in
 * rap/forksrv.h; docs/sandbox.md, "The fork server").
 *
 * The worker starts `rap-processor --server --type T --db DIR --tmp DIR`
 * with spawn.c (empty environment, PR_SET_PDEATHSIG: it dies with the
 * worker) and fds 0 (its end of a SOCK_SEQPACKET pair) and 1, 2 (the
 * worker's log).  Its READY message says the engine is loaded; until then
 * nothing is asked of it (the wait is bounded by ready_timeout_ms).  Each
 * job then costs one request: the child's four descriptors go over the
 * socket, the child's pid comes back once the server reaped the process
 * between them, so the child is already the worker's (a child subreaper:
 * main.c sets it).  The rest of the job is sandbox.c's, unchanged.
 *
 * A server that died (or answers nothing, or nonsense) is killed and
 * reaped; the request fails (the job is retried) and the next request
 * starts a new server: at once the first time, then after a backoff that
 * doubles to a minute while starts keep failing.  Children already forked
 * do not need the server: they run on.
 */
#include "sandbox.h"

#include "rap/clock.h"
#include "rap/forksrv.h"
#include "rap/log.h"
#include "rap/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define REPLY_TIMEOUT_MS 10000 /* a fork, a fork, an exit and a wait */
#define STOP_TIMEOUT_MS 5000
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 60000

/* The metrics are the worker's; a unit test has none. */
static void count(struct rap_metric *m, long long n, bool set)
{
	if (m && set)
		rap_metric_set(m, n);
	else if (m)
		rap_metric_inc(m, n);
}

void forksrv_init(struct forksrv *f, const char *processor, const char *type, const char *db,
		  const char *tmp)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
	f->processor = processor;
	f->type = type;
	f->db = db;
	f->tmp = tmp;
	f->pid = -1;
	f->sock = -1;
	f->backoff_ms = BACKOFF_FIRST_MS;
	f->ready_timeout_ms = 300000; /* ClamAV's full database: tens of seconds */
}

/* Waits for the server to end, at most ms, through a pidfd; then kills it.
 * Reaps it either way. */
static void reap_server(struct forksrv *f, int ms)
{
	int pfd = (int)syscall(SYS_pidfd_open, f->pid, 0), status = 0;
	struct pollfd p = { .fd = pfd, .events = POLLIN };

	if (pfd < 0 || poll(&p, 1, ms) <= 0)
		kill(f->pid, SIGKILL);
	if (pfd >= 0)
		close(pfd);
	while (waitpid(f->pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(status))
		rap_log(RAP_LOG_WARN, NULL, "fork server %d (%s) ended by signal %d", (int)f->pid,
			f->type, WTERMSIG(status));
	f->pid = -1;
}

/* The server is no more use: killed, reaped, its socket closed. */
static void server_down(struct forksrv *f, const char *why)
{
	snprintf(f->err, sizeof(f->err), "the %s fork server failed: %.180s", f->type, why);
	rap_log(RAP_LOG_ERROR, NULL, "%s; it is started again for the next job", f->err);
	if (f->sock >= 0)
		close(f->sock);
	f->sock = -1;
	if (f->pid > 0) {
		kill(f->pid, SIGKILL);
		reap_server(f, 0);
	}
	count(f->restarts, 1, false);
}

/* Waits up to ms for a message on the socket: its length, or -1 with
 * why (timeout, the server gone). */
static ssize_t recv_timed(int sock, void *buf, size_t len, int ms, char *why)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	int64_t end = rap_now_ms() + ms;
	ssize_t n;
	int r;

	for (;;) {
		r = poll(&p, 1, (int)(end - rap_now_ms() > 0 ? end - rap_now_ms() : 0));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(why, RAP_ERRLEN, "no answer within %d ms", ms);
			return -1;
		}
		n = recv(sock, buf, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			snprintf(why, RAP_ERRLEN, "it closed its socket (it died)");
		return n > 0 ? n : -1;
	}
}

/* READY: the engine's figures, or the server's own reason. */
static int read_ready(struct forksrv *f, char *err)
{
	char buf[RAP_FORKSRV_READY_MAX + 1], why[RAP_ERRLEN];
	struct json_object *o, *v;
	ssize_t n = recv_timed(f->sock, buf, sizeof(buf) - 1, f->ready_timeout_ms, why);
	int result = RAP_EIO;

	if (n < 0) {
		snprintf(err, RAP_ERRLEN, "the %s fork server did not start: %.180s", f->type, why);
		return RAP_EIO;
	}
	buf[n] = '\0';
	o = json_tokener_parse(buf);
	if (json_object_object_get_ex(o, "error", &v))
		snprintf(err, RAP_ERRLEN, "the %s fork server did not start: %s", f->type,
			 json_object_get_string(v));
	else if (!json_object_object_get_ex(o, "signatures", &v))
		snprintf(err, RAP_ERRLEN, "the %s fork server said: %.200s", f->type, buf);
	else {
		f->signatures = json_object_get_int64(v);
		f->load_ms = json_object_object_get_ex(o, "load_ms", &v) ? json_object_get_int64(v)
									 : -1;
		result = RAP_OK;
	}
	json_object_put(o);
	return result;
}

int forksrv_start(struct forksrv *f, char *err)
{
	char *argv[] = { (char *)f->processor,
			 "--server",
			 "--type",
			 (char *)f->type,
			 "--db",
			 (char *)f->db,
			 "--tmp",
			 (char *)f->tmp,
			 NULL };
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		snprintf(err, RAP_ERRLEN, "socketpair: %s", strerror(errno));
		return RAP_EIO;
	}
	if (sandbox_spawn_fds(f->processor, argv,
			      (const int[3]){ sv[1], STDERR_FILENO, STDERR_FILENO }, 3, &f->pid,
			      err) != RAP_OK) {
		close(sv[0]);
		close(sv[1]);
		return RAP_EIO;
	}
	close(sv[1]);
	f->sock = sv[0];
	if (read_ready(f, err) != RAP_OK) {
		/* It exits on its own after its reason; killed if it does not. */
		close(f->sock);
		f->sock = -1;
		reap_server(f, STOP_TIMEOUT_MS);
		return RAP_EIO;
	}
	f->backoff_ms = BACKOFF_FIRST_MS;
	f->retry_at_ms = 0;
	count(f->loads, 1, false);
	count(f->signatures_gauge, f->signatures, true);
	rap_log(RAP_LOG_INFO, NULL,
		"fork server %d for %s: engine loaded once, %lld signatures of %s in %lld ms",
		(int)f->pid, f->type, f->signatures, f->db, f->load_ms);
	return RAP_OK;
}

/* A running server, started again if it died (not before retry_at_ms). */
static int ensure_running(struct forksrv *f, char *err)
{
	if (f->sock >= 0)
		return RAP_OK;
	if (rap_now_ms() < f->retry_at_ms) {
		snprintf(err, RAP_ERRLEN, "%.200s (next start in %lld ms)",
			 f->err[0] ? f->err : "the fork server is down",
			 (long long)(f->retry_at_ms - rap_now_ms()));
		return RAP_EIO;
	}
	if (forksrv_start(f, err) == RAP_OK)
		return RAP_OK;
	snprintf(f->err, sizeof(f->err), "%s", err);
	f->retry_at_ms = rap_now_ms() + f->backoff_ms;
	f->backoff_ms = f->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : f->backoff_ms * 2;
	rap_log(RAP_LOG_ERROR, NULL, "%s", err);
	return RAP_EIO;
}

/* One request and its answer: the child's pid, or -1 with err. */
static pid_t request(struct forksrv *f, const int fds[RAP_FORKSRV_FDS], long long memory_mb,
		     long long cpu_s, char *err)
{
	struct rap_forksrv_request rq = { .magic = RAP_FORKSRV_MAGIC,
					  .worker = (int32_t)getpid(),
					  .memory_mb = memory_mb,
					  .cpu_s = cpu_s };
	struct rap_forksrv_reply rep;
	char cbuf[CMSG_SPACE(sizeof(int) * RAP_FORKSRV_FDS)], why[RAP_ERRLEN];
	struct iovec iov = { .iov_base = &rq, .iov_len = sizeof(rq) };
	struct msghdr m = { .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	ssize_t n;

	memset(cbuf, 0, sizeof(cbuf));
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * RAP_FORKSRV_FDS);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * RAP_FORKSRV_FDS);
	do
		n = sendmsg(f->sock, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(rq)) {
		snprintf(why, sizeof(why), "sendmsg: %s", strerror(errno));
		goto out_down;
	}
	n = recv_timed(f->sock, &rep, sizeof(rep), REPLY_TIMEOUT_MS, why);
	if (n < 0)
		goto out_down;
	if (n != (ssize_t)sizeof(rep) || rep.magic != RAP_FORKSRV_MAGIC) {
		snprintf(why, sizeof(why), "a reply that is not one");
		goto out_down;
	}
	if (rep.pid <= 0) {
		/* The server lives; it could not fork this one. */
		snprintf(err, RAP_ERRLEN, "the %s fork server could not fork: %s", f->type,
			 strerror(-rep.pid));
		return -1;
	}
	return rep.pid;

out_down:
	server_down(f, why);
	snprintf(err, RAP_ERRLEN, "%s", f->err);
	return -1;
}

struct server_launch {
	struct forksrv *f;
	long long memory_mb, cpu_s;
};

static int launch_by_server(void *ctx, const int fds[4], pid_t *pid, char *err)
{
	struct server_launch *l = ctx;

	pthread_mutex_lock(&l->f->lock);
	*pid = ensure_running(l->f, err) == RAP_OK ? request(l->f, fds, l->memory_mb, l->cpu_s, err)
						   : -1;
	pthread_mutex_unlock(&l->f->lock);
	return *pid < 0 ? RAP_EIO : RAP_OK;
}

int forksrv_spawn(struct forksrv *f, int in_fd, long long memory_mb, long long cpu_s,
		  struct child *ch, char *err)
{
	struct server_launch l = { f, memory_mb, cpu_s };

	return sandbox_child_start(in_fd, ch, launch_by_server, &l, err);
}

void forksrv_stop(struct forksrv *f)
{
	pthread_mutex_lock(&f->lock);
	if (f->sock >= 0)
		close(f->sock);
	f->sock = -1;
	if (f->pid > 0)
		reap_server(f, STOP_TIMEOUT_MS);
	pthread_mutex_unlock(&f->lock);
}
