/*
 * sandbox.c: the worker as the supervisor of a sandboxed job
 * (docs/sandbox.md).  For a type whose runner is RAP_RUN_SANDBOX, the
 * worker starts a rap-processor child (spawn.c), sends it START, feeds it
 * the input from S3 (input.c and feeder.c: a pipe, or a scratch file
 * downloaded first for RAP_INPUT_FILE types), and reads its frames:
 * progress, row errors (rowerrs.c), outputs (outputs.c), then RESULT or
 * FAIL.  What became of the child is outcome.c's to say, the result
 * result.c's to build.
 *
 * The model: one poll loop on the main thread, ticking at least every
 * SBX_TICK_MS, over the child's frames (fd 1), its log lines (fd 2) and the
 * stop flag.  Each tick heartbeats the lease (which also sees a cancel,
 * acks a long job's delivery early and records progress), and checks the
 * wall-clock limit and the child's resident memory.  The worker kills the
 * child (SIGKILL) on the first of: cancel or take-over, shutdown, wall
 * time, memory over the limit (the RSS watch: the limit in a sanitizer
 * build, where RLIMIT_AS cannot be used, a backstop otherwise), outputs
 * over the limit, a broken frame, or S3 or PostgreSQL failing under it;
 * the first reason is the one that counts.  The loop ends once the child
 * is reaped and both its pipes are at their end; a child that closed its
 * pipes but lives on is still watched and killed at its wall limit.
 *
 * Invariants: the worker never holds the whole input or a whole output in
 * memory (a pipe, 5 MiB output parts); at most one child per worker, and
 * none outlives its job (killed and reaped before worker_sandbox_run
 * returns, and PR_SET_PDEATHSIG if the worker dies); the child's frames
 * are never trusted (each checked, row error text cleaned, output names
 * checked).  Every FAILED outcome is permanent; S3, PostgreSQL or a child
 * that cannot start are transient (RETRYING, as before).
 */
#include "sandbox.h"

#include "rap/clock.h"
#include "rap/frame.h"
#include "rap/json.h"
#include "rap/log.h"
#include "rap/mem.h"
#include "rap/metrics.h"
#include "rap/s3.h"
#include "rap/stop.h"
#include "rap/str.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define READ_CHUNK 65536
#define LOG_LINES_MAX 100 /* of one child; the rest are counted */

/* Kills the child for why (the first reason is kept). */
static void stop_child(struct sbx *s, enum sandbox_kill why, const char *detail)
{
	if (s->kill != KILL_NONE || s->reaped)
		return;
	s->kill = why;
	snprintf(s->kill_detail, sizeof(s->kill_detail), "%s", detail ? detail : "");
	kill(s->ch.pid, SIGKILL);
}

/* What the child sent is refused: the attempt ends for that reason, and
 * the child is killed if it still runs.  Its frames are often read after it
 * has exited and been reaped (a pipe holds them): the reason is kept all the
 * same, or the attempt would end as "exited without a result". */
static void refuse_child(struct sbx *s, enum sandbox_kill why, const char *detail)
{
	if (s->reaped && s->kill == KILL_NONE) {
		s->kill = why;
		snprintf(s->kill_detail, sizeof(s->kill_detail), "%s", detail ? detail : "");
		return;
	}
	stop_child(s, why, detail);
}

/* A cleaned copy of a string the child sent (NULL stays NULL). */
static char *clean(const char *s, size_t max)
{
	char *out;

	if (!s)
		return NULL;
	out = rap_malloc(max + 1);
	rap_utf8_clean(s, strlen(s), out, max + 1);
	return out;
}

static int on_progress(struct sbx *s, const unsigned char *payload, uint32_t len)
{
	struct json_object *o = sbx_json_object(payload, len);
	struct job_run *run = s->run;
	long long bytes;
	char *stage;

	if (!o)
		return RAP_EPROTO;
	stage = clean(sbx_jstr(o, "stage"), sizeof(run->stage) - 1);
	worker_progress(run, stage, sbx_jint(o, "rows", -1));
	free(stage);
	bytes = sbx_jint(o, "bytes", -1);
	if (bytes >= 0 && s->input_size > 0) {
		if (bytes > s->input_size)
			bytes = s->input_size;
		/* A file type's download was the first half of its progress. */
		run->done = (uint64_t)bytes +
			    (run->type->input == RAP_INPUT_FILE ? (uint64_t)s->input_size : 0);
	}
	json_object_put(o);
	return RAP_OK;
}

