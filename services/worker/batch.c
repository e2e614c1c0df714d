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

#include <stdlib.h>
#include <string.h>

/* One delivery of a batch and what became of it. */
struct item {
	struct rap_amqp_msg *m;
	struct rap_jobmsg jm;
	bool quick;        /* decoded, a quick type this worker runs, first delivery */
	char *result_json; /* a successful run's result, to record with the others */
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

/* Runs the claimed quick jobs; failures are settled at once, successes wait
 * in it[].result_json to be recorded together. */
static void run_claimed(struct worker *w, struct item *it, int n,
			const struct rap_jobbatch_claim *claims)
{
	struct delivery dlv;
	struct job_run run;
	char err[RAP_ERRLEN];
	int i, k = 0, result;

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
		run.attempt = claims[k].attempt;
		run.params = claims[k].params;
		run.started_ms = run.last_beat_ms = rap_now_ms();
		run.beat_ms = 1000;
		err[0] = '\0';
		result = worker_runner(run.type)(&run, &it[i].result_json, err);
		if (result != RAP_OK) {
			worker_finish(w, &dlv, &it[i].jm, claims[k].attempt, claims[k].max_attempts,
				      result, it[i].result_json, err);
			it[i].result_json = NULL;
		}
		k++;
	}
}

/* Records every success in one statement, then acks each delivery. */
static void complete_all(struct worker *w, struct item *it, int n)
{
	const char **ids = rap_calloc((size_t)n, sizeof(*ids));
	const char **results = rap_calloc((size_t)n, sizeof(*results));
	bool *done = rap_calloc((size_t)n, sizeof(*done));
	struct rap_log_ctx ctx = { .action = "batch" };
	char err[RAP_ERRLEN];
	int i, k = 0, result;

	for (i = 0; i < n; i++) {
		if (!it[i].result_json)
			continue;
		ids[k] = it[i].jm.job_id;
		results[k++] = it[i].result_json;
	}
	if (k == 0)
		goto out_free;
	result = rap_jobbatch_complete(w->db, ids, results, k, w->id, done, err);
	if (result != RAP_OK)
		rap_log(RAP_LOG_WARN, &ctx, "recording %d results failed, requeued: %s", k, err);
	for (i = 0, k = 0; i < n; i++) {
		if (!it[i].result_json)
			continue;
		if (result != RAP_OK) {
			/* Redelivered, the message takes the job over and runs it again. */
			rap_amqp_reject(w->amqp, it[i].m->delivery_tag, true);
		} else {
			rap_metric_inc(w->completed, done[k]);
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

void worker_handle_batch(struct worker *w, struct rap_amqp_msg *msgs, int n)
{
	struct item *it = rap_calloc((size_t)n, sizeof(*it));
	const char **ids = rap_calloc((size_t)n, sizeof(*ids));
	struct rap_jobbatch_claim *claims = rap_calloc((size_t)n, sizeof(*claims));
	struct rap_log_ctx ctx = { .action = "batch" };
	char err[RAP_ERRLEN];
	int i, k;

	k = sort_items(w, it, msgs, n, ids);
	if (k > 0 && rap_jobbatch_claim(w->db, ids, k, w->id, (int)w->cfg.lease_seconds, claims,
					err) != RAP_OK) {
		rap_log(RAP_LOG_WARN, &ctx, "batch claim failed, one by one: %s", err);
		for (i = 0; i < n; i++)
			it[i].quick = false;
		k = 0;
	}
	if (k > 0) {
		run_claimed(w, it, n, claims);
		complete_all(w, it, n);
	}
	for (i = 0; i < n; i++)
		if (!it[i].quick)
			worker_handle(w, it[i].m);
	rap_jobbatch_claims_cleanup(claims, k);
	free(claims);
	free(ids);
	free(it);
}
