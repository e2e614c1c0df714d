/*
 * timing.c: the worker's histograms (docs/observability.md): how long each
 * job type's attempts run, by outcome, and how long its jobs waited in the
 * queue before a worker started them; and the gauge of slots busy.  One
 * set of series per type this worker runs, registered at start (the
 * labels are the registry's names: bounded, never a job's id or owner).
 */
#include "worker.h"

#include "rap/clock.h"
#include "rap/list.h"
#include "rap/mem.h"
#include "rap/metrics.h"

#include <stdio.h>
#include <string.h>

static const char *const outcome_names[WORKER_OUTCOMES] = {
	[WORKER_COMPLETED] = "completed", [WORKER_FAILED] = "failed",       [WORKER_DEAD] = "dead",
	[WORKER_RETRYING] = "retrying",   [WORKER_CANCELLED] = "cancelled",
};

void worker_timing_register(struct worker *w)
{
	struct rap_metrics *m = w->svc.metrics;
	struct worker_type_metrics *tm;
	char labels[160];
	size_t i;
	int o;

	w->types = rap_calloc(rap_jobtypes_count, sizeof(*w->types));
	w->n_types = 0;
	for (i = 0; i < rap_jobtypes_count; i++) {
		if (!worker_runner(&rap_jobtypes[i]) ||
		    !rap_list_contains(w->svc.cfg.job_types, rap_jobtypes[i].name))
			continue;
		tm = &w->types[w->n_types++];
		tm->type = rap_jobtypes[i].name;
		for (o = 0; o < WORKER_OUTCOMES; o++) {
			snprintf(labels, sizeof(labels), "type=\"%s\",outcome=\"%s\"", tm->type,
				 outcome_names[o]);
			tm->duration[o] = rap_metrics_add_histogram(
				m, "rap_worker_job_duration_seconds", rap_metrics_strdup(m, labels),
				"time an attempt of a job ran in this worker, by type and outcome",
				rap_buckets_job_seconds, RAP_BUCKETS_JOB_SECONDS);
		}
		snprintf(labels, sizeof(labels), "type=\"%s\"", tm->type);
		tm->queued = rap_metrics_add_histogram(
			m, "rap_worker_job_queued_seconds", rap_metrics_strdup(m, labels),
			"time a job waited queued before a worker started it, by type",
			rap_buckets_job_seconds, RAP_BUCKETS_JOB_SECONDS);
	}
	w->busy = rap_metrics_add(m, RAP_GAUGE, "rap_worker_busy", NULL,
				  "slots of this worker running a job (or a batch) now");
	w->slots_gauge = rap_metrics_add(m, RAP_GAUGE, "rap_worker_slots", NULL,
					 "slots of this worker: one per pool it serves");
	rap_metric_set(w->slots_gauge, (long long)w->n_pools);
}

static struct worker_type_metrics *find(struct worker *w, const char *type)
{
	size_t i;

	for (i = 0; i < w->n_types; i++)
		if (strcmp(w->types[i].type, type) == 0)
			return &w->types[i];
	return NULL;
}

void worker_observe_run(struct worker *w, const char *type, enum worker_outcome o,
			int64_t started_us)
{
	struct worker_type_metrics *tm = find(w, type);

	if (tm && started_us > 0)
		rap_metric_observe(tm->duration[o], (double)(rap_now_us() - started_us) / 1e6);
}

void worker_observe_queued(struct worker *w, const char *type, double seconds)
{
	struct worker_type_metrics *tm = find(w, type);

	if (tm && seconds >= 0)
		rap_metric_observe(tm->queued, seconds);
}
