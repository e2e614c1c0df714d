/*
 * routes.c: upload-api's routes, one table (rap/http_route.h).  The
 * uploads routes ask for an API key before their handler runs.  The tus
 * routes are anonymous because tus answers OPTIONS without a key and checks
 * Tus-Resumable before the key (tus_accept asks for it).  Each tus path
 * ends with a route for every other method, so that those get tus's 405
 * after the same checks rather than the router's.  The tus routes honour
 * X-HTTP-Method-Override (tus clients may send it); /uploads does not.
 */
#include "upload_api.h"

const struct rap_http_route upload_api_routes[] = {
	{ .method = "POST", .pattern = "/uploads", .on_phase = multipart_upload_post },
	{ .method = "POST", .pattern = "/uploads/presign", .on_request = presign_post },
	{ .method = "GET", .pattern = "/uploads/{id}", .on_request = multipart_upload_get },
	{ .method = "OPTIONS",
	  .pattern = "/files",
	  .on_phase = tus_options,
	  .anonymous = true,
	  .method_override = true },
	{ .method = "POST",
	  .pattern = "/files",
	  .on_phase = tus_create,
	  .anonymous = true,
	  .method_override = true },
	{ .pattern = "/files",
	  .on_phase = tus_refuse_method,
	  .anonymous = true,
	  .method_override = true },
	{ .method = "OPTIONS",
	  .pattern = "/files/{id}",
	  .on_phase = tus_options,
	  .anonymous = true,
	  .method_override = true },
	{ .method = "HEAD",
	  .pattern = "/files/{id}",
	  .on_phase = tus_head,
	  .anonymous = true,
	  .method_override = true },
	{ .method = "PATCH",
	  .pattern = "/files/{id}",
	  .on_phase = tus_patch,
	  .anonymous = true,
	  .method_override = true },
	{ .method = "DELETE",
	  .pattern = "/files/{id}",
	  .on_phase = tus_delete,
	  .anonymous = true,
	  .method_override = true },
	{ .pattern = "/files/{id}",
	  .on_phase = tus_refuse_method,
	  .anonymous = true,
	  .method_override = true },
};

const size_t upload_api_n_routes = sizeof(upload_api_routes) / sizeof(upload_api_routes[0]);
