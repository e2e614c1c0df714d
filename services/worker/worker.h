#ifndef WORKER_H
#define WORKER_H

#include <libpq-fe.h>
#include <magic.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "rap/config.h"
#include "rap/service.h"
#include "rap/jobmsg.h"
#include "rap/jobtype.h"

struct rap_amqp;
struct rap_s3;
struct rap_metric;
struct rap_amqp_msg;

/* settings.c: the settings that are worker's own. */
struct worker_settings {
	const char *worker_pools;
	long long worker_port;
	long long worker_prefetch;
	long long worker_batch;
	const char *worker_id;
	long long lease_seconds;
};

extern const struct rap_cfg_opt worker_settings_table[];
extern const size_t worker_settings_count;

struct worker {
	struct rap_service svc;
	struct worker_settings cfg; /* its own; the shared ones: svc.cfg */
	char id[128];
	const char *pools[RAP_JOBTYPE_POOLS_MAX]; /* the pools it serves */
	size_t n_pools;
	PGconn *db;
	struct rap_amqp *amqp; /* consumer */
	struct rap_amqp *pub;  /* confirming publisher (retries) */
	struct rap_s3 *s3;
	magic_t magic;
	atomic_bool ready;
	struct rap_metric *completed;
	struct rap_metric *failed;
	struct rap_metric *dead_lettered;
	struct rap_metric *duplicates;
	struct rap_metric *requeued;
	struct rap_metric *retried;
	struct rap_metric *bytes_read;
};

/* The job being run: what a processor needs, and its heartbeat clock. */
struct job_run {
	struct worker *w;
	const struct rap_jobmsg *msg;
	const char *params; /* the job's params, a JSON object */
	int attempt;
	uint64_t size; /* the input object's size */
	uint64_t done; /* bytes processed so far */
	int64_t last_beat_ms;
};

/*
 * A processor turns a job's input into its result (a JSON object, which the
 * caller frees).  Errors: RAP_EINVAL / RAP_ENOENT mean the input itself is
 * bad (permanent: the job FAILS); RAP_ECANCELED means the lease was lost;
 * anything else is transient (the job is retried).
 */
struct processor {
	const char *type;
	int (*run)(struct job_run *run, char **result_json, char *err);
};

/* processors.c: the processors the worker runs itself, by type; NULL for
 * a type it lacks.  worker_quick: a quick type of the registry
 * (lib/domain/jobtype.c) that the worker runs, claimed in batches. */
extern const struct processor worker_processors[];
extern const size_t worker_processors_count;
const struct processor *worker_processor(const char *type);
bool worker_quick(const char *type);

/* inspect.c: the file.inspect processor (size, SHA-256, detected type). */
int worker_inspect_run(struct job_run *run, char **result_json, char *err);
/* fault.c: the test.fault processor (enabled only through RAP_JOB_TYPES). */
int worker_fault_run(struct job_run *run, char **result_json, char *err);

/* run.c: extends the lease once a second at most; RAP_ECANCELED when the
 * job was cancelled or taken over meanwhile, or the worker is stopping. */
int worker_heartbeat(struct job_run *run);

/* lifecycle.c: one delivery from claim to settling, and the outcome of a
 * processor run (recorded, then the message acked, re-published to a
 * retry tier, dead-lettered or requeued). */
void worker_handle(struct worker *w, struct rap_amqp_msg *m);
void worker_finish(struct worker *w, struct rap_amqp_msg *m, const struct rap_jobmsg *jm,
		   int attempt, int max_attempts, int result, char *result_json, char *err);
/** The retry delay in seconds after a failed attempt: a TTL tier of
 *  infra/rabbitmq/definitions.json, about 2^(attempt-1) s with jitter. */
int worker_retry_delay(int attempt);

/* batch.c: claims and completes quick jobs many at a time. */
void worker_handle_batch(struct worker *w, struct rap_amqp_msg *msgs, int n);

#endif
