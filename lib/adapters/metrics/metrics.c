/* metrics.c: a tiny Prometheus registry (nginx stub_status in spirit). */
#include "rap/metrics.h"
#include "rap/err.h"
#include "rap/mem.h"
#include "rap/buf.h"

#include <dirent.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct rap_metrics {
	pthread_mutex_t lock; /* guards the list shape, not the values */
	struct rap_metric *head;
	struct rap_metric *tail;
	struct owned_str *strings; /* rap_metrics_strdup's */
};

struct owned_str {
	struct owned_str *next;
	char s[];
};

struct rap_metrics *rap_metrics_new(void)
{
	struct rap_metrics *m = rap_calloc(1, sizeof(*m));

	pthread_mutex_init(&m->lock, NULL);
	return m;
}

void rap_metrics_free(struct rap_metrics *m)
{
	struct rap_metric *s, *next;

	if (!m)
		return;
	for (s = m->head; s; s = next) {
		next = s->next;
		free(s->buckets);
		free(s);
	}
	while (m->strings) {
		struct owned_str *o = m->strings;

		m->strings = o->next;
		free(o);
	}
	pthread_mutex_destroy(&m->lock);
	free(m);
}

const char *rap_metrics_strdup(struct rap_metrics *m, const char *s)
{
	size_t n = strlen(s) + 1;
	struct owned_str *o = rap_malloc(sizeof(*o) + n);

	memcpy(o->s, s, n);
	pthread_mutex_lock(&m->lock);
	o->next = m->strings;
	m->strings = o;
	pthread_mutex_unlock(&m->lock);
	return o->s;
}

/* A series not in the list yet. */
static struct rap_metric *series_new(enum rap_metric_type type, const char *name,
				     const char *labels, const char *help)
{
	struct rap_metric *s = rap_calloc(1, sizeof(*s));

	s->name = name;
	s->labels = labels;
	s->help = help;
	s->type = type;
	atomic_init(&s->value, 0);
	atomic_init(&s->sum, 0.0);
	return s;
}

/* Appends a complete series to the list: a render sees it whole or not. */
static struct rap_metric *series_link(struct rap_metrics *m, struct rap_metric *s)
{
	pthread_mutex_lock(&m->lock);
	if (m->tail)
		m->tail->next = s;
	else
		m->head = s;
	m->tail = s;
	pthread_mutex_unlock(&m->lock);
	return s;
}

struct rap_metric *rap_metrics_add(struct rap_metrics *m, enum rap_metric_type type,
				   const char *name, const char *labels, const char *help)
{
	return series_link(m, series_new(type, name, labels, help));
}

const double rap_buckets_http_seconds[RAP_BUCKETS_HTTP_SECONDS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2.5, 5, 10
};
const double rap_buckets_job_seconds[RAP_BUCKETS_JOB_SECONDS] = { 0.005, 0.01, 0.025, 0.05, 0.1,
								  0.25,  0.5,  0.75,  1,    1.5,
								  2,     2.5,  5,     10,   30,
								  60,    300,  900,   3600 };
const double rap_buckets_bytes_per_second[RAP_BUCKETS_BYTES_PER_SECOND] = {
	65536, 262144, 1048576, 4194304, 16777216, 67108864, 268435456, 1073741824
};

struct rap_metric *rap_metrics_add_histogram(struct rap_metrics *m, const char *name,
					     const char *labels, const char *help,
					     const double *bounds, size_t n_bounds)
{
	struct rap_metric *s = series_new(RAP_HISTOGRAM, name, labels, help);
	size_t i;

	s->bounds = bounds;
	s->n_bounds = n_bounds;
	s->buckets = rap_calloc(n_bounds + 1, sizeof(*s->buckets));
	for (i = 0; i <= n_bounds; i++)
		atomic_init(&s->buckets[i], 0);
	return series_link(m, s);
}

void rap_metric_observe(struct rap_metric *s, double v)
{
	size_t lo = 0, hi = s->n_bounds, mid;
	double old;

	/* The first bound >= v (le is inclusive); n_bounds: +Inf. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v <= s->bounds[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	atomic_fetch_add(&s->buckets[lo], 1);
	old = atomic_load(&s->sum);
	while (!atomic_compare_exchange_weak(&s->sum, &old, old + v))
		;
}

/* The _bucket, _sum and _count lines of one histogram series; the count
 * is the total of the buckets read, so it equals the +Inf bucket. */
static int render_histogram(const struct rap_metric *t, struct rap_buf *out)
{
	const char *l = t->labels ? t->labels : "", *sep = t->labels ? "," : "";
	unsigned long long acc = 0;
	int result = RAP_OK;
	size_t i;

	for (i = 0; i <= t->n_bounds && result == RAP_OK; i++) {
		acc += atomic_load(&t->buckets[i]);
		if (i < t->n_bounds)
			result = rap_buf_appendf(out, "%s_bucket{%s%sle=\"%.15g\"} %llu\n", t->name,
						 l, sep, t->bounds[i], acc);
		else
			result = rap_buf_appendf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", t->name,
						 l, sep, acc);
	}
	if (result == RAP_OK)
		result = rap_buf_appendf(out, "%s_sum%s%s%s %.9g\n%s_count%s%s%s %llu\n", t->name,
					 t->labels ? "{" : "", l, t->labels ? "}" : "",
					 atomic_load(&t->sum), t->name, t->labels ? "{" : "", l,
					 t->labels ? "}" : "", acc);
	return result;
}

