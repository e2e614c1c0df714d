/* relay.c: job-api's outbox relay, a task of its own (rap/task.h) that
 * publishes the outbox (lib/domain/outbox.c), sweeps expired leases,
 * applies the retention and samples the gauges of jobs and outbox. */
#include "job_api.h"

#include "rap/amqp.h"
#include "rap/err.h"
#include "rap/jobstore.h"
#include "rap/log.h"
#include "rap/metrics.h"
#include "rap/outbox.h"
#include "rap/upload.h"
#include "rap/pg.h"
#include "rap/s3.h"
#include "rap/service.h"
#include "rap/clock.h"
#include "rap/mem.h"
#include "rap/task.h"

#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

struct relay {
	struct rap_task task;
	struct job_api *api;
	PGconn *db;
	struct rap_amqp *amqp;
	struct rap_s3 *s3; /* deletes expired jobs' outputs */
	int64_t next_sweep;
	int64_t next_sample;
	int64_t next_storage;
};

static const struct rap_log_ctx relay_ctx = { .action = "relay" };

/* Drops whichever side failed so the next round reconnects it. */
static void relay_drop_broken(struct relay *r)
{
	if (r->amqp && !rap_amqp_ok(r->amqp)) {
		rap_amqp_free(r->amqp);
		r->amqp = NULL;
	}
	if (r->db && PQstatus(r->db) != CONNECTION_OK) {
		PQfinish(r->db);
		r->db = NULL;
		atomic_store(&r->api->db_ok, false);
	}
}

/* The task's connect: reconnects whichever side is missing or broken. */
static int relay_connect(void *ctx)
{
	struct relay *r = ctx;
	const struct rap_settings *cfg = &r->api->svc.cfg;
	char err[RAP_ERRLEN];

	relay_drop_broken(r);
	if (!r->db) {
		/*
		 * Its own writes (QUEUED events, sweeps) need no NOTIFY: the relay
		 * goes round again after any batch it published.  Nor do its
		 * commits wait for the WAL flush: one lost in a crash only brings
		 * its outbox rows back, published again (the workers' claims
		 * take a message for a job once), and the next commit that does
		 * wait (a claim, a creation) flushes it anyway.  A claim blocked
		 * on the job rows the relay just marked QUEUED waits the less.
		 */
		if (rap_pg_connect(cfg->pg_url, &r->db, err) != RAP_OK ||
		    rap_pg_exec(r->db, "SET rap.outbox_notify = off", 0, NULL, NULL, err) !=
			    RAP_OK ||
		    rap_pg_exec(r->db, "SET synchronous_commit = off", 0, NULL, NULL, err) !=
			    RAP_OK ||
		    rap_pg_exec(r->db, "LISTEN rap_outbox", 0, NULL, NULL, err) != RAP_OK) {
			rap_log(RAP_LOG_WARN, &relay_ctx, "PostgreSQL: %s", err);
			PQfinish(r->db);
			r->db = NULL;
			atomic_store(&r->api->db_ok, false);
			return RAP_EDB;
		}
		atomic_store(&r->api->db_ok, true);
	}
	if (!r->amqp) {
		if (rap_amqp_connect(cfg->amqp_url, "job-api relay", &r->amqp, err) != RAP_OK) {
			rap_log(RAP_LOG_WARN, &relay_ctx, "RabbitMQ: %s", err);
			return RAP_EAMQP;
		}
		if (rap_amqp_declare_file(r->amqp, cfg->amqp_definitions) != RAP_OK ||
		    rap_amqp_confirm_select(r->amqp) != RAP_OK) {
			rap_log(RAP_LOG_ERROR, &relay_ctx, "RabbitMQ topology: %s",
				rap_amqp_errmsg(r->amqp));
			rap_amqp_free(r->amqp);
			r->amqp = NULL;
			return RAP_EAMQP;
		}
		rap_log(RAP_LOG_INFO, &relay_ctx, "connected to RabbitMQ, topology declared");
	}
	atomic_store(&r->api->relay_ok, true);
	return RAP_OK;
}

void job_api_relay_kick(struct job_api *api)
{
	uint64_t one = 1;

	/* A full counter already means "wake up": nothing to do on EAGAIN. */
	if (write(api->relay_wake, &one, sizeof(one)) < 0)
		return;
}

/* Reads (and clears) the kicks; true when there was one. */
static bool kicked(struct relay *r)
{
	uint64_t n;

	return read(r->api->relay_wake, &n, sizeof(n)) == (ssize_t)sizeof(n) && n > 0;
}

