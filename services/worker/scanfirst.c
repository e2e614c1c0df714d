/*
 * scanfirst.c: RAP_JOB_SCAN_FIRST (docs/sandbox.md, "Scan first").  For a
 * type the setting names, the worker scans the job's input with a child of
 * virus.scan's fork server (a second read of the object from S3) before
 * the type's own processor runs:
 *
 *   infected   the job FAILS permanently, "infected: <signature> ...", and
 *              its processor never runs (no output, no result);
 *   clean      the processor runs as usual;
 *   otherwise  (the scan's child failed or hit a limit, S3, no server) the
 *              attempt fails transiently and the job is retried, except an
 *              input the scan itself refuses for good (too large for
 *              virus.scan's input limit, missing): FAILED with that reason.
 */
#include "sandbox.h"

#include "rap/list.h"
#include "rap/log.h"
#include "rap/metrics.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool worker_scan_first_applies(const struct worker *w, const struct rap_jobtype *t)
{
	return t && t->runner == RAP_RUN_SANDBOX && !t->fork_server &&
	       rap_list_contains(w->cfg.scan_first, t->name);
}

/* The verdict of a scan's result: RAP_OK clean, RAP_EINVAL infected (err
 * says with what), RAP_EIO none. */
static int verdict(struct job_run *run, const char *result, char *err)
{
	struct json_object *o = json_tokener_parse(result ? result : ""), *v, *sig;
	const char *what = json_object_object_get_ex(o, "verdict", &v) ? json_object_get_string(v)
								       : "";
	int r = RAP_EIO;

	if (strcmp(what, "clean") == 0) {
		r = RAP_OK;
	} else if (strcmp(what, "infected") == 0) {
		json_object_object_get_ex(o, "signature", &sig);
		snprintf(err, RAP_ERRLEN,
			 "infected: the file is infected with %.120s (scanned before %s, which did "
			 "not run)",
			 sig ? json_object_get_string(sig) : "a signature", run->type->name);
		r = RAP_EINVAL;
	} else {
		snprintf(err, RAP_ERRLEN, "the virus scan before %s gave no verdict",
			 run->type->name);
	}
	json_object_put(o);
	return r;
}

int worker_scan_first(struct job_run *run, char *err)
{
	const struct rap_jobtype *scanner =
		run->w->forksrv ? rap_jobtype_find(run->w->forksrv->type) : NULL;
	struct rap_log_ctx ctx = { .job_id = run->msg->job_id, .action = "scan-first" };
	struct job_run scan = *run;
	enum worker_sandbox_outcome out;
	char *result = NULL, why[RAP_ERRLEN] = "";
	int r;

	if (!scanner) {
		snprintf(err, RAP_ERRLEN,
			 "%s is scanned first, but this worker has no virus scanner",
			 run->type->name);
		return RAP_EIO;
	}
	scan.type = scanner;
	scan.params = "{}";
	out = sbx_run(&scan, true, &result, why);
	/* The lease was kept by the scan's beats: the job goes on from there. */
	run->last_beat_ms = scan.last_beat_ms;
	run->last_progress_ms = scan.last_progress_ms;
	if (out == SBX_CANCELLED)
		r = RAP_ECANCELED;
	else if (out == SBX_COMPLETED)
		r = verdict(run, result, err);
	else if (out == SBX_FAILED &&
		 (strncmp(why, "too_large", 9) == 0 || strncmp(why, "input_missing", 13) == 0)) {
		snprintf(err, RAP_ERRLEN, "%.200s (the virus scan before %s)", why,
			 run->type->name);
		r = RAP_EINVAL;
	} else {
		snprintf(err, RAP_ERRLEN, "the virus scan before %s failed: %.180s",
			 run->type->name, why);
		r = RAP_EIO;
	}
	free(result);
	if (out == SBX_COMPLETED && (r == RAP_OK || r == RAP_EINVAL))
		rap_metric_inc(r == RAP_OK ? run->w->scanned_clean : run->w->scanned_infected, 1);
	if (r == RAP_OK)
		rap_log(RAP_LOG_INFO, &ctx, "scanned first: clean; %s runs", run->type->name);
	else if (r != RAP_ECANCELED)
		rap_log(RAP_LOG_WARN, &ctx, "scanned first: %s", err);
	return r;
}
