/*
 * deadletters.c: job-api's dead-letter handler.  jobs.dlx is a fanout
 * exchange: every dead-lettered message lands in jobs.dlq (kept for operator
 * review) and in jobs.dead-letters, which this thread consumes.  A message the
 * broker dead-lettered on its own (the quorum queue's delivery limit, a TTL)
 * makes its job DEAD with the reason; a message a worker rejected was
 * already decided by that worker.
 */
#include "job_api.h"

#include "rap/amqp.h"
#include "rap/codec.h"
#include "rap/err.h"
#include "rap/jobstore.h"
#include "rap/log.h"
#include "rap/metrics.h"
#include "rap/pg.h"
#include "rap/util.h"

#include <stdio.h>
#include <string.h>

#define DEAD_LETTER_QUEUE "jobs.dead-letters"

static const struct rap_log_ctx dl_ctx = { .action = "dead-letters" };

static void handle(struct job_api *api, PGconn *db, struct rap_amqp_msg *m)
{
	struct rap_log_ctx ctx = { .request_id = m->request_id, .action = "dead-letters" };
	struct rap_jobmsg jm;
	char err[RAP_ERRLEN], reason[RAP_ERRLEN];

	rap_jobmsg_decode(m->body, m->len, &jm, err);
	if (!jm.job_id[0] || strcmp(m->death_reason, "rejected") == 0)
		return; /* no job to mark, or a worker already decided */
	ctx.job_id = jm.job_id;
	snprintf(reason, sizeof(reason), "dead-lettered from %.100s (%.30s) after %lld deliveries",
		 m->death_queue, m->death_reason, m->delivery_count);
	if (rap_job_bury(db, jm.job_id, reason, err) != RAP_OK) {
		rap_log(RAP_LOG_WARN, &ctx, "could not mark the job DEAD: %s", err);
		return;
	}
	rap_metric_inc(api->dead_lettered, 1);
	rap_log(RAP_LOG_WARN, &ctx, "%s", reason);
}

void *job_api_deadletters_main(void *arg)
{
	struct job_api *api = arg;
	const struct rap_settings *cfg = &api->svc.cfg;
	struct rap_amqp *a = NULL;
	struct rap_amqp_msg m;
	struct rap_backoff b;
	char err[RAP_ERRLEN];
	PGconn *db = NULL;

	rap_backoff_init(&b, 200, 10000);
	while (!rap_stop) {
		if (!db || PQstatus(db) != CONNECTION_OK) {
			PQfinish(db);
			db = NULL;
			if (rap_pg_connect(cfg->pg_url, &db, err) != RAP_OK) {
				db = NULL;
				rap_sleep_ms(rap_backoff_next(&b), &rap_stop);
				continue;
			}
		}
		if (!a || !rap_amqp_ok(a)) {
			rap_amqp_free(a);
			a = NULL;
			if (rap_amqp_connect(cfg->amqp_url, "job-api dead-letters", &a, err) != RAP_OK ||
			    rap_amqp_declare_file(a, cfg->amqp_definitions) != RAP_OK ||
			    rap_amqp_consume(a, DEAD_LETTER_QUEUE, 50) != RAP_OK) {
				rap_log(RAP_LOG_WARN, &dl_ctx, "RabbitMQ: %s", a ? rap_amqp_errmsg(a) : err);
				rap_sleep_ms(rap_backoff_next(&b), &rap_stop);
				continue;
			}
			rap_backoff_reset(&b);
		}
		if (rap_amqp_next(a, 500, &m) != RAP_OK)
			continue;
		handle(api, db, &m);
		/* Acked after the job is marked; a crash before means a retry. */
		rap_amqp_ack(a, m.delivery_tag);
		rap_amqp_msg_release(&m);
	}
	rap_amqp_free(a);
	PQfinish(db);
	return NULL;
}
