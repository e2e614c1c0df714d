/* upload-api: streams uploads into S3 and records them. */
#include "upload_api.h"
#include "parts.h"

#include "rap/auth.h"
#include "rap/err.h"
#include "rap/jobtype.h"
#include "rap/keylimit.h"
#include "rap/log.h"
#include "rap/metrics.h"
#include "rap/pg.h"
#include "rap/pool.h"
#include "rap/presigned.h"
#include "rap/clock.h"
#include "rap/schema.h"
#include "rap/task.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEEPER_PERIOD_MS 1000 /* probes and sweeps at most this often */

static bool upload_ready(void *arg, char *reason, size_t len)
{
	struct upload_api *api = arg;

	if (!atomic_load(&api->db_ok)) {
		snprintf(reason, len, "PostgreSQL is not reachable");
		return false;
	}
	if (!atomic_load(&api->s3_ok)) {
		snprintf(reason, len, "the S3 bucket is not reachable");
		return false;
	}
	return true;
}

/* Checks both dependencies once (migrating first); true when both answer. */
static bool probe(struct upload_api *api, bool *migrated)
{
	struct rap_s3 *s3 = rap_s3_new(&api->s3cfg);
	char err[RAP_ERRLEN] = "";
	PGconn *db;
	bool db_ok = false, s3_ok;

	if (!*migrated && rap_pg_connect(api->svc.cfg.pg_url, &db, err) == RAP_OK) {
		*migrated = db_ok = rap_schema_migrate(db, err) == RAP_OK;
		PQfinish(db);
	} else if (*migrated && rap_pg_pool_get(api->pool, 2000, &db, err) == RAP_OK) {
		db_ok = rap_pg_exec(db, "SELECT 1", 0, NULL, NULL, err) == RAP_OK;
		rap_pg_pool_put(api->pool, db);
	}
	if (!db_ok)
		rap_log(RAP_LOG_WARN, NULL, "PostgreSQL not ready: %s", err);
	s3_ok = rap_s3_ensure_bucket(s3) == RAP_OK;
	if (!s3_ok)
		rap_log(RAP_LOG_WARN, NULL, "S3 not ready: %s", rap_s3_errmsg(s3));
	rap_s3_free(s3);
	atomic_store(&api->db_ok, db_ok);
	atomic_store(&api->s3_ok, s3_ok);
	return db_ok && s3_ok;
}

/* Aborts abandoned presigned uploads (lib/presigned.c) and expired tus
 * uploads (tus_delete.c); runs on the main thread between probes. */
static void sweep(struct upload_api *api)
{
	const struct rap_log_ctx ctx = { .action = "sweep" };
	struct rap_s3 *s3 = rap_s3_new(&api->s3cfg);
	char err[RAP_ERRLEN];
	unsigned aborted = 0;
	PGconn *db;

	if (rap_pg_pool_get(api->pool, 2000, &db, err) == RAP_OK) {
		if (rap_presigned_sweep(db, s3, (int)api->cfg.presign_grace_seconds, 100, &aborted,
					err) != RAP_OK)
			rap_log(RAP_LOG_WARN, &ctx, "sweeping abandoned uploads failed: %s", err);
		rap_pg_pool_put(api->pool, db);
	}
	if (aborted) {
		rap_metric_inc(api->swept, aborted);
		rap_log(RAP_LOG_INFO, &ctx, "%u abandoned presigned uploads aborted", aborted);
	}
	rap_s3_free(s3);
	tus_delete_expired(api);
}

/*
 * The main thread's task (rap/task.h): a probe of PostgreSQL and S3 that
 * readiness reports, with a back-off while either is away, and the sweeper
 * of abandoned uploads every RAP_UPLOAD_SWEEP_MS while both answer.
 */
struct keeper {
	struct upload_api *api;
	bool migrated;
	int64_t next_sweep;
};

static int keeper_connect(void *ctx)
{
	struct keeper *k = ctx;

	return probe(k->api, &k->migrated) ? RAP_OK : RAP_EIO;
}

static int keeper_step(void *ctx)
{
	struct keeper *k = ctx;

	if (rap_now_ms() >= k->next_sweep) {
		sweep(k->api);
		k->next_sweep = rap_now_ms() + k->api->cfg.upload_sweep_ms;
	}
	rap_sleep_ms(KEEPER_PERIOD_MS);
	return RAP_OK;
}

static const struct rap_task_ops keeper_ops = {
	.connect = keeper_connect,
	.step = keeper_step,
	.max_ms = 5000,
};

/*
 * A request is done: its access-log line, and for an accepted upload
 * request with a body (a tus PATCH or creation-with-upload, a multipart
 * POST) the rate its body came at, from the headers to its last byte.
 */
