#ifndef JOB_API_H
#define JOB_API_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "rap/http.h"
#include "rap/service.h"

struct rap_auth;
struct rap_pg_pool;
struct rap_metric;

/* job-api's state, shared by its HTTP threads and its relay thread. */
struct job_api {
	struct rap_service svc;
	struct rap_auth *auth;
	struct rap_pg_pool *pool;
	atomic_bool relay_ok;    /* the relay is connected to both sides */
	atomic_bool db_ok;
	pthread_t relay;
	pthread_t deadletters;
	struct rap_metric *jobs_created;
	struct rap_metric *jobs_idempotent;
	struct rap_metric *relay_published;
	struct rap_metric *relay_failures;
	struct rap_metric *outbox_unroutable;
	struct rap_metric *swept_requeued;
	struct rap_metric *swept_buried;
	struct rap_metric *dead_lettered;
};

/* relay.c: publishes the outbox until rap_stop. */
void *job_api_relay_main(void *arg);

/* deadletters.c: marks DEAD the jobs of messages the broker dead-lettered. */
void *job_api_deadletters_main(void *arg);

/* handlers.c: the HTTP routes. */
void job_api_handle(void *svc, struct rap_http_req *req, enum rap_http_phase phase,
		    const char *data, size_t len);

#endif
