/* worker: consumes work messages, claims jobs, runs processors, acks. */
#include "worker.h"

#include "rap/amqp.h"
#include "rap/err.h"
#include "rap/http.h"
#include "rap/jobstore.h"
#include "rap/log.h"
#include "rap/metrics.h"
#include "rap/mem.h"
#include "rap/pg.h"
#include "rap/s3.h"
#include "rap/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WORK_QUEUE "jobs.work"

int worker_heartbeat(struct job_run *run)
{
	struct worker *w = run->w;
	int lease = (int)w->svc.cfg.lease_seconds;
	char err[RAP_ERRLEN];
	int64_t now = rap_now_ms();
	int result;

	if (rap_stop)
		return RAP_ECANCELED; /* shutting down: hand the job back */

	/* Once a second: it also notices a cancel within a second. */
	if (now - run->last_beat_ms < 1000)
		return RAP_OK;
	run->last_beat_ms = now;
	result = rap_job_heartbeat(w->db, run->msg->job_id, w->id, lease,
				   run->size ? (double)run->done / (double)run->size : 0, err);
	if (result == RAP_ECONFLICT)
		return RAP_ECANCELED;
	return RAP_OK; /* a failed heartbeat is not fatal; the lease decides */
}

/* Dead-letters a message that can never be processed (poison). */
static void poison(struct worker *w, struct rap_amqp_msg *m, const char *job_id,
		   const char *why)
{
	struct rap_log_ctx ctx = { .request_id = m->request_id, .job_id = job_id,
				   .action = "dead-letter" };
	char err[RAP_ERRLEN];

	rap_log(RAP_LOG_WARN, &ctx, "poison message dead-lettered: %s", why);
	if (job_id && rap_job_bury(w->db, job_id, why, err) != RAP_OK)
		rap_log(RAP_LOG_WARN, &ctx, "could not mark the job DEAD: %s", err);
	rap_metric_inc(w->dead_lettered, 1);
	rap_amqp_reject(w->amqp, m->delivery_tag, false);
}

static void retry_later(struct worker *w, struct rap_amqp_msg *m,
			const struct rap_jobmsg *jm, int attempt, const char *why);

/*
 * Records the outcome of a processor run (result from p->run, with its
 * result_json, which this frees) and settles the message: acked, requeued,
 * or dead-lettered.
 */
void worker_finish(struct worker *w, struct rap_amqp_msg *m, const struct rap_jobmsg *jm,
		   int attempt, int max_attempts, int result, char *result_json, char *err)
{
	struct rap_log_ctx ctx = { .request_id = m->request_id, .job_id = jm->job_id,
				   .action = jm->type };
	char err2[RAP_ERRLEN];

	if (result == RAP_OK) {
		result = rap_job_complete(w->db, jm->job_id, w->id, result_json, err2);
		free(result_json);
		if (result == RAP_OK || result == RAP_ECONFLICT) {
			rap_log(RAP_LOG_INFO, &ctx, result == RAP_OK ? "completed"
				: "finished, but the lease was lost: result dropped");
			rap_metric_inc(w->completed, result == RAP_OK);
			rap_amqp_ack(w->amqp, m->delivery_tag);
			return;
		}
		snprintf(err, RAP_ERRLEN, "recording the result: %.200s", err2);
	}
	if (result == RAP_ECANCELED && rap_stop) {
		/* SIGTERM: give the job back rather than make shutdown wait. */
		if (rap_job_handback(w->db, jm->job_id, w->id, err2) == RAP_OK)
			rap_log(RAP_LOG_INFO, &ctx, "shutting down: job handed back to the queue");
		else
			rap_log(RAP_LOG_WARN, &ctx, "shutting down, hand-back failed: %s", err2);
		rap_amqp_reject(w->amqp, m->delivery_tag, true);
		return;
	}
	if (result == RAP_ECANCELED) {
		rap_log(RAP_LOG_INFO, &ctx, "stopped: the job was cancelled or taken over");
		rap_amqp_ack(w->amqp, m->delivery_tag);
		return;
	}
	if (result == RAP_EINVAL || result == RAP_ENOENT) {
		rap_log(RAP_LOG_WARN, &ctx, "failed permanently: %s", err);
		rap_job_fail(w->db, jm->job_id, w->id, "FAILED", err, err2);
		rap_metric_inc(w->failed, 1);
		rap_amqp_ack(w->amqp, m->delivery_tag);
		return;
	}
	if (attempt >= max_attempts) {
		rap_log(RAP_LOG_WARN, &ctx, "attempts exhausted: %s", err);
		rap_job_fail(w->db, jm->job_id, w->id, "DEAD", err, err2);
		rap_metric_inc(w->dead_lettered, 1);
		rap_amqp_reject(w->amqp, m->delivery_tag, false);
		return;
	}
	retry_later(w, m, jm, attempt, err);
}

