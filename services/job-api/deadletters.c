/*
 * deadletters.c: job-api's dead-letter handler.  jobs.dlx is a fanout
 * exchange: every dead-lettered message lands in jobs.dlq (kept for operator
 * review) and in jobs.dead-letters, which this thread consumes.  A message the
 * broker dead-lettered on its own (the quorum queue's delivery limit, a TTL)
 * makes its job DEAD with the reason; a message a worker rejected was
 * already decided by that worker.  A task of its own (rap/task.h).
 */
#include "job_api.h"

#include "rap/amqp.h"
#include "rap/err.h"
#include "rap/jobstore.h"
#include "rap/log.h"
#include "rap/metrics.h"
#include "rap/pg.h"
#include "rap/jobmsg.h"
#include "rap/mem.h"
#include "rap/task.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEAD_LETTER_QUEUE "jobs.dead-letters"

static const struct rap_log_ctx dl_ctx = { .action = "dead-letters" };

static void handle(struct job_api *api, PGconn *db, struct rap_amqp_msg *m)
{
	struct rap_log_ctx ctx = { .request_id = m->request_id, .action = "dead-letters" };
	struct rap_jobmsg jm;
	struct rap_trace trace;
	char err[RAP_ERRLEN], reason[RAP_ERRLEN];

	rap_jobmsg_decode(m->body, m->len, &jm, err);
	if (!jm.job_id[0] || strcmp(m->death_reason, "rejected") == 0)
		return; /* no job to mark, or a worker already decided */
	ctx.job_id = jm.job_id;
	snprintf(reason, sizeof(reason), "dead-lettered from %.100s (%.30s) after %lld deliveries",
		 m->death_queue, m->death_reason, m->delivery_count);
	/* Logged in the job's trace (the header survives dead-lettering). */
	if (rap_trace_parse(m->traceparent, &trace))
		rap_log_set_trace(&trace);
	if (rap_job_bury(db, jm.job_id, reason, err) != RAP_OK) {
		rap_log(RAP_LOG_WARN, &ctx, "could not mark the job DEAD: %s", err);
	} else {
		rap_metric_inc(api->dead_lettered, 1);
		rap_log(RAP_LOG_WARN, &ctx, "%s", reason);
	}
	rap_log_set_trace(NULL);
}

struct deadletters {
	struct rap_task task;
	struct job_api *api;
	PGconn *db;
	struct rap_amqp *amqp;
};

/* The task's connect: PostgreSQL, then the consumer of DEAD_LETTER_QUEUE. */
static int dl_connect(void *ctx)
{
	struct deadletters *d = ctx;
	const struct rap_settings *cfg = &d->api->svc.cfg;
	char err[RAP_ERRLEN];

	if (!d->db || PQstatus(d->db) != CONNECTION_OK) {
		PQfinish(d->db);
		d->db = NULL;
		if (rap_pg_connect(cfg->pg_url, &d->db, err) != RAP_OK) {
			d->db = NULL;
			return RAP_EDB;
		}
	}
	if (!d->amqp || !rap_amqp_ok(d->amqp)) {
		rap_amqp_free(d->amqp);
		d->amqp = NULL;
		if (rap_amqp_connect(cfg->amqp_url, "job-api dead-letters", &d->amqp, err) !=
			    RAP_OK ||
		    rap_amqp_declare_file(d->amqp, cfg->amqp_definitions) != RAP_OK ||
		    rap_amqp_consume(d->amqp, DEAD_LETTER_QUEUE, 50) != RAP_OK) {
			rap_log(RAP_LOG_WARN, &dl_ctx, "RabbitMQ: %s",
				d->amqp ? rap_amqp_errmsg(d->amqp) : err);
			return RAP_EAMQP;
		}
	}
	return RAP_OK;
}

/* Waits up to half a second for a dead letter, and handles it. */
static int dl_step(void *ctx)
{
	struct deadletters *d = ctx;
	struct rap_amqp_msg m;

	if (rap_amqp_next(d->amqp, 500, &m) != RAP_OK)
		return RAP_OK; /* nothing came, or the connection failed: connect looks */
	handle(d->api, d->db, &m);
	/* Acked after the job is marked; a crash before means a retry. */
	rap_amqp_ack(d->amqp, m.delivery_tag);
	rap_amqp_msg_release(&m);
	return RAP_OK;
}

static void dl_close(void *ctx)
{
	struct deadletters *d = ctx;

	rap_amqp_free(d->amqp);
	d->amqp = NULL;
	PQfinish(d->db);
	d->db = NULL;
}

static const struct rap_task_ops dl_ops = {
	.connect = dl_connect,
	.step = dl_step,
	.close = dl_close,
};

struct rap_task *job_api_deadletters_new(struct job_api *api)
{
	struct deadletters *d = rap_calloc(1, sizeof(*d));

	d->api = api;
	d->task = (struct rap_task){ .name = "dead-letters", .ops = &dl_ops, .ctx = d };
	return &d->task;
}

void job_api_deadletters_free(struct rap_task *t)
{
	if (t)
		free(t->ctx);
}
