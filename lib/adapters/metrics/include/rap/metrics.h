#ifndef RAP_METRICS_H
#define RAP_METRICS_H

#include "rap/buf.h"
#include <stdatomic.h>

struct rap_buf;

/*
 * Cheap counters and gauges served as Prometheus text (format 0.0.4).
 * Register every series at start; updates are lock-free atomics.
 */
enum rap_metric_type {
	RAP_COUNTER,
	RAP_GAUGE
};

struct rap_metric {
	const char *name;   /* family, e.g. rap_http_requests_total */
	const char *labels; /* e.g. code="2xx", or NULL */
	const char *help;
	enum rap_metric_type type;
	atomic_llong value;
	struct rap_metric *next;
};

struct rap_metrics;

/** Creates an empty registry; free it with rap_metrics_free. */
struct rap_metrics *rap_metrics_new(void);
/** Frees the registry and its series; accepts NULL. */
void rap_metrics_free(struct rap_metrics *m);
/** Registers a series; strings must outlive the registry. */
struct rap_metric *rap_metrics_add(struct rap_metrics *m, enum rap_metric_type type,
				   const char *name, const char *labels, const char *help);
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
