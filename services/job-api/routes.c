/*
 * routes.c: job-api's routes, one table (rap/http_route.h).  Every route
 * asks for an API key (the server checks it before the handler runs), and
 * every handler runs once the body is in.  Literal paths go before the
 * patterns that would capture them ("/jobs/batch" before "/jobs/{id}").
 */
#include "job_api.h"

const struct rap_http_route job_api_routes[] = {
	{ .method = "POST", .pattern = "/jobs", .on_request = job_api_create },
	{ .method = "GET", .pattern = "/jobs", .on_request = job_api_list },
	{ .method = "POST", .pattern = "/jobs/batch", .on_request = job_api_create_batch },
	{ .method = "POST", .pattern = "/jobs/replay-dead", .on_request = job_api_replay },
	{ .method = "GET", .pattern = "/jobs/stats", .on_request = job_api_stats },
	{ .method = "GET", .pattern = "/jobs/{id}", .on_request = job_api_get },
	{ .method = "POST", .pattern = "/jobs/{id}/cancel", .on_request = job_api_cancel },
	{ .method = "POST", .pattern = "/jobs/{id}/replay", .on_request = job_api_replay },
	{ .method = "GET", .pattern = "/jobs/{id}/output", .on_request = job_api_output },
	{ .method = "GET", .pattern = "/job-types", .on_request = job_api_types_list },
	{ .method = "GET", .pattern = "/me", .on_request = job_api_me },
	{ .method = "GET", .pattern = "/job-types/{name}", .on_request = job_api_type_get },
	{ .method = "GET", .pattern = "/jobs/{id}/errors", .on_request = job_api_errors },
	{ .method = "GET", .pattern = "/jobs/{id}/errors.csv", .on_request = job_api_errors_csv },
};

const size_t job_api_n_routes = sizeof(job_api_routes) / sizeof(job_api_routes[0]);
