/* job-api: jobs in PostgreSQL, the outbox relay, the jobs HTTP API. */
#include "job_api.h"

#include "rap/auth.h"
#include "rap/clock.h"
#include "rap/err.h"
#include "rap/http.h"
#include "rap/jobstore.h"
#include "rap/log.h"
#include "rap/metrics.h"
#include "rap/keylimit.h"
#include "rap/pg.h"
#include "rap/s3.h"
#include "rap/schema.h"
#include "rap/stop.h"
#include "rap/webhook.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

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

/* Applies the migrations, retrying until it works or the stop: a one-shot
 * task (rap/task.h) on the main thread. */
static int migrate_step(void *ctx)
{
	struct job_api *api = ctx;
	char err[RAP_ERRLEN];
	PGconn *db;
	int result;

	result = rap_pg_connect(api->svc.cfg.pg_url, &db, err);
	if (result == RAP_OK) {
		result = rap_schema_migrate(db, err);
		PQfinish(db);
	}
	if (result != RAP_OK) {
		rap_log(RAP_LOG_WARN, NULL, "database not ready: %s", err);
		return result;
	}
	return RAP_DONE;
}

static int migrate_connect(void *ctx)
{
	return RAP_OK; /* migrate_step connects on its own */
}

static const struct rap_task_ops migrate_ops = {
	.connect = migrate_connect,
	.step = migrate_step,
	.max_ms = 5000,
};

static int migrate(struct job_api *api)
{
	struct rap_task t = { .name = "migrate", .ops = &migrate_ops, .ctx = api };

	return rap_task_run(&t);
}

/* `rap-job-api --migrate`: applies the migrations and exits, for a deploy
 * step that runs once per release (the Helm chart's pre-install and
 * pre-upgrade Job).  A database that is not reachable yet is tried again
 * for up to a minute (or until SIGTERM), then the last error is the exit. */
#define MIGRATE_ONLY_MS 60000

static int migrate_only(struct job_api *api)
{
	int64_t deadline = rap_now_ms() + MIGRATE_ONLY_MS;
	int wait_ms = 250;

	for (;;) {
		if (migrate_step(api) == RAP_DONE) {
			rap_log(RAP_LOG_INFO, NULL, "the database schema is current");
			return EXIT_SUCCESS;
		}
		if (rap_now_ms() + wait_ms > deadline || !rap_sleep_ms(wait_ms))
			break;
		wait_ms = wait_ms * 2 > 5000 ? 5000 : wait_ms * 2;
	}
	rap_log(RAP_LOG_ERROR, NULL,
		"migrations not applied; the schema is unchanged or partly "
		"migrated (each migration is its own transaction)");
	return EXIT_FAILURE;
}

#define JOB_API_TASKS 3 /* relay, dead letters, webhooks */

