/* Tests of lib/domain/keylimit.c that need no PostgreSQL: the size of a
 * reservation, and a limit that is off.  What needs the shared bucket is
 * proven against the real one: tests/integration/ratelimit.test.mjs. */
#include <criterion/criterion.h>
#include "rap/err.h"
#include "rap/keylimit.h"

Test(keylimit, a_reservation_is_a_twentieth_of_a_second_at_most_a_tenth_of_the_burst)
{
	cr_assert_float_eq(rap_keylimit_chunk(1000, 2000), 50, 1e-9);
	cr_assert_float_eq(rap_keylimit_chunk(1000, 200), 20, 1e-9);
	cr_assert_float_eq(rap_keylimit_chunk(1, 10), 1, 1e-9);    /* at least 1 */
	cr_assert_float_eq(rap_keylimit_chunk(30, 1000), 1, 1e-9); /* whole tokens */
}

Test(keylimit, a_limit_of_rate_0_admits_everything_without_the_database)
{
	struct rap_keylimit *kl = rap_keylimit_new("status", 0, 10, NULL);
	char err[RAP_ERRLEN];
	long long retry = 0;
	bool admitted = false;
	int i;

	for (i = 0; i < 1000; i++) {
		cr_assert_eq(rap_keylimit_take(kl, "0123456789abcdef", 5, 1000 + i, &admitted,
					       &retry, err),
			     RAP_OK);
		cr_assert(admitted);
	}
	rap_keylimit_free(kl);
	rap_keylimit_free(NULL);
}
