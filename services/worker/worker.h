#ifndef WORKER_H
#define WORKER_H

#include <libpq-fe.h>
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
struct forksrv;

/* settings.c: the settings that are worker's own. */
struct worker_settings {
	const char *worker_pools;
	long long worker_port;
	long long worker_prefetch;
	long long worker_batch;
	const char *worker_id;
	long long lease_seconds;
	long long ack_after_ms;
	long long errors_max;
	const char *scratch_dir;
	const char *processor_path;
	const char *clamav_db;
	const char *scan_first;
};

extern const struct rap_cfg_opt worker_settings_table[];
extern const size_t worker_settings_count;

/* The sandbox's outcomes, each a counter (rap_worker_sandbox_total). */
enum worker_sandbox_outcome {
	SBX_COMPLETED,
	SBX_FAILED, /* the processor's own FAIL: the input is bad */
	SBX_TIME_LIMIT,
	SBX_MEMORY_LIMIT,
	SBX_OUTPUT_LIMIT,
	SBX_CRASHED,
	SBX_VIOLATION,
	SBX_CANCELLED, /* cancelled, taken over, or the worker stopping */
	SBX_TRANSIENT, /* S3, PostgreSQL or spawning: retried */
	SBX_OUTCOMES
};

/* How an attempt ended, as rap_worker_job_duration_seconds tells them apart
 * (timing.c). */
enum worker_outcome {
	WORKER_COMPLETED,
	WORKER_FAILED,
	WORKER_DEAD,
	WORKER_RETRYING,
	WORKER_CANCELLED,
	WORKER_OUTCOMES
};

/* A job type's histograms (timing.c). */
struct worker_type_metrics {
	const char *type; /* the registry's name */
	struct rap_metric *duration[WORKER_OUTCOMES];
	struct rap_metric *queued;
};

/*
 * The worker process, and each of its slots: the process serves each of
 * its pools on a slot of its own (a thread with its own PostgreSQL and
 * RabbitMQ connections and S3 clients, running one job or one batch of
 * quick ones at a time), so a long job of one pool never holds up the
 * deliveries of another.  A slot is a copy of the process's struct with
 * one pool; everything below `slots` is the process's alone.
 */
struct worker {
	struct rap_service svc;
	struct worker_settings cfg; /* its own; the shared ones: svc.cfg */
	char id[128];
	const char *pools[RAP_JOBTYPE_POOLS_MAX]; /* the pools it serves */
	size_t n_pools;
	PGconn *db;
	struct rap_amqp *amqp; /* consumer */
	struct rap_amqp *pub;  /* confirming publisher (retries, progress) */
	struct rap_s3 *s3;     /* the main thread's */
	struct rap_s3 *s3_in;  /* the input feeder thread's, while a job runs */
	char processor[4096];  /* rap-processor's path */
	long long prefetch;    /* the slot's: its pool's, or RAP_WORKER_PREFETCH */
	atomic_bool ready;
	struct rap_metric *completed;
	struct rap_metric *failed;
	struct rap_metric *dead_lettered;
	struct rap_metric *duplicates;
	struct rap_metric *requeued;
	struct rap_metric *retried;
	struct rap_metric *bytes_read;
	struct rap_metric *children;   /* gauge: live rap-processor children */
	struct rap_metric *early_acks; /* deliveries acked before their job ended */
	struct rap_metric *sandbox[SBX_OUTCOMES];
	struct rap_metric *scanned_clean, *scanned_infected; /* RAP_JOB_SCAN_FIRST */
	struct worker_type_metrics *types; /* the process's, one per type it runs */
	size_t n_types;
	struct rap_metric *busy;        /* gauge: slots running a job now */
	struct rap_metric *slots_gauge; /* gauge: slots */
	/* The fork server of virus.scan (forksrv.c), shared by the slots;
	 * NULL when this worker runs no such type. */
	struct forksrv *forksrv;
	struct worker *slots; /* the process's: one per pool it serves */
	size_t n_slots;
};

/*
 * A delivery from the work queue and how far it is settled.  A long job's
 * delivery is acked early (RAP_WORKER_ACK_AFTER_MS): from then on the
 * lease alone holds the job, and settling it never touches the broker
 * again (delivery.c).
 */
struct delivery {
	struct rap_amqp_msg *m;
	bool acked;
	int64_t run_started_us; /* when its job's run began (rap_now_us); 0: not run */
};

/* The job being run: what a processor needs, and its heartbeat clock. */
struct job_run {
	struct worker *w;
	const struct rap_jobmsg *msg;
	const struct rap_jobtype *type;
	struct delivery *dlv;
	const char *params; /* the job's params, a JSON object */
	int attempt;
	uint64_t size;      /* the input object's size */
	uint64_t done;      /* bytes processed so far */
	int64_t started_ms; /* when this attempt started running */
	int64_t last_beat_ms;
	int beat_ms; /* how often the lease is extended (and a cancel seen) */
	/* Where it stands, recorded and published at most once a second. */
	char stage[32];
	long long rows;
	int64_t last_progress_ms;
};

/*
 * How a job runs: an in-worker function (noop, test.fault), or
 * worker_sandbox_run for a sandboxed type.  Result: a JSON object that the
 * caller frees.  Errors: RAP_EINVAL / RAP_ENOENT mean the input itself is
 * bad (permanent: the job FAILS, err its error); RAP_ECANCELED means the
 * lease was lost or the worker stops; anything else is transient (the job
 * is retried).
 */

