/* batch.c: quick jobs claimed and completed many per statement. */
#include "worker.h"

#include "rap/amqp.h"
#include "rap/err.h"
#include "rap/jobbatch.h"
#include "rap/log.h"
#include "rap/metrics.h"
#include "rap/mem.h"
#include "rap/clock.h"
#include "rap/jobmsg.h"
#include "rap/list.h"
#include "rap/pg.h"

#include <stdlib.h>
#include <string.h>

/* One delivery of a batch and what became of it. */
struct item {
	struct rap_amqp_msg *m;
	struct rap_jobmsg jm;
	bool quick;        /* decoded, a quick type this worker runs, first delivery */
	int attempt;       /* claimed: the claim's */
	int max_attempts;  /* claimed: the claim's */
	int result;        /* claimed: its run's */
	char *result_json; /* a successful run's result, to record with the others */
	char err[RAP_ERRLEN];
	int64_t started_us; /* claimed: when its run began */
};

/* Decodes the deliveries; the quick ones go in ids[], the rest are left to
 * worker_handle.  Returns how many are quick. */
static int sort_items(struct worker *w, struct item *it, struct rap_amqp_msg *msgs, int n,
		      const char **ids)
{
	char err[RAP_ERRLEN];
	int i, k = 0;

	for (i = 0; i < n; i++) {
		it[i].m = &msgs[i];
		if (rap_jobmsg_decode(msgs[i].body, msgs[i].len, &it[i].jm, err) != RAP_OK)
			continue;
		it[i].quick = worker_quick(it[i].jm.type) && !msgs[i].redelivered &&
			      rap_list_contains(w->svc.cfg.job_types, it[i].jm.type);
		if (it[i].quick)
			ids[k++] = it[i].jm.job_id;
	}
	return k;
}

/* Runs the claimed quick jobs (in-process, at once); returns how many
 * failed.  The outcomes wait in it[] to be recorded. */
static int run_claimed(struct worker *w, struct item *it, int n,
		       const struct rap_jobbatch_claim *claims)
{
	struct delivery dlv;
	struct job_run run;
	int i, k = 0, failed = 0;

	rap_metric_inc(w->busy, 1);
	for (i = 0; i < n; i++) {
		if (!it[i].quick)
			continue;
		if (!claims[k].claimed) {
			/* Not claimable as a batch: the single path says why. */
			it[i].quick = false;
			k++;
			continue;
		}
		memset(&run, 0, sizeof(run));
		dlv = (struct delivery){ .m = it[i].m };
		run.w = w;
		run.msg = &it[i].jm;
		run.type = rap_jobtype_find(it[i].jm.type);
		run.dlv = &dlv;
		run.attempt = it[i].attempt = claims[k].attempt;
		it[i].max_attempts = claims[k].max_attempts;
		run.params = claims[k].params;
		run.started_ms = run.last_beat_ms = rap_now_ms();
		it[i].started_us = rap_now_us();
		worker_observe_queued(w, it[i].jm.type, claims[k].queued_s);
		run.beat_ms = 1000;
		it[i].err[0] = '\0';
		it[i].result = worker_runner(run.type)(&run, &it[i].result_json, it[i].err);
		if (it[i].result != RAP_OK)
			failed++;
		k++;
	}
	rap_metric_inc(w->busy, -1);
	return failed;
}

/* Settles the failed runs, one by one (outside the claim's transaction). */
static void settle_failures(struct worker *w, struct item *it, int n)
{
	struct delivery dlv;
	int i;

	for (i = 0; i < n; i++) {
		if (!it[i].quick || it[i].result == RAP_OK)
			continue;
		dlv = (struct delivery){ .m = it[i].m, .run_started_us = it[i].started_us };
		worker_finish(w, &dlv, &it[i].jm, it[i].attempt, it[i].max_attempts, it[i].result,
			      it[i].result_json, it[i].err);
		it[i].result_json = NULL;
	}
}

/* Records every success in one statement (and commits the transaction of
 * the claim, when one is open), then acks each delivery. */