static int on_output_begin(struct sbx *s, const unsigned char *payload, uint32_t len)
{
	struct json_object *o = sbx_json_object(payload, len);
	const char *name = sbx_jstr(o, "name");
	int result;

	if (!o || !name) {
		json_object_put(o);
		return RAP_EPROTO;
	}
	result = outputs_begin(&s->outs, name, sbx_jstr(o, "content_type"));
	json_object_put(o);
	return result;
}

static int on_end(struct sbx *s, enum rap_frame_type t, const unsigned char *payload, uint32_t len)
{
	struct json_object *o;

	if (t == RAP_FRAME_RESULT) {
		s->result = rap_strndup((const char *)payload, len);
		return RAP_OK;
	}
	o = sbx_json_object(payload, len);
	if (!o || !sbx_jstr(o, "code")) {
		json_object_put(o);
		return RAP_EPROTO;
	}
	s->fail_code = clean(sbx_jstr(o, "code"), 64);
	s->fail_message = clean(sbx_jstr(o, "message") ? sbx_jstr(o, "message") : "", 200);
	json_object_put(o);
	return RAP_OK;
}

/* One whole frame from the child. */
static int on_frame(void *ctx, enum rap_frame_type t, const unsigned char *payload, uint32_t len)
{
	struct sbx *s = ctx;

	if (s->kill != KILL_NONE)
		return RAP_OK; /* it is being killed: drain, believe nothing */
	if (s->result || s->fail_code)
		return RAP_EPROTO; /* nothing may follow the outcome */
	switch (t) {
	case RAP_FRAME_PROGRESS:
		return on_progress(s, payload, len);
	case RAP_FRAME_ROW_ERRORS:
		return rowerrs_add(&s->rows, payload, len);
	case RAP_FRAME_OUTPUT_BEGIN:
		return on_output_begin(s, payload, len);
	case RAP_FRAME_OUTPUT_DATA:
		return outputs_write(&s->outs, payload, len);
	case RAP_FRAME_OUTPUT_END:
		return outputs_end(&s->outs);
	case RAP_FRAME_RESULT:
		if (s->outs.open)
			return RAP_EPROTO;
		return on_end(s, t, payload, len);
	case RAP_FRAME_FAIL:
		/* A processor may find the input bad in the middle of an
		 * output: the open one is abandoned (outputs_cleanup aborts
		 * its upload), the job fails with the child's reason. */
		return on_end(s, t, payload, len);
	default:
		return RAP_EPROTO; /* START never comes from a child */
	}
}

/* Reads what the child wrote on fd 1 and acts on its frames. */
static void read_frames(struct sbx *s)
{
	unsigned char buf[READ_CHUNK];
	ssize_t n = read(s->ch.out_fd, buf, sizeof(buf));
	int result;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		s->out_eof = true;
		return;
	}
	result = rap_frame_feed(&s->dec, buf, (size_t)n, on_frame, s);
	if (result == RAP_OK)
		return;
	if (result == RAP_ETOOBIG)
		refuse_child(s, KILL_OUTPUT, NULL);
	else if (result == RAP_ES3)
		refuse_child(s, KILL_TRANSIENT, s->outs.err);
	else if (result == RAP_EDB)
		refuse_child(s, KILL_TRANSIENT, s->rows.err);
	else
		refuse_child(s, KILL_PROTOCOL,
			     s->outs.err[0]   ? s->outs.err
			     : s->rows.err[0] ? s->rows.err
					      : "bad frame");
}

/* One line of the child's log: to the worker's log, with the job's id. */
static void log_line(struct sbx *s, const char *line)
{
	static const char violation[] = RAP_SANDBOX_VIOLATION_LINE;
	long long nr;

	if (strncmp(line, violation, sizeof(violation) - 1) == 0 &&
	    rap_strtonum(line + sizeof(violation) - 1, 0, 100000, &nr) == RAP_OK)
		s->violation = (long)nr;
	if (s->log_lines++ < LOG_LINES_MAX)
		rap_log(RAP_LOG_WARN, &s->ctx, "rap-processor: %s", line);
}

