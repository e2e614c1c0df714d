#ifndef RAP_JOBBATCH_H
#define RAP_JOBBATCH_H

#include "rap/job_create.h"
#include "rap/job.h"
#include "rap/uuid.h"
#include <libpq-fe.h>
#include <stdbool.h>

/*
 * Batched job-store calls: the same state changes as jobstore.h, for many
 * jobs in one statement, so that a busy system pays one round trip, one
 * plan and one commit per batch instead of per job.  Every guard of the
 * single calls holds row by row (the transition table, the lease rule, the
 * owner's uploads); a row that a guard refuses is reported, never forced.
 */

/** The largest batch any call here takes. */
#define RAP_JOBBATCH_MAX RAP_JOB_BATCH_MAX

struct rap_jobbatch_claim {
	bool claimed; /* false: use rap_job_claim to learn why not */
	int attempt;
	int max_attempts;
	char *params;    /* owned; freed by rap_jobbatch_claims_cleanup */
	double queued_s; /* as rap_job_claim's */
};

/**
 * Claims jobs for worker like rap_job_claim without takeover: each of the
 * n job ids (valid UUIDs) that is CREATED, QUEUED or RETRYING with attempts
 * left goes to PROCESSING under a lease, rows locked in id order.  out[i] says whether ids[i] was claimed; an id
 * that appears twice is claimed once.  RAP_EDB (err) when the statement
 * failed, and then nothing was claimed.
 */
int rap_jobbatch_claim(PGconn *db, const char *const *ids, int n, const char *worker,
		       int lease_seconds, struct rap_jobbatch_claim *out, char *err);
void rap_jobbatch_claims_cleanup(struct rap_jobbatch_claim *c, int n);

/**
 * PROCESSING -> COMPLETED for each ids[i] with results[i] (JSON object
 * text) where worker still holds the lease.  done[i] says which were
 * recorded; the others lost their lease (cancelled or taken over).
 */
int rap_jobbatch_complete(PGconn *db, const char *const *ids, const char *const *results, int n,
			  const char *worker, bool *done, char *err);

struct rap_jobbatch_created {
	char job_id[RAP_UUID_STRLEN];
	char status[RAP_JOB_STATUS_LEN];
};

/**
 * Creates n jobs and their work messages in one transaction: all or none.
 * max_attempts[i] applies where reqs[i].max_attempts is 0.  With idem_key,
 * job i carries the key "<idem_key>#<i>" and request_hash: a repeated batch
 * returns the jobs of the first (*existing set), a different body under the
 * same key is RAP_ECONFLICT.  RAP_ENOENT when an object_key is not a
 * finished upload of the owner's; *bad_index says which.  traceparent (may
 * be NULL) is the request's: every job of the batch keeps it.
 */
int rap_jobbatch_create(PGconn *db, const char *owner, const struct rap_job_create *reqs,
			const int *max_attempts, int n, const char *idem_key,
			const char *request_hash, const char *request_id, const char *traceparent,
			struct rap_jobbatch_created *out, bool *existing, int *bad_index,
			char *err);

#endif
