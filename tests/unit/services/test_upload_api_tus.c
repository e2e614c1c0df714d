/* Tests of services/upload-api/tus_patch.c: the states of a PATCH. */
#include <criterion/criterion.h>

#include "tus_internal.h"

Test(tus_patch_state, a_patch_opens_receives_and_ends_saved_or_failed)
{
	unsigned from, to, n = 0;

	cr_assert(tus_patch_transition_allowed(TUS_PATCH_OPENING, TUS_PATCH_RECEIVING));
	cr_assert(tus_patch_transition_allowed(TUS_PATCH_OPENING, TUS_PATCH_FAILED));
	cr_assert(tus_patch_transition_allowed(TUS_PATCH_RECEIVING, TUS_PATCH_SAVED));
	cr_assert(tus_patch_transition_allowed(TUS_PATCH_RECEIVING, TUS_PATCH_FAILED));
	for (from = 0; from < TUS_PATCH_STATES; from++)
		for (to = 0; to < TUS_PATCH_STATES; to++)
			n += tus_patch_transition_allowed(from, to);
	cr_assert_eq(n, 4, "no other move");
}

Test(tus_patch_state, an_answered_patch_never_changes_its_answer)
{
	cr_assert_not(tus_patch_transition_allowed(TUS_PATCH_SAVED, TUS_PATCH_FAILED));
	cr_assert_not(tus_patch_transition_allowed(TUS_PATCH_FAILED, TUS_PATCH_SAVED));
	cr_assert_not(tus_patch_transition_allowed(TUS_PATCH_FAILED, TUS_PATCH_RECEIVING));
	cr_assert_not(tus_patch_transition_allowed(TUS_PATCH_OPENING, TUS_PATCH_SAVED),
		      "nothing is saved before the body");
	cr_assert_not(tus_patch_transition_allowed(TUS_PATCH_STATES, TUS_PATCH_FAILED));
}
