/* Tests of lib/core/random.c. */
#include "rap/err.h"
#include "rap/random.h"

#include <criterion/criterion.h>
#include <string.h>

/* Ids made from the per-thread cache differ from each other, across a
 * refill too, and a request larger than the cache still gets its bytes. */
Test(random, cached_bytes_never_repeat_an_id_across_refills)
{
	unsigned char a[16], b[16], big[5000];
	int i;

	cr_assert_eq(rap_random_cached(a, sizeof(a)), RAP_OK);
	for (i = 0; i < 600; i++) { /* 9,600 bytes: two refills */
		cr_assert_eq(rap_random_cached(b, sizeof(b)), RAP_OK);
		cr_assert(memcmp(a, b, sizeof(a)) != 0, "id %d repeats the first", i);
	}
	memset(big, 0, sizeof(big));
	cr_assert_eq(rap_random_cached(big, sizeof(big)), RAP_OK);
	cr_assert(memcmp(big + sizeof(big) - 16, (unsigned char[16]){ 0 }, 16) != 0);
}