/*
 * Waits for a kick from job-api's handlers, a NOTIFY on rap_outbox (the
 * other writers) or the poll interval, watching the idle RabbitMQ
 * connection too, so that readiness turns false as soon as either server
 * goes away, not at the next publish.
 */
static void relay_wait(struct relay *r, int timeout_ms)
{
	struct pollfd pfd[3] = {
		{ .fd = PQsocket(r->db), .events = POLLIN },
		{ .fd = rap_amqp_fd(r->amqp), .events = POLLIN },
		{ .fd = r->api->relay_wake, .events = POLLIN },
	};
	PGnotify *n;
	bool pending = kicked(r);

	/* libpq may have read a NOTIFY already, while the batch ran: then
	 * the socket is quiet but there is work. */
	while ((n = PQnotifies(r->db)) != NULL) {
		PQfreemem(n);
		pending = true;
	}
	if (pending || poll(pfd, 3, timeout_ms) <= 0)
		return;
	if (pfd[2].revents & POLLIN)
		kicked(r);
	if ((pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) && rap_amqp_drain(r->amqp) != RAP_OK) {
		rap_log(RAP_LOG_WARN, &relay_ctx, "RabbitMQ: %s", rap_amqp_errmsg(r->amqp));
		atomic_store(&r->api->relay_ok, false);
	}
	if ((pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) && PQconsumeInput(r->db) == 0) {
		rap_log(RAP_LOG_WARN, &relay_ctx, "PostgreSQL: connection lost");
		PQfinish(r->db); /* the server went away */
		r->db = NULL;
		atomic_store(&r->api->db_ok, false);
		return;
	}
	while ((n = PQnotifies(r->db)) != NULL)
		PQfreemem(n);
}

/* Deletes an expired job's output object (rap_job_expire's drop). */
static int drop_output(void *ctx, const char *key)
{
	struct relay *r = ctx;
	int result = rap_s3_delete(r->s3, key);

	if (result != RAP_OK)
		rap_log(RAP_LOG_WARN, &relay_ctx,
			"retention: deleting %s failed (%s); "
			"its job stays until it can be deleted",
			key, rap_strerror(result));
	return result;
}

/* RAP_JOB_RETENTION_DAYS: removes a batch of finished jobs past it. */
static void expire(struct relay *r)
{
	const struct rap_log_ctx ctx = { .action = "retention" };
	long long days = r->api->cfg.job_retention_days;
	char err[RAP_ERRLEN];
	unsigned n;

	if (days <= 0)
		return;
	if (rap_job_expire(r->db, days, 100, drop_output, r, &n, err) != RAP_OK) {
		rap_log(RAP_LOG_WARN, &ctx, "retention failed: %s", err);
		return;
	}
	rap_metric_inc(r->api->jobs_expired, n);
	if (n)
		rap_log(RAP_LOG_INFO, &ctx, "%u finished jobs older than %lld days removed", n,
			days);
}

/* Re-queues (or buries) jobs whose lease expired, then applies the
 * retention; runs on the relay's connection every RAP_SWEEP_MS. */
static void sweep(struct relay *r)
{
	const struct rap_log_ctx ctx = { .action = "sweep" };
	unsigned requeued, buried;
	char err[RAP_ERRLEN];

	if (rap_job_sweep(r->db, 500, &requeued, &buried, err) != RAP_OK) {
		rap_log(RAP_LOG_WARN, &ctx, "sweep failed: %s", err);
		return;
	}
	rap_metric_inc(r->api->swept_requeued, requeued);
	rap_metric_inc(r->api->swept_buried, buried);
	if (requeued || buried)
		rap_log(RAP_LOG_WARN, &ctx,
			"%u jobs with an expired lease re-queued, %u out of attempts now DEAD",
			requeued, buried);
	expire(r);
}

/* The stored uploads' gauges, every RAP_STORAGE_STATS_MS (a sum over the
 * uploads table, so less often than the job counts). */
static void sample_storage(struct relay *r)
{
	long long objects, bytes;
	char err[RAP_ERRLEN];

	if (rap_now_ms() < r->next_storage)
		return;
	r->next_storage = rap_now_ms() + r->api->cfg.storage_stats_ms;
	if (rap_upload_stored(r->db, &objects, &bytes, err) != RAP_OK) {
		rap_metric_inc(r->api->stats_failures, 1);
		rap_log(RAP_LOG_WARN, &relay_ctx, "summing stored uploads for /metrics failed: %s",
			err);
		return;
	}
	rap_metric_set(r->api->stored_uploads, objects);
	rap_metric_set(r->api->stored_bytes, bytes);
}

/* Samples the gauges of open jobs and of the outbox backlog, on the relay's
 * connection every RAP_STATS_MS; also while RabbitMQ is away, when the
 * outbox's age is what an operator's alert watches. */