static void read_log(struct sbx *s)
{
	char buf[4096];
	ssize_t n = read(s->ch.err_fd, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		s->err_eof = true;
		if (s->log_len) {
			s->log[s->log_len] = '\0';
			log_line(s, s->log);
			s->log_len = 0;
		}
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n' || s->log_len == sizeof(s->log) - 1) {
			s->log[s->log_len] = '\0';
			rap_utf8_clean(s->log, s->log_len, s->log, sizeof(s->log));
			log_line(s, s->log);
			s->log_len = 0;
			if (buf[i] == '\n')
				continue;
		}
		s->log[s->log_len++] = buf[i];
	}
}

/* The child's resident memory in MiB, -1 when /proc cannot tell. */
static long long rss_mb(pid_t pid)
{
	char path[64], buf[128];
	long long size, resident;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (sscanf(buf, "%lld %lld", &size, &resident) != 2)
		return -1;
	return resident * sysconf(_SC_PAGESIZE) / (1024 * 1024);
}

/* A tick: the lease (and a cancel), the limits, the input. */
static void watch(struct sbx *s)
{
	long long rss;

	if (worker_heartbeat(s->run) == RAP_ECANCELED)
		stop_child(s, rap_stopping() ? KILL_STOP : KILL_CANCEL, NULL);
	if (rap_now_ms() > s->deadline_ms)
		stop_child(s, KILL_WALL, NULL);
	if (s->lim->memory_mb > 0 && !s->reaped) {
		rss = rss_mb(s->ch.pid);
		if (rss > s->lim->memory_mb)
			stop_child(s, KILL_MEMORY, NULL);
	}
	if (s->feed.started && atomic_load(&s->feed.done) && s->feed.result != RAP_OK &&
	    s->feed.result != RAP_ECANCELED && s->feed.result != RAP_ENOENT &&
	    s->feed.result != RAP_ETOOBIG)
		stop_child(s, KILL_TRANSIENT, s->feed.err);
}

static void reap(struct sbx *s, int flags)
{
	pid_t r;

	if (s->reaped)
		return;
	r = wait4(s->ch.pid, &s->status, flags, &s->ru);
	if (r == s->ch.pid) {
		s->reaped = true;
		rap_metric_inc(s->w->children, -1);
	}
}

/* Supervises the child until it is gone and its pipes are drained. */
static void supervise(struct sbx *s)
{
	struct pollfd p[3];
	int64_t last_watch = 0;

	fcntl(s->ch.out_fd, F_SETFL, O_NONBLOCK);
	fcntl(s->ch.err_fd, F_SETFL, O_NONBLOCK);
	while (!(s->reaped && s->out_eof && s->err_eof)) {
		p[0] = (struct pollfd){ .fd = s->out_eof ? -1 : s->ch.out_fd, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = s->err_eof ? -1 : s->ch.err_fd, .events = POLLIN };
		/* Once it is being killed, a stop has nothing more to say. */
		p[2] = (struct pollfd){ .fd = s->kill == KILL_NONE ? rap_stop_fd() : -1,
					.events = POLLIN };
		poll(p, 3, SBX_TICK_MS);
		if (p[0].revents)
			read_frames(s);
		if (p[1].revents)
			read_log(s);
		reap(s, WNOHANG);
		/* A tick even while frames pour in: the lease, a cancel and
		 * the limits are never left waiting behind a busy child. */
		if (rap_now_ms() - last_watch >= SBX_TICK_MS || p[2].revents) {
			watch(s);
			last_watch = rap_now_ms();
		}
	}
}

/* The START frame: {"type","job_id","params","input_size"}. */
static void send_start(struct sbx *s)
{
	struct rap_buf b;
	unsigned char h[RAP_FRAME_HEADER];
	const char *p;
	size_t left;
	ssize_t n;

	rap_buf_init(&b, RAP_FRAME_MAX);
	rap_buf_appends(&b, "{\"type\":");
	rap_json_quote(&b, s->run->type->name);
	rap_buf_appendf(&b, ",\"job_id\":\"%s\",\"params\":", s->run->msg->job_id);
	rap_buf_appends(&b, s->run->params);
	rap_buf_appendf(&b, ",\"input_size\":%lld}", s->input_size);
	rap_frame_header(h, RAP_FRAME_START, (uint32_t)b.len);
	/* A child that died before reading it is told apart later. */
	if (write(s->ch.start_fd, h, sizeof(h)) == (ssize_t)sizeof(h)) {
		for (p = b.data, left = b.len; left > 0; p += n, left -= (size_t)n) {
			n = write(s->ch.start_fd, p, left);
			if (n < 0 && errno == EINTR) {
				n = 0;
				continue;
			}
			if (n <= 0)
				break;
		}
	}
	close(s->ch.start_fd);
	s->ch.start_fd = -1;
	rap_buf_cleanup(&b);
}

