#ifndef RAP_METRICS_H
#define RAP_METRICS_H

#include "rap/buf.h"
#include <stdatomic.h>

struct rap_buf;

/*
 * Cheap counters, gauges and histograms served as Prometheus text (format
 * 0.0.4).  Register every series at start; updates are lock-free atomics.
 */
enum rap_metric_type {
	RAP_COUNTER,
	RAP_GAUGE,
	RAP_HISTOGRAM /* rap_metrics_add_histogram */
};

struct rap_metric {
	const char *name;   /* family, e.g. rap_http_requests_total */
	const char *labels; /* e.g. code="2xx", or NULL */
	const char *help;
	enum rap_metric_type type;
	atomic_llong value;
	/* A histogram's: its upper bounds, ascending (the family's, shared by
	 * its series), and a count per bucket, not cumulative: n_bounds + 1,
	 * the last one past every bound (+Inf).  The sum of the observed
	 * values; the count is the buckets' total, so the two always agree. */
	const double *bounds;
	size_t n_bounds;
	atomic_ullong *buckets;
	_Atomic double sum;
	struct rap_metric *next;
};

struct rap_metrics;

/** Creates an empty registry; free it with rap_metrics_free. */
struct rap_metrics *rap_metrics_new(void);
/** A copy of s that lives as long as the registry (labels made at start). */
const char *rap_metrics_strdup(struct rap_metrics *m, const char *s);
/** Frees the registry and its series; accepts NULL. */
void rap_metrics_free(struct rap_metrics *m);
/** Registers a series; strings must outlive the registry. */
struct rap_metric *rap_metrics_add(struct rap_metrics *m, enum rap_metric_type type,
				   const char *name, const char *labels, const char *help);
/**
 * Registers a histogram series: bounds (n_bounds of them, ascending and
 * finite; "+Inf" is added) are the upper bounds of its buckets, inclusive
 * as Prometheus's le.  Every series of a family must have the same bounds.
 * Strings and bounds must outlive the registry.
 */
struct rap_metric *rap_metrics_add_histogram(struct rap_metrics *m, const char *name,
					     const char *labels, const char *help,
					     const double *bounds, size_t n_bounds);
/** Counts v in a histogram series (lock-free; any thread). */
void rap_metric_observe(struct rap_metric *s, double v);

/* Bucket sets shared by the platform's families (docs/observability.md). */
/** Seconds of an HTTP request or an acknowledgement: 1 ms to 10 s, with
 *  the SLOs' thresholds (50 ms, 200 ms) among them. */
extern const double rap_buckets_http_seconds[];
#define RAP_BUCKETS_HTTP_SECONDS 14
/** Seconds of a job's processing or its wait in the queue: 5 ms to 1 h,
 *  finer from 0.5 s to 2.5 s, where quick jobs end (a p95 in between was a
 *  guess across one wide bucket). */
extern const double rap_buckets_job_seconds[];
#define RAP_BUCKETS_JOB_SECONDS 19
/** Bytes per second of an upload: 64 KiB/s to 1 GiB/s, by factors of 4. */
extern const double rap_buckets_bytes_per_second[];
#define RAP_BUCKETS_BYTES_PER_SECOND 8

static inline void rap_metric_inc(struct rap_metric *s, long long n)
{
	atomic_fetch_add(&s->value, n);
}
static inline void rap_metric_set(struct rap_metric *s, long long v)
{
	atomic_store(&s->value, v);
}
/** Appends the exposition text of every series, grouped by family. */
int rap_metrics_render(struct rap_metrics *m, struct rap_buf *out);
/**
 * Appends the process's own standard series, read from /proc/self:
 * process_resident_memory_bytes, process_cpu_seconds_total,
 * process_open_fds and process_start_time_seconds.  A series /proc cannot
 * give is left out.
 */
int rap_metrics_render_process(struct rap_buf *out);

#endif
