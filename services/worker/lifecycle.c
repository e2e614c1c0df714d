/*
 * lifecycle.c: the life of one job in the worker, from the delivery of its
 * message to its settling: the claim (a conditional UPDATE that takes a
 * lease), the run of its processor, and the outcome recorded before the
 * message is acked: COMPLETED, FAILED, RETRYING (re-published to a TTL
 * retry tier, with a confirm, before the ack), DEAD (dead-lettered), or
 * handed back to the queue on shutdown.  A message that can never be
 * processed (poison) is rejected without requeue, so RabbitMQ
 * dead-letters it, and its job becomes DEAD.  A long job's delivery may
 * have been acked early (delivery.c): then each outcome that needs a new
 * message puts it in the outbox in the same statement as the job's move.
 */
#include "worker.h"

#include "rap/amqp.h"
#include "rap/err.h"
#include "rap/jobstore.h"
#include "rap/log.h"
#include "rap/metrics.h"
#include "rap/clock.h"
#include "rap/jobmsg.h"
#include "rap/list.h"
#include "rap/random.h"
#include "rap/stop.h"

#include <stdio.h>
#include <stdlib.h>

static void retry_later(struct worker *w, struct delivery *d, const struct rap_jobmsg *jm,
			int attempt, const char *why);

/* Dead-letters a message that can never be processed (poison). */
static void poison(struct worker *w, struct rap_amqp_msg *m, const char *job_id, const char *why)
{
	struct rap_log_ctx ctx = { .request_id = m->request_id,
				   .job_id = job_id,
				   .action = "dead-letter" };
	char err[RAP_ERRLEN];

	rap_log(RAP_LOG_WARN, &ctx, "poison message dead-lettered: %s", why);
	if (job_id && rap_job_bury(w->db, job_id, why, err) != RAP_OK)
		rap_log(RAP_LOG_WARN, &ctx, "could not mark the job DEAD: %s", err);
	rap_metric_inc(w->dead_lettered, 1);
	rap_amqp_reject(w->amqp, m->delivery_tag, false);
}

/* SIGTERM: give the job back rather than make shutdown wait. */
static void hand_back(struct worker *w, struct delivery *d, const struct rap_jobmsg *jm,
		      const struct rap_log_ctx *ctx)
{
	char err[RAP_ERRLEN];
	int result;

	/* An acked delivery cannot be requeued: a new message goes out with
	 * the job's move instead. */
	if (d->acked)
		result = rap_job_handback_requeue(w->db, jm->job_id, w->id, err);
	else
		result = rap_job_handback(w->db, jm->job_id, w->id, err);
	if (result == RAP_OK)
		rap_log(RAP_LOG_INFO, ctx, "shutting down: job handed back to the queue");
	else
		rap_log(RAP_LOG_WARN, ctx, "shutting down, hand-back failed: %s", err);
	delivery_requeue(w, d);
}

/*
 * Records the outcome of a processor run (result from its run function,
 * with its result_json, which this frees) and settles the delivery: acked,
 * requeued, or dead-lettered.
 */
void worker_finish(struct worker *w, struct delivery *d, const struct rap_jobmsg *jm, int attempt,
		   int max_attempts, int result, char *result_json, char *err)
{
	struct rap_log_ctx ctx = { .request_id = d->m->request_id,
				   .job_id = jm->job_id,
				   .action = jm->type };
	char err2[RAP_ERRLEN];

	if (result == RAP_OK) {
		result = rap_job_complete(w->db, jm->job_id, w->id, result_json, err2);
		free(result_json);
		if (result == RAP_OK || result == RAP_ECONFLICT) {
			rap_log(RAP_LOG_INFO, &ctx,
				result == RAP_OK
					? "completed"
					: "finished, but the lease was lost: result dropped");
			rap_metric_inc(w->completed, result == RAP_OK);
			worker_observe_run(w, jm->type,
					   result == RAP_OK ? WORKER_COMPLETED : WORKER_CANCELLED,
					   d->run_started_us);
			delivery_ack(w, d);
			return;
		}
		snprintf(err, RAP_ERRLEN, "recording the result: %.200s", err2);
	}
	if (result == RAP_ECANCELED && rap_stopping()) {
		hand_back(w, d, jm, &ctx);
		return;
	}
	if (result == RAP_ECANCELED) {
		rap_log(RAP_LOG_INFO, &ctx, "stopped: the job was cancelled or taken over");
		worker_observe_run(w, jm->type, WORKER_CANCELLED, d->run_started_us);
		delivery_ack(w, d);
		return;
	}
	if (result == RAP_EINVAL || result == RAP_ENOENT) {
		rap_log(RAP_LOG_WARN, &ctx, "failed permanently: %s", err);
		rap_job_fail(w->db, jm->job_id, w->id, "FAILED", err, err2);
		rap_metric_inc(w->failed, 1);
		worker_observe_run(w, jm->type, WORKER_FAILED, d->run_started_us);
		delivery_ack(w, d);
		return;
	}
	if (attempt >= max_attempts) {
		rap_log(RAP_LOG_WARN, &ctx, "attempts exhausted: %s", err);
		rap_job_fail(w->db, jm->job_id, w->id, "DEAD", err, err2);
		rap_metric_inc(w->dead_lettered, 1);
		worker_observe_run(w, jm->type, WORKER_DEAD, d->run_started_us);
		/* An acked delivery has no message left for the DLQ; the job is
		 * DEAD in PostgreSQL all the same, and replayable. */
		delivery_dead_letter(w, d);
		return;
	}
	worker_observe_run(w, jm->type, WORKER_RETRYING, d->run_started_us);
	retry_later(w, d, jm, attempt, err);
}

