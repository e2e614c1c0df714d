/* Tests of services/notifier/subscribe.c: the WebSocket subscribe message,
 * read and checked apart from the socket (the fuzz target
 * fuzz/fuzz_ws_subscribe.c calls the same function). */
#include <criterion/criterion.h>
#include <string.h>

#include "notifier.h"
#include "rap/auth.h"
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

TestSuite(notifier_subscribe, .init = setup, .fini = teardown);

Test(notifier_subscribe, an_owner_wide_subscription_and_a_job_one_lower_cased)
{
	struct notifier_subscribe s;

	cr_assert_null(notifier_subscribe_decode(
		auth, "{\"type\":\"subscribe\",\"api_key\":\"dev-key-0001\"}", &s));
	cr_assert_str_eq(s.owner, "dev");
	cr_assert_str_empty(s.job_id);
	cr_assert_eq(s.since, 0);
	cr_assert_null(notifier_subscribe_decode(
		auth,
		"{\"type\":\"subscribe\",\"api_key\":\"other-key-0001\","
		"\"job_id\":\"1B9D6BCD-BBFD-4B2D-9B5D-AB8DFBBD4BED\",\"since\":42}",
		&s));
	cr_assert_str_eq(s.owner, "other");
	cr_assert_str_eq(s.job_id, "1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed");
	cr_assert_eq(s.since, 42);
}

Test(notifier_subscribe, each_bad_message_gets_its_error_frame)
{
	const char *cases[][2] = {
		{ "not json", "send a JSON object" },
		{ "[1]", "send a JSON object" },
		{ "{\"type\":\"unsubscribe\"}", "unknown message type" },
		{ "{\"type\":\"subscribe\"}", "\"unauthorized\"" },
		{ "{\"type\":\"subscribe\",\"api_key\":\"wrong-key-01\"}", "\"unauthorized\"" },
		{ "{\"type\":\"subscribe\",\"api_key\":\"dev-key-0001\",\"job_id\":\"x\"}",
		  "job_id must be a UUID" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct notifier_subscribe s;
		const char *error = notifier_subscribe_decode(auth, cases[i][0], &s);

		cr_assert_not_null(error, "case %zu", i);
		cr_assert(strstr(error, cases[i][1]), "case %zu: %s", i, error);
		cr_assert_str_empty(s.owner, "case %zu: nothing decoded", i);
	}
}