static void upload_completed(void *svc, const struct rap_http_req *req)
{
	struct upload_api *api = svc;
	const struct rap_http_route *r = req->match.route;
	struct rap_metric *h;
	double s;

	rap_service_log_request(svc, req);
	if (!r || !r->method || req->status < 200 || req->status >= 300 || !req->body_bytes ||
	    !req->body_end_us)
		return;
	if (strcmp(r->pattern, "/uploads") == 0 && strcmp(r->method, "POST") == 0)
		h = api->throughput_multipart;
	else if ((strcmp(r->pattern, "/files/{id}") == 0 && strcmp(r->method, "PATCH") == 0) ||
		 (strcmp(r->pattern, "/files") == 0 && strcmp(r->method, "POST") == 0))
		h = api->throughput_tus;
	else
		return;
	/* A body within one tick of the clock: a microsecond, not infinity. */
	s = (double)(req->body_end_us - req->started_us) / 1e6;
	rap_metric_observe(h, (double)req->body_bytes / (s > 1e-6 ? s : 1e-6));
}

static void register_metrics(struct upload_api *api)
{
	struct rap_metrics *m = api->svc.metrics;

	api->uploads_ok = rap_metrics_add(m, RAP_COUNTER, "rap_uploads_total", "outcome=\"stored\"",
					  "uploads, by outcome");
	api->uploads_failed = rap_metrics_add(m, RAP_COUNTER, "rap_uploads_total",
					      "outcome=\"failed\"", "uploads, by outcome");
	api->upload_bytes = rap_metrics_add(m, RAP_COUNTER, "rap_upload_bytes_total", NULL,
					    "file bytes stored in S3");
	api->throughput_tus = rap_metrics_add_histogram(
		m, "rap_upload_throughput_bytes_per_second", "protocol=\"tus\"",
		"the rate of each accepted upload request's body, first to last byte",
		rap_buckets_bytes_per_second, RAP_BUCKETS_BYTES_PER_SECOND);
	api->throughput_multipart = rap_metrics_add_histogram(
		m, "rap_upload_throughput_bytes_per_second", "protocol=\"multipart\"",
		"the rate of each accepted upload request's body, first to last byte",
		rap_buckets_bytes_per_second, RAP_BUCKETS_BYTES_PER_SECOND);
	api->parts = rap_metrics_add(m, RAP_COUNTER, "rap_upload_s3_parts_total", NULL,
				     "S3 multipart parts uploaded");
	api->swept = rap_metrics_add(m, RAP_COUNTER, "rap_uploads_swept_total", NULL,
				     "abandoned presigned uploads aborted by the sweeper");
	api->tus_expired =
		rap_metrics_add(m, RAP_COUNTER, "rap_tus_expired_total", NULL,
				"expired tus uploads aborted and removed by the sweeper");
	api->in_flight = rap_metrics_add(m, RAP_GAUGE, "rap_uploads_in_flight", NULL,
					 "uploads being streamed now");
	api->busy = rap_metrics_add(
		m, RAP_COUNTER, "rap_uploads_busy_total", NULL,
		"requests refused with 503 busy: RAP_UPLOAD_MAX_ACTIVE were streaming");
	api->over_share = rap_metrics_add(
		m, RAP_COUNTER, "rap_uploads_over_share_total", NULL,
		"requests refused with 429 upload_share_exceeded: their owner held its share "
		"of the places (RAP_UPLOAD_MAX_ACTIVE_PER_OWNER)");
	api->too_slow = rap_metrics_add(
		m, RAP_COUNTER, "rap_uploads_cut_total", "reason=\"too_slow\"",
		"upload bodies and tus PATCHes cut with 408: slower than RAP_UPLOAD_MIN_RATE");
	api->rate_limited = rap_metrics_add(
		m, RAP_COUNTER, "rap_uploads_rate_limited_total", NULL,
		"upload requests refused with 429: their API key passed RAP_UPLOAD_REQUEST_RATE");
}

