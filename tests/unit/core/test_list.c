/* Tests of lib/core/list.c: comma-separated lists. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rap/list.h"

Test(list, contains_matches_whole_names_only)
{
	cr_assert(rap_list_contains("file.inspect,test.fault", "test.fault"));
	cr_assert(rap_list_contains("file.inspect", "file.inspect"));
	cr_assert_not(rap_list_contains("file.inspect", "file"));
	cr_assert_not(rap_list_contains("file.inspect,x", "file.inspectx"));
	cr_assert_not(rap_list_contains("", "x"));
}

Test(list, number_finds_the_named_entry_and_falls_back_to_the_default)
{
	const char *l = "file.inspect=3,test.fault=7,bad=x,big=1000";

	cr_assert_eq(rap_list_number(l, "file.inspect", 1, 100, 5), 3);
	cr_assert_eq(rap_list_number(l, "test.fault", 1, 100, 5), 7);
	cr_assert_eq(rap_list_number(l, "noop", 1, 100, 5), 5);
	cr_assert_eq(rap_list_number(l, "bad", 1, 100, 5), 5);
	cr_assert_eq(rap_list_number(l, "big", 1, 100, 5), 5);
	cr_assert_eq(rap_list_number(l, "file", 1, 100, 5), 5);
	cr_assert_eq(rap_list_number("", "x", 1, 100, 5), 5);
}

Test(list, allows_listed_values_prefixes_and_unlisted_names)
{
	const char *l = "image.thumb=image/png|image/jpeg,video.cut=video/*,noop=3";

	cr_assert(rap_list_allows(l, "image.thumb", "image/png"));
	cr_assert(rap_list_allows(l, "image.thumb", "image/jpeg"));
	cr_assert_not(rap_list_allows(l, "image.thumb", "image/gif"));
	cr_assert_not(rap_list_allows(l, "image.thumb", ""));
	cr_assert(rap_list_allows(l, "video.cut", "video/mp4"));
	cr_assert_not(rap_list_allows(l, "video.cut", "videos/mp4"));
	cr_assert_not(rap_list_allows(l, "video.cut", "audio/mp4"));
	cr_assert(rap_list_allows(l, "file.inspect", "application/x-anything"));
	cr_assert(rap_list_has(l, "video.cut"));
	cr_assert_not(rap_list_has(l, "video"));
	cr_assert_not(rap_list_has("", "video.cut"));
}
