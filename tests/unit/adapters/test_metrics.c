/* Tests of lib/adapters/metrics/metrics.c. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "rap/err.h"
#include "rap/metrics.h"
#include "rap/buf.h"

Test(metrics, render_groups_series_of_a_family_under_one_header)
{
	struct rap_metrics *m = rap_metrics_new();
	struct rap_metric *a, *b, *g;
	struct rap_buf out;

	a = rap_metrics_add(m, RAP_COUNTER, "x_total", "k=\"a\"", "xs");
	g = rap_metrics_add(m, RAP_GAUGE, "y", NULL, "ys");
	b = rap_metrics_add(m, RAP_COUNTER, "x_total", "k=\"b\"", "xs");
	rap_metric_inc(a, 2);
	rap_metric_inc(b, 5);
	rap_metric_set(g, -3);
	rap_buf_init(&out, 4096);
	cr_assert_eq(rap_metrics_render(m, &out), RAP_OK);
	cr_assert_str_eq(
		out.data,
		"# HELP x_total xs\n# TYPE x_total counter\nx_total{k=\"a\"} 2\nx_total{k=\"b\"} 5\n"
		"# HELP y ys\n# TYPE y gauge\ny -3\n");
	rap_buf_cleanup(&out);
	rap_metrics_free(m);
}

Test(metrics, process_series_are_read_from_proc)
{
	struct rap_buf out;
	unsigned long long rss = 0;
	double cpu = -1, start = 0;
	int fds = -1;
	const char *p;

	rap_buf_init(&out, 4096);
	cr_assert_eq(rap_metrics_render_process(&out), RAP_OK);
	p = strstr(out.data, "\nprocess_resident_memory_bytes ");
	cr_assert(p && sscanf(p, "\nprocess_resident_memory_bytes %llu", &rss) == 1, "%s",
		  out.data);
	cr_assert_gt(rss, 1024 * 1024, "a process holds more than 1 MiB: %llu", rss);
	p = strstr(out.data, "\nprocess_cpu_seconds_total ");
	cr_assert(p && sscanf(p, "\nprocess_cpu_seconds_total %lf", &cpu) == 1, "%s", out.data);
	cr_assert_geq(cpu, 0);
	p = strstr(out.data, "\nprocess_start_time_seconds ");
	cr_assert(p && sscanf(p, "\nprocess_start_time_seconds %lf", &start) == 1, "%s", out.data);
	cr_assert_lt(start, (double)time(NULL) + 1, "started in the past");
	cr_assert_gt(start, (double)time(NULL) - 3600, "started within the hour: %f", start);
	p = strstr(out.data, "\nprocess_open_fds ");
	cr_assert(p && sscanf(p, "\nprocess_open_fds %d", &fds) == 1, "%s", out.data);
	cr_assert_geq(fds, 3, "stdin, stdout and stderr at least");
	rap_buf_cleanup(&out);
}

Test(metrics, histogram_renders_cumulative_buckets_sum_and_count)
{
	static const double bounds[] = { 0.005, 0.05, 1 };
	struct rap_metrics *m = rap_metrics_new();
	struct rap_metric *a, *b;
	struct rap_buf out;

	a = rap_metrics_add_histogram(m, "d_seconds", "route=\"/x\"", "ds", bounds, 3);
	b = rap_metrics_add_histogram(m, "d_seconds", "route=\"/y\"", "ds", bounds, 3);
	rap_metric_observe(a, 0.001);
	rap_metric_observe(a, 0.02);
	rap_metric_observe(a, 0.5);
	rap_metric_observe(a, 3);
	rap_buf_init(&out, 4096);
	cr_assert_eq(rap_metrics_render(m, &out), RAP_OK);
	cr_assert_str_eq(out.data, "# HELP d_seconds ds\n# TYPE d_seconds histogram\n"
				   "d_seconds_bucket{route=\"/x\",le=\"0.005\"} 1\n"
				   "d_seconds_bucket{route=\"/x\",le=\"0.05\"} 2\n"
				   "d_seconds_bucket{route=\"/x\",le=\"1\"} 3\n"
				   "d_seconds_bucket{route=\"/x\",le=\"+Inf\"} 4\n"
				   "d_seconds_sum{route=\"/x\"} 3.521\n"
				   "d_seconds_count{route=\"/x\"} 4\n"
				   "d_seconds_bucket{route=\"/y\",le=\"0.005\"} 0\n"
				   "d_seconds_bucket{route=\"/y\",le=\"0.05\"} 0\n"
				   "d_seconds_bucket{route=\"/y\",le=\"1\"} 0\n"
				   "d_seconds_bucket{route=\"/y\",le=\"+Inf\"} 0\n"
				   "d_seconds_sum{route=\"/y\"} 0\n"
				   "d_seconds_count{route=\"/y\"} 0\n");
	(void)b;
	rap_buf_cleanup(&out);
	rap_metrics_free(m);
}

Test(metrics, histogram_bounds_are_inclusive_and_large_ones_print_whole)
{
	struct rap_metrics *m = rap_metrics_new();
	struct rap_metric *h, *t;
	struct rap_buf out;

	h = rap_metrics_add_histogram(m, "b", NULL, "bs", rap_buckets_http_seconds,
				      RAP_BUCKETS_HTTP_SECONDS);
	t = rap_metrics_add_histogram(m, "t", NULL, "ts", rap_buckets_bytes_per_second,
				      RAP_BUCKETS_BYTES_PER_SECOND);
	rap_metric_observe(h, 0.05); /* exactly a bound: counted in it */
	rap_metric_observe(h, 0.0500001);
	rap_metric_observe(t, 1048576);
	rap_buf_init(&out, 8192);
	cr_assert_eq(rap_metrics_render(m, &out), RAP_OK);
	cr_assert(strstr(out.data, "b_bucket{le=\"0.025\"} 0\n"));
	cr_assert(strstr(out.data, "b_bucket{le=\"0.05\"} 1\n"));
	cr_assert(strstr(out.data, "b_bucket{le=\"0.1\"} 2\n"));
	cr_assert(strstr(out.data, "b_count 2\n"));
	cr_assert(strstr(out.data, "t_bucket{le=\"262144\"} 0\n"));
	cr_assert(strstr(out.data, "t_bucket{le=\"1048576\"} 1\n"));
	cr_assert(strstr(out.data, "t_bucket{le=\"1073741824\"} 1\n"));
	rap_buf_cleanup(&out);
	rap_metrics_free(m);
}