static void complete_all(struct worker *w, struct item *it, int n, bool in_txn)
{
	const char **ids = rap_calloc((size_t)n, sizeof(*ids));
	const char **results = rap_calloc((size_t)n, sizeof(*results));
	bool *done = rap_calloc((size_t)n, sizeof(*done));
	struct rap_log_ctx ctx = { .action = "batch" };
	char err[RAP_ERRLEN];
	int i, k = 0, result;

	for (i = 0; i < n; i++) {
		if (!it[i].quick || !it[i].result_json)
			continue;
		ids[k] = it[i].jm.job_id;
		results[k++] = it[i].result_json;
	}
	if (k == 0) {
		/* Nothing to record: the claim's statement stands (it may have
		 * buried jobs out of attempts). */
		if (in_txn && rap_pg_commit(w->db, err) != RAP_OK)
			rap_log(RAP_LOG_WARN, &ctx, "batch claim not committed: %s", err);
		goto out_free;
	}
	result = rap_jobbatch_complete(w->db, ids, results, k, w->id, done, err);
	if (in_txn) {
		if (result == RAP_OK)
			result = rap_pg_commit(w->db, err);
		else
			rap_pg_rollback(w->db);
	}
	if (result != RAP_OK)
		rap_log(RAP_LOG_WARN, &ctx, "recording %d results failed, requeued: %s", k, err);
	for (i = 0, k = 0; i < n; i++) {
		if (!it[i].quick || !it[i].result_json)
			continue;
		if (result != RAP_OK) {
			/* Redelivered, the message takes the job over and runs it again. */
			rap_amqp_reject(w->amqp, it[i].m->delivery_tag, true);
		} else {
			rap_metric_inc(w->completed, done[k]);
			worker_observe_run(w, it[i].jm.type,
					   done[k] ? WORKER_COMPLETED : WORKER_CANCELLED,
					   it[i].started_us);
			rap_amqp_ack(w->amqp, it[i].m->delivery_tag);
		}
		free(it[i].result_json);
		it[i].result_json = NULL;
		k++;
	}
	if (result == RAP_OK)
		rap_log(RAP_LOG_DEBUG, &ctx, "%d quick jobs completed in one batch", k);
out_free:
	free(done);
	free(results);
	free(ids);
}

/*
 * A batch of quick jobs: claimed in one statement, run, and recorded in one
 * more, both in one transaction when every run succeeded (one commit, one
 * WAL flush for the batch; a crash before it leaves the jobs as they were,
 * and their messages, unacked, come back).  When a run failed, the claims
 * are committed first, and the failures settled one by one as on the
 * single path, before the successes are recorded.
 */
void worker_handle_batch(struct worker *w, struct rap_amqp_msg *msgs, int n)
{
	struct item *it = rap_calloc((size_t)n, sizeof(*it));
	const char **ids = rap_calloc((size_t)n, sizeof(*ids));
	struct rap_jobbatch_claim *claims = rap_calloc((size_t)n, sizeof(*claims));
	struct rap_log_ctx ctx = { .action = "batch" };
	char err[RAP_ERRLEN];
	bool in_txn = false;
	int i, k;

	k = sort_items(w, it, msgs, n, ids);
	if (k > 0 && rap_pg_begin(w->db, err) == RAP_OK)
		in_txn = true;
	if (k > 0 && rap_jobbatch_claim(w->db, ids, k, w->id, (int)w->cfg.lease_seconds, claims,
					err) != RAP_OK) {
		rap_log(RAP_LOG_WARN, &ctx, "batch claim failed, one by one: %s", err);
		if (in_txn)
			rap_pg_rollback(w->db);
		in_txn = false;
		for (i = 0; i < n; i++)
			it[i].quick = false;
		k = 0;
	}
	if (k > 0 && run_claimed(w, it, n, claims) > 0) {
		if (in_txn && rap_pg_commit(w->db, err) != RAP_OK) {
			/* Nothing was claimed after all: one by one, afresh. */
			rap_log(RAP_LOG_WARN, &ctx, "batch claim not committed, one by one: %s",
				err);
			for (i = 0; i < n; i++) {
				free(it[i].result_json);
				it[i].result_json = NULL;
				it[i].quick = false;
			}
		}
		in_txn = false;
		settle_failures(w, it, n);
	}
	if (k > 0)
		complete_all(w, it, n, in_txn);
	else if (in_txn)
		rap_pg_rollback(w->db);
	for (i = 0; i < n; i++)
		if (!it[i].quick)
			worker_handle(w, it[i].m);
	rap_jobbatch_claims_cleanup(claims, k);
	free(claims);
	free(ids);
	free(it);
}