int main(int argc, char **argv)
{
	struct upload_api api = { 0 };
	struct rap_http_server *http = NULL, *admin = NULL;
	struct rap_http_cfg hc = { 0 };
	const struct rap_service_desc desc = {
		.name = "upload-api",
		.about = "Streams multipart and tus 1.0 uploads into S3 (multipart upload) and "
			 "records them.",
		.groups = RAP_SETTINGS_PG | RAP_SETTINGS_S3 | RAP_SETTINGS_PRESIGN |
			  RAP_SETTINGS_AUTH | RAP_SETTINGS_JOB_TYPES | RAP_SETTINGS_JOB_CONTENT,
		.opts = upload_settings_table,
		.n_opts = upload_settings_count,
		.cfg = &api.cfg,
	};
	struct rap_jobtype_settings types = { 0 };
	struct keeper k = { .api = &api };
	struct rap_task keeper = { .name = "keeper", .ops = &keeper_ops, .ctx = &k };
	struct rap_task pacer;
	char err[RAP_ERRLEN];
	int r, status = EXIT_FAILURE;

	r = rap_service_init(&api.svc, &desc, argc, argv);
	if (r != 0)
		return r > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	types.types = api.svc.cfg.job_types;
	types.content = api.svc.cfg.job_content_types;
	if (rap_jobtype_settings_check(&types, err) != RAP_OK) {
		fprintf(stderr, "upload-api: configuration error: %s\n", err);
		goto out_service;
	}
	/* A job_type sent with an upload has its content checked early, against
	 * the same allow-lists job-api checks it with (the registry's, or
	 * RAP_JOB_CONTENT_TYPES's). */
	api.content_list = rap_jobtype_content_list(api.svc.cfg.job_content_types);
	if (rap_auth_parse(api.svc.cfg.api_keys, &api.auth, err) != RAP_OK) {
		rap_log(RAP_LOG_ERROR, NULL, "%s", err);
		goto out_service;
	}
	rap_s3_global_init();
	register_metrics(&api);
	rap_service_s3_cfg(&api.svc, &api.s3cfg);
	api.presigner = rap_service_presigner(&api.svc);
	pthread_mutex_init(&api.magic_lock, NULL);
	pthread_mutex_init(&api.places_lock, NULL);
	upload_pacer_init(&api, &pacer);
	api.magic = magic_open(MAGIC_MIME_TYPE);
	if (!api.magic || magic_load(api.magic, NULL) != 0) {
		rap_log(RAP_LOG_ERROR, NULL, "cannot load the libmagic database");
		goto out_magic;
	}
	api.pool = rap_pg_pool_new(api.svc.cfg.pg_url, 16);
	api.limit = rap_keylimit_new("upload", (double)api.cfg.upload_request_rate,
				     (double)api.cfg.upload_request_burst, api.pool);
	api.part_pool = rap_pool_new(
		parts_pool_bound(api.cfg.upload_max_active, api.cfg.upload_parts_in_flight));
	hc.bind = api.svc.cfg.bind;
	hc.port = (unsigned)api.cfg.upload_port;
	hc.threads = 0; /* a thread per connection: part uploads block */
	hc.max_body = 64 * 1024;
	hc.routes = upload_api_routes;
	hc.n_routes = upload_api_n_routes;
	hc.auth = api.auth;
	hc.svc = &api;
	hc.ready = upload_ready;
	hc.completed = upload_completed;
	hc.metrics = api.svc.metrics;
	hc.max_conns = (unsigned)api.cfg.max_conns;
	hc.max_conns_per_ip = (unsigned)api.cfg.max_conns_per_ip;
	hc.idle_timeout = (unsigned)api.cfg.idle_timeout;
	if (rap_http_start(&hc, &http, err) != RAP_OK) {
		rap_log(RAP_LOG_ERROR, NULL, "%s", err);
		goto out_pool;
	}
	if (api.cfg.admin_port &&
	    rap_http_start_admin(&hc, (unsigned)api.cfg.admin_port, &admin, err) != RAP_OK) {
		rap_log(RAP_LOG_ERROR, NULL, "admin port: %s", err);
		goto out_http;
	}
	rap_log(RAP_LOG_INFO, NULL, "listening on %s:%u (admin port %lld)", hc.bind, hc.port,
		api.cfg.admin_port);
	if (rap_task_start(&pacer) != RAP_OK)
		rap_log(RAP_LOG_WARN, NULL, "no pacer thread: only bodies that send are paced");
	rap_task_run(&keeper);
	rap_log(RAP_LOG_INFO, NULL, "stopping");
	status = EXIT_SUCCESS;
	/* The pacer cuts requests of the server: it ends before the server. */
	rap_task_join(&pacer);
out_http:
	rap_http_stop(admin);
	rap_http_stop(http);
out_pool:
	rap_pool_free(api.part_pool);
	rap_pg_pool_free(api.pool);
	rap_keylimit_free(api.limit);
out_magic:
	if (api.magic)
		magic_close(api.magic);
	pthread_mutex_destroy(&api.magic_lock);
	pthread_mutex_destroy(&api.places_lock);
	rap_s3_free(api.presigner);
	rap_auth_free(api.auth);
out_service:
	free(api.content_list);
	rap_service_cleanup(&api.svc);
	return status;
}