static void register_metrics(struct job_api *api)
{
	struct rap_metrics *m = api->svc.metrics;

	api->jobs_created = rap_metrics_add(m, RAP_COUNTER, "rap_jobs_created_total", NULL,
					    "jobs created through POST /jobs");
	api->create_limited = rap_metrics_add(
		m, RAP_COUNTER, "rap_jobs_rate_limited_total", NULL,
		"job creations refused with 429: their API key passed RAP_JOB_CREATE_RATE");
	api->status_limited = rap_metrics_add(
		m, RAP_COUNTER, "rap_job_status_rate_limited_total", NULL,
		"status reads refused with 429: their API key passed RAP_JOB_STATUS_RATE");
	api->jobs_idempotent = rap_metrics_add(
		m, RAP_COUNTER, "rap_jobs_idempotent_replays_total", NULL,
		"POST /jobs answered with an earlier job of the same Idempotency-Key");
	api->create_groups = rap_metrics_add(
		m, RAP_COUNTER, "rap_job_create_groups_total", NULL,
		"groups of concurrent POST /jobs creations, each sent as one transaction");
	api->relay_published = rap_metrics_add(m, RAP_COUNTER, "rap_outbox_published_total", NULL,
					       "outbox messages confirmed by RabbitMQ");
	api->relay_failures = rap_metrics_add(m, RAP_COUNTER, "rap_outbox_failures_total", NULL,
					      "relay batches that failed and will be retried");
	api->outbox_unroutable = rap_metrics_add(m, RAP_COUNTER, "rap_outbox_unroutable_total",
						 NULL, "work messages returned as unroutable");
	api->swept_requeued = rap_metrics_add(m, RAP_COUNTER, "rap_sweeper_jobs_total",
					      "outcome=\"requeued\"",
					      "jobs whose lease expired, by what the sweeper did");
	api->swept_buried = rap_metrics_add(m, RAP_COUNTER, "rap_sweeper_jobs_total",
					    "outcome=\"dead\"",
					    "jobs whose lease expired, by what the sweeper did");
	api->dead_lettered =
		rap_metrics_add(m, RAP_COUNTER, "rap_dead_lettered_jobs_total", NULL,
				"jobs marked DEAD because the broker dead-lettered their message");
	_Static_assert(sizeof(api->jobs_open) / sizeof(api->jobs_open[0]) == RAP_OPEN_STATES,
		       "one gauge per open state");
	for (int i = 0; i < RAP_OPEN_STATES; i++) {
		static char labels[RAP_OPEN_STATES][32];

		snprintf(labels[i], sizeof(labels[i]), "state=\"%s\"", rap_open_states[i]);
		api->jobs_open[i] = rap_metrics_add(
			m, RAP_GAUGE, "rap_jobs", labels[i],
			"jobs not finished yet (and DEAD ones, awaiting review), by state; "
			"counted every RAP_STATS_MS");
	}
	api->outbox_pending = rap_metrics_add(m, RAP_GAUGE, "rap_outbox_pending", NULL,
					      "outbox rows not yet confirmed by RabbitMQ");
	api->outbox_oldest =
		rap_metrics_add(m, RAP_GAUGE, "rap_outbox_oldest_seconds", NULL,
				"age of the oldest outbox row not yet confirmed (0: none)");
	api->jobs_expired = rap_metrics_add(
		m, RAP_COUNTER, "rap_jobs_expired_total", NULL,
		"finished jobs removed with their output after RAP_JOB_RETENTION_DAYS");
	api->webhooks_delivered = rap_metrics_add(m, RAP_COUNTER, "rap_webhook_attempts_total",
						  "outcome=\"delivered\"",
						  "webhook POSTs, by outcome");
	api->webhooks_retried = rap_metrics_add(m, RAP_COUNTER, "rap_webhook_attempts_total",
						"outcome=\"retrying\"",
						"webhook POSTs, by outcome");
	api->webhooks_failed = rap_metrics_add(m, RAP_COUNTER, "rap_webhook_attempts_total",
					       "outcome=\"failed\"", "webhook POSTs, by outcome");
	api->stats_failures = rap_metrics_add(
		m, RAP_COUNTER, "rap_stats_failures_total", NULL,
		"counts of jobs and outbox that failed (the gauges keep their last values)");
	api->stored_uploads =
		rap_metrics_add(m, RAP_GAUGE, "rap_stored_uploads", NULL,
				"finished uploads kept in S3; counted every RAP_STORAGE_STATS_MS");
	api->stored_bytes = rap_metrics_add(
		m, RAP_GAUGE, "rap_stored_upload_bytes", NULL,
		"bytes of the finished uploads kept in S3; summed every RAP_STORAGE_STATS_MS");
}

