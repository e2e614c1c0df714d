/* job-api: jobs in PostgreSQL, the outbox relay, the jobs HTTP API. */
#include "job_api.h"

#include "rap/auth.h"
#include "rap/err.h"
#include "rap/http.h"
#include "rap/jobstore.h"
#include "rap/log.h"
#include "rap/metrics.h"
#include "rap/pg.h"
#include "rap/s3.h"
#include "rap/util.h"

#include <stdio.h>
#include <stdlib.h>

static bool job_api_ready(void *arg, char *reason, size_t len)
{
	struct job_api *api = arg;

	if (!atomic_load(&api->db_ok)) {
		snprintf(reason, len, "PostgreSQL is not reachable");
		return false;
	}
	if (!atomic_load(&api->relay_ok)) {
		snprintf(reason, len, "the outbox relay is not connected to RabbitMQ");
		return false;
	}
	return true;
}

/* Connects once and applies migrations, retrying until it works or stop. */
static int migrate(struct job_api *api)
{
	struct rap_backoff b;
	char err[RAP_ERRLEN];
	PGconn *db;

	rap_backoff_init(&b, 200, 5000);
	while (!rap_stop) {
		if (rap_pg_connect(api->svc.cfg.pg_url, &db, err) == RAP_OK) {
			int result = rap_pg_migrate(db, err);

			PQfinish(db);
			if (result == RAP_OK)
				return RAP_OK;
		}
		rap_log(RAP_LOG_WARN, NULL, "database not ready: %s", err);
		rap_sleep_ms(rap_backoff_next(&b), &rap_stop);
	}
	return RAP_ECANCELED;
}

static void register_metrics(struct job_api *api)
{
	struct rap_metrics *m = api->svc.metrics;

	api->jobs_created = rap_metrics_add(m, RAP_COUNTER, "rap_jobs_created_total",
					    NULL, "jobs created through POST /jobs");
	api->jobs_idempotent = rap_metrics_add(m, RAP_COUNTER,
		"rap_jobs_idempotent_replays_total", NULL,
		"POST /jobs answered with an earlier job of the same Idempotency-Key");
	api->relay_published = rap_metrics_add(m, RAP_COUNTER,
		"rap_outbox_published_total", NULL, "outbox messages confirmed by RabbitMQ");
	api->relay_failures = rap_metrics_add(m, RAP_COUNTER,
		"rap_outbox_failures_total", NULL, "relay batches that failed and will be retried");
	api->outbox_unroutable = rap_metrics_add(m, RAP_COUNTER,
		"rap_outbox_unroutable_total", NULL, "work messages returned as unroutable");
	api->swept_requeued = rap_metrics_add(m, RAP_COUNTER, "rap_sweeper_jobs_total",
		"outcome=\"requeued\"", "jobs whose lease expired, by what the sweeper did");
	api->swept_buried = rap_metrics_add(m, RAP_COUNTER, "rap_sweeper_jobs_total",
		"outcome=\"dead\"", "jobs whose lease expired, by what the sweeper did");
	api->dead_lettered = rap_metrics_add(m, RAP_COUNTER, "rap_dead_lettered_jobs_total",
		NULL, "jobs marked DEAD because the broker dead-lettered their message");
	_Static_assert(sizeof(api->jobs_open) / sizeof(api->jobs_open[0]) == RAP_OPEN_STATES,
		       "one gauge per open state");
	for (int i = 0; i < RAP_OPEN_STATES; i++) {
		static char labels[RAP_OPEN_STATES][32];

		snprintf(labels[i], sizeof(labels[i]), "state=\"%s\"", rap_open_states[i]);
		api->jobs_open[i] = rap_metrics_add(m, RAP_GAUGE, "rap_jobs", labels[i],
			"jobs not finished yet (and DEAD ones, awaiting review), by state; "
			"counted every RAP_STATS_MS");
	}
	api->outbox_pending = rap_metrics_add(m, RAP_GAUGE, "rap_outbox_pending", NULL,
		"outbox rows not yet confirmed by RabbitMQ");
	api->outbox_oldest = rap_metrics_add(m, RAP_GAUGE, "rap_outbox_oldest_seconds", NULL,
		"age of the oldest outbox row not yet confirmed (0: none)");
	api->jobs_expired = rap_metrics_add(m, RAP_COUNTER, "rap_jobs_expired_total", NULL,
		"finished jobs removed with their output after RAP_JOB_RETENTION_DAYS");
	api->webhooks_delivered = rap_metrics_add(m, RAP_COUNTER, "rap_webhook_attempts_total",
		"outcome=\"delivered\"", "webhook POSTs, by outcome");
	api->webhooks_retried = rap_metrics_add(m, RAP_COUNTER, "rap_webhook_attempts_total",
		"outcome=\"retrying\"", "webhook POSTs, by outcome");
	api->webhooks_failed = rap_metrics_add(m, RAP_COUNTER, "rap_webhook_attempts_total",
		"outcome=\"failed\"", "webhook POSTs, by outcome");
	api->stats_failures = rap_metrics_add(m, RAP_COUNTER, "rap_stats_failures_total", NULL,
		"counts of jobs and outbox that failed (the gauges keep their last values)");
}

