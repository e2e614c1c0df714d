/*
 * progress.c: where a running job stands, for its owner: the estimated
 * time to completion from the rate so far, and the job.progress message
 * (proto/schemas/job-progress.json) that the notifier pushes to the
 * WebSocket clients that follow the job or its owner.  The message is
 * non-persistent and never stored (the job row keeps the latest state):
 * a lost one is replaced a second later.
 */
#include "worker.h"

#include "rap/amqp.h"
#include "rap/buf.h"
#include "rap/clock.h"
#include "rap/json.h"
#include "rap/jobstore.h"
#include "rap/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ETA_MIN_ELAPSED_MS 1000
#define ETA_MAX_MS (30LL * 24 * 3600 * 1000) /* beyond a month: no estimate */

long long worker_eta_ms(int64_t elapsed_ms, uint64_t done, uint64_t total)
{
	double left;

	if (total == 0 || done == 0 || elapsed_ms < ETA_MIN_ELAPSED_MS)
		return -1;
	if (done >= total)
		return 0;
	left = (double)elapsed_ms * (double)(total - done) / (double)done;
	return left > (double)ETA_MAX_MS ? -1 : (long long)left;
}

/* now + ms as ISO 8601 UTC with milliseconds, or "" for ms < 0. */
static void eta_time(long long ms, char out[RAP_ISO_TIME_LEN])
{
	struct timespec ts;
	struct tm tm;
	long long at;
	time_t sec;

	out[0] = '\0';
	if (ms < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	at = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + ms;
	sec = (time_t)(at / 1000);
	gmtime_r(&sec, &tm);
	strftime(out, RAP_ISO_TIME_LEN - 5, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + strlen(out), 8, ".%03dZ", (int)(at % 1000));
}

char *worker_progress_message(const struct rap_jobmsg *jm, const struct rap_job_progress *pr,
			      const char *estimated_completion)
{
	struct rap_buf b;

	rap_buf_init(&b, 4096);
	rap_buf_appendf(
		&b, "{\"v\":1,\"type\":\"job.progress\",\"job_id\":\"%s\",\"owner\":", jm->job_id);
	rap_json_quote(&b, jm->owner);
	rap_buf_appends(&b, ",\"job_type\":");
	rap_json_quote(&b, jm->type);
	rap_buf_appendf(&b, ",\"progress\":%.4f,\"stage\":", pr->fraction);
	if (pr->stage)
		rap_json_quote(&b, pr->stage);
	else
		rap_buf_appends(&b, "null");
	if (pr->rows >= 0)
		rap_buf_appendf(&b, ",\"rows\":%lld", pr->rows);
	else
		rap_buf_appends(&b, ",\"rows\":null");
	rap_buf_appends(&b, ",\"estimated_completion\":");
	if (estimated_completion && estimated_completion[0])
		rap_json_quote(&b, estimated_completion);
	else
		rap_buf_appends(&b, "null");
	rap_buf_appends(&b, "}");
	return rap_buf_take(&b);
}

void worker_publish_progress(struct job_run *run, const struct rap_job_progress *pr)
{
	struct worker *w = run->w;
	char eta[RAP_ISO_TIME_LEN], *msg;

	if (!w->pub || !rap_amqp_ok(w->pub))
		return; /* progress is best effort: the job row has it */
	eta_time(pr->eta_ms, eta);
	msg = worker_progress_message(run->msg, pr, eta);
	rap_amqp_publish_transient(w->pub, "jobs.status", "job.progress", msg, strlen(msg));
	free(msg);
}
