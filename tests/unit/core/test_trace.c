/* Tests of lib/core/trace.c: W3C traceparent, strictly. */
#include <criterion/criterion.h>
#include <string.h>
#include "rap/log.h"
#include "rap/trace.h"

#define TRACE "4bf92f3577b34da6a3ce929d0e0e4736"
#define PARENT "00f067aa0ba902b7"

static bool all_hex(const char *s, size_t n)
{
	return strlen(s) == n && strspn(s, "0123456789abcdef") == n;
}

Test(trace, a_valid_traceparent_keeps_its_trace_id_and_flags_with_a_new_span)
{
	struct rap_trace t;
	char out[RAP_TRACEPARENT_LEN];

	cr_assert(rap_trace_parse("00-" TRACE "-" PARENT "-01", &t));
	cr_assert_str_eq(t.trace_id, TRACE);
	cr_assert_str_eq(t.flags, "01");
	cr_assert(all_hex(t.span_id, 16));
	cr_assert_str_neq(t.span_id, PARENT, "the request's span is its own");
	rap_trace_format(&t, out);
	cr_assert_eq(strlen(out), 55);
	cr_assert_eq(strncmp(out, "00-" TRACE "-", 36), 0);
	cr_assert_str_eq(out + 52, "-01");
	cr_assert(rap_trace_parse("00-" TRACE "-" PARENT "-00", &t), "not sampled is valid");
	cr_assert_str_eq(t.flags, "00");
}

Test(trace, malformed_traceparents_are_refused)
{
	static const char *const bad[] = {
		"",
		"00",
		"00-" TRACE "-" PARENT "-1",                         /* short flags */
		"00-" TRACE "-" PARENT "-011",                       /* long */
		"00-" TRACE "-" PARENT "-01 ",                       /* trailing space */
		" 00-" TRACE "-" PARENT "-01",                       /* leading space */
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-" PARENT "-01", /* uppercase trace */
		"00-" TRACE "-00F067AA0BA902B7-01",                  /* uppercase parent */
		"00-" TRACE "-" PARENT "-0A",                        /* uppercase flags */
		"00-00000000000000000000000000000000-" PARENT "-01", /* zero trace id */
		"00-" TRACE "-0000000000000000-01",                  /* zero parent id */
		"ff-" TRACE "-" PARENT "-01",                        /* version ff */
		"01-" TRACE "-" PARENT "-01",                        /* a later version */
		"00_" TRACE "-" PARENT "-01",                        /* wrong separator */
		"00-" TRACE "_" PARENT "-01",
		"00-4bf92f3577b34da6a3ce929d0e0e473g-" PARENT "-01", /* not hex */
		"00-" TRACE "-" PARENT "-01-extra",
	};
	struct rap_trace t;
	size_t i;

	memset(&t, 'x', sizeof(t));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_not(rap_trace_parse(bad[i], &t), "accepted \"%s\"", bad[i]);
	cr_assert_not(rap_trace_parse(NULL, &t));
	cr_assert_eq(t.trace_id[0], 'x', "a refused value leaves the trace untouched");
}

Test(trace, a_missing_or_invalid_traceparent_starts_a_new_trace)
{
	struct rap_trace a, b;
	char out[RAP_TRACEPARENT_LEN];

	rap_trace_continue("00-00000000000000000000000000000000-" PARENT "-01", &a);
	rap_trace_continue(NULL, &b);
	cr_assert(all_hex(a.trace_id, 32));
	cr_assert(all_hex(a.span_id, 16));
	cr_assert_str_eq(a.flags, "01");
	cr_assert_str_neq(a.trace_id, "00000000000000000000000000000000");
	cr_assert_str_neq(a.trace_id, b.trace_id, "each new trace is a new id");
	rap_trace_format(&a, out);
	cr_assert(rap_trace_parse(out, &b), "what is started is valid: %s", out);
	cr_assert_str_eq(b.trace_id, a.trace_id);
}

Test(trace, the_thread_trace_is_set_and_cleared)
{
	struct rap_trace t;

	rap_trace_start(&t);
	cr_assert_null(rap_log_trace());
	rap_log_set_trace(&t);
	cr_assert_not_null(rap_log_trace());
	cr_assert_str_eq(rap_log_trace()->trace_id, t.trace_id);
	rap_log_set_trace(NULL);
	cr_assert_null(rap_log_trace());
}
