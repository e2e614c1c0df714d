/*
 * http.c: every HTTP request of the CLI goes through one libcurl easy
 * handle (so connections are kept alive between PATCHes).  It adds the API
 * key, bounds what it reads into memory (CLI_BODY_MAX), picks out the tus
 * headers, notices a stalled link (below 1 byte/s for --stall-timeout
 * seconds) and stops a transfer when SIGINT or SIGTERM arrives.
 */
#include "cli.h"

#include "rap/err.h"
#include "rap/mem.h"
#include "rap/buf.h"
#include "rap/str.h"
#include "rap/stop.h"
#include "rap/trace.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CONNECT_TIMEOUT_S 10

/* Every request of a handle carries one traceparent, started here: an
 * upload and the job it asks for (rap upload --type) share one trace id in
 * every service's logs (docs/observability.md, "Traces"). */
void cli_http_init(struct cli_http *h, const struct cli_opts *o)
{
	char *auth = rap_asprintf("Authorization: Bearer %s", o->api_key);
	char tp[RAP_TRACEPARENT_LEN], hdr[RAP_TRACEPARENT_LEN + 16];
	struct rap_trace trace;

	h->o = o;
	h->curl = curl_easy_init();
	if (!h->curl)
		abort(); /* only fails when out of memory */
	h->auth = curl_slist_append(NULL, auth);
	rap_trace_start(&trace);
	rap_trace_format(&trace, tp);
	snprintf(hdr, sizeof(hdr), "traceparent: %s", tp);
	h->auth = curl_slist_append(h->auth, hdr);
	free(auth);
}

void cli_http_cleanup(struct cli_http *h)
{
	curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->auth);
	h->curl = NULL;
	h->auth = NULL;
}

void cli_resp_init(struct cli_resp *r)
{
	memset(r, 0, sizeof(*r));
	rap_buf_init(&r->body, CLI_BODY_MAX);
	r->upload_offset = -1;
	r->upload_length = -1;
	r->retry_after_ms = -1;
}

void cli_resp_cleanup(struct cli_resp *r)
{
	rap_buf_cleanup(&r->body);
}

static void resp_reset(struct cli_resp *r)
{
	rap_buf_reset(&r->body);
	r->curl = CURLE_OK;
	r->curl_err[0] = '\0';
	r->status = 0;
	r->too_big = false;
	r->upload_offset = -1;
	r->upload_length = -1;
	r->location[0] = '\0';
	r->content_range[0] = '\0';
}

static size_t on_body(char *buf, size_t size, size_t n, void *arg)
{
	struct cli_resp *r = arg;

	if (rap_buf_append(&r->body, buf, size * n) != RAP_OK) {
		r->too_big = true;
		return 0; /* libcurl fails with CURLE_WRITE_ERROR */
	}
	return size * n;
}

/* The value of header line buf when its name is name (trimmed into out). */
static bool header_value(const char *buf, size_t len, const char *name, char *out, size_t outlen)
{
	size_t nlen = strlen(name);
	const char *v;
	size_t vlen;

	if (len <= nlen || buf[nlen] != ':' || strncasecmp(buf, name, nlen) != 0)
		return false;
	v = buf + nlen + 1;
	vlen = len - nlen - 1;
	while (vlen && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
		vlen--;
	if (vlen >= outlen)
		return false;
	memcpy(out, v, vlen);
	out[vlen] = '\0';
	return true;
}

static size_t on_header(char *buf, size_t size, size_t n, void *arg)
{
	struct cli_resp *r = arg;
	size_t len = size * n;
	char v[32];
	long long num;

	/* A new status line (after a 100 Continue, say) starts over. */
	if (len > 5 && strncmp(buf, "HTTP/", 5) == 0) {
		r->upload_offset = -1;
		r->upload_length = -1;
		r->location[0] = '\0';
		r->content_range[0] = '\0';
		r->retry_after_ms = -1;
	} else if (header_value(buf, len, "Content-Range", r->content_range,
				sizeof(r->content_range))) {
		/* kept for a download's resume (download.c) */
	} else if (header_value(buf, len, "Retry-After", v, sizeof(v))) {
		/* Delta-seconds only; an HTTP date leaves the backoff alone. */
		if (rap_strtonum(v, 0, 86400, &num) == RAP_OK)
			r->retry_after_ms = (int)(num > CLI_RETRY_AFTER_MAX_MS / 1000
							  ? CLI_RETRY_AFTER_MAX_MS
							  : num * 1000);
	} else if (header_value(buf, len, "Upload-Offset", v, sizeof(v))) {
		if (rap_strtonum(v, 0, INT64_MAX, &num) == RAP_OK)
			r->upload_offset = num;
	} else if (header_value(buf, len, "Upload-Length", v, sizeof(v))) {
		if (rap_strtonum(v, 0, INT64_MAX, &num) == RAP_OK)
			r->upload_length = num;
	} else {
		header_value(buf, len, "Location", r->location, sizeof(r->location));
	}
	return len;
}

/* libcurl's progress callback when the request has none: stops on a signal. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	return rap_stopping() ? 1 : 0;
}

/* Sets the options of one request on the handle. */
static void setup(struct cli_http *h, const struct cli_req *req, struct cli_resp *resp,
		  struct curl_slist *headers)
{
	CURL *c = h->curl;

	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "rap-cli/" CLI_VERSION);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, resp->curl_err);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S);
	if (h->o->cacert)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->o->cacert);
	/* A link that carries nothing for this long is treated as cut. */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)h->o->stall_timeout_s);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, req->write ? req->write : on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, req->write ? req->write_ctx : resp);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, req->progress ? req->progress : on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, req->progress_ctx);
	if (strcmp(req->method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (req->read) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, req->read);
		curl_easy_setopt(c, CURLOPT_READDATA, req->read_ctx);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->upload_len);
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	} else if (strcmp(req->method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	} else if (strcmp(req->method, "GET") != 0) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	}
}