int main(int argc, char **argv)
{
	struct job_api api = { .relay_wake = -1 };
	struct rap_http_server *http = NULL, *admin = NULL;
	struct rap_http_cfg hc = { 0 };
	const struct rap_service_desc desc = {
		.name = "job-api",
		.about = "Creates jobs, publishes them through the outbox, serves their status.\n"
			 "rap-job-api --migrate applies the database migrations and exits "
			 "(0: the schema is current), for a deploy step run once per release.",
		.groups = RAP_SETTINGS_PG | RAP_SETTINGS_AMQP | RAP_SETTINGS_S3 |
			  RAP_SETTINGS_PRESIGN | RAP_SETTINGS_AUTH | RAP_SETTINGS_JOB_TYPES |
			  RAP_SETTINGS_JOB_CONTENT | RAP_SETTINGS_JOB_LIMITS,
		.opts = job_api_settings_table,
		.n_opts = job_api_settings_count,
		.cfg = &api.cfg,
	};
	struct rap_task *tasks[JOB_API_TASKS] = { NULL };
	char err[RAP_ERRLEN];
	int r, i, status = EXIT_FAILURE;

	bool only_migrate = argc == 2 && strcmp(argv[1], "--migrate") == 0;

	r = rap_service_init(&api.svc, &desc, only_migrate ? 1 : argc, argv);
	if (r != 0)
		return r > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	if (only_migrate) {
		status = migrate_only(&api);
		rap_service_cleanup(&api.svc);
		return status;
	}
	if (job_api_types_init(&api, err) != RAP_OK) {
		fprintf(stderr, "job-api: configuration error: %s\n", err);
		goto out_types;
	}
	if (rap_auth_parse(api.svc.cfg.api_keys, &api.auth, err) != RAP_OK) {
		rap_log(RAP_LOG_ERROR, NULL, "%s", err);
		goto out_types;
	}
	register_metrics(&api);
	rap_s3_global_init();
	api.presigner = rap_service_presigner(&api.svc);
	/* Creations share one connection (group.c); the other requests take
	 * one each, and more than eight at once only queue in the server. */
	api.pool = rap_pg_pool_new(api.svc.cfg.pg_url,
				   (unsigned)(api.cfg.http_threads < 8 ? api.cfg.http_threads : 8) +
					   2);
	/* Commits that NOTIFY are serialised by PostgreSQL; the handlers wake
	 * the relay in-process instead (migration 0013). */
	rap_pg_pool_setup(api.pool, "SET rap.outbox_notify = off");
	/* A bucket per API key and class, shared by the instances in
	 * PostgreSQL (rap/keylimit.h). */
	api.create_limit = rap_keylimit_new("create", (double)api.cfg.job_create_rate,
					    (double)api.cfg.job_create_burst, api.pool);
	api.status_limit = rap_keylimit_new("status", (double)api.cfg.job_status_rate,
					    (double)api.cfg.job_status_burst, api.pool);
	api.relay_wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (api.relay_wake < 0) {
		rap_log(RAP_LOG_ERROR, NULL, "eventfd: %s", strerror(errno));
		goto out_pool;
	}
	api.group = job_api_group_start(&api);
	if (!api.group) {
		rap_log(RAP_LOG_ERROR, NULL, "cannot start the job creation thread");
		goto out_pool;
	}
	hc.bind = api.svc.cfg.bind;
	hc.port = (unsigned)api.cfg.job_port;
	hc.threads = (unsigned)api.cfg.http_threads;
	hc.max_body = 1024 * 1024;
	/* Small JSON requests: 256 KiB cleared for each was 9% of job-api's CPU
	 * on the status path. */
	hc.conn_memory = 32 * 1024;
	hc.routes = job_api_routes;
	hc.n_routes = job_api_n_routes;
	hc.auth = api.auth;
	hc.svc = &api;
	hc.ready = job_api_ready;
	hc.completed = rap_service_log_request;
	hc.metrics = api.svc.metrics;
	hc.max_conns = (unsigned)api.cfg.max_conns;
	hc.max_conns_per_ip = (unsigned)api.cfg.max_conns_per_ip;
	hc.idle_timeout = (unsigned)api.cfg.idle_timeout;
	/* Health answers while the database is still coming up. */
	if (rap_http_start(&hc, &http, err) != RAP_OK) {
		rap_log(RAP_LOG_ERROR, NULL, "%s", err);
		goto out_pool;
	}
	if (api.cfg.admin_port &&
	    rap_http_start_admin(&hc, (unsigned)api.cfg.admin_port, &admin, err) != RAP_OK) {
		rap_log(RAP_LOG_ERROR, NULL, "admin port: %s", err);
		goto out_http;
	}
	rap_log(RAP_LOG_INFO, NULL, "listening on %s:%lld (admin port %lld)", hc.bind,
		api.cfg.job_port, api.cfg.admin_port);
	if (migrate(&api) != RAP_OK)
		goto out_http;
	atomic_store(&api.db_ok, true);
	tasks[0] = job_api_relay_new(&api);
	tasks[1] = job_api_deadletters_new(&api);
	tasks[2] = job_api_webhooks_new(&api);
	status = EXIT_SUCCESS;
	for (i = 0; i < JOB_API_TASKS && status == EXIT_SUCCESS; i++)
		if (rap_task_start(tasks[i]) != RAP_OK) {
			rap_log(RAP_LOG_ERROR, NULL, "cannot start the %s thread", tasks[i]->name);
			rap_stop_request();
			status = EXIT_FAILURE;
		}
	rap_stop_wait();
	rap_log(RAP_LOG_INFO, NULL, "stopping");
	for (i = 0; i < JOB_API_TASKS; i++)
		rap_task_join(tasks[i]);
out_http:
	rap_http_stop(admin);
	rap_http_stop(http);
	job_api_relay_free(tasks[0]);
	job_api_deadletters_free(tasks[1]);
	job_api_webhooks_free(tasks[2]);
out_pool:
	job_api_group_stop(api.group);
	if (api.relay_wake >= 0)
		close(api.relay_wake);
	rap_pg_pool_free(api.pool);
	rap_s3_free(api.presigner);
	rap_auth_free(api.auth);
	rap_keylimit_free(api.create_limit);
	rap_keylimit_free(api.status_limit);
out_types:
	job_api_types_cleanup(&api);
	rap_service_cleanup(&api.svc);
	return status;
}