#define OBSERVERS 4
#define OBSERVATIONS 50000

static void *observe_many(void *arg)
{
	int i;

	for (i = 0; i < OBSERVATIONS; i++)
		rap_metric_observe(arg, (i & 1) ? 0.5 : 2);
	return NULL;
}

Test(metrics, histogram_observations_from_threads_are_all_counted)
{
	static const double bounds[] = { 1 };
	struct rap_metrics *m = rap_metrics_new();
	struct rap_metric *h = rap_metrics_add_histogram(m, "c", NULL, "cs", bounds, 1);
	pthread_t th[OBSERVERS];
	struct rap_buf out;
	char want[256];
	int i;

	for (i = 0; i < OBSERVERS; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, observe_many, h), 0);
	for (i = 0; i < OBSERVERS; i++)
		pthread_join(th[i], NULL);
	rap_buf_init(&out, 4096);
	cr_assert_eq(rap_metrics_render(m, &out), RAP_OK);
	/* Halves and twos: every partial sum is exact in a double. */
	snprintf(want, sizeof(want),
		 "c_bucket{le=\"1\"} %d\nc_bucket{le=\"+Inf\"} %d\nc_sum %d\nc_count %d\n",
		 OBSERVERS * OBSERVATIONS / 2, OBSERVERS * OBSERVATIONS,
		 OBSERVERS * OBSERVATIONS / 2 * 5 / 2, OBSERVERS * OBSERVATIONS);
	cr_assert(strstr(out.data, want), "%s", out.data);
	rap_buf_cleanup(&out);
	rap_metrics_free(m);
}
