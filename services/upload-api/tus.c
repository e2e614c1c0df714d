/*
 * tus.c: what every tus request shares (tus_internal.h): the headers of
 * its answer, the numbers it reads, the part size of an upload, and the
 * dispatch of a request to its handler.
 */
#include "tus_internal.h"

#include "rap/err.h"
#include "rap/http.h"
#include "rap/str.h"
#include "rap/tus_header.h"
#include "rap/uuid.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define S3_MAX_PARTS 10000
#define MiB (1024LL * 1024)


static void tus_header(struct rap_http_req *req)
{
	rap_http_header(req, "Tus-Resumable", RAP_TUS_VERSION);
}

void tus_add_num(struct rap_http_req *req, const char *name, long long v)
{
	char s[24];

	snprintf(s, sizeof(s), "%lld", v);
	rap_http_header(req, name, s);
}

void tus_add_expires(struct rap_http_req *req, int seconds)
{
	char date[RAP_HTTP_DATE_LEN];

	rap_http_date(time(NULL) + seconds, date);
	rap_http_header(req, "Upload-Expires", date);
}

static void options(struct upload_api *api, struct rap_http_req *req)
{
	rap_http_header(req, "Tus-Version", RAP_TUS_VERSION);
	rap_http_header(req, "Tus-Extension", RAP_TUS_EXTENSIONS);
	rap_http_header(req, "Tus-Checksum-Algorithm", RAP_TUS_CHECKSUMS);
	tus_add_num(req, "Tus-Max-Size", api->cfg.upload_max_bytes);
	rap_http_reply(req, 204, "");
}

/* A part size that keeps the upload within S3's 10,000 parts. */
long long tus_part_size_for(struct upload_api *api, long long length)
{
	long long size = api->cfg.upload_part_size;

	if (length < 0)
		length = api->cfg.upload_max_bytes;
	while (size * S3_MAX_PARTS < length)
		size += 8 * MiB;
	return size;
}

bool tus_parse_length(struct rap_http_req *req, const char *name, long long *out)
{
	const char *h = rap_http_get_header(req, name);

	if (!h || rap_strtonum(h, 0, INT64_MAX, out) != RAP_OK) {
		rap_http_error(req, 400, "bad_request", "%s must be a non-negative integer",
			       name);
		return false;
	}
	return true;
}

void tus_handle(void *svc, struct rap_http_req *req, enum rap_http_phase phase,
		const char *data, size_t len)
{
	struct upload_api *api = svc;
	const char *override = rap_http_get_header(req, "X-HTTP-Method-Override");
	const char *method = override ? override : req->method;
	const char *id = rap_http_param(req, "id");
	const char *version;

	if (phase == RAP_HTTP_DATA) {
		if (req->data && !req->replied)
			tus_patch_data(req->data, data, len);
		return;
	}
	if (phase == RAP_HTTP_END) {
		if (req->data)
			tus_patch_end(req->data);
		return;
	}
	/* Every answer waits for the request's body (drained if refused):
	 * nginx streams bodies, and an early answer would reach the client as
	 * a 502 instead of the 409, 423 or 460 that tells it what to do. */
	req->defer_reply = true;
	if (!id)
		id = "";
	tus_header(req); /* on every answer */
	if (strcmp(method, "OPTIONS") == 0) {
		options(api, req);
		return;
	}
	version = rap_http_get_header(req, "Tus-Resumable");
	if (!version || strcmp(version, RAP_TUS_VERSION) != 0) {
		rap_http_header(req, "Tus-Version", RAP_TUS_VERSION);
		rap_http_error(req, 412, "unsupported_version",
			       "send Tus-Resumable: " RAP_TUS_VERSION);
		return;
	}
	if (!rap_http_authenticate(req, api->auth))
		return;
	if (!*id) {
		if (strcmp(method, "POST") == 0)
			tus_create(api, req);
		else
			rap_http_error(req, 405, "method_not_allowed", "POST creates an upload");
		return;
	}
	if (!rap_uuid_valid(id)) {
		rap_http_error(req, 404, "not_found", "no such upload");
	} else if (strcmp(method, "HEAD") == 0) {
		tus_head(api, req, id);
	} else if (strcmp(method, "PATCH") == 0) {
		tus_patch_begin(api, req, id, false);
	} else if (strcmp(method, "DELETE") == 0) {
		tus_delete_upload(api, req, id);
	} else {
		rap_http_error(req, 405, "method_not_allowed",
			       "an upload takes HEAD, PATCH or DELETE");
	}
}
