/* Tests of cli/backoff.c: delays, jitter and the retry budget. */
#include <criterion/criterion.h>

#include "cli.h"
#include "rap/err.h"
#include "rap/clock.h"

Test(cli_backoff, delays_double_from_half_a_second_to_ten_seconds)
{
	static const int want[] = { 500, 1000, 2000, 4000, 8000, 10000, 10000 };
	struct cli_backoff b;

	cli_backoff_init(&b, 500, 10000);
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_assert_eq(cli_backoff_next(&b, 0.5), want[i], "step %u", i);
	cli_backoff_reset(&b);
	cr_assert_eq(cli_backoff_next(&b, 0.5), 500);
}

Test(cli_backoff, jitter_stays_within_a_quarter_of_the_step)
{
	struct cli_backoff b;

	cli_backoff_init(&b, 1000, 10000);
	cr_assert_eq(cli_backoff_next(&b, 0.0), 750);
	cli_backoff_reset(&b);
	cr_assert_eq(cli_backoff_next(&b, 0.999999), 1249);
}

Test(cli_backoff, the_budget_runs_out_and_progress_renews_it)
{
	struct cli_retry r;
	int ms;

	cli_retry_init(&r, 60000);
	cr_assert_eq(cli_retry_next(&r, &ms), RAP_OK);
	cr_assert(ms >= 375 && ms <= 625, "%d", ms);
	cr_assert_eq(cli_retry_next(&r, &ms), RAP_OK);
	cr_assert(ms >= 750 && ms <= 1250, "%d", ms);
	/* Close to the deadline, the wait ends at it. */
	r.deadline_ms = rap_now_ms() + 100;
	cr_assert_eq(cli_retry_next(&r, &ms), RAP_OK);
	cr_assert(ms <= 100, "%d", ms);
	r.deadline_ms = rap_now_ms() - 1;
	cr_assert_eq(cli_retry_next(&r, &ms), RAP_ETIMEDOUT);
	cli_retry_progress(&r);
	cr_assert_eq(cli_retry_next(&r, &ms), RAP_OK);
	cr_assert(ms <= 625, "progress starts the delays small again: %d", ms);
}

Test(cli_backoff, retry_after_sets_a_floor_for_the_next_wait_only)
{
	struct cli_retry r;
	int ms;

	cli_retry_init(&r, 600000);
	cli_retry_hint(&r, -1); /* no Retry-After: the backoff alone */
	cr_assert_eq(cli_retry_next(&r, &ms), RAP_OK);
	cr_assert(ms <= 625, "%d", ms);
	cli_retry_hint(&r, 3000);
	cr_assert_eq(cli_retry_next(&r, &ms), RAP_OK);
	cr_assert_eq(ms, 3000, "the server's wait wins over a shorter step");
	cr_assert_eq(cli_retry_next(&r, &ms), RAP_OK);
	cr_assert(ms >= 1500 && ms <= 2500, "then the backoff again: %d", ms);
	/* A shorter hint than the step does not shorten it. */
	cli_retry_hint(&r, 100);
	cr_assert_eq(cli_retry_next(&r, &ms), RAP_OK);
	cr_assert(ms >= 3000, "%d", ms);
	/* An hour is cut to a minute, and the deadline still bounds it. */
	cli_retry_hint(&r, 3600 * 1000);
	cr_assert_eq(cli_retry_next(&r, &ms), RAP_OK);
	cr_assert_eq(ms, CLI_RETRY_AFTER_MAX_MS);
	cli_retry_hint(&r, 30000);
	r.deadline_ms = rap_now_ms() + 200;
	cr_assert_eq(cli_retry_next(&r, &ms), RAP_OK);
	cr_assert(ms <= 200, "%d", ms);
}
