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
struct job_api_type;
struct rap_keylimit;

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
	long long webhook_connect_timeout_ms;
	long long webhook_concurrency;
	long long webhook_per_owner;
	long long sweep_ms;
	long long stats_ms;
	long long storage_stats_ms;
	long long relay_batch;
	long long relay_poll_ms;
	long long admin_port;
	long long max_conns;
	long long max_conns_per_ip;
	long long idle_timeout;
	long long job_create_rate;
	long long job_create_burst;
	long long job_status_rate;
	long long job_status_burst;
};

extern const struct rap_cfg_opt job_api_settings_table[];
extern const size_t job_api_settings_count;

/* job-api's state, shared by its HTTP threads and its tasks. */
struct job_api {
	struct rap_service svc;
	struct job_api_settings cfg; /* its own; the shared ones: svc.cfg */
	struct rap_auth *auth;
	struct rap_pg_pool *pool;
	struct job_api_group *group; /* group.c */
	struct rap_s3 *presigner;    /* signs output URLs (shared, read-only) */
	/* types.c: the job types with the settings applied (read-only once
	 * started): one per registry entry, the effective content allow-lists
	 * (rap_list_allows reads them) and the GET /job-types answer. */
	struct job_api_type *types;
	char *content_list;
	char *types_json;
	/* An eventfd that wakes the relay: job-api's own connections write the
	 * outbox without NOTIFY (migration 0013), and each handler that wrote
	 * it kicks the relay after its commit (job_api_relay_kick). */
	int relay_wake;
	atomic_bool relay_ok; /* the relay is connected to both sides */
	atomic_bool db_ok;
	struct rap_keylimit *create_limit; /* RAP_JOB_CREATE_RATE, per key */
	struct rap_keylimit *status_limit; /* RAP_JOB_STATUS_RATE, per key */
	struct rap_metric *jobs_created;
	struct rap_metric *create_limited;
	struct rap_metric *status_limited;
	struct rap_metric *jobs_idempotent;
	struct rap_metric *create_groups;
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
	struct rap_metric *stored_uploads, *stored_bytes; /* RAP_STORAGE_STATS_MS */
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
/* Wakes the relay: call after a commit that wrote the outbox. */
void job_api_relay_kick(struct job_api *api);

/* group.c: single creations from concurrent requests committed together
 * (one WAL flush for a group).  _start makes the committer thread (NULL
 * when it cannot); _stop drains it, after the HTTP server stopped. */
struct rap_job_create_item;
struct job_api_group *job_api_group_start(struct job_api *api);
void job_api_group_stop(struct job_api_group *g);
/* Creates item's job as rap_job_create would, with whatever else is
 * waiting; returns (and leaves in item) its result. */
int job_api_group_create(struct job_api_group *g, struct rap_job_create_item *item);
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
/* POST /jobs/{id}/replay, and POST /jobs/replay-dead (every DEAD job of
 * the owner, or of the scope an admin asks for: job_api_scope); an admin
 * may replay any owner's DEAD job by its id. */
void job_api_replay(void *svc, struct rap_http_req *req);
void job_api_output(void *svc, struct rap_http_req *req);
/* errors.c: GET /jobs/{id}/errors (a page, JSON) and
 * GET /jobs/{id}/errors.csv (all of them, streamed). */
void job_api_errors(void *svc, struct rap_http_req *req);
void job_api_errors_csv(void *svc, struct rap_http_req *req);
/* stats.c: GET /jobs/stats (the caller's numbers over ?hours=, 24 h; an
 * admin's scope as job_api_scope's). */
void job_api_stats(void *svc, struct rap_http_req *req);
/* admin.c: GET /me ({"owner", "role"}), and the owner scope of the DEAD-job
 * routes and of GET /jobs/stats: ?owner=NAME or ?all=true.  *owner gets the owner to act on (NULL:
 * every owner) and *foreign whether it is not the caller's own; false once
 * it has answered (400 malformed, 403 `forbidden` for a key that is not an
 * admin's asking for another owner or all). */
void job_api_me(void *svc, struct rap_http_req *req);
bool job_api_scope(struct rap_http_req *req, const char **owner, bool *foreign);
/* batch.c: POST /jobs/batch. */
void job_api_create_batch(void *svc, struct rap_http_req *req);

/* types.c: the job types.  _init checks the job-type settings strictly
 * (err names the bad entry), compiles the enabled types' params schemas and
 * renders the answers of GET /job-types; _cleanup frees what it made (also
 * after a failed _init). */
int job_api_types_init(struct job_api *api, char *err);
void job_api_types_cleanup(struct job_api *api);
/* True when name is a type of RAP_JOB_TYPES. */
bool job_api_type_enabled(const struct job_api *api, const char *name);
/* Checks a job's params (canonical JSON text) against its enabled type's
 * schema: RAP_EINVAL with err naming the field from root ("params",
 * "jobs[3].params").  A type without a schema takes no params. */
int job_api_params_check(const struct job_api *api, const char *type, const char *params,
			 const char *root, char *err);
/* GET /job-types and GET /job-types/{name}: the enabled types. */
void job_api_types_list(void *svc, struct rap_http_req *req);
void job_api_type_get(void *svc, struct rap_http_req *req);

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
/* Takes n jobs from the API key's token bucket of creations
 * (RAP_JOB_CREATE_RATE, RAP_JOB_CREATE_BURST; shared by every instance,
 * rap/keylimit.h); false once it has answered 429 `rate_limited` with the
 * Retry-After that would let them pass. */
bool job_api_create_allowed(struct job_api *api, struct rap_http_req *req, int n);
/* The same for one status read (RAP_JOB_STATUS_RATE, RAP_JOB_STATUS_BURST). */
bool job_api_status_allowed(struct job_api *api, struct rap_http_req *req);
/* Completes the owner's presigned upload of object_key if its object is
 * in S3 with the declared size (rap_presigned_verify's results). */
int job_api_presigned_verify(struct job_api *api, struct pg_conn *db, const char *owner,
			     const char *object_key, char *err);
/* RAP_EUNSUPPORTED (err says why) when the owner's upload of object_key
 * holds content that job type does not take (its effective allow-list:
 * the registry's, or RAP_JOB_CONTENT_TYPES's). */
int job_api_content_check(struct job_api *api, struct pg_conn *db, const char *owner,
			  const char *type, const char *object_key, char *err);
/* The max_attempts of a job type (RAP_JOB_MAX_ATTEMPTS, else the
 * registry's). */
int job_api_max_attempts(struct job_api *api, const char *type);

#endif
