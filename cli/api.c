/*
 * api.c: the platform's JSON calls as the CLI makes them: retried while the
 * failure is one that passes (the network, a restarting service: 5xx, 429),
 * refused at once otherwise, with the platform's error message for the
 * user.
 */
#include "cli.h"

#include "rap/err.h"
#include "rap/mem.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_api_call(struct cli_http *h, const struct cli_req *req, struct cli_retry *r,
		 struct cli_progress *p, struct cli_resp *resp, char *err)
{
	char what[CLI_URL_MAX + 16], why[RAP_ERRLEN];
	int result;

	snprintf(what, sizeof(what), "%s %s", req->method, req->url);
	for (;;) {
		result = cli_http_do(h, req, resp);
		if (result == RAP_ECANCELED) {
			snprintf(err, RAP_ERRLEN, "interrupted");
			return result;
		}
		if (result == RAP_OK && resp->status >= 200 && resp->status < 300)
			return RAP_OK;
		cli_resp_describe(resp, why, sizeof(why));
		if (result == RAP_OK && !cli_http_status_transient(resp->status)) {
			snprintf(err, RAP_ERRLEN, "%s", why);
			return RAP_EPROTO;
		}
		if (result != RAP_OK && !cli_http_transient(resp)) {
			snprintf(err, RAP_ERRLEN, "%.120s: %.120s", what, why);
			return result;
		}
		if (result == RAP_OK)
			cli_retry_hint(r, resp->retry_after_ms);
		result = cli_retry_after(r, p, what, why, err);
		if (result != RAP_OK)
			return result;
	}
}

int cli_api_get_job(struct cli_http *h, const char *job_id, struct cli_retry *r,
		    struct json_object **job, char *err)
{
	char url[CLI_URL_MAX];
	struct cli_req req = { .method = "GET", .url = url };
	struct cli_resp resp;
	int result;

	*job = NULL;
	if ((size_t)snprintf(url, sizeof(url), "%s/api/jobs/%s", h->o->url, job_id) >=
	    sizeof(url)) {
		snprintf(err, RAP_ERRLEN, "the URL is too long");
		return RAP_ETOOBIG;
	}
	cli_resp_init(&resp);
	result = cli_api_call(h, &req, r, NULL, &resp, err);
	if (result != RAP_OK)
		goto out_free_resp;
	*job = json_tokener_parse(resp.body.data);
	if (!*job || !json_object_is_type(*job, json_type_object)) {
		json_object_put(*job);
		*job = NULL;
		snprintf(err, RAP_ERRLEN, "GET %.160s: the answer is not a JSON object", url);
		result = RAP_EPROTO;
	}
out_free_resp:
	cli_resp_cleanup(&resp);
	return result;
}

void cli_api_hint(const char *err)
{
	if (strstr(err, "HTTP 401)"))
		fprintf(stderr,
			"hint: give the API key with --api-key KEY or the environment "
			"variable RAP_API_KEY (the local development stack's key is dev-key)\n");
	else if (strstr(err, "SSL certificate") || strstr(err, "certificate problem"))
		fprintf(stderr, "hint: the server's certificate is not signed by a CA this "
				"system trusts; give that CA's certificate with --cacert FILE (env "
				"RAP_CACERT)\n");
}
