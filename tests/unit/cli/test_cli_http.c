/* Tests of cli/http.c: how the CLI reads the platform's error bodies. */
#include <criterion/criterion.h>
#include <string.h>

#include "cli.h"
#include "rap/buf.h"

static void describe(long status, const char *body, char *out, size_t len)
{
	struct cli_resp r;

	cli_resp_init(&r);
	r.status = status;
	rap_buf_appends(&r.body, body);
	cli_resp_describe(&r, out, len);
	cli_resp_cleanup(&r);
}

Test(cli_http, an_rfc9457_problem_is_described_by_its_detail_and_code)
{
	char out[256];

	describe(429,
		 "{\"type\":\"/problems/rate_limited\",\"title\":\"Rate limited\",\"status\":429,"
		 "\"detail\":\"slow down\",\"code\":\"rate_limited\",\"request_id\":\"r\"}",
		 out, sizeof(out));
	cr_assert_str_eq(out, "slow down (rate_limited, HTTP 429)");
}

Test(cli_http, the_envelope_of_older_servers_is_still_read)
{
	char out[256];

	describe(404, "{\"error\":{\"status\":404,\"code\":\"not_found\",\"message\":\"no job\"}}",
		 out, sizeof(out));
	cr_assert_str_eq(out, "no job (not_found, HTTP 404)");
}

Test(cli_http, a_body_without_a_code_falls_back_to_the_status)
{
	char out[256];

	describe(502, "<html>bad gateway</html>", out, sizeof(out));
	cr_assert_str_eq(out, "bad gateway (HTTP 502)");
}
