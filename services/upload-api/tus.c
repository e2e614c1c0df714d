/*
 * tus.c: what every tus request shares (tus_internal.h): the checks it
 * passes before its handler (tus_accept), OPTIONS, a method no tus route
 * takes, the headers of its answer, the numbers it reads and the part size
 * of an upload.  The routes themselves are in routes.c.
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

/*
 * Every tus answer carries Tus-Resumable and waits for the request's body
 * (drained if refused): nginx streams bodies, and an early answer would
 * reach the client as a 502 instead of the 409, 423 or 460 that tells it
 * what to do.
 */
static void tus_answer(struct rap_http_req *req)
{
	req->defer_reply = true;
	rap_http_header(req, "Tus-Resumable", RAP_TUS_VERSION);
}

bool tus_accept(struct upload_api *api, struct rap_http_req *req)
{
	const char *version = rap_http_get_header(req, "Tus-Resumable");
	const char *id = rap_http_param(req, "id");

	tus_answer(req);
	if (!version || strcmp(version, RAP_TUS_VERSION) != 0) {
		rap_http_header(req, "Tus-Version", RAP_TUS_VERSION);
		rap_http_error(req, 412, "unsupported_version",
			       "send Tus-Resumable: " RAP_TUS_VERSION);
		return false;
	}
	if (!rap_http_authenticate(req, api->auth))
		return false;
	if (id && !rap_uuid_valid(id)) {
		rap_http_error(req, 404, "not_found", "no such upload");
		return false;
	}
	return true;
}

/* OPTIONS asks for no key and no Tus-Resumable: what the server speaks. */
void tus_options(void *svc, struct rap_http_req *req, enum rap_http_phase phase, const char *data,
		 size_t len)
{
	struct upload_api *api = svc;

	if (phase != RAP_HTTP_BEGIN)
		return;
	tus_answer(req);
	rap_http_header(req, "Tus-Version", RAP_TUS_VERSION);
	rap_http_header(req, "Tus-Extension", RAP_TUS_EXTENSIONS);
	rap_http_header(req, "Tus-Checksum-Algorithm", RAP_TUS_CHECKSUMS);
	tus_add_num(req, "Tus-Max-Size", api->cfg.upload_max_bytes);
	rap_http_reply(req, 204, "");
}

/* A method that neither /files nor /files/{id} takes is answered 405 the
 * tus way, after the checks of every tus request (so a missing
 * Tus-Resumable is still a 412), not by the router. */
void tus_refuse_method(void *svc, struct rap_http_req *req, enum rap_http_phase phase,
		       const char *data, size_t len)
{
	if (phase != RAP_HTTP_BEGIN || !tus_accept(svc, req))
		return;
	if (!rap_http_param(req, "id"))
		rap_http_error(req, 405, "method_not_allowed", "POST creates an upload");
	else
		rap_http_error(req, 405, "method_not_allowed",
			       "an upload takes HEAD, PATCH or DELETE");
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
		rap_http_error(req, 400, "bad_request", "%s must be a non-negative integer", name);
		return false;
	}
	return true;
}
