/* Tests of lib/adapters/metrics/metrics.c. */
#include <criterion/criterion.h>
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
