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

Test(auth, a_role_after_the_owner_makes_an_admin_and_user_is_the_default)
{
	const struct rap_auth_key *k;
	struct rap_auth *a;
	char err[RAP_ERRLEN];

	cr_assert_eq(rap_auth_parse("dev-key=dev,ops-key=ops:admin,u-key=bob:user", &a, err),
		     RAP_OK, "%s", err);
	k = rap_auth_find(a, "dev-key");
	cr_assert_not_null(k);
	cr_assert_str_eq(k->owner, "dev");
	cr_assert_not(k->admin);
	k = rap_auth_find(a, "ops-key");
	cr_assert_str_eq(k->owner, "ops");
	cr_assert(k->admin);
	cr_assert_str_eq(rap_auth_owner(a, "ops-key"), "ops");
	k = rap_auth_find(a, "u-key");
	cr_assert_str_eq(k->owner, "bob");
	cr_assert_not(k->admin);
	rap_auth_free(a);
}

Test(auth, a_key_id_is_16_hex_digits_of_its_sha256_and_differs_between_keys)
{
	struct rap_auth *a;
	char err[RAP_ERRLEN];

	cr_assert_eq(rap_auth_parse("dev-key=dev,dev-key2=dev", &a, err), RAP_OK, "%s", err);
	/* printf dev-key | sha256sum */
	cr_assert_str_eq(rap_auth_find(a, "dev-key")->id, "7e9f8fd111802be5");
	cr_assert_str_neq(rap_auth_find(a, "dev-key")->id, rap_auth_find(a, "dev-key2")->id);
	rap_auth_free(a);
}

Test(auth, an_unknown_role_is_refused_with_the_entry_named)
{
	struct rap_auth *a = NULL;
	char err[RAP_ERRLEN];

	cr_assert_eq(rap_auth_parse("dev-key=dev,ops-key=ops:root", &a, err), RAP_EINVAL);
	cr_assert_not_null(strstr(err, "entry 2"), "%s", err);
	cr_assert_not_null(strstr(err, "admin"), "%s", err);
	cr_assert_eq(rap_auth_parse("ops-key=ops:", &a, err), RAP_EINVAL);
	cr_assert_eq(rap_auth_parse("ops-key=:admin", &a, err), RAP_EINVAL);
	cr_assert_null(a);
}
