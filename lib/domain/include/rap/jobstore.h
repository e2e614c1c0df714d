#ifndef RAP_JOBSTORE_H
#define RAP_JOBSTORE_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "rap/err.h"
#include "rap/job.h"
#include "rap/job_create.h"
#include "rap/uuid.h"

/*
 * The job store: every change of a job in PostgreSQL goes through here.
 * State changes are conditional UPDATEs; the database's trigger checks each
 * against the transition table, records it in job_events and puts its status
 * event in the outbox in the same transaction.
 */

struct rap_job_created {
	char job_id[RAP_UUID_STRLEN];
	char status[RAP_JOB_STATUS_LEN];
	bool existing; /* the Idempotency-Key named an earlier job */
};

/**
 * Creates a job and its work message in one transaction.  RAP_ENOENT when
 * the object is not a finished upload of the owner's; RAP_ECONFLICT when
 * the idempotency key was used with a different request (err says so).
 * idem_key may be NULL.  request_hash identifies the request body.
 * traceparent (may be NULL), the creating request's W3C trace context, is
 * kept with the job and sent with every message about it.
 */
int rap_job_create(PGconn *db, const char *owner, const struct rap_job_create *req,
		   int default_max_attempts, const char *idem_key, const char *request_hash,
		   const char *request_id, const char *traceparent, struct rap_job_created *out,
		   char *err);

/* One creation of a group (rap_job_create_group): the arguments of
 * rap_job_create, then its outcome. */
struct rap_job_create_item {
	const char *owner;
	const struct rap_job_create *req;
	int max_attempts; /* the type's default, when req has none */
	const char *idem_key;
	const char *request_hash;
	const char *request_id;
	const char *traceparent; /* the creating request's; NULL: none */
	struct rap_job_created out;
	int result; /* rap_job_create's */
	char err[RAP_ERRLEN];
};

#define RAP_JOB_GROUP_MAX 64

/**
 * Creates up to RAP_JOB_GROUP_MAX jobs, as rap_job_create would each, in
 * one transaction sent in one round trip (pipeline mode): one WAL flush
 * for all, which is what concurrent single creations are bound by.  When
 * one of them fails the transaction does too, and each is then created on
 * its own, so each item gets the answer it would have had alone.  Returns
 * RAP_OK when every item has its result; RAP_EDB (err) when the
 * connection broke and the items' fate is unknown.
 */
int rap_job_create_group(PGconn *db, struct rap_job_create_item *items, int n, char *err);

/** Fills json (caller frees) with the job, its webhook deliveries and its
 *  events (jobstatus.c); RAP_ENOENT when the owner has no such job. */
int rap_job_get_json(PGconn *db, const char *owner, const char *job_id, char **json, char *err);

struct rap_job_claim {
	int attempt;
	int max_attempts;
	char status[RAP_JOB_STATUS_LEN]; /* the state found when the claim was refused */
	bool exhausted;                  /* the claim buried the job: attempts used up */
	char *params;                    /* the job's params (JSON object text) when claimed;
			    free it with rap_job_claim_cleanup */
	double queued_s;                 /* seconds the job waited in CREATED or QUEUED before this
			    claim (PostgreSQL's clock); < 0: it came from RETRYING
			    or a lost worker, not the queue */
};

void rap_job_claim_cleanup(struct rap_job_claim *c);
/* The queued_s column of a claim's row (NULL: -1); jobbatch.c's too. */
double rap__job_queued_seconds(const PGresult *res, int row, int col);

/**
 * Claims a job for worker: a conditional UPDATE to PROCESSING that counts the
 * attempt and takes a lease.  With takeover (the message was redelivered, so
 * the previous holder's connection to RabbitMQ is gone) a live lease is taken
 * over too: that worker's lease-guarded updates then fail, so it records
 * nothing.  RAP_OK when claimed; RAP_ENOENT when the job does not exist;
 * RAP_ECONFLICT when it is finished (out->status says how; out->exhausted when
 * this call made it DEAD because every attempt was used); RAP_AGAIN when
 * another worker holds a live lease.
 */
int rap_job_claim(PGconn *db, const char *job_id, const char *worker, int lease_seconds,
		  bool takeover, struct rap_job_claim *out, char *err);

/** Where a running job stands, as a heartbeat records it. */
struct rap_job_progress {
	double fraction;   /* of the input consumed, 0 to 1 */
	const char *stage; /* "parse", "validate"...; NULL: unchanged */
	long long rows;    /* rows done; < 0: unchanged */
	long long eta_ms;  /* milliseconds to completion from now; < 0: unknown */
};

/** Extends the lease and, with pr, records the job's progress, stage,
 *  rows and estimated completion (a new claim clears them); RAP_ECONFLICT
 *  when this worker no longer holds it (cancelled, or taken over). */
int rap_job_heartbeat(PGconn *db, const char *job_id, const char *worker, int lease_seconds,
		      const struct rap_job_progress *pr, char *err);

/** PROCESSING -> COMPLETED with the result (JSON object text), if this
 *  worker still holds the lease (RAP_ECONFLICT otherwise). */
int rap_job_complete(PGconn *db, const char *job_id, const char *worker, const char *result_json,
		     char *err);

/** PROCESSING -> FAILED or DEAD with the error, under the same lease rule. */
int rap_job_fail(PGconn *db, const char *job_id, const char *worker, const char *state,
		 const char *error, char *err);

/** PROCESSING -> RETRYING with the error (which says when it retries),
 *  under the lease rule; the lease is released. */
int rap_job_retry(PGconn *db, const char *job_id, const char *worker, const char *error, char *err);

