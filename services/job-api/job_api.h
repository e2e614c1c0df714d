#ifndef JOB_API_H
#define JOB_API_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "rap/http.h"
#include "rap/config.h"
#include "rap/service.h"
#include "rap/task.h"

struct rap_auth;
struct rap_pg_pool;
struct rap_s3;
struct rap_metric;
struct pg_conn;

/* settings.c: the settings that are job-api's own. */
struct job_api_settings {
	long long job_port;
	long long http_threads;
	const char *job_max_attempts;
	long long job_retention_days;
	const char *webhook_secret;
	const char *webhook_hosts;
	long long webhook_max_attempts;
	long long webhook_backoff_ms;
	long long webhook_timeout_ms;
	long long sweep_ms;
	long long stats_ms;
	long long relay_batch;
	long long relay_poll_ms;
};

extern const struct rap_cfg_opt job_api_settings_table[];
extern const size_t job_api_settings_count;

/* job-api's state, shared by its HTTP threads and its tasks. */
struct job_api {
	struct rap_service svc;
	struct job_api_settings cfg; /* its own; the shared ones: svc.cfg */
	struct rap_auth *auth;
	struct rap_pg_pool *pool;
	struct rap_s3 *presigner; /* signs output URLs (shared, read-only) */
	atomic_bool relay_ok;     /* the relay is connected to both sides */
	atomic_bool db_ok;
	struct rap_metric *jobs_created;
	struct rap_metric *jobs_idempotent;
	struct rap_metric *relay_published;
	struct rap_metric *relay_failures;
	struct rap_metric *outbox_unroutable;
	struct rap_metric *swept_requeued;
	struct rap_metric *swept_buried;
	struct rap_metric *dead_lettered;
	struct rap_metric *jobs_open[5]; /* by rap_open_states */
	struct rap_metric *outbox_pending;
	struct rap_metric *outbox_oldest;
	struct rap_metric *stats_failures;
	struct rap_metric *jobs_expired;
	struct rap_metric *webhooks_delivered;
	struct rap_metric *webhooks_retried;
	struct rap_metric *webhooks_failed;
};

/*
 * job-api's background tasks (rap/task.h), each on a thread of its own
 * until the stop: _new makes one (start it with rap_task_start), _free
 * frees it after rap_task_join (accepts NULL).
 */
/* relay.c: publishes the outbox, sweeps expired leases, the retention. */
struct rap_task *job_api_relay_new(struct job_api *api);
void job_api_relay_free(struct rap_task *t);
/* deadletters.c: marks DEAD the jobs of messages the broker dead-lettered. */
struct rap_task *job_api_deadletters_new(struct job_api *api);
void job_api_deadletters_free(struct rap_task *t);
/* webhooks.c: POSTs the webhook deliveries of finished jobs. */
struct rap_task *job_api_webhooks_new(struct job_api *api);
void job_api_webhooks_free(struct rap_task *t);

/* routes.c: the table of job-api's routes. */
extern const struct rap_http_route job_api_routes[];
extern const size_t job_api_n_routes;

/* jobs.c: the handlers of /jobs, /jobs/{id} and its actions. */
void job_api_create(void *svc, struct rap_http_req *req);
void job_api_list(void *svc, struct rap_http_req *req);
void job_api_get(void *svc, struct rap_http_req *req);
void job_api_cancel(void *svc, struct rap_http_req *req);
/* POST /jobs/{id}/replay, and POST /jobs/replay-dead (every DEAD job). */
void job_api_replay(void *svc, struct rap_http_req *req);
void job_api_output(void *svc, struct rap_http_req *req);
/* errors.c: GET /jobs/{id}/errors (a page, JSON) and
 * GET /jobs/{id}/errors.csv (all of them, streamed). */
void job_api_errors(void *svc, struct rap_http_req *req);
void job_api_errors_csv(void *svc, struct rap_http_req *req);
/* batch.c: POST /jobs/batch. */
void job_api_create_batch(void *svc, struct rap_http_req *req);

/* common.c: what the handlers share. */
/* Takes a pooled connection, or answers 503 and returns NULL. */
struct pg_conn *job_api_db_get(struct job_api *api, struct rap_http_req *req);
/* Checks a job id from the URL (400 unless a UUID), then takes a
 * connection (503 without); NULL once it has answered. */
struct pg_conn *job_api_db_for_job(struct job_api *api, struct rap_http_req *req, const char *id);
/* Answers a failed job-store call with 503. */
void job_api_store_error(struct rap_http_req *req, int result, const char *err);
/* Checks the media type and Idempotency-Key of a job creation; false once
 * it has answered.  *idem gets the key or NULL. */
bool job_api_create_headers(struct rap_http_req *req, const char **idem);
/* Completes the owner's presigned upload of object_key if its object is
 * in S3 with the declared size (rap_presigned_verify's results). */
int job_api_presigned_verify(struct job_api *api, struct pg_conn *db, const char *owner,
			     const char *object_key, char *err);
/* RAP_EUNSUPPORTED (err says why) when the owner's upload of object_key
 * holds content that job type does not take (RAP_JOB_CONTENT_TYPES). */
int job_api_content_check(struct job_api *api, struct pg_conn *db, const char *owner,
			  const char *type, const char *object_key, char *err);
/* The max_attempts of a job type (RAP_JOB_MAX_ATTEMPTS, default 5). */
int job_api_max_attempts(struct job_api *api, const char *type);

#endif
