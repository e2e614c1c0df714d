/*
 * routes.c: upload-api's routes, one table (rap/http_route.h).  The
 * uploads routes ask for an API key before their handler runs; the tus
 * routes are anonymous here because tus answers OPTIONS without a key and
 * checks Tus-Resumable first (tus.c asks for the key itself).
 */
#include "upload_api.h"

const struct rap_http_route upload_api_routes[] = {
	{ .method = "POST", .pattern = "/uploads", .on_phase = upload_stream },
	{ .method = "POST", .pattern = "/uploads/presign", .on_request = upload_presign },
	{ .method = "GET", .pattern = "/uploads/{id}", .on_request = upload_get },
	{ .pattern = "/files", .on_phase = tus_handle, .anonymous = true },
	{ .pattern = "/files/{id}", .on_phase = tus_handle, .anonymous = true },
};

const size_t upload_api_n_routes = sizeof(upload_api_routes) / sizeof(upload_api_routes[0]);
