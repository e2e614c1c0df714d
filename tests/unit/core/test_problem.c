/* Tests of lib/core/problem.c. */
#include <criterion/criterion.h>
#include <string.h>
#include "rap/buf.h"
#include "rap/err.h"
#include "rap/problem.h"

Test(problem, writes_a_flat_rfc9457_body_with_the_code_and_request_id)
{
	struct rap_buf b;

	rap_buf_init(&b, 1024);
	cr_assert_eq(rap_problem_write(&b, 404, "not_found", "no job 42", "abc123"), RAP_OK);
	cr_assert_str_eq(b.data, "{\"type\":\"/problems/not_found\",\"title\":\"Not found\","
				 "\"status\":404,\"detail\":\"no job 42\",\"code\":\"not_found\","
				 "\"request_id\":\"abc123\"}");
	rap_buf_cleanup(&b);
}

Test(problem, escapes_the_detail_and_keeps_invalid_bytes_valid_json)
{
	struct rap_buf b;

	rap_buf_init(&b, 1024);
	rap_problem_write(&b, 400, "bad_request", "bad \"name\"\n\xff\\", "r");
	cr_assert(strstr(b.data, "\"detail\":\"bad \\\"name\\\"\\n\\\\xff\\\\\","));
	rap_buf_cleanup(&b);
}

Test(problem, an_unknown_code_takes_the_status_title_and_an_odd_one_about_blank)
{
	struct rap_buf b;

	rap_buf_init(&b, 1024);
	rap_problem_write(&b, 429, "new_code", "x", NULL);
	cr_assert_str_eq(b.data, "{\"type\":\"/problems/new_code\",\"title\":\"Too many requests\","
				 "\"status\":429,\"detail\":\"x\",\"code\":\"new_code\"}");
	rap_buf_cleanup(&b);
	rap_buf_init(&b, 1024);
	rap_problem_write(&b, 500, "Bad/Code\"", "x", "r");
	cr_assert_str_eq(b.data, "{\"type\":\"about:blank\",\"title\":\"Internal error\","
				 "\"status\":500,\"detail\":\"x\",\"code\":\"Bad/Code\\\"\","
				 "\"request_id\":\"r\"}");
	rap_buf_cleanup(&b);
}

Test(problem, every_known_code_has_its_own_title)
{
	cr_assert_str_eq(rap_problem_title("rate_limited", 429), "Rate limited");
	cr_assert_str_eq(rap_problem_title("too_many_connections", 429), "Too many connections");
	cr_assert_str_eq(rap_problem_title(NULL, 404), "Not found");
}

Test(problem, reports_a_full_buffer)
{
	struct rap_buf b;

	rap_buf_init(&b, 32);
	cr_assert_eq(rap_problem_write(&b, 400, "bad_request", "a detail that does not fit", "r"),
		     RAP_ETOOBIG);
	rap_buf_cleanup(&b);
}

Test(problem, a_library_refusal_gets_the_code_of_its_status)
{
	cr_assert_str_eq(rap_problem_status_code(400), "bad_request");
	cr_assert_str_eq(rap_problem_status_code(413), "payload_too_large");
	cr_assert_str_eq(rap_problem_status_code(414), "uri_too_long");
	cr_assert_str_eq(rap_problem_status_code(431), "headers_too_large");
	cr_assert_str_eq(rap_problem_status_code(505), "http_version_not_supported");
	cr_assert_str_eq(rap_problem_status_code(418), "bad_request");
	cr_assert_str_eq(rap_problem_status_code(502), "internal");
	/* Every code it gives has a title of its own, not a status's. */
	cr_assert_str_eq(rap_problem_title(rap_problem_status_code(431), 431),
			 "Request headers too large");
}
