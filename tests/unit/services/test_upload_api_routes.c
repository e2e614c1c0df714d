/* Tests of services/upload-api/routes.c: upload-api's route table. */
#include <criterion/criterion.h>
#include <stddef.h>
#include <string.h>

#include "rap/err.h"
#include "rap/http_route.h"
#include "upload_api.h"

/* The route a method (or the method an X-HTTP-Method-Override header names,
 * as the server routes upload-api's requests) and a path take. */
static int route(const char *method, const char *override, const char *path,
		 struct rap_http_match *m)
{
	return rap_http_route_find(upload_api_routes, upload_api_n_routes, method, override, path,
				   m);
}

static void expect_phase(const char *method, const char *path, rap_http_phase_handler h,
			 bool anonymous)
{
	struct rap_http_match m;

	cr_assert_eq(route(method, NULL, path, &m), RAP_OK, "%s %s", method, path);
	cr_assert_eq(m.route->on_phase, h, "%s %s", method, path);
	cr_assert_null(m.route->on_request, "%s %s", method, path);
	cr_assert_eq(m.route->anonymous, anonymous, "%s %s", method, path);
	rap_http_match_cleanup(&m);
}

static void expect_request(const char *method, const char *path, rap_http_handler h)
{
	struct rap_http_match m;

	cr_assert_eq(route(method, NULL, path, &m), RAP_OK, "%s %s", method, path);
	cr_assert_eq(m.route->on_request, h, "%s %s", method, path);
	cr_assert_not(m.route->anonymous, "%s %s asks for a key", method, path);
	rap_http_match_cleanup(&m);
}

#define ID "0b7b1c1e-8a3d-4c55-9d7e-2f8f1f6b7a10"

Test(upload_api_routes, each_documented_route_takes_its_handler)
{
	expect_phase("POST", "/uploads", multipart_upload_post, false);
	expect_request("POST", "/uploads/presign", presign_post);
	expect_request("GET", "/uploads/" ID, multipart_upload_get);
	expect_phase("OPTIONS", "/files", tus_options, true);
	expect_phase("POST", "/files", tus_create, true);
	expect_phase("POST", "/files/", tus_create, true);
	expect_phase("OPTIONS", "/files/" ID, tus_options, true);
	expect_phase("HEAD", "/files/" ID, tus_head, true);
	expect_phase("PATCH", "/files/" ID, tus_patch, true);
	expect_phase("DELETE", "/files/" ID, tus_delete, true);
}

Test(upload_api_routes, the_captured_id_reaches_the_handler_even_when_no_uuid)
{
	struct rap_http_match m;

	cr_assert_eq(route("PATCH", NULL, "/files/" ID, &m), RAP_OK);
	cr_assert_str_eq(rap_http_match_param(&m, "id"), ID);
	rap_http_match_cleanup(&m);
	/* tus answers 404 for it, after Tus-Resumable and the key (tus_accept) */
	cr_assert_eq(route("HEAD", NULL, "/files/not-a-uuid", &m), RAP_OK);
	cr_assert_str_eq(rap_http_match_param(&m, "id"), "not-a-uuid");
	rap_http_match_cleanup(&m);
	cr_assert_eq(route("GET", NULL, "/uploads/presign", &m), RAP_EUNSUPPORTED,
		     "/uploads/presign is a resource of its own, not an id");
	rap_http_match_cleanup(&m);
}

Test(upload_api_routes, unknown_paths_are_404)
{
	static const char *const paths[] = { "/",          "/upload", "/uploads/" ID "/x",
					     "/files/a/b", "/filesx", "/api/files",
					     "/healthz" };
	struct rap_http_match m;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		cr_assert_eq(route("GET", NULL, paths[i], &m), RAP_ENOENT, "%s", paths[i]);
		cr_assert_null(m.route);
		rap_http_match_cleanup(&m);
	}
}

Test(upload_api_routes, other_methods_of_uploads_are_405_with_the_allowed_ones)
{
	struct rap_http_match m;

	cr_assert_eq(route("GET", NULL, "/uploads", &m), RAP_EUNSUPPORTED);
	cr_assert_str_eq(m.allow, "POST");
	rap_http_match_cleanup(&m);
	cr_assert_eq(route("PUT", NULL, "/uploads/presign", &m), RAP_EUNSUPPORTED);
	cr_assert_str_eq(m.allow, "POST");
	rap_http_match_cleanup(&m);
	cr_assert_eq(route("DELETE", NULL, "/uploads/" ID, &m), RAP_EUNSUPPORTED);
	cr_assert_str_eq(m.allow, "GET");
	rap_http_match_cleanup(&m);
}

Test(upload_api_routes, other_methods_of_tus_paths_get_tus_own_405)
{
	/* After Tus-Resumable (412) and the key (401), as tus answered before
	 * it had routes: not the router's 405. */
	expect_phase("GET", "/files", tus_refuse_method, true);
	expect_phase("PATCH", "/files", tus_refuse_method, true);
	expect_phase("GET", "/files/" ID, tus_refuse_method, true);
	expect_phase("POST", "/files/" ID, tus_refuse_method, true);
	expect_phase("PUT", "/files/" ID, tus_refuse_method, true);
}

Test(upload_api_routes, x_http_method_override_names_the_route)
{
	struct rap_http_match m;

	cr_assert_eq(route("POST", "PATCH", "/files/" ID, &m), RAP_OK);
	cr_assert_eq(m.route->on_phase, tus_patch);
	rap_http_match_cleanup(&m);
	cr_assert_eq(route("POST", "HEAD", "/files/" ID, &m), RAP_OK);
	cr_assert_eq(m.route->on_phase, tus_head);
	rap_http_match_cleanup(&m);
	cr_assert_eq(route("POST", "DELETE", "/files/" ID, &m), RAP_OK);
	cr_assert_eq(m.route->on_phase, tus_delete);
	rap_http_match_cleanup(&m);
	cr_assert_eq(route("GET", "OPTIONS", "/files", &m), RAP_OK);
	cr_assert_eq(m.route->on_phase, tus_options);
	rap_http_match_cleanup(&m);
	cr_assert_eq(route("PATCH", "GET", "/files/" ID, &m), RAP_OK);
	cr_assert_eq(m.route->on_phase, tus_refuse_method, "the override, not PATCH, counts");
	rap_http_match_cleanup(&m);
}

Test(upload_api_routes, the_uploads_routes_ignore_x_http_method_override)
{
	struct rap_http_match m;

	/* As before tus had routes: only tus honours the header. */
	cr_assert_eq(route("POST", "GET", "/uploads", &m), RAP_OK);
	cr_assert_eq(m.route->on_phase, multipart_upload_post);
	rap_http_match_cleanup(&m);
	cr_assert_eq(route("GET", "DELETE", "/uploads/" ID, &m), RAP_OK);
	cr_assert_eq(m.route->on_request, multipart_upload_get);
	rap_http_match_cleanup(&m);
}
