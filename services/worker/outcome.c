/*
 * outcome.c: what became of a sandboxed child, from what the supervisor
 * saw (docs/sandbox.md, "Outcomes").  Pure: a wait status, the reason the
 * worker killed it if it did, the frames it sent, its CPU time.  The order
 * of the tests is the order of precedence: the worker's own reasons first
 * (it knows why it killed), then how the child ended, then what it said.
 */
#include "sandbox.h"

#include "rap/frame.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

const char *sandbox_signal_name(int sig, char *buf, size_t len)
{
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev)
		snprintf(buf, len, "SIG%s", abbrev);
	else
		snprintf(buf, len, "signal %d", sig);
	return buf;
}

/* The worker killed it: its reason is the outcome. */
static enum worker_sandbox_outcome by_kill(const struct sandbox_end *e, char *err)
{
	switch (e->kill) {
	case KILL_CANCEL:
	case KILL_STOP:
		return SBX_CANCELLED;
	case KILL_TRANSIENT:
		snprintf(err, RAP_ERRLEN, "%s", e->kill_detail ? e->kill_detail : "storage failed");
		return SBX_TRANSIENT;
	case KILL_WALL:
		snprintf(err, RAP_ERRLEN,
			 "time_limit: wall time over %lld s; the processor was killed", e->wall_s);
		return SBX_TIME_LIMIT;
	case KILL_MEMORY:
		snprintf(err, RAP_ERRLEN,
			 "memory_limit: resident memory over %lld MiB; the processor was killed",
			 e->memory_mb);
		return SBX_MEMORY_LIMIT;
	case KILL_OUTPUT:
		snprintf(err, RAP_ERRLEN,
			 "output_limit: outputs over %lld MiB; the processor was killed",
			 e->output_mb);
		return SBX_OUTPUT_LIMIT;
	case KILL_PROTOCOL:
	default:
		snprintf(err, RAP_ERRLEN, "processor_crashed: it broke the frame protocol (%s)",
			 e->kill_detail ? e->kill_detail : "bad frame");
		return SBX_CRASHED;
	}
}

/* It died of a signal the worker did not send. */
static enum worker_sandbox_outcome by_signal(const struct sandbox_end *e, int sig, char *err)
{
	char name[32];

	if (sig == SIGXCPU ||
	    (sig == SIGKILL && e->cpu_limit_s > 0 && e->cpu_s >= e->cpu_limit_s)) {
		snprintf(err, RAP_ERRLEN, "time_limit: CPU time over %lld s (%s)", e->cpu_limit_s,
			 sandbox_signal_name(sig, name, sizeof(name)));
		return SBX_TIME_LIMIT;
	}
	if (sig == SIGSYS) {
		if (e->violation >= 0)
			snprintf(
				err, RAP_ERRLEN,
				"sandbox_violation: the processor made a forbidden system call, %s (%ld)",
				e->violation_name ? e->violation_name : "unknown", e->violation);
		else
			snprintf(err, RAP_ERRLEN,
				 "sandbox_violation: the processor made a forbidden system call");
		return SBX_VIOLATION;
	}
	if (sig == SIGKILL)
		snprintf(err, RAP_ERRLEN,
			 "processor_crashed: killed by SIGKILL, not by the worker (the kernel's"
			 " out-of-memory killer?)");
	else
		snprintf(err, RAP_ERRLEN, "processor_crashed: killed by %s",
			 sandbox_signal_name(sig, name, sizeof(name)));
	return SBX_CRASHED;
}

/* It exited: with its outcome frame, out of memory, or without one. */
static enum worker_sandbox_outcome by_exit(const struct sandbox_end *e, int code, char *err)
{
	if (code == RAP_CHILD_EXIT_OOM) {
		snprintf(err, RAP_ERRLEN, "memory_limit: %s",
			 e->fail_message ? e->fail_message : "out of memory");
		return SBX_MEMORY_LIMIT;
	}
	if (code == RAP_CHILD_EXIT_USAGE || code == RAP_CHILD_EXIT_PREPARE ||
	    code == RAP_CHILD_EXIT_WORKER) {
		/* Not the input's fault: the worker's setup (its log says more). */
		snprintf(err, RAP_ERRLEN, "the processor could not start (exit %d)", code);
		return SBX_TRANSIENT;
	}
	if (code == RAP_CHILD_EXIT_OK && e->fail_code) {
		snprintf(err, RAP_ERRLEN, "%s: %s", e->fail_code,
			 e->fail_message ? e->fail_message : "");
		return SBX_FAILED;
	}
	if (code == RAP_CHILD_EXIT_OK && e->result)
		return SBX_COMPLETED;
	snprintf(err, RAP_ERRLEN, "processor_crashed: it exited with status %d without a result",
		 code);
	return SBX_CRASHED;
}

enum worker_sandbox_outcome sandbox_classify(const struct sandbox_end *e, char *err)
{
	if (e->kill != KILL_NONE)
		return by_kill(e, err);
	/* The input broke off under it (S3): whatever it concluded came from
	 * part of the input, so the attempt is retried; a missing object or
	 * one over the limit is the input's own fault. */
	if (e->input_result == RAP_ENOENT) {
		snprintf(err, RAP_ERRLEN, "input_missing: %s", e->input_err ? e->input_err : "");
		return SBX_FAILED;
	}
	if (e->input_result == RAP_ETOOBIG) {
		snprintf(err, RAP_ERRLEN, "too_large: %s", e->input_err ? e->input_err : "");
		return SBX_FAILED;
	}
	if (e->input_result != RAP_OK && e->input_result != RAP_ECANCELED) {
		snprintf(err, RAP_ERRLEN, "reading the input: %s",
			 e->input_err ? e->input_err : "");
		return SBX_TRANSIENT;
	}
	if (WIFSIGNALED(e->status))
		return by_signal(e, WTERMSIG(e->status), err);
	return by_exit(e, WIFEXITED(e->status) ? WEXITSTATUS(e->status) : -1, err);
}