/* processors.c: how a type runs here; NULL for a type this worker does
 * not run (not in the registry, or in-worker without a function). */
typedef int (*worker_run_fn)(struct job_run *run, char **result_json, char *err);
worker_run_fn worker_runner(const struct rap_jobtype *t);
/* The in-worker processors, by type (NULL for a type not run in the
 * worker); worker_quick: a quick type of the registry that this worker
 * runs, claimed in batches. */
struct processor {
	const char *type;
	worker_run_fn run;
};
extern const struct processor worker_processors[];
extern const size_t worker_processors_count;
const struct processor *worker_processor(const char *type);
bool worker_quick(const char *type);

/* fault.c: the test.fault processor (enabled only through RAP_JOB_TYPES). */
int worker_fault_run(struct job_run *run, char **result_json, char *err);

/* sandbox.c: runs a sandboxed type's job in a rap-processor child. */
int worker_sandbox_run(struct job_run *run, char **result_json, char *err);

/* scanfirst.c: RAP_JOB_SCAN_FIRST, the input scanned before the type's
 * processor runs. */
/** Whether t's jobs are scanned first here. */
bool worker_scan_first_applies(const struct worker *w, const struct rap_jobtype *t);
/** RAP_OK clean: run the processor; RAP_EINVAL infected (or unscannable
 *  for good): the job FAILS with err; RAP_ECANCELED; else transient. */
int worker_scan_first(struct job_run *run, char *err);

/* run.c: extends the lease every run->beat_ms at most, acks a long job's
 * delivery early, records and publishes progress at most once a second;
 * RAP_ECANCELED when the job was cancelled or taken over meanwhile, or the
 * worker is stopping. */
int worker_heartbeat(struct job_run *run);
/** Sets where the job stands (stage may be NULL: unchanged; rows < 0:
 *  unchanged); the next heartbeat records it. */
void worker_progress(struct job_run *run, const char *stage, long long rows);
/* Records the latest progress now, whatever the once-a-second rule says
 * (a run that ended between two beats). */
void worker_progress_flush(struct job_run *run);

/* progress.c: where a running job stands, for its owner. */
struct rap_job_progress;
/** Milliseconds until a job that took elapsed_ms for done of total bytes
 *  is complete at the same rate; -1 while that cannot be told (nothing
 *  done yet, the total unknown, or under a second of data). */
long long worker_eta_ms(int64_t elapsed_ms, uint64_t done, uint64_t total);
/** Builds the job.progress message (proto/schemas/ws-server-message.json)
 *  into out (caller frees): owner, progress, stage, rows, ETA. */
char *worker_progress_message(const struct rap_jobmsg *jm, const struct rap_job_progress *pr,
			      const char *estimated_completion);
/** Publishes it on jobs.status (routing key job.progress), non-persistent
 *  and unconfirmed: the next one replaces it. */
void worker_publish_progress(struct job_run *run, const struct rap_job_progress *pr);

/* delivery.c: settling a delivery, whether or not it was acked early. */
/** Acks the delivery of a job that has run RAP_WORKER_ACK_AFTER_MS: the
 *  consumer stops first and deliveries waiting behind this one go back
 *  to the queue, so none waits unacked while the long job runs. */
void delivery_ack_early(struct worker *w, struct delivery *d);
void delivery_ack(struct worker *w, struct delivery *d);
/** Requeues (reject with requeue) unless acked: then the lease lapses and
 *  the sweeper re-queues the job. */
void delivery_requeue(struct worker *w, struct delivery *d);
/** Dead-letters (reject without requeue) unless acked. */
void delivery_dead_letter(struct worker *w, struct delivery *d);
/** Restarts the consumer stopped by an early ack. */
int delivery_resume(struct worker *w);
/** Consumes the queue of each pool the worker serves (jobs.work.<pool>),
 *  on the consumer connection's one channel. */
int worker_consume_pools(struct worker *w);

/* lifecycle.c: one delivery from claim to settling, and the outcome of a
 * processor run (recorded, then the message acked, re-published to a
 * retry tier, dead-lettered or requeued). */
void worker_handle(struct worker *w, struct rap_amqp_msg *m);
/* timing.c: the histograms of the types this worker runs (after
 * worker.pools and the settings are known), and their observations: an
 * attempt that began at started_us (rap_now_us; 0: none) ended with o;
 * a job waited seconds queued (< 0: not from the queue). */
void worker_timing_register(struct worker *w);
void worker_observe_run(struct worker *w, const char *type, enum worker_outcome o,
			int64_t started_us);
void worker_observe_queued(struct worker *w, const char *type, double seconds);

void worker_finish(struct worker *w, struct delivery *d, const struct rap_jobmsg *jm, int attempt,
		   int max_attempts, int result, char *result_json, char *err);
/** The retry delay in seconds after a failed attempt: a TTL tier of
 *  infra/rabbitmq/definitions.json, about 2^(attempt-1) s with jitter. */
int worker_retry_delay(int attempt);

/* batch.c: claims and completes quick jobs many at a time. */
void worker_handle_batch(struct worker *w, struct rap_amqp_msg *msgs, int n);

#endif