static void sample(struct relay *r, int64_t *next)
{
	struct rap_job_stats st;
	char err[RAP_ERRLEN];

	if (!r->db || rap_now_ms() < *next)
		return;
	*next = rap_now_ms() + r->api->cfg.stats_ms;
	if (rap_job_stats(r->db, &st, err) != RAP_OK) {
		rap_metric_inc(r->api->stats_failures, 1);
		rap_log(RAP_LOG_WARN, &relay_ctx, "counting jobs for /metrics failed: %s", err);
		return;
	}
	for (int i = 0; i < RAP_OPEN_STATES; i++)
		rap_metric_set(r->api->jobs_open[i], st.open[i]);
	rap_metric_set(r->api->outbox_pending, st.outbox_pending);
	rap_metric_set(r->api->outbox_oldest, st.outbox_oldest_ms / 1000);
	sample_storage(r);
}

/* The task's down: not ready; the gauges go on while RabbitMQ is away. */
static void relay_down(void *ctx)
{
	struct relay *r = ctx;

	atomic_store(&r->api->relay_ok, false);
	relay_drop_broken(r);
	sample(r, &r->next_sample);
}

/* A work message the broker confirmed, logged in its job's trace with a
 * span of the relay's own (docs/observability.md, "Traces"). */
static void log_work(void *ctx, const char *job_id, const char *traceparent)
{
	struct rap_log_ctx lctx = { .job_id = job_id, .action = "relay" };
	struct rap_trace trace;

	(void)ctx;
	if (!rap_trace_parse(traceparent, &trace))
		return; /* a job from before traces: nothing to follow */
	rap_log_set_trace(&trace);
	rap_log(RAP_LOG_INFO, &lctx, "work message published and confirmed");
	rap_log_set_trace(NULL);
}

/* One batch of the outbox, the sweeper and the gauges when they are due,
 * then a wait for more work. */
static int relay_step(void *ctx)
{
	struct relay *r = ctx;
	const struct job_api_settings *cfg = &r->api->cfg;
	struct rap_outbox_stats stats = { .on_work = log_work };
	char err[RAP_ERRLEN];
	int wait_ms;

	if (rap_outbox_relay(r->db, r->amqp, (int)cfg->relay_batch, &stats, err) != RAP_OK) {
		rap_metric_inc(r->api->relay_failures, 1);
		rap_log(RAP_LOG_WARN, &relay_ctx, "batch not published, will retry: %s", err);
		return RAP_EAMQP;
	}
	rap_metric_inc(r->api->relay_published, stats.published);
	rap_metric_inc(r->api->outbox_unroutable, stats.unroutable);
	if (stats.unroutable)
		rap_log(RAP_LOG_ERROR, &relay_ctx,
			"%u work messages were unroutable; their jobs are DEAD", stats.unroutable);
	if (rap_now_ms() >= r->next_sweep) {
		sweep(r);
		r->next_sweep = rap_now_ms() + cfg->sweep_ms;
	}
	sample(r, &r->next_sample);
	wait_ms = (int)((r->next_sweep < r->next_sample ? r->next_sweep : r->next_sample) -
			rap_now_ms());
	if (wait_ms > cfg->relay_poll_ms)
		wait_ms = (int)cfg->relay_poll_ms;
	/* After a batch, straight round again: it wrote QUEUED events of its
	 * own (without a NOTIFY), and more work may have come meanwhile. */
	if (stats.published == 0 && wait_ms > 0 && r->db)
		relay_wait(r, wait_ms);
	return RAP_OK;
}

static void relay_close(void *ctx)
{
	struct relay *r = ctx;

	rap_amqp_free(r->amqp);
	r->amqp = NULL;
	PQfinish(r->db);
	r->db = NULL;
}

static const struct rap_task_ops relay_ops = {
	.connect = relay_connect,
	.step = relay_step,
	.down = relay_down,
	.close = relay_close,
};

struct rap_task *job_api_relay_new(struct job_api *api)
{
	struct relay *r = rap_calloc(1, sizeof(*r));
	struct rap_s3_cfg s3cfg;

	r->api = api;
	rap_service_s3_cfg(&api->svc, &s3cfg);
	r->s3 = rap_s3_new(&s3cfg);
	r->task = (struct rap_task){ .name = "relay", .ops = &relay_ops, .ctx = r };
	return &r->task;
}

void job_api_relay_free(struct rap_task *t)
{
	struct relay *r;

	if (!t)
		return;
	r = t->ctx;
	rap_s3_free(r->s3);
	free(r);
}
