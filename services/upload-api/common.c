/*
 * common.c: what upload-api's handlers and its part writer share, so that
 * none of them calls back into another's file: libmagic's look at a file's first bytes,
 * a client's file name made safe, deleting an object, and the rate limit of uploads.
 */
#include "upload_api.h"

#include "rap/clock.h"
#include "rap/err.h"
#include "rap/http.h"
#include "rap/keylimit.h"
#include "rap/log.h"
#include "rap/metrics.h"
#include "rap/s3.h"

#include <stdio.h>
#include <string.h>

void upload_detect_type(struct upload_api *api, const void *data, size_t n, char *out, size_t len)
{
	const char *t = NULL;

	pthread_mutex_lock(&api->magic_lock);
	if (api->magic)
		t = magic_buffer(api->magic, data,
				 n < UPLOAD_DETECT_BYTES ? n : UPLOAD_DETECT_BYTES);
	snprintf(out, len, "%s", t ? t : "");
	pthread_mutex_unlock(&api->magic_lock);
}

void upload_sanitize_filename(const char *in, char *out, size_t len)
{
	const char *base = in;
	const char *p;
	size_t n = 0;

	for (p = in; *p; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	for (p = base; *p && n + 1 < len; p++) {
		char c = *p;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '-' || c == '_')
			out[n++] = c;
		else
			out[n++] = '_';
	}
	out[n] = '\0';
	if (n == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
		snprintf(out, len, "upload.bin");
}

bool upload_content_type_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

int upload_delete_object(struct upload_api *api, const char *key)
{
	struct rap_s3 *s3 = rap_s3_new(&api->s3cfg);
	int result = rap_s3_delete(s3, key);

	rap_s3_free(s3);
	return result;
}

bool upload_rate_allowed(struct upload_api *api, struct rap_http_req *req)
{
	char after[32], err[RAP_ERRLEN];
	long long retry = 1;
	bool admitted = true;

	if (rap_keylimit_take(api->limit, req->key_id, 1, rap_now_ms(), &admitted, &retry, err) !=
	    RAP_OK) {
		struct rap_log_ctx ctx = { .request_id = req->request_id };

		rap_log(RAP_LOG_WARN, &ctx, "rate limit not checked: %s", err);
	}
	if (admitted)
		return true;
	rap_metric_inc(api->rate_limited, 1);
	snprintf(after, sizeof(after), "%lld", retry);
	rap_http_header(req, "Retry-After", after);
	rap_http_error(
		req, 429, "rate_limited",
		"this API key is uploading faster than RAP_UPLOAD_REQUEST_RATE=%lld requests "
		"a second (bursts of RAP_UPLOAD_REQUEST_BURST=%lld); retry after %lld s",
		api->cfg.upload_request_rate, api->cfg.upload_request_burst, retry);
	return false;
}
