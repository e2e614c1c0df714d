/* Tests of services/upload-api/places.c: the owners' shares of the upload
 * places and the pace of a body. */
#include <criterion/criterion.h>

#include "upload_api.h"

Test(places, the_default_share_is_a_quarter_and_at_least_one)
{
	cr_assert_eq(upload_owner_share(64, 0), 16);
	cr_assert_eq(upload_owner_share(3, 0), 1, "a quarter of 3 rounds to none: 1");
	cr_assert_eq(upload_owner_share(1, 0), 1);
	cr_assert_eq(upload_owner_share(64, 5), 5, "the setting wins");
	cr_assert_eq(upload_owner_share(64, 500), 64, "never more than every place");
}

Test(places, an_owner_at_its_share_is_refused_while_others_are_admitted)
{
	long long share = upload_owner_share(64, 0);

	cr_assert_eq(upload_place_verdict(15, 15, 64, share), UPLOAD_ADMIT);
	cr_assert_eq(upload_place_verdict(16, 16, 64, share), UPLOAD_OVER_SHARE);
	cr_assert_eq(upload_place_verdict(16, 0, 64, share), UPLOAD_ADMIT,
		     "another owner still finds a place");
	cr_assert_eq(upload_place_verdict(64, 3, 64, share), UPLOAD_BUSY,
		     "every place taken (by four owners at their share): busy");
	cr_assert_eq(upload_place_verdict(64, 16, 64, share), UPLOAD_BUSY,
		     "every place taken is busy for everyone");
	cr_assert_eq(upload_place_verdict(1, 1, 1, upload_owner_share(1, 0)), UPLOAD_BUSY,
		     "an owner whose share is every place meets busy, as before");
}

Test(places, a_body_that_keeps_the_pace_goes_on_window_after_window)
{
	struct upload_pace p;
	int64_t t;

	upload_pace_start(&p, 1000);
	/* 2 KiB a second against a minimum of 1 KiB/s over 3 s. */
	for (t = 1000; t <= 31000; t += 1000)
		cr_assert(upload_pace_ok(&p, 2048, t, 1024, 3), "at %lld", (long long)t);
}

Test(places, a_byte_a_second_is_cut_when_its_first_window_ends)
{
	struct upload_pace p;
	int64_t t;

	upload_pace_start(&p, 0);
	for (t = 1000; t < 3000; t += 1000)
		cr_assert(upload_pace_ok(&p, 1, t, 1024, 3), "within the window at %lld",
			  (long long)t);
	cr_assert_not(upload_pace_ok(&p, 1, 3000, 1024, 3));
}

Test(places, a_body_that_sends_nothing_is_cut_by_the_clock_alone)
{
	struct upload_pace p;

	upload_pace_start(&p, 0);
	cr_assert(upload_pace_ok(&p, 0, 2999, 1024, 3));
	cr_assert_not(upload_pace_ok(&p, 0, 3500, 1024, 3));
}

Test(places, a_burst_then_silence_is_judged_over_each_window)
{
	struct upload_pace p;

	upload_pace_start(&p, 0);
	cr_assert(upload_pace_ok(&p, 64 * 1024, 100, 1024, 3));
	cr_assert(upload_pace_ok(&p, 0, 3000, 1024, 3), "64 KiB in the first window is enough");
	cr_assert(upload_pace_ok(&p, 0, 5999, 1024, 3));
	cr_assert_not(upload_pace_ok(&p, 0, 6000, 1024, 3), "nothing in the second: cut");
}

Test(places, a_minimum_of_zero_never_cuts)
{
	struct upload_pace p;

	upload_pace_start(&p, 0);
	cr_assert(upload_pace_ok(&p, 0, 1000000, 0, 3));
}