/* Starts the child on in_fd (closed here). */
static int start_child(struct sbx *s, int in_fd, char *err)
{
	char mem[24], cpu[24];
	char *argv[] = { s->w->processor,
			 "--type",
			 (char *)s->run->type->name,
			 "--memory-mb",
			 mem,
			 "--cpu-s",
			 cpu,
			 NULL };
	int result;

	snprintf(mem, sizeof(mem), "%lld", s->lim->memory_mb);
	snprintf(cpu, sizeof(cpu), "%lld", s->lim->cpu_s);
	if (!s->run->type->fork_server)
		result = sandbox_spawn(s->w->processor, argv, in_fd, &s->ch, err);
	else if (s->w->forksrv)
		result = forksrv_spawn(s->w->forksrv, in_fd, s->lim->memory_mb, s->lim->cpu_s,
				       &s->ch, err);
	else {
		snprintf(err, RAP_ERRLEN, "this worker has no fork server for %s",
			 s->run->type->name);
		result = RAP_EIO;
	}
	close(in_fd);
	if (result != RAP_OK)
		return result;
	rap_metric_inc(s->w->children, 1);
	send_start(s);
	return RAP_OK;
}

/* Everything the child left, sorted into the job's outcome. */
static enum worker_sandbox_outcome conclude(struct sbx *s, char **result_json, char *err)
{
	struct sandbox_end e = {
		.status = s->status,
		.kill = s->kill,
		.kill_detail = s->kill_detail,
		.cpu_s = (double)s->ru.ru_utime.tv_sec + (double)s->ru.ru_stime.tv_sec +
			 (double)(s->ru.ru_utime.tv_usec + s->ru.ru_stime.tv_usec) / 1e6,
		.wall_s = s->lim->wall_s,
		.cpu_limit_s = s->lim->cpu_s,
		.memory_mb = s->lim->memory_mb,
		.output_mb = s->lim->output_mb,
		.result = s->result != NULL,
		.fail_code = s->fail_code,
		.fail_message = s->fail_message,
		.violation = s->violation,
		.input_result = s->feed.result,
		.input_err = s->feed.err
	};
	enum worker_sandbox_outcome out;
	char *name = NULL;

	/* Row errors reported before the end are kept whatever the end. */
	if (rowerrs_flush(&s->rows) != RAP_OK && e.kill == KILL_NONE) {
		e.kill = KILL_TRANSIENT;
		e.kill_detail = s->rows.err;
	}
	if (s->violation >= 0)
		e.violation_name = name =
			seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, (int)s->violation);
	out = sandbox_classify(&e, err);
	free(name);
	if (out == SBX_COMPLETED && s->verdict_only) {
		/* A scan before the job's own processor: its result is only
		 * read, never stored. */
		*result_json = s->result;
		s->result = NULL;
	} else if (out == SBX_COMPLETED) {
		*result_json = sbx_result(s, &out, err);
		if (!*result_json && out == SBX_COMPLETED)
			out = SBX_CRASHED;
	}
	return out;
}

static void sbx_cleanup(struct sbx *s)
{
	if (s->ch.pid > 0 && !s->reaped) {
		kill(s->ch.pid, SIGKILL);
		reap(s, 0);
	}
	if (s->ch.out_fd >= 0)
		close(s->ch.out_fd);
	if (s->ch.err_fd >= 0)
		close(s->ch.err_fd);
	if (s->ch.start_fd >= 0)
		close(s->ch.start_fd);
	if (s->feed.fd >= 0)
		close(s->feed.fd);
	rap_frame_decoder_cleanup(&s->dec);
	outputs_cleanup(&s->outs);
	rowerrs_cleanup(&s->rows);
	free(s->result);
	free(s->fail_code);
	free(s->fail_message);
}

/* The job's cap on stored row errors: the worker's, or the job's
 * params.max_errors when lower. */
