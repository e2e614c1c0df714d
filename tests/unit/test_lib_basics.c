/* Tests of lib/mem.c, lib/util.c, lib/auth.c, lib/metrics.c, lib/log.c. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "rap/auth.h"
#include "rap/err.h"
#include "rap/hash.h"
#include "rap/log.h"
#include "rap/mem.h"
#include "rap/metrics.h"
#include "rap/util.h"

Test(buf, append_past_the_maximum_fails_and_keeps_the_content)
{
	struct rap_buf b;

	rap_buf_init(&b, 8);
	cr_assert_eq(rap_buf_appends(&b, "12345"), RAP_OK);
	cr_assert_eq(rap_buf_appends(&b, "6789"), RAP_ETOOBIG);
	cr_assert_str_eq(b.data, "12345");
	cr_assert_eq(rap_buf_appendf(&b, "%d", 678), RAP_OK);
	cr_assert_str_eq(b.data, "12345678");
	cr_assert_eq(rap_buf_append(&b, "x", 1), RAP_ETOOBIG);
	rap_buf_cleanup(&b);
}

Test(util, strtonum_checks_syntax_and_range)
{
	long long v;

	cr_assert_eq(rap_strtonum("42", 0, 100, &v), RAP_OK);
	cr_assert_eq(v, 42);
	cr_assert_eq(rap_strtonum("101", 0, 100, &v), RAP_ERANGE);
	cr_assert_eq(rap_strtonum("-1", 0, 100, &v), RAP_ERANGE);
	cr_assert_eq(rap_strtonum("4x", 0, 100, &v), RAP_EINVAL);
	cr_assert_eq(rap_strtonum("", 0, 100, &v), RAP_EINVAL);
	cr_assert_eq(rap_strtonum("99999999999999999999", 0, INT64_MAX, &v), RAP_ERANGE);
}

Test(util, uuids_are_valid_v4_and_distinct)
{
	char a[37], b[37];

	rap_uuid(a);
	rap_uuid(b);
	cr_assert(rap_uuid_valid(a));
	cr_assert_eq(a[14], '4');
	cr_assert_str_neq(a, b);
	cr_assert_not(rap_uuid_valid("0b0c6f1e-8a52-4c4e-9a43-3d2f1b7c9e1"));
	cr_assert_not(rap_uuid_valid("0b0c6f1e-8a52-4c4e-9a43_3d2f1b7c9e10"));
	cr_assert_not(rap_uuid_valid("zb0c6f1e-8a52-4c4e-9a43-3d2f1b7c9e10"));
}

Test(hash, sha256_matches_known_digests_streamed_or_not)
{
	struct rap_sha256 h;
	char hex[65];

	rap_sha256_hex("abc", 3, hex);
	cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	rap_sha256_init(&h);
	rap_sha256_update(&h, "a", 1);
	rap_sha256_update(&h, "bc", 2);
	rap_sha256_final_hex(&h, hex);
	cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	rap_sha256_hex("", 0, hex);
	cr_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

Test(auth, keys_map_to_owners_and_unknown_keys_do_not)
{
	struct rap_auth *a;
	char err[RAP_ERRLEN];

	cr_assert_eq(rap_auth_parse("dev-key=dev,other-key=alice", &a, err), RAP_OK, "%s", err);
	cr_assert_str_eq(rap_auth_owner(a, "dev-key"), "dev");
	cr_assert_str_eq(rap_auth_owner(a, "other-key"), "alice");
	cr_assert_null(rap_auth_owner(a, "dev-ke"));
	cr_assert_null(rap_auth_owner(a, ""));
	cr_assert_null(rap_auth_owner(a, NULL));
	rap_auth_free(a);
}

Test(auth, malformed_specs_are_refused)
{
	struct rap_auth *a = NULL;
	char err[RAP_ERRLEN];

	cr_assert_eq(rap_auth_parse("", &a, err), RAP_EINVAL);
	cr_assert_eq(rap_auth_parse("nokey", &a, err), RAP_EINVAL);
	cr_assert_eq(rap_auth_parse("key-1=bad owner", &a, err), RAP_EINVAL);
	cr_assert_eq(rap_auth_parse("k=dev", &a, err), RAP_EINVAL); /* key too short */
	cr_assert_null(a);
}

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
	cr_assert_str_eq(out.data,
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
	cr_assert(p && sscanf(p, "\nprocess_resident_memory_bytes %llu", &rss) == 1, "%s", out.data);
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

Test(log, json_quote_escapes_control_characters_and_quotes)
{
	struct rap_buf b;

	rap_buf_init(&b, 1024);
	rap_json_quote(&b, "a\"b\\c\nd\x01");
	cr_assert_str_eq(b.data, "\"a\\\"b\\\\c\\nd\\u0001\"");
	rap_buf_cleanup(&b);
}

Test(errors, every_code_has_a_name)
{
	for (int e = RAP_AGAIN; e >= RAP_EUNSUPPORTED; e--)
		cr_assert_str_neq(rap_strerror(e), "unknown error", "code %d", e);
}
