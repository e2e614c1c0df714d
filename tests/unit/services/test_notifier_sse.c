/* Tests of services/notifier/sse.c: the Server-Sent Events streams'
 * request (route, key, Last-Event-ID) and text, apart from the socket. */
#include <criterion/criterion.h>
#include <string.h>

#include "notifier.h"
#include "rap/auth.h"
#include "rap/buf.h"
#include "rap/err.h"

static struct rap_auth *auth;

static void setup(void)
{
	char err[RAP_ERRLEN];

	cr_assert_eq(rap_auth_parse("dev-key-0001=dev,other-key-0001=other", &auth, err), RAP_OK,
		     "%s", err);
}

static void teardown(void)
{
	rap_auth_free(auth);
}

TestSuite(notifier_sse, .init = setup, .fini = teardown);

#define JOB "1B9D6BCD-BBFD-4B2D-9B5D-AB8DFBBD4BED"

Test(notifier_sse, the_two_routes_and_nothing_else)
{
	char job[RAP_UUID_STRLEN];

	cr_assert(notifier_sse_path("/events", job));
	cr_assert_str_empty(job);
	cr_assert(notifier_sse_path("/jobs/" JOB "/events", job));
	cr_assert_str_eq(job, JOB);
	cr_assert(notifier_sse_path("/jobs/x/events", job)); /* a 400 later, not a 404 */
	cr_assert_not(notifier_sse_path("/jobs//events", job));
	cr_assert_not(notifier_sse_path("/jobs/a/b/events", job));
	cr_assert_not(notifier_sse_path("/events/", job));
	cr_assert_not(notifier_sse_path("/ws", job));
	cr_assert_not(notifier_sse_path("/jobs/" JOB "/events/x", job));
	cr_assert_not(
		notifier_sse_path("/jobs/0123456789012345678901234567890123456789/events", job));
}

Test(notifier_sse, a_job_stream_resumed_by_last_event_id_which_wins_over_since)
{
	struct notifier_sse_req r;
	const char *code, *msg;

	cr_assert_eq(notifier_sse_decode(auth, "/jobs/" JOB "/events", "other-key-0001", "42", "7",
					 &r, &code, &msg),
		     0);
	cr_assert_str_eq(r.owner, "other");
	cr_assert_str_eq(r.job_id, "1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed");
	cr_assert_eq(r.since, 42);
	cr_assert(r.resumed);
	cr_assert_eq(
		notifier_sse_decode(auth, "/events", "dev-key-0001", NULL, "7", &r, &code, &msg),
		0);
	cr_assert_str_eq(r.owner, "dev");
	cr_assert_str_empty(r.job_id);
	cr_assert_eq(r.since, 7);
	cr_assert(r.resumed);
	cr_assert_eq(
		notifier_sse_decode(auth, "/events", "dev-key-0001", NULL, NULL, &r, &code, &msg),
		0);
	cr_assert_eq(r.since, 0);
	cr_assert_not(r.resumed);
}

Test(notifier_sse, each_bad_request_gets_its_status_and_code)
{
	struct {
		const char *path, *key, *last, *since;
		int status;
		const char *code;
	} cases[] = {
		{ "/nope", "dev-key-0001", NULL, NULL, 404, "not_found" },
		{ "/events", NULL, NULL, NULL, 401, "unauthorized" },
		{ "/events", "", NULL, NULL, 401, "unauthorized" },
		{ "/events", "wrong", NULL, NULL, 401, "unauthorized" },
		{ "/jobs/not-a-uuid/events", "dev-key-0001", NULL, NULL, 400, "bad_request" },
		{ "/events", "dev-key-0001", "abc", NULL, 400, "bad_request" },
		{ "/events", "dev-key-0001", "-1", NULL, 400, "bad_request" },
		{ "/events", "dev-key-0001", "", NULL, 400, "bad_request" },
		{ "/events", "dev-key-0001", "12 ", NULL, 400, "bad_request" },
		{ "/events", "dev-key-0001", "1234567890123456789", NULL, 400, "bad_request" },
		{ "/events", "dev-key-0001", NULL, "1e3", 400, "bad_request" },
		/* A bad Last-Event-ID is refused even with a good since. */
		{ "/events", "dev-key-0001", "x", "5", 400, "bad_request" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct notifier_sse_req r;
		const char *code = NULL, *msg = NULL;

		cr_assert_eq(notifier_sse_decode(auth, cases[i].path, cases[i].key, cases[i].last,
						 cases[i].since, &r, &code, &msg),
			     cases[i].status, "case %zu", i);
		cr_assert_str_eq(code, cases[i].code, "case %zu", i);
		cr_assert_not_null(msg);
		cr_assert_null(strchr(msg, '"'), "case %zu: the message goes into JSON as is", i);
	}
}

Test(notifier_sse, an_event_as_sse_text)
{
	struct rap_buf b;

	rap_buf_init(&b, 1024);
	cr_assert_eq(notifier_sse_event(&b, 44, "job.status", "{\"a\":1}", 7), RAP_OK);
	cr_assert_str_eq(b.data, "id: 44\nevent: job.status\ndata: {\"a\":1}\n\n");
	rap_buf_reset(&b);
	/* No id (progress, or an id not above the last written); a newline in
	 * the text makes a second data line. */
	cr_assert_eq(notifier_sse_event(&b, 0, "job.progress", "{\n}", 3), RAP_OK);
	cr_assert_str_eq(b.data, "event: job.progress\ndata: {\ndata: }\n\n");
	rap_buf_cleanup(&b);
	/* Past the buffer's bound: nothing of the event is left. */
	rap_buf_init(&b, 30);
	rap_buf_appends(&b, "x");
	cr_assert_eq(notifier_sse_event(&b, 1, "job.status", "{\"a\":\"long enough\"}", 20),
		     RAP_ETOOBIG);
	cr_assert_str_eq(b.data, "x");
	rap_buf_cleanup(&b);
}

Test(notifier_sse, the_seen_ring_refuses_a_repeat_and_forgets_the_oldest)
{
	static struct notifier_sse_seen s;

	cr_assert(notifier_sse_seen_add(&s, 5));
	cr_assert_not(notifier_sse_seen_add(&s, 5));
	for (long long id = 100; id < 100 + NOTIFIER_SSE_SEEN; id++)
		cr_assert(notifier_sse_seen_add(&s, id));
	cr_assert_not(notifier_sse_seen_add(&s, 100 + NOTIFIER_SSE_SEEN - 1));
	cr_assert(notifier_sse_seen_add(&s, 5), "the oldest is forgotten");
}
