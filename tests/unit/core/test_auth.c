/* Tests of lib/core/auth.c: API keys and their owners. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "rap/auth.h"
#include "rap/err.h"

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
