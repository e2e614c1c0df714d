#ifndef JOB_API_H
#define JOB_API_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "rap/http.h"
#include "rap/service.h"

struct rap_auth;
struct rap_pg_pool;
struct rap_s3;
struct rap_metric;
struct pg_conn;

/* job-api's state, shared by its HTTP threads and its relay thread. */
struct job_api {
	struct rap_service svc;
	struct rap_auth *auth;
	struct rap_pg_pool *pool;
	struct rap_s3 *presigner;    /* signs output URLs (shared, read-only) */
	atomic_bool relay_ok;    /* the relay is connected to both sides */
	atomic_bool db_ok;
	pthread_t relay;
	pthread_t deadletters;
	pthread_t webhooks;
	struct rap_metric *jobs_created;
	struct rap_metric *jobs_idempotent;
	struct rap_metric *relay_published;
	struct rap_metric *relay_failures;
	struct rap_metric *outbox_unroutable;
	struct rap_metric *swept_requeued;
	struct rap_metric *swept_buried;
	struct rap_metric *dead_lettered;
	struct rap_metric *jobs_open[5];     /* by rap_open_states */
	struct rap_metric *outbox_pending;
	struct rap_metric *outbox_oldest;
	struct rap_metric *stats_failures;
	struct rap_metric *jobs_expired;
	struct rap_metric *webhooks_delivered;
	struct rap_metric *webhooks_retried;
	struct rap_metric *webhooks_failed;
};

/* relay.c: publishes the outbox until rap_stop. */
void *job_api_relay_main(void *arg);

/* deadletters.c: marks DEAD the jobs of messages the broker dead-lettered. */
void *job_api_deadletters_main(void *arg);

/* webhooks.c: POSTs the webhook deliveries of finished jobs until rap_stop. */
void *job_api_webhooks_main(void *arg);

/* handlers.c: the HTTP routes, and what the handlers share. */
void job_api_handle(void *svc, struct rap_http_req *req, enum rap_http_phase phase,
		    const char *data, size_t len);
/* Takes a pooled connection, or answers 503 and returns NULL. */
struct pg_conn *job_api_db_get(struct job_api *api, struct rap_http_req *req);
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

/* batch.c: POST /jobs/batch. */
void job_api_create_batch(struct job_api *api, struct rap_http_req *req);

#endif
