/* Tests of lib/adapters/http/http_route.c: matching a route table. */
#include <criterion/criterion.h>
#include <string.h>

#include "rap/err.h"
#include "rap/http_route.h"

static void a(void *svc, struct rap_http_req *req)
{
}

static void b(void *svc, struct rap_http_req *req)
{
}

static const struct rap_http_route table[] = {
	{ .method = "GET", .pattern = "/things", .on_request = a },
	{ .method = "GET", .pattern = "/things/{id}/parts/{part}", .on_request = b },
	{ .pattern = "/any/{x}", .on_request = b },
	{ .method = "GET", .pattern = "/", .on_request = a },
};

#define N (sizeof(table) / sizeof(table[0]))

Test(http_route, captures_segments_by_name)
{
	struct rap_http_match m;

	cr_assert_eq(rap_http_route_match(table, N, "GET", "/things/7/parts/a%20b", &m), RAP_OK);
	cr_assert_eq(m.route, &table[1]);
	cr_assert_str_eq(rap_http_match_param(&m, "id"), "7");
	cr_assert_str_eq(rap_http_match_param(&m, "part"), "a%20b");
	cr_assert_null(rap_http_match_param(&m, "nope"));
	rap_http_match_cleanup(&m);
}

Test(http_route, a_capture_never_matches_an_empty_segment)
{
	struct rap_http_match m;

	cr_assert_eq(rap_http_route_match(table, N, "GET", "/things//parts/1", &m), RAP_ENOENT);
	rap_http_match_cleanup(&m);
}

Test(http_route, a_trailing_slash_is_ignored_but_the_root_is_its_own_path)
{
	struct rap_http_match m;

	cr_assert_eq(rap_http_route_match(table, N, "GET", "/things/", &m), RAP_OK);
	cr_assert_eq(m.route, &table[0]);
	rap_http_match_cleanup(&m);
	cr_assert_eq(rap_http_route_match(table, N, "GET", "/", &m), RAP_OK);
	cr_assert_eq(m.route, &table[3]);
	rap_http_match_cleanup(&m);
}

Test(http_route, a_route_without_method_takes_every_method)
{
	struct rap_http_match m;

	cr_assert_eq(rap_http_route_match(table, N, "PATCH", "/any/1", &m), RAP_OK);
	cr_assert_eq(m.route, &table[2]);
	rap_http_match_cleanup(&m);
}

Test(http_route, a_known_path_with_another_method_is_unsupported)
{
	struct rap_http_match m;

	cr_assert_eq(rap_http_route_match(table, N, "POST", "/things", &m), RAP_EUNSUPPORTED);
	cr_assert_str_eq(m.allow, "GET");
	cr_assert_null(m.route);
	rap_http_match_cleanup(&m);
	cr_assert_eq(rap_http_route_match(table, N, "GET", "/things/1/parts", &m), RAP_ENOENT);
	rap_http_match_cleanup(&m);
}