/* Runs a claimed job and records its outcome. */
static void run_claimed(struct worker *w, struct delivery *d, const struct rap_jobmsg *jm,
			const struct rap_job_claim *claim)
{
	struct rap_log_ctx ctx = { .request_id = d->m->request_id,
				   .job_id = jm->job_id,
				   .action = jm->type };
	const struct rap_jobtype *t = rap_jobtype_find(jm->type);
	struct job_run run = { .w = w,
			       .msg = jm,
			       .type = t,
			       .dlv = d,
			       .attempt = claim->attempt,
			       .params = claim->params ? claim->params : "{}",
			       .rows = -1 };
	char err[RAP_ERRLEN] = "", *result_json = NULL;
	int result;

	run.started_ms = run.last_beat_ms = rap_now_ms();
	d->run_started_us = rap_now_us();
	worker_observe_queued(w, jm->type, claim->queued_s);
	rap_metric_inc(w->busy, 1);
	/* A sandboxed job notices a cancel within a quarter second. */
	run.beat_ms = t->runner == RAP_RUN_SANDBOX ? 250 : 1000;
	rap_log(RAP_LOG_INFO, &ctx, "processing attempt %d of %d", claim->attempt,
		claim->max_attempts);
	result = worker_scan_first_applies(w, t) ? worker_scan_first(&run, err) : RAP_OK;
	if (result == RAP_OK)
		result = worker_runner(t)(&run, &result_json, err);
	worker_finish(w, d, jm, claim->attempt, claim->max_attempts, result, result_json, err);
	rap_metric_inc(w->busy, -1);
}

int worker_retry_delay(int attempt)
{
	static const int tiers[] = { 1, 2, 4, 8, 16, 32, 64, 128, 256 };
	int i = attempt - 1;
	unsigned char r = 0;

	if (i < 0)
		i = 0;
	if (i > 8)
		i = 8;
	/* Jitter: half the time the next tier up, so retries spread out. */
	rap_random(&r, 1);
	if ((r & 1) && i < 8)
		i++;
	return tiers[i];
}

/*
 * Transient failure with attempts left: RETRYING first (so a crash from here
 * on leaves a claimable job and an unacked message), then the message goes
 * to the TTL retry tier with a confirm, and only then is the delivery acked.
 * The tier queue dead-letters it back into `jobs` when its TTL expires.
 */
