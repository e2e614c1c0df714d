/* Tests of lib/core/ratelimit.c: token buckets, alone and by key. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "rap/ratelimit.h"

Test(ratelimit, a_new_bucket_is_full_and_refuses_past_its_burst)
{
	struct rap_bucket b = { 0 };
	int64_t wait = 0;
	int i;

	for (i = 0; i < 10; i++)
		cr_assert(rap_bucket_take(&b, 5, 10, 1, 1000, &wait), "take %d", i);
	cr_assert_not(rap_bucket_take(&b, 5, 10, 1, 1000, &wait));
	cr_assert_eq(wait, 200, "one token at 5 a second is 200 ms away, not %lld",
		     (long long)wait);
}

Test(ratelimit, tokens_come_back_at_the_rate_and_never_past_the_burst)
{
	struct rap_bucket b = { 0 };

	cr_assert(rap_bucket_take(&b, 10, 10, 10, 1000, NULL));
	cr_assert_not(rap_bucket_take(&b, 10, 10, 1, 1050, NULL), "half a token after 50 ms");
	cr_assert(rap_bucket_take(&b, 10, 10, 1, 1100, NULL), "one after 100 ms");
	/* An hour idle fills it to the burst, not to 36,000. */
	cr_assert(rap_bucket_take(&b, 10, 10, 10, 3601100, NULL));
	cr_assert_not(rap_bucket_take(&b, 10, 10, 1, 3601100, NULL));
}

Test(ratelimit, a_refused_take_leaves_the_bucket_as_it_was)
{
	struct rap_bucket b = { 0 };
	int64_t wait = 0;

	cr_assert(rap_bucket_take(&b, 1, 5, 3, 1000, NULL));
	cr_assert_not(rap_bucket_take(&b, 1, 5, 3, 1000, &wait), "2 left, 3 asked");
	cr_assert_eq(wait, 1000);
	cr_assert(rap_bucket_take(&b, 1, 5, 2, 1000, NULL), "the 2 are still there");
}

Test(ratelimit, a_cost_above_the_burst_needs_a_full_bucket)
{
	struct rap_bucket b = { 0 };

	cr_assert(rap_bucket_take(&b, 1, 5, 50, 1000, NULL), "a full bucket passes it");
	cr_assert_not(rap_bucket_take(&b, 1, 5, 50, 2000, NULL));
	cr_assert(rap_bucket_take(&b, 1, 5, 50, 6000, NULL), "full again after 5 s");
}

Test(ratelimit, keys_have_buckets_of_their_own)
{
	struct rap_ratelimit *rl = rap_ratelimit_new(1, 3, 16);
	long long retry = 0;

	cr_assert(rap_ratelimit_take(rl, "other", 3, 1000, &retry));
	cr_assert_not(rap_ratelimit_take(rl, "other", 1, 1000, &retry));
	cr_assert_eq(retry, 1);
	cr_assert(rap_ratelimit_take(rl, "dev", 3, 1000, &retry), "dev is not other");
	cr_assert(rap_ratelimit_take(rl, "other", 1, 2000, &retry), "a token a second");
	rap_ratelimit_free(rl);
}

Test(ratelimit, retry_after_is_whole_seconds_rounded_up)
{
	struct rap_ratelimit *rl = rap_ratelimit_new(0.5, 10, 4);
	long long retry = 0;

	cr_assert(rap_ratelimit_take(rl, "k", 10, 1000, NULL));
	cr_assert_not(rap_ratelimit_take(rl, "k", 3, 1000, &retry));
	cr_assert_eq(retry, 6, "3 tokens at 0.5 a second: 6 s, not %lld", retry);
	rap_ratelimit_free(rl);
}

Test(ratelimit, rate_zero_turns_the_limit_off)
{
	struct rap_ratelimit *rl = rap_ratelimit_new(0, 1, 1);
	int i;

	for (i = 0; i < 1000; i++)
		cr_assert(rap_ratelimit_take(rl, "k", 100, 1000, NULL));
	rap_ratelimit_free(rl);
}

Test(ratelimit, a_full_table_forgets_refilled_buckets_and_never_refuses_for_room)
{
	struct rap_ratelimit *rl = rap_ratelimit_new(1, 2, 2);
	long long retry;

	cr_assert(rap_ratelimit_take(rl, "a", 2, 1000, &retry));
	cr_assert(rap_ratelimit_take(rl, "b", 2, 1000, &retry));
	/* No room and no full bucket: c is let through, a and b kept. */
	cr_assert(rap_ratelimit_take(rl, "c", 2, 1000, &retry));
	cr_assert_not(rap_ratelimit_take(rl, "a", 1, 1000, &retry), "a is still drained");
	/* a refills; c takes its room, and b is still held to its bucket. */
	cr_assert(rap_ratelimit_take(rl, "c", 2, 3000, &retry));
	cr_assert_not(rap_ratelimit_take(rl, "c", 1, 3000, &retry), "c has a bucket now");
	rap_ratelimit_free(rl);
}

Test(ratelimit, null_free_is_a_no_op)
{
	rap_ratelimit_free(NULL);
}
