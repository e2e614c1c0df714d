/* Tests of lib/adapters/http/http_route.c: the method a request is routed
 * by (rap_http_route_find and rap_http_route.method_override). */
#include <criterion/criterion.h>
#include <stddef.h>

#include "rap/err.h"
#include "rap/http_route.h"

static void on_head(void *svc, struct rap_http_req *req)
{
}

static void on_patch(void *svc, struct rap_http_req *req)
{
}

static void on_other(void *svc, struct rap_http_req *req)
{
}

static void on_plain(void *svc, struct rap_http_req *req)
{
}

static const struct rap_http_route table[] = {
	{ .method = "HEAD",
	  .pattern = "/files/{id}",
	  .on_request = on_head,
	  .method_override = true },
	{ .method = "PATCH",
	  .pattern = "/files/{id}",
	  .on_request = on_patch,
	  .method_override = true },
	{ .pattern = "/files/{id}", .on_request = on_other, .method_override = true },
	{ .method = "POST", .pattern = "/plain", .on_request = on_plain },
};

#define N_TABLE (sizeof(table) / sizeof(table[0]))

Test(http_route_method, an_overriding_post_takes_the_route_of_the_method_it_names)
{
	struct rap_http_match m;

	cr_assert_eq(rap_http_route_find(table, N_TABLE, "POST", "PATCH", "/files/abc", &m),
		     RAP_OK);
	cr_assert_eq(m.route->on_request, on_patch);
	cr_assert_str_eq(rap_http_match_param(&m, "id"), "abc");
	rap_http_match_cleanup(&m);
	cr_assert_eq(rap_http_route_find(table, N_TABLE, "POST", NULL, "/files/abc", &m), RAP_OK);
	cr_assert_eq(m.route->on_request, on_other, "without the header the POST is a POST");
	rap_http_match_cleanup(&m);
}

Test(http_route_method, an_empty_override_is_a_method_no_route_names)
{
	struct rap_http_match m;

	cr_assert_eq(rap_http_route_find(table, N_TABLE, "HEAD", "", "/files/abc", &m), RAP_OK);
	cr_assert_eq(m.route->on_request, on_other);
	rap_http_match_cleanup(&m);
}

Test(http_route_method, a_route_that_does_not_honour_the_header_keeps_the_request_method)
{
	struct rap_http_match m;

	cr_assert_eq(rap_http_route_find(table, N_TABLE, "POST", "GET", "/plain", &m), RAP_OK);
	cr_assert_eq(m.route->on_request, on_plain);
	rap_http_match_cleanup(&m);
}