static long long errors_cap(struct worker *w, const char *params)
{
	struct json_object *o = json_tokener_parse(params);
	long long cap = w->cfg.errors_max, v = sbx_jint(o, "max_errors", -1);

	json_object_put(o);
	return v >= 0 && v < cap ? v : cap;
}

/* Starts, feeds and supervises the child; the outcome's code. */
static enum worker_sandbox_outcome run_child(struct sbx *s, char **result_json, char *err)
{
	int in_fd = -1, result;
	bool feeding;

	result = sbx_input(s, &in_fd, &feeding, err);
	if (result == RAP_EINVAL)
		return SBX_FAILED;
	if (result != RAP_OK && s->kill != KILL_NONE) {
		/* Cancelled, stopping or out of time while it downloaded. */
		struct sandbox_end e = { .kill = s->kill, .wall_s = s->lim->wall_s };

		return sandbox_classify(&e, err);
	}
	if (result != RAP_OK)
		return SBX_TRANSIENT;
	if (start_child(s, in_fd, err) != RAP_OK) {
		if (s->feed.fd >= 0)
			close(s->feed.fd);
		s->feed.fd = -1;
		return SBX_TRANSIENT;
	}
	if (feeding && feeder_start(&s->feed) != RAP_OK) {
		snprintf(err, RAP_ERRLEN, "cannot start the input thread");
		stop_child(s, KILL_TRANSIENT, err);
	}
	supervise(s);
	feeder_join(&s->feed);
	return conclude(s, result_json, err);
}

enum worker_sandbox_outcome sbx_run(struct job_run *run, bool verdict_only, char **result_json,
				    char *err)
{
	struct worker *w = run->w;
	struct sbx s = { .run = run, .w = w, .violation = -1, .verdict_only = verdict_only };
	enum worker_sandbox_outcome out;
	struct rap_s3_cfg s3cfg;
	uint64_t size = 0;

	/* RAP_JOB_LIMITS was checked whole at start: it cannot fail here. */
	rap_jobtype_effective_limits(run->type, w->svc.cfg.job_limits, &s.limits);
	s.lim = &s.limits;

	s.ctx = (struct rap_log_ctx){ .job_id = run->msg->job_id, .action = run->type->name };
	s.ch = (struct child){ .pid = -1, .out_fd = -1, .err_fd = -1, .start_fd = -1 };
	s.feed.fd = -1;
	s.feed.result = RAP_OK;
	s.deadline_ms = run->started_ms + s.lim->wall_s * 1000;
	rap_frame_decoder_init(&s.dec);
	rap_service_s3_cfg(&w->svc, &s3cfg);
	outputs_init(&s.outs, w->s3, &s3cfg, run->msg->job_id, s.lim->output_mb << 20);
	rowerrs_init(&s.rows, w->db, run->msg->job_id, run->attempt, errors_cap(w, run->params));
	/* The size makes START and progress meaningful; unknown is harmless. */
	s.input_size = rap_s3_head(w->s3, run->msg->object_key, &size) == RAP_OK ? (long long)size
										 : -1;
	run->size = size * (run->type->input == RAP_INPUT_FILE ? 2 : 1);
	if (!verdict_only && rap_joberrors_clear(w->db, run->msg->job_id, err) != RAP_OK)
		out = SBX_TRANSIENT;
	else
		out = run_child(&s, result_json, err);
	if (s.reaped)
		rap_log(RAP_LOG_INFO, &s.ctx, "rap-processor used %.2f s of CPU, at most %.1f MiB",
			(double)s.ru.ru_utime.tv_sec + (double)s.ru.ru_utime.tv_usec / 1e6 +
				(double)s.ru.ru_stime.tv_sec + (double)s.ru.ru_stime.tv_usec / 1e6,
			(double)s.ru.ru_maxrss / 1024.0);
	sbx_cleanup(&s);
	rap_metric_inc(w->sandbox[out], 1);
	return out;
}

int worker_sandbox_run(struct job_run *run, char **result_json, char *err)
{
	switch (sbx_run(run, false, result_json, err)) {
	case SBX_COMPLETED:
		/* Progress is recorded at most once a second: the job row keeps
		 * the stage and rows the processor ended with. */
		worker_progress_flush(run);
		return RAP_OK;
	case SBX_CANCELLED:
		return RAP_ECANCELED;
	case SBX_TRANSIENT:
		return RAP_EIO;
	default:
		return RAP_EINVAL; /* permanent: the job FAILS */
	}
}