/**
 * The owner cancels a job: CANCELLED from any non-terminal state; a running
 * worker notices at its next heartbeat and stops.  RAP_ENOENT when the owner
 * has no such job; RAP_ECONFLICT when it is already finished (status says
 * how).  status (16 bytes) gets the state after the call.
 */
int rap_job_cancel(PGconn *db, const char *owner, const char *job_id, char *status, char *err);

/**
 * The sweeper: jobs in PROCESSING whose lease expired (their worker died or
 * hangs) go back to QUEUED with a new work message in the outbox, or to DEAD
 * when they used every attempt.  At most limit jobs per call.
 */
int rap_job_sweep(PGconn *db, int limit, unsigned *requeued, unsigned *buried, char *err);

/** What /metrics tells of the job table and the outbox. */
enum {
	RAP_OPEN_STATES = 5
};
extern const char *const rap_open_states[RAP_OPEN_STATES]; /* CREATED..DEAD */
struct rap_job_stats {
	long long open[RAP_OPEN_STATES]; /* jobs in each of rap_open_states */
	long long outbox_pending;        /* rows not yet confirmed by RabbitMQ */
	long long outbox_oldest_ms;      /* age of the oldest of them, 0 if none */
};

/**
 * Counts the jobs that are not finished (and the DEAD ones, which wait for
 * an operator) through the partial index on status, and the outbox's
 * backlog: cheap enough to run every few seconds on a large table.
 */
int rap_job_stats(PGconn *db, struct rap_job_stats *st, char *err);

/**
 * Retention: removes up to limit finished jobs (COMPLETED, FAILED,
 * CANCELLED) that ended more than days ago, oldest first, with their events
 * and errors.  drop(ctx, output_key) is called first for each job that has
 * an output object; a job whose drop fails stays for the next call, so no
 * object outlives the row that names it.  *expired gets the count removed.
 */
int rap_job_expire(PGconn *db, long long days, int limit,
		   int (*drop)(void *ctx, const char *output_key), void *ctx, unsigned *expired,
		   char *err);

/** PROCESSING -> QUEUED on shutdown, under the lease rule; the caller then
 *  requeues the message. */
int rap_job_handback(PGconn *db, const char *job_id, const char *worker, char *err);

/**
 * For a job whose delivery was already acked (a long job, see
 * docs/architecture.md "Long jobs"), there is no message to requeue: these
 * move it and put a new work message in the outbox in the same statement.
 * rap_job_handback_requeue: PROCESSING -> QUEUED on shutdown.
 * rap_job_retry_now: PROCESSING -> RETRYING after a transient failure; the
 * message goes straight to `jobs`, without a TTL tier (the attempt that
 * failed ran longer than any tier).  Both under the lease rule.
 */
int rap_job_handback_requeue(PGconn *db, const char *job_id, const char *worker, char *err);
int rap_job_retry_now(PGconn *db, const char *job_id, const char *worker, const char *error,
		      char *err);

/**
 * Lists the owner's jobs, newest first: json (caller frees) is
 * {"jobs":[...],"next":id|null}.  status and type may be NULL (all states,
 * all types); after is the last job_id of the previous page or NULL; limit
 * 1..500.
 */
int rap_job_list_json(PGconn *db, const char *owner, const char *status, const char *type,
		      const char *after, int limit, char **json, char *err);

/**
 * Lists DEAD jobs for an admin, newest first, as rap_job_list_json does,
 * each with its owner: those of owner, or of every owner when owner is
 * NULL.
 */
int rap_job_list_dead_json(PGconn *db, const char *owner, const char *after, int limit, char **json,
			   char *err);

/**
 * Operator replay: DEAD -> QUEUED with attempts reset and a new work message
 * in the outbox, recorded in job_events with the detail `by` (NULL:
 * "replayed by the owner").  job_id NULL replays every DEAD job of the
 * owner; owner NULL (an admin) stands for every owner.  *count gets how
 * many were replayed; with a job_id, RAP_ENOENT when the owner has no such
 * job and RAP_ECONFLICT when it is not DEAD (status, 16 bytes, says what it
 * is).
 */
int rap_job_replay(PGconn *db, const char *owner, const char *job_id, const char *by,
		   unsigned *count, char *status, char *err);

/** Marks a job DEAD from any non-terminal state it may legally leave (used
 *  for poison messages); a job already terminal is left alone. */
int rap_job_bury(PGconn *db, const char *job_id, const char *reason, char *err);

/** The output object of the owner's COMPLETED job into key: the one its
 *  result's outputs list under `name`, or with name NULL its result's
 *  output_key.  RAP_ENOENT when the owner has no such job, or the COMPLETED
 *  job no output of that name; RAP_ECONFLICT when it is not COMPLETED or has
 *  no output (status and err say which). */
int rap_job_output_key(PGconn *db, const char *owner, const char *job_id, const char *name,
		       char *key, size_t key_len, char status[RAP_JOB_STATUS_LEN], char *err);

/**
 * The owner's numbers (every owner's when owner is NULL) over the last
 * `hours` hours (1..720), as GET /jobs/stats answers them: json (caller
 * frees) is {"owner" (null for every owner), "window_hours",
 * "since", "jobs", "by_state":{STATE:n}, "by_type":[{"type","count",
 * "finished","avg_seconds","p95_seconds"}], "success_rate",
 * "failure_rate", "uploads":{"count","bytes"}}.  Processing seconds are
 * finished_at - started_at of the finished jobs that started; the rates are
 * over COMPLETED, FAILED and DEAD (null when none finished).  One
 * statement over the owner's rows of the window (jobs_owner and
 * uploads_owner indexes; every owner's through jobs_created and
 * uploads_created).
 */
int rap_job_stats_json(PGconn *db, const char *owner, int hours, char **json, char *err);

#endif