int main(int argc, char **argv)
{
	struct job_api api = { 0 };
	struct rap_http_server *http = NULL;
	struct rap_http_cfg hc = { 0 };
	char err[RAP_ERRLEN];
	int r, status = EXIT_FAILURE;

	r = rap_service_init(&api.svc, "job-api",
			     "Creates jobs, publishes them through the outbox, serves their status.",
			     argc, argv);
	if (r != 0)
		return r > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	if (rap_auth_parse(api.svc.cfg.api_keys, &api.auth, err) != RAP_OK) {
		rap_log(RAP_LOG_ERROR, NULL, "%s", err);
		goto out_service;
	}
	register_metrics(&api);
	rap_s3_global_init();
	api.presigner = rap_service_presigner(&api.svc);
	api.pool = rap_pg_pool_new(api.svc.cfg.pg_url, (unsigned)api.svc.cfg.http_threads + 1);
	hc.bind = api.svc.cfg.bind;
	hc.port = (unsigned)api.svc.cfg.job_port;
	hc.threads = (unsigned)api.svc.cfg.http_threads;
	hc.max_body = 1024 * 1024;
	hc.handler = job_api_handle;
	hc.svc = &api;
	hc.ready = job_api_ready;
	hc.completed = rap_service_log_request;
	hc.metrics = api.svc.metrics;
	/* Health answers while the database is still coming up. */
	if (rap_http_start(&hc, &http, err) != RAP_OK) {
		rap_log(RAP_LOG_ERROR, NULL, "%s", err);
		goto out_pool;
	}
	rap_log(RAP_LOG_INFO, NULL, "listening on %s:%lld", hc.bind, api.svc.cfg.job_port);
	if (migrate(&api) != RAP_OK)
		goto out_http;
	atomic_store(&api.db_ok, true);
	if (pthread_create(&api.relay, NULL, job_api_relay_main, &api) != 0) {
		rap_log(RAP_LOG_ERROR, NULL, "cannot start the relay thread");
		goto out_http;
	}
	if (pthread_create(&api.deadletters, NULL, job_api_deadletters_main, &api) != 0) {
		rap_log(RAP_LOG_ERROR, NULL, "cannot start the dead-letter thread");
		rap_stop = 1;
		pthread_join(api.relay, NULL);
		goto out_http;
	}
	if (pthread_create(&api.webhooks, NULL, job_api_webhooks_main, &api) != 0) {
		rap_log(RAP_LOG_ERROR, NULL, "cannot start the webhook thread");
		rap_stop = 1;
		pthread_join(api.relay, NULL);
		pthread_join(api.deadletters, NULL);
		goto out_http;
	}
	while (!rap_stop)
		rap_sleep_ms(1000, &rap_stop);
	rap_log(RAP_LOG_INFO, NULL, "stopping");
	pthread_join(api.relay, NULL);
	pthread_join(api.deadletters, NULL);
	pthread_join(api.webhooks, NULL);
	status = EXIT_SUCCESS;
out_http:
	rap_http_stop(http);
out_pool:
	rap_pg_pool_free(api.pool);
	rap_s3_free(api.presigner);
	rap_auth_free(api.auth);
out_service:
	rap_service_cleanup(&api.svc);
	return status;
}
