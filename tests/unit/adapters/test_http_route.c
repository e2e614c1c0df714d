/* Tests of lib/adapters/http/http_route.c: the method a request is routed
 * by (rap_http_cfg.method_override). */
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

static const struct rap_http_route table[] = {
	{ .method = "HEAD", .pattern = "/files/{id}", .on_request = on_head },
	{ .method = "PATCH", .pattern = "/files/{id}", .on_request = on_patch },
};

#define N_TABLE (sizeof(table) / sizeof(table[0]))

Test(http_route_method, the_override_header_names_the_method_when_honoured)
{
	cr_assert_str_eq(rap_http_route_method("POST", "PATCH", true), "PATCH");
	cr_assert_str_eq(rap_http_route_method("POST", "", true), "",
			 "an empty override is a method no route takes");
}

Test(http_route_method, the_request_method_stands_without_the_option_or_the_header)
{
	cr_assert_str_eq(rap_http_route_method("POST", "PATCH", false), "POST");
	cr_assert_str_eq(rap_http_route_method("POST", NULL, true), "POST");
	cr_assert_str_eq(rap_http_route_method("HEAD", NULL, false), "HEAD");
}

Test(http_route_method, an_overriding_post_takes_the_route_of_the_method_it_names)
{
	struct rap_http_match m;
	const char *method;

	method = rap_http_route_method("POST", "PATCH", true);
	cr_assert_eq(rap_http_route_match(table, N_TABLE, method, "/files/abc", &m), RAP_OK);
	cr_assert_eq(m.route->on_request, on_patch);
	cr_assert_str_eq(rap_http_match_param(&m, "id"), "abc");
	rap_http_match_cleanup(&m);

	method = rap_http_route_method("POST", "PATCH", false);
	cr_assert_eq(rap_http_route_match(table, N_TABLE, method, "/files/abc", &m),
		     RAP_EUNSUPPORTED, "without the option the POST is refused");
	cr_assert_str_eq(m.allow, "HEAD, PATCH");
	rap_http_match_cleanup(&m);
}
