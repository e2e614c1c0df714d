/*
 * admin.c: who the caller is (GET /me) and the owner scope of the DEAD-job
 * routes.  An admin key (RAP_API_KEYS "key=owner:admin") may list and
 * replay the DEAD jobs of another owner (?owner=NAME) or of every owner
 * (?all=true), and read their numbers (GET /jobs/stats); every other route
 * keeps to the key's own owner, an admin's included.
 */
#include "job_api.h"

#include "rap/buf.h"
#include "rap/http.h"
#include "rap/json.h"

#include <string.h>

void job_api_me(void *svc, struct rap_http_req *req)
{
	struct rap_buf out;

	(void)svc;
	rap_buf_init(&out, 512);
	rap_buf_appends(&out, "{\"owner\":");
	rap_json_quote(&out, req->owner);
	rap_buf_appendf(&out, ",\"role\":\"%s\"}", req->admin ? "admin" : "user");
	rap_http_reply(req, 200, out.data);
	rap_buf_cleanup(&out);
}

bool job_api_scope(struct rap_http_req *req, const char **owner, bool *foreign)
{
	const char *name = rap_http_get_arg(req, "owner");
	const char *all = rap_http_get_arg(req, "all");
	bool every = false;

	*owner = req->owner;
	*foreign = false;
	if (all && strcmp(all, "true") != 0 && strcmp(all, "false") != 0) {
		rap_http_error(req, 400, "bad_request", "all must be true or false");
		return false;
	}
	every = all && strcmp(all, "true") == 0;
	if (name && (name[0] == '\0' || strlen(name) > 64)) {
		rap_http_error(req, 400, "bad_request",
			       "owner must be an owner's name (1 to 64 bytes)");
		return false;
	}
	if (name && every) {
		rap_http_error(req, 400, "bad_request", "ask for one owner or all=true, not both");
		return false;
	}
	if (!every && (!name || strcmp(name, req->owner) == 0))
		return true;
	if (!req->admin) {
		rap_http_error(
			req, 403, "forbidden",
			"only an admin key may act on another owner's jobs or on all owners'");
		return false;
	}
	*owner = every ? NULL : name;
	*foreign = true;
	return true;
}
