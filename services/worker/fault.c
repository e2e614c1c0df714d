/*
 * fault.c: the test.fault processor.  Its behaviour comes from the job's
 * params, so every failure path of the platform can be driven by a test:
 *   {"mode":"succeed"}                       completes
 *   {"mode":"transient","failures":N}        fails transiently on attempts 1..N
 *   {"mode":"permanent"}                     fails permanently (FAILED)
 *   {"mode":"crash","failures":N}            kills the worker (SIGKILL) on attempts 1..N
 *   {"mode":"hang","seconds":S,"failures":N} stops heartbeating for S seconds on
 *                                            attempts 1..N, then completes
 *   {"mode":"sleep","seconds":S}             works S seconds, heartbeating
 *                                            (so a cancel stops it)
 *   {"mode":"until_replayed"}                fails transiently until an operator
 *                                            replayed the job (DEAD -> QUEUED)
 * It only runs where RAP_JOB_TYPES lists test.fault (never by default).
 */
#include "worker.h"

#include "rap/err.h"
#include "rap/mem.h"
#include "rap/pg.h"
#include "rap/s3.h"
#include "rap/clock.h"
#include "rap/stop.h"

#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fault {
	char mode[16];
	int failures;
	int seconds;
};

static void parse_fault(const char *params, struct fault *f)
{
	struct json_object *o = json_tokener_parse(params);
	struct json_object *v;

	snprintf(f->mode, sizeof(f->mode), "succeed");
	f->failures = 1;
	f->seconds = 3600;
	if (!o)
		return;
	if (json_object_object_get_ex(o, "mode", &v) && json_object_is_type(v, json_type_string))
		snprintf(f->mode, sizeof(f->mode), "%s", json_object_get_string(v));
	if (json_object_object_get_ex(o, "failures", &v) && json_object_is_type(v, json_type_int))
		f->failures = json_object_get_int(v);
	if (json_object_object_get_ex(o, "seconds", &v) && json_object_is_type(v, json_type_int))
		f->seconds = json_object_get_int(v);
	json_object_put(o);
}

/* Works for seconds, heartbeating: RAP_ECANCELED when the job is taken. */
static int busy(struct job_run *run, int seconds, bool heartbeat)
{
	int64_t end = rap_now_ms() + (int64_t)seconds * 1000;

	while (rap_now_ms() < end && !rap_stopping()) {
		rap_sleep_ms(100);
		if (heartbeat && worker_heartbeat(run) == RAP_ECANCELED)
			return RAP_ECANCELED;
	}
	return rap_stopping() ? RAP_ECANCELED : RAP_OK;
}

/* True when job_events records an operator replay of this job. */
static bool replayed(struct job_run *run)
{
	const char *p[1] = { run->msg->job_id };
	char err[RAP_ERRLEN];
	PGresult *res;
	bool yes;

	if (rap_pg_exec(run->w->db,
			"SELECT 1 FROM job_events WHERE job_id = $1"
			" AND from_state = 'DEAD' AND to_state = 'QUEUED'",
			1, p, &res, err) != RAP_OK)
		return false;
	yes = PQntuples(res) > 0;
	PQclear(res);
	return yes;
}

int worker_fault_run(struct job_run *run, char **result_json, char *err)
{
	struct fault f;
	char key[128], *json;
	int result;

	parse_fault(run->params, &f);
	if (strcmp(f.mode, "succeed") != 0 && strcmp(f.mode, "transient") != 0 &&
	    strcmp(f.mode, "permanent") != 0 && strcmp(f.mode, "crash") != 0 &&
	    strcmp(f.mode, "hang") != 0 && strcmp(f.mode, "sleep") != 0 &&
	    strcmp(f.mode, "until_replayed") != 0) {
		snprintf(err, RAP_ERRLEN, "unknown fault mode");
		return RAP_EINVAL;
	}
	if (strcmp(f.mode, "transient") == 0 && run->attempt <= f.failures) {
		snprintf(err, RAP_ERRLEN, "injected transient failure on attempt %d of %d",
			 run->attempt, f.failures);
		return RAP_EIO;
	}
	if (strcmp(f.mode, "until_replayed") == 0 && !replayed(run)) {
		snprintf(err, RAP_ERRLEN, "injected transient failure until the job is replayed");
		return RAP_EIO;
	}
	if (strcmp(f.mode, "permanent") == 0) {
		snprintf(err, RAP_ERRLEN, "injected permanent failure");
		return RAP_EINVAL;
	}
	if (strcmp(f.mode, "crash") == 0 && run->attempt <= f.failures)
		raise(SIGKILL); /* as the OOM killer would */
	if ((strcmp(f.mode, "hang") == 0 && run->attempt <= f.failures) ||
	    strcmp(f.mode, "sleep") == 0) {
		result = busy(run, f.seconds, strcmp(f.mode, "sleep") == 0);
		if (result != RAP_OK) {
			snprintf(err, RAP_ERRLEN, "stopped while working");
			return result;
		}
	}
	snprintf(key, sizeof(key), "processed/%s/result.json", run->msg->job_id);
	/* The output is the same bytes whichever attempt writes it. */
	json = rap_asprintf("{\"mode\":\"%s\",\"job_id\":\"%s\"}", f.mode, run->msg->job_id);
	result = rap_s3_put(run->w->s3, key, json, strlen(json), "application/json");
	free(json);
	if (result != RAP_OK) {
		snprintf(err, RAP_ERRLEN, "writing the result: %.150s", rap_s3_errmsg(run->w->s3));
		return result;
	}
	*result_json = rap_asprintf("{\"mode\":\"%s\",\"attempt\":%d,\"output_key\":\"%s\"}",
				    f.mode, run->attempt, key);
	return RAP_OK;
}
