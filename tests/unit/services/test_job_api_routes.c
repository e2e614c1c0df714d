/* Tests of services/job-api/routes.c (the route table) through the http
 * adapter's matcher (lib/adapters/http/http_route.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "job_api.h"
#include "rap/err.h"
#include "rap/http_route.h"

#define ID "0b0c6f1e-8a52-4c4e-9a43-3d2f1b7c9e10"

/* The handler the table gives method and path, or NULL; *result gets the
 * matcher's answer and allow its Allow list. */
static rap_http_handler route(const char *method, const char *path, int *result, char *allow,
			      const char **id)
{
	struct rap_http_match m;
	rap_http_handler h = NULL;

	*result = rap_http_route_match(job_api_routes, job_api_n_routes, method, path, &m);
	if (*result == RAP_OK) {
		h = m.route->on_request;
		cr_assert_null(m.route->on_phase, "job-api's handlers take the whole body");
		cr_assert_not(m.route->anonymous, "every job-api route asks for a key");
		if (id && rap_http_match_param(&m, "id"))
			strcpy((char *)*id, rap_http_match_param(&m, "id"));
	}
	if (allow)
		strcpy(allow, m.allow);
	rap_http_match_cleanup(&m);
	return h;
}

Test(job_api_routes, every_documented_endpoint_reaches_its_handler)
{
	char idbuf[64] = "";
	const char *id = idbuf;
	int r;

	cr_assert_eq(route("POST", "/jobs", &r, NULL, NULL), job_api_create);
	cr_assert_eq(route("POST", "/jobs/", &r, NULL, NULL), job_api_create);
	cr_assert_eq(route("GET", "/jobs", &r, NULL, NULL), job_api_list);
	cr_assert_eq(route("POST", "/jobs/batch", &r, NULL, NULL), job_api_create_batch);
	cr_assert_eq(route("POST", "/jobs/replay-dead", &r, NULL, NULL), job_api_replay);
	cr_assert_eq(route("GET", "/jobs/stats", &r, NULL, NULL), job_api_stats);
	cr_assert_eq(route("GET", "/jobs/" ID, &r, NULL, &id), job_api_get);
	cr_assert_str_eq(idbuf, ID);
	cr_assert_eq(route("POST", "/jobs/" ID "/cancel", &r, NULL, NULL), job_api_cancel);
	cr_assert_eq(route("POST", "/jobs/" ID "/replay", &r, NULL, NULL), job_api_replay);
	cr_assert_eq(route("GET", "/jobs/" ID "/output", &r, NULL, NULL), job_api_output);
	cr_assert_eq(route("GET", "/job-types", &r, NULL, NULL), job_api_types_list);
	cr_assert_eq(route("GET", "/job-types/csv.validate", &r, NULL, NULL), job_api_type_get);
	cr_assert_eq(route("GET", "/jobs/" ID "/errors", &r, NULL, NULL), job_api_errors);
	cr_assert_eq(route("GET", "/jobs/" ID "/errors.csv", &r, NULL, NULL), job_api_errors_csv);
}

Test(job_api_routes, a_literal_path_is_not_taken_for_a_job_id)
{
	char allow[64];
	int r;

	/* GET /jobs/batch is not GET /jobs/{id} with id "batch": 405. */
	cr_assert_null(route("GET", "/jobs/batch", &r, allow, NULL));
	cr_assert_eq(r, RAP_EUNSUPPORTED);
	cr_assert_str_eq(allow, "POST");
	/* GET /jobs/stats is the stats, not the job "stats"; POST is 405. */
	cr_assert_null(route("POST", "/jobs/stats", &r, allow, NULL));
	cr_assert_eq(r, RAP_EUNSUPPORTED);
	cr_assert_str_eq(allow, "GET");
}

Test(job_api_routes, wrong_methods_are_405_with_the_methods_the_path_takes)
{
	char allow[64];
	int r;

	cr_assert_null(route("DELETE", "/jobs", &r, allow, NULL));
	cr_assert_eq(r, RAP_EUNSUPPORTED);
	cr_assert_str_eq(allow, "POST, GET");
	cr_assert_null(route("POST", "/jobs/" ID "/output", &r, allow, NULL));
	cr_assert_eq(r, RAP_EUNSUPPORTED);
	cr_assert_str_eq(allow, "GET");
	cr_assert_null(route("GET", "/jobs/" ID "/cancel", &r, allow, NULL));
	cr_assert_str_eq(allow, "POST");
}

Test(job_api_routes, unknown_paths_are_404)
{
	int r;

	cr_assert_null(route("GET", "/", &r, NULL, NULL));
	cr_assert_eq(r, RAP_ENOENT);
	cr_assert_null(route("GET", "/jobsx", &r, NULL, NULL));
	cr_assert_eq(r, RAP_ENOENT);
	cr_assert_null(route("POST", "/jobs/" ID "/explode", &r, NULL, NULL));
	cr_assert_eq(r, RAP_ENOENT);
	cr_assert_null(route("GET", "/jobs/" ID "/output/more", &r, NULL, NULL));
	cr_assert_eq(r, RAP_ENOENT);
	cr_assert_null(route("GET", "/uploads", &r, NULL, NULL));
	cr_assert_eq(r, RAP_ENOENT);
}
