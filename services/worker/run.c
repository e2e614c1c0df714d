/* run.c: the job being run (struct job_run) and its heartbeat, which every
 * processor calls as it goes. */
#include "worker.h"

#include "rap/err.h"
#include "rap/jobstore.h"
#include "rap/clock.h"
#include "rap/stop.h"

int worker_heartbeat(struct job_run *run)
{
	struct worker *w = run->w;
	int lease = (int)w->cfg.lease_seconds;
	char err[RAP_ERRLEN];
	int64_t now = rap_now_ms();
	int result;

	if (rap_stopping())
		return RAP_ECANCELED; /* shutting down: hand the job back */

	/* Once a second: it also notices a cancel within a second. */
	if (now - run->last_beat_ms < 1000)
		return RAP_OK;
	run->last_beat_ms = now;
	result = rap_job_heartbeat(w->db, run->msg->job_id, w->id, lease,
				   run->size ? (double)run->done / (double)run->size : 0, err);
	if (result == RAP_ECONFLICT)
		return RAP_ECANCELED;
	return RAP_OK; /* a failed heartbeat is not fatal; the lease decides */
}