static const char *type_name(enum rap_metric_type type)
{
	switch (type) {
	case RAP_COUNTER:
		return "counter";
	case RAP_GAUGE:
		return "gauge";
	case RAP_HISTOGRAM:
		return "histogram";
	}
	return "untyped";
}

/* True when an earlier series of the list has the same family name. */
static int family_seen(const struct rap_metric *head, const struct rap_metric *s)
{
	for (; head != s; head = head->next)
		if (strcmp(head->name, s->name) == 0)
			return 1;
	return 0;
}

int rap_metrics_render(struct rap_metrics *m, struct rap_buf *out)
{
	struct rap_metric *s, *t;
	int result = RAP_OK;

	pthread_mutex_lock(&m->lock);
	for (s = m->head; s && result == RAP_OK; s = s->next) {
		if (family_seen(m->head, s))
			continue;
		result = rap_buf_appendf(out, "# HELP %s %s\n# TYPE %s %s\n", s->name, s->help,
					 s->name, type_name(s->type));
		for (t = s; t && result == RAP_OK; t = t->next) {
			if (strcmp(t->name, s->name) != 0)
				continue;
			if (t->type == RAP_HISTOGRAM) {
				/* One rap_metrics_add made without buckets: none. */
				if (t->buckets)
					result = render_histogram(t, out);
				continue;
			}
			result = rap_buf_appendf(out, "%s%s%s%s %lld\n", t->name,
						 t->labels ? "{" : "", t->labels ? t->labels : "",
						 t->labels ? "}" : "",
						 (long long)atomic_load(&t->value));
		}
	}
	pthread_mutex_unlock(&m->lock);
	return result;
}

/* utime + stime (fields 14, 15) and starttime (22) of /proc/self/stat, in
 * clock ticks; false if it cannot be read.  The command name (field 2) may
 * hold spaces and parentheses: the fields are read after its last ')'. */
static bool proc_stat(unsigned long long *cpu, unsigned long long *start)
{
	unsigned long long utime, stime;
	char buf[1024], *p;
	size_t n;
	FILE *f = fopen("/proc/self/stat", "r");

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1,
			 " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu"
			 " %*d %*d %*d %*d %*d %*d %llu",
			 &utime, &stime, start) != 3)
		return false;
	*cpu = utime + stime;
	return true;
}

/* Seconds since the epoch at boot, from /proc/stat's btime. */
static long long boot_time(void)
{
	char line[256];
	long long t = 0;
	FILE *f = fopen("/proc/stat", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %lld", &t) == 1)
			break;
	fclose(f);
	return t;
}

int rap_metrics_render_process(struct rap_buf *out)
{
	long page = sysconf(_SC_PAGESIZE), tick = sysconf(_SC_CLK_TCK);
	unsigned long long size, resident, cpu, start;
	int result = RAP_OK, fds = -1;
	struct dirent *e;
	DIR *d;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%llu %llu", &size, &resident) == 2)
			result = rap_buf_appendf(
				out,
				"# HELP process_resident_memory_bytes "
				"resident memory size in bytes\n# TYPE process_resident_memory_bytes "
				"gauge\nprocess_resident_memory_bytes %llu\n",
				resident * (unsigned long long)page);
		fclose(f);
	}
	if (result == RAP_OK && tick > 0 && proc_stat(&cpu, &start)) {
		result = rap_buf_appendf(
			out,
			"# HELP process_cpu_seconds_total user and system "
			"CPU time spent, in seconds\n# TYPE process_cpu_seconds_total counter\n"
			"process_cpu_seconds_total %.2f\n",
			(double)cpu / (double)tick);
		if (result == RAP_OK && boot_time() > 0)
			result = rap_buf_appendf(
				out,
				"# HELP process_start_time_seconds start "
				"time of the process since the epoch, in seconds\n# TYPE "
				"process_start_time_seconds gauge\nprocess_start_time_seconds "
				"%.2f\n",
				(double)boot_time() + (double)start / (double)tick);
	}
	d = opendir("/proc/self/fd");
	if (d) {
		for (fds = 0; (e = readdir(d)) != NULL;)
			if (e->d_name[0] != '.')
				fds++;
		closedir(d);
		fds--; /* the one opendir holds */
	}
	if (result == RAP_OK && fds >= 0)
		result = rap_buf_appendf(out,
					 "# HELP process_open_fds open file descriptors\n"
					 "# TYPE process_open_fds gauge\nprocess_open_fds %d\n",
					 fds);
	return result;
}