int cli_http_do(struct cli_http *h, const struct cli_req *req, struct cli_resp *resp)
{
	struct curl_slist *headers = NULL, *s;
	CURLcode rc;

	resp_reset(resp);
	for (s = req->no_auth ? NULL : h->auth; s; s = s->next)
		headers = curl_slist_append(headers, s->data);
	for (s = req->headers; s; s = s->next)
		headers = curl_slist_append(headers, s->data);
	/* No "Expect: 100-continue" wait before a body: the platform answers
	 * only once it has read the body anyway. */
	headers = curl_slist_append(headers, "Expect:");
	setup(h, req, resp, headers);
	rc = curl_easy_perform(h->curl);
	curl_slist_free_all(headers);
	resp->curl = rc;
	if (rc == CURLE_OK) {
		curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &resp->status);
		return RAP_OK;
	}
	if (!resp->curl_err[0])
		snprintf(resp->curl_err, sizeof(resp->curl_err), "%s", curl_easy_strerror(rc));
	if (rc == CURLE_ABORTED_BY_CALLBACK && rap_stopping())
		return RAP_ECANCELED;
	if (resp->too_big) {
		snprintf(resp->curl_err, sizeof(resp->curl_err),
			 "the answer is larger than %d bytes", CLI_BODY_MAX);
		return RAP_ETOOBIG;
	}
	return RAP_EIO;
}

bool cli_http_transient(const struct cli_resp *resp)
{
	switch (resp->curl) {
	case CURLE_OK:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_READ_ERROR:  /* our file could not be read */
	case CURLE_WRITE_ERROR: /* an answer over CLI_BODY_MAX */
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_ABORTED_BY_CALLBACK:
		return false;
	default:
		/* Refused, reset, timed out, stalled, name lookup failed... */
		return true;
	}
}

bool cli_http_status_transient(long status)
{
	return status >= 500 || status == 429;
}

/*
 * The object that holds an error's code in the platform's error body: the
 * body itself for RFC 9457 problem details ({"type",...,"code","detail"}),
 * or the "error" member of the envelope servers before issue 16 sent; NULL
 * for anything else.
 */
static struct json_object *error_object(const struct cli_resp *resp, struct json_object **root)
{
	struct json_object *e;

	*root = resp->body.len ? json_tokener_parse(resp->body.data) : NULL;
	if (!*root || !json_object_is_type(*root, json_type_object))
		return NULL;
	if (json_object_object_get_ex(*root, "code", NULL))
		return *root;
	if (!json_object_object_get_ex(*root, "error", &e) ||
	    !json_object_is_type(e, json_type_object))
		return NULL;
	return e;
}

/* What a status means, for answers without the platform's JSON (HEAD). */
static const char *reason(long status)
{
	switch (status) {
	case 400:
		return "bad request";
	case 401:
		return "unauthorized: the API key is missing or unknown";
	case 403:
		return "forbidden";
	case 404:
		return "not found";
	case 409:
		return "conflict";
	case 410:
		return "gone";
	case 412:
		return "precondition failed";
	case 413:
		return "too large";
	case 415:
		return "unsupported content";
	case 422:
		return "unprocessable";
	case 423:
		return "locked";
	case 429:
		return "too many requests";
	case 460:
		return "checksum mismatch";
	case 502:
		return "bad gateway";
	case 503:
		return "unavailable";
	case 504:
		return "gateway timeout";
	default:
		return status >= 500 ? "server error" : "unexpected answer";
	}
}

void cli_resp_describe(const struct cli_resp *resp, char *out, size_t len)
{
	struct json_object *root, *e;
	const char *msg, *code;

	if (resp->curl != CURLE_OK) {
		snprintf(out, len, "%s", resp->curl_err);
		return;
	}
	e = error_object(resp, &root);
	msg = e ? cli_json_string(e, "detail") : NULL;
	if (e && !msg)
		msg = cli_json_string(e, "message");
	code = e ? cli_json_string(e, "code") : NULL;
	if (msg && code)
		snprintf(out, len, "%s (%s, HTTP %ld)", msg, code, resp->status);
	else
		snprintf(out, len, "%s (HTTP %ld)", reason(resp->status), resp->status);
	json_object_put(root);
}

int cli_http_resolve(const char *base, const char *ref, char *out, size_t len)
{
	CURLU *u = curl_url();
	char *s = NULL;
	int result = RAP_EINVAL;

	if (!u)
		abort(); /* only fails when out of memory */
	if (curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_URL, ref, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK)
		goto out_free_url;
	result = (size_t)snprintf(out, len, "%s", s) < len ? RAP_OK : RAP_ETOOBIG;
	curl_free(s);
out_free_url:
	curl_url_cleanup(u);
	return result;
}