/* Runs a claimed job and records its outcome. */
static void run_claimed(struct worker *w, struct rap_amqp_msg *m,
			const struct rap_jobmsg *jm, const struct rap_job_claim *claim)
{
	struct rap_log_ctx ctx = { .request_id = m->request_id, .job_id = jm->job_id,
				   .action = jm->type };
	const struct processor *p = worker_processor(jm->type);
	struct job_run run = { .w = w, .msg = jm, .attempt = claim->attempt,
			       .params = claim->params ? claim->params : "{}" };
	char err[RAP_ERRLEN] = "", *result_json = NULL;
	int result;

	run.last_beat_ms = rap_now_ms();
	rap_log(RAP_LOG_INFO, &ctx, "processing attempt %d of %d", claim->attempt,
		claim->max_attempts);
	result = p->run(&run, &result_json, err);
	worker_finish(w, m, jm, claim->attempt, claim->max_attempts, result, result_json, err);
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
static void retry_later(struct worker *w, struct rap_amqp_msg *m,
			const struct rap_jobmsg *jm, int attempt, const char *why)
{
	struct rap_log_ctx ctx = { .request_id = m->request_id, .job_id = jm->job_id,
				   .action = "retry" };
	char err[RAP_ERRLEN], detail[RAP_ERRLEN], delay[12];
	const char *hdrs[3] = { "x-retry-delay-s", delay, NULL };
	unsigned nacked;
	int d = worker_retry_delay(attempt);

	snprintf(delay, sizeof(delay), "%d", d);
	snprintf(detail, sizeof(detail), "retry in %d s: %.200s", d, why);
	if (rap_job_retry(w->db, jm->job_id, w->id, detail, err) != RAP_OK) {
		rap_log(RAP_LOG_WARN, &ctx, "could not mark RETRYING (%s): requeued", err);
		rap_amqp_reject(w->amqp, m->delivery_tag, true);
		return;
	}
	if (rap_amqp_publish(w->pub, "jobs.retry", jm->type, m->body, m->len,
			     m->message_id[0] ? m->message_id : NULL, m->request_id,
			     false, hdrs) != RAP_OK ||
	    rap_amqp_wait_confirms(w->pub, 10000, NULL, NULL, &nacked) != RAP_OK) {
		/* The job is RETRYING: the redelivered message claims it. */
		rap_log(RAP_LOG_WARN, &ctx, "retry publish failed (%s): requeued",
			rap_amqp_errmsg(w->pub));
		rap_amqp_reject(w->amqp, m->delivery_tag, true);
		return;
	}
	rap_log(RAP_LOG_INFO, &ctx, "attempt %d failed, retrying in %d s: %s", attempt, d, why);
	rap_metric_inc(w->retried, 1);
	rap_amqp_ack(w->amqp, m->delivery_tag);
}

void worker_handle(struct worker *w, struct rap_amqp_msg *m)
{
	struct rap_log_ctx ctx = { .request_id = m->request_id };
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
	if (!worker_processor(jm.type) || !rap_list_contains(w->svc.cfg.job_types, jm.type)) {
		snprintf(err, sizeof(err), "no processor for job type '%s'", jm.type);
		poison(w, m, jm.job_id, err);
		return;
	}
	result = rap_job_claim(w->db, jm.job_id, w->id, (int)w->svc.cfg.lease_seconds,
			       m->redelivered, &claim, err);
	switch (result) {
	case RAP_OK:
		run_claimed(w, m, &jm, &claim);
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

static int worker_connect(struct worker *w)
{
	const struct rap_settings *cfg = &w->svc.cfg;
	char err[RAP_ERRLEN];

	if (!w->db || !rap_pg_alive(w->db)) {
		PQfinish(w->db);
		w->db = NULL;
		if (rap_pg_connect(cfg->pg_url, &w->db, err) != RAP_OK ||
		    rap_pg_migrate(w->db, err) != RAP_OK) {
			rap_log(RAP_LOG_WARN, NULL, "PostgreSQL: %s", err);
			return RAP_EDB;
		}
	}
	if (!w->amqp || !rap_amqp_ok(w->amqp)) {
		rap_amqp_free(w->amqp);
		w->amqp = NULL;
		if (rap_amqp_connect(cfg->amqp_url, w->id, &w->amqp, err) != RAP_OK) {
			rap_log(RAP_LOG_WARN, NULL, "RabbitMQ: %s", err);
			return RAP_EAMQP;
		}
		if (rap_amqp_declare_file(w->amqp, cfg->amqp_definitions) != RAP_OK ||
		    rap_amqp_consume(w->amqp, WORK_QUEUE, (unsigned)cfg->worker_prefetch) != RAP_OK) {
			rap_log(RAP_LOG_ERROR, NULL, "RabbitMQ: %s", rap_amqp_errmsg(w->amqp));
			return RAP_EAMQP;
		}
		rap_log(RAP_LOG_INFO, NULL, "consuming %s with prefetch %lld", WORK_QUEUE,
			cfg->worker_prefetch);
	}
	if (!w->pub || !rap_amqp_ok(w->pub)) {
		char name[160];

		rap_amqp_free(w->pub);
		w->pub = NULL;
		snprintf(name, sizeof(name), "%s publisher", w->id);
		if (rap_amqp_connect(cfg->amqp_url, name, &w->pub, err) != RAP_OK) {
			rap_log(RAP_LOG_WARN, NULL, "RabbitMQ publisher: %s", err);
			return RAP_EAMQP;
		}
		if (rap_amqp_confirm_select(w->pub) != RAP_OK) {
			rap_log(RAP_LOG_ERROR, NULL, "RabbitMQ publisher: %s", rap_amqp_errmsg(w->pub));
			return RAP_EAMQP;
		}
	}
	return RAP_OK;
}

/*
 * Takes the deliveries that are already here, after the first, while they
 * are quick jobs: they are claimed and completed together.  A slow job
 * never waits behind a batch, because a batch only grows with quick ones.
 */
static int collect(struct worker *w, struct rap_amqp_msg *msgs, int max)
{
	const struct processor *p;
	struct rap_jobmsg jm;
	char err[RAP_ERRLEN];
	int n = 1;

	while (n < max) {
		if (rap_jobmsg_decode(msgs[n - 1].body, msgs[n - 1].len, &jm, err) != RAP_OK)
			break;
		p = worker_processor(jm.type);
		if (!p || !p->quick || msgs[n - 1].redelivered)
			break;
		if (rap_amqp_next(w->amqp, 0, &msgs[n]) != RAP_OK)
			break;
		n++;
	}
	return n;
}

static void worker_loop(struct worker *w)
{
	struct rap_amqp_msg *msgs;
	struct rap_backoff b;
	int result, n, i, max;

	max = (int)(w->svc.cfg.worker_batch < w->svc.cfg.worker_prefetch
		    ? w->svc.cfg.worker_batch : w->svc.cfg.worker_prefetch);
	msgs = rap_calloc((size_t)max, sizeof(*msgs));
	rap_backoff_init(&b, 200, 10000);
	while (!rap_stop) {
		if (worker_connect(w) != RAP_OK) {
			atomic_store(&w->ready, false);
			rap_sleep_ms(rap_backoff_next(&b), &rap_stop);
			continue;
		}
		atomic_store(&w->ready, true);
		rap_backoff_reset(&b);
		result = rap_amqp_next(w->amqp, 500, &msgs[0]);
		if (result == RAP_ETIMEDOUT)
			continue;
		if (result != RAP_OK) {
			rap_log(RAP_LOG_WARN, NULL, "RabbitMQ: %s", rap_amqp_errmsg(w->amqp));
			continue;
		}
		n = collect(w, msgs, max);
		if (n == 1)
			worker_handle(w, &msgs[0]);
		else
			worker_handle_batch(w, msgs, n);
		for (i = 0; i < n; i++)
			rap_amqp_msg_release(&msgs[i]);
	}
	free(msgs);
}

static bool worker_ready(void *arg, char *reason, size_t len)
{
	struct worker *w = arg;

	if (!atomic_load(&w->ready)) {
		snprintf(reason, len, "not connected to PostgreSQL and RabbitMQ");
		return false;
	}
	return true;
}

static void register_metrics(struct worker *w)
{
	struct rap_metrics *m = w->svc.metrics;

	w->completed = rap_metrics_add(m, RAP_COUNTER, "rap_worker_jobs_total",
				       "outcome=\"completed\"", "jobs finished by this worker, by outcome");
	w->failed = rap_metrics_add(m, RAP_COUNTER, "rap_worker_jobs_total",
				    "outcome=\"failed\"", "jobs finished by this worker, by outcome");
	w->dead_lettered = rap_metrics_add(m, RAP_COUNTER, "rap_worker_jobs_total",
					   "outcome=\"dead\"", "jobs finished by this worker, by outcome");
	w->requeued = rap_metrics_add(m, RAP_COUNTER, "rap_worker_jobs_total",
				      "outcome=\"requeued\"", "jobs finished by this worker, by outcome");
	w->retried = rap_metrics_add(m, RAP_COUNTER, "rap_worker_jobs_total",
				     "outcome=\"retrying\"", "jobs finished by this worker, by outcome");
	w->duplicates = rap_metrics_add(m, RAP_COUNTER, "rap_worker_duplicate_deliveries_total",
					NULL, "deliveries of finished jobs, acked and skipped");
	w->bytes_read = rap_metrics_add(m, RAP_COUNTER, "rap_worker_input_bytes_total",
					NULL, "bytes read from S3 by processors");
}

int main(int argc, char **argv)
{
	struct worker w = { 0 };
	struct rap_http_server *http = NULL;
	struct rap_http_cfg hc = { 0 };
	struct rap_s3_cfg s3c;
	char err[RAP_ERRLEN], host[64] = "worker";
	int r, status = EXIT_FAILURE;

	r = rap_service_init(&w.svc, "worker", "Runs jobs from the jobs.work queue.", argc, argv);
	if (r != 0)
		return r > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	gethostname(host, sizeof(host) - 1);
	if (w.svc.cfg.worker_id[0])
		snprintf(w.id, sizeof(w.id), "%s", w.svc.cfg.worker_id);
	else
		snprintf(w.id, sizeof(w.id), "%s-%d", host, (int)getpid());
	register_metrics(&w);
	rap_s3_global_init();
	rap_service_s3_cfg(&w.svc, &s3c);
	w.s3 = rap_s3_new(&s3c);
	w.magic = magic_open(MAGIC_MIME_TYPE);
	if (!w.magic || magic_load(w.magic, NULL) != 0) {
		rap_log(RAP_LOG_ERROR, NULL, "cannot load the libmagic database");
		goto out_s3;
	}
	if (w.svc.cfg.worker_port) {
		hc.bind = w.svc.cfg.bind;
		hc.port = (unsigned)w.svc.cfg.worker_port;
		hc.threads = 1;
		hc.svc = &w;
		hc.ready = worker_ready;
		hc.metrics = w.svc.metrics;
		if (rap_http_start(&hc, &http, err) != RAP_OK) {
			rap_log(RAP_LOG_ERROR, NULL, "%s", err);
			goto out_magic;
		}
	}
	rap_log(RAP_LOG_INFO, NULL, "worker %s starting", w.id);
	worker_loop(&w);
	rap_log(RAP_LOG_INFO, NULL, "stopping");
	status = EXIT_SUCCESS;
	rap_http_stop(http);
out_magic:
	if (w.magic)
		magic_close(w.magic);
out_s3:
	rap_s3_free(w.s3);
	rap_amqp_free(w.amqp);
	rap_amqp_free(w.pub);
	PQfinish(w.db);
	rap_service_cleanup(&w.svc);
	return status;
}