static void retry_later(struct worker *w, struct delivery *d, const struct rap_jobmsg *jm,
			int attempt, const char *why)
{
	struct rap_amqp_msg *m = d->m;
	struct rap_log_ctx ctx = { .request_id = m->request_id,
				   .job_id = jm->job_id,
				   .action = "retry" };
	char err[RAP_ERRLEN], detail[RAP_ERRLEN], delay[12], traceparent[RAP_TRACEPARENT_LEN];
	/* The retry keeps the trace: its parent is this run's span. */
	const char *hdrs[5] = { "x-retry-delay-s", delay, "traceparent", traceparent, NULL };
	unsigned nacked;
	int d_s = worker_retry_delay(attempt);

	if (d->acked) {
		/* No delivery to move to a tier: RETRYING and a new message in
		 * one statement; if it fails the lease lapses and the sweeper
		 * re-queues the job. */
		snprintf(detail, sizeof(detail), "retry now: %.200s", why);
		if (rap_job_retry_now(w->db, jm->job_id, w->id, detail, err) != RAP_OK) {
			rap_log(RAP_LOG_WARN, &ctx,
				"could not mark RETRYING (%s): the lease decides", err);
			return;
		}
		rap_log(RAP_LOG_INFO, &ctx, "attempt %d failed, retrying now: %s", attempt, why);
		rap_metric_inc(w->retried, 1);
		return;
	}
	snprintf(delay, sizeof(delay), "%d", d_s);
	if (rap_log_trace())
		rap_trace_format(rap_log_trace(), traceparent);
	else
		hdrs[2] = NULL;
	snprintf(detail, sizeof(detail), "retry in %d s: %.200s", d_s, why);
	if (rap_job_retry(w->db, jm->job_id, w->id, detail, err) != RAP_OK) {
		rap_log(RAP_LOG_WARN, &ctx, "could not mark RETRYING (%s): requeued", err);
		delivery_requeue(w, d);
		return;
	}
	if (rap_amqp_publish(w->pub, "jobs.retry", jm->type, m->body, m->len,
			     m->message_id[0] ? m->message_id : NULL, m->request_id, false,
			     hdrs) != RAP_OK ||
	    rap_amqp_wait_confirms(w->pub, 10000, NULL, NULL, &nacked) != RAP_OK) {
		/* The job is RETRYING: the redelivered message claims it. */
		rap_log(RAP_LOG_WARN, &ctx, "retry publish failed (%s): requeued",
			rap_amqp_errmsg(w->pub));
		delivery_requeue(w, d);
		return;
	}
	rap_log(RAP_LOG_INFO, &ctx, "attempt %d failed, retrying in %d s: %s", attempt, d_s, why);
	rap_metric_inc(w->retried, 1);
	delivery_ack(w, d);
}

static void handle(struct worker *w, struct rap_amqp_msg *m)
{
	struct rap_log_ctx ctx = { .request_id = m->request_id };
	struct delivery d = { .m = m };
	struct rap_job_claim claim;
	struct rap_jobmsg jm;
	char err[RAP_ERRLEN];
	int result;

	result = rap_jobmsg_decode(m->body, m->len, &jm, err);
	if (result != RAP_OK) {
		poison(w, m, jm.job_id[0] ? jm.job_id : NULL, err);
		return;
	}
	ctx.job_id = jm.job_id;
	if (!worker_runner(rap_jobtype_find(jm.type)) ||
	    !rap_list_contains(w->svc.cfg.job_types, jm.type)) {
		snprintf(err, sizeof(err), "no processor for job type '%s'", jm.type);
		poison(w, m, jm.job_id, err);
		return;
	}
	result = rap_job_claim(w->db, jm.job_id, w->id, (int)w->cfg.lease_seconds, m->redelivered,
			       &claim, err);
	switch (result) {
	case RAP_OK:
		run_claimed(w, &d, &jm, &claim);
		rap_job_claim_cleanup(&claim);
		return;
	case RAP_ENOENT:
		poison(w, m, NULL, err);
		return;
	case RAP_ECONFLICT:
		if (claim.exhausted) {
			/* Every attempt died with its worker: a poison message. */
			poison(w, m, NULL, err);
			return;
		}
		/* A duplicate delivery of a finished job: its effect is done. */
		rap_log(RAP_LOG_INFO, &ctx, "duplicate delivery skipped (%s)", err);
		rap_metric_inc(w->duplicates, 1);
		rap_amqp_ack(w->amqp, m->delivery_tag);
		return;
	case RAP_AGAIN:
		/*
		 * Another worker holds a live lease: this copy is a duplicate.
		 * If that worker dies, the lease expires and the sweeper
		 * re-queues the job, so dropping this copy loses nothing.
		 */
		rap_log(RAP_LOG_INFO, &ctx, "duplicate delivery skipped (%s)", err);
		rap_metric_inc(w->duplicates, 1);
		rap_amqp_ack(w->amqp, m->delivery_tag);
		return;
	default:
		rap_log(RAP_LOG_WARN, &ctx, "claim failed, requeued: %s", err);
		rap_amqp_reject(w->amqp, m->delivery_tag, true);
		return;
	}
}

void worker_handle(struct worker *w, struct rap_amqp_msg *m)
{
	struct rap_trace trace;

	/* Every line logged for this delivery, the sandboxed processor's
	 * included (sandbox.c logs them), carries the job's trace id with a
	 * span of this run's own; a message without a valid traceparent (from
	 * before issue 16) starts a trace. */
	rap_trace_continue(m->traceparent, &trace);
	rap_log_set_trace(&trace);
	handle(w, m);
	rap_log_set_trace(NULL);
}
