/* tus_head.c: HEAD /files/{id}, where an upload stands. */
#include "tus_internal.h"

#include "rap/err.h"
#include "rap/http.h"

static void head(struct upload_api *api, struct rap_http_req *req, const char *id)
{
	struct rap_tus t;
	char err[RAP_ERRLEN];
	PGconn *db;
	int result;

	if (rap_pg_pool_get(api->pool, 5000, &db, err) != RAP_OK) {
		rap_http_error(req, 503, "unavailable", "the database is unavailable; retry");
		return;
	}
	result = rap_tus_load(db, req->owner, id, &t, err);
	rap_pg_pool_put(api->pool, db);
	if (result == RAP_ENOENT || result == RAP_ECANCELED) {
		rap_http_error(req, result == RAP_ENOENT ? 404 : 410,
			       result == RAP_ENOENT ? "not_found" : "gone", "no such upload");
		return;
	}
	if (result != RAP_OK) {
		rap_http_error(req, 503, "unavailable", "the database failed; retry");
		return;
	}
	if (t.expired) {
		rap_http_error(req, 410, "gone", "the upload expired");
		rap_tus_cleanup(&t);
		return;
	}
	tus_add_num(req, "Upload-Offset", t.offset);
	if (t.length >= 0)
		tus_add_num(req, "Upload-Length", t.length);
	else
		rap_http_header(req, "Upload-Defer-Length", "1");
	if (t.metadata[0])
		rap_http_header(req, "Upload-Metadata", t.metadata);
	if (t.concat)
		rap_http_header(req, "Upload-Concat", t.concat);
	if (t.expires_at > 0) {
		char date[RAP_HTTP_DATE_LEN];

		rap_http_date(t.expires_at, date);
		rap_http_header(req, "Upload-Expires", date);
	}
	rap_http_reply(req, 200, "");
	rap_tus_cleanup(&t);
}

void tus_head(void *svc, struct rap_http_req *req, enum rap_http_phase phase, const char *data,
	      size_t len)
{
	if (phase == RAP_HTTP_BEGIN && tus_accept(svc, req))
		head(svc, req, rap_http_param(req, "id"));
}
