/* Tests of lib/core/base64.c. */
#include <criterion/criterion.h>
#include <string.h>
#include "rap/err.h"
#include "rap/base64.h"

Test(base64, round_trips_every_length_and_refuses_garbage)
{
	unsigned char in[64], out[64];
	char enc[100];
	size_t i, n;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 37 + 11);
	for (i = 0; i <= sizeof(in); i++) {
		rap_base64_encode(in, i, enc);
		cr_assert_eq(strlen(enc), 4 * ((i + 2) / 3));
		cr_assert_eq(rap_base64_decode(enc, strlen(enc), out, sizeof(out), &n), RAP_OK);
		cr_assert_eq(n, i);
		cr_assert_eq(memcmp(in, out, n), 0);
	}
	cr_assert_eq(rap_base64_decode("aGVsbG8", 7, out, sizeof(out), &n), RAP_OK,
		     "padding may be left out");
	cr_assert_eq(n, 5);
	cr_assert_eq(rap_base64_decode("aGV$bG8=", 8, out, sizeof(out), &n), RAP_EINVAL);
	cr_assert_eq(rap_base64_decode("a", 1, out, sizeof(out), &n), RAP_EINVAL);
	cr_assert_eq(rap_base64_decode("aGVsbG8=", 8, out, 4, &n), RAP_ETOOBIG);
}
