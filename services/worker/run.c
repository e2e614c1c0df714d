/*
 * run.c: the job being run (struct job_run) and its heartbeat, which every
 * processor (and the sandbox's supervisor) calls as it goes.  A beat
 * extends the lease (every run->beat_ms at most, so a cancel is seen that
 * soon), acks a long job's delivery once it ran RAP_WORKER_ACK_AFTER_MS
 * (delivery.c), and at most once a second records where the job stands
 * (progress, stage, rows, estimated completion) and publishes it as a
 * job.progress message (progress.c).
 */
#include "worker.h"

#include "rap/err.h"
#include "rap/jobstore.h"
#include "rap/clock.h"
#include "rap/stop.h"

#include <stdio.h>
#include <string.h>

#define PROGRESS_EVERY_MS 1000

void worker_progress(struct job_run *run, const char *stage, long long rows)
{
	if (stage && stage[0])
		snprintf(run->stage, sizeof(run->stage), "%s", stage);
	if (rows >= 0)
		run->rows = rows;
}

void worker_progress_flush(struct job_run *run)
{
	run->last_beat_ms = 0;
	run->last_progress_ms = 0;
	worker_heartbeat(run);
}

int worker_heartbeat(struct job_run *run)
{
	struct worker *w = run->w;
	int lease = (int)w->cfg.lease_seconds;
	struct rap_job_progress pr;
	char err[RAP_ERRLEN];
	int64_t now = rap_now_ms();
	bool with_progress;
	int result;

	if (rap_stopping())
		return RAP_ECANCELED; /* shutting down: hand the job back */
	if (now - run->last_beat_ms < run->beat_ms)
		return RAP_OK;
	run->last_beat_ms = now;
	if (run->dlv && !run->dlv->acked && now - run->started_ms >= w->cfg.ack_after_ms)
		delivery_ack_early(w, run->dlv);
	with_progress = now - run->last_progress_ms >= PROGRESS_EVERY_MS;
	if (with_progress) {
		run->last_progress_ms = now;
		pr.fraction = run->size ? (double)run->done / (double)run->size : 0;
		pr.stage = run->stage[0] ? run->stage : NULL;
		pr.rows = run->rows;
		pr.eta_ms = worker_eta_ms(now - run->started_ms, run->done, run->size);
	}
	result = rap_job_heartbeat(w->db, run->msg->job_id, w->id, lease,
				   with_progress ? &pr : NULL, err);
	if (result == RAP_ECONFLICT)
		return RAP_ECANCELED;
	if (with_progress && result == RAP_OK)
		worker_publish_progress(run, &pr);
	return RAP_OK; /* a failed heartbeat is not fatal; the lease decides */
}
