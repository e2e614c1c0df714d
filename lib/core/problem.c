/* problem.c: the platform's error bodies as RFC 9457 problem details. */
#include "rap/problem.h"
#include "rap/buf.h"
#include "rap/err.h"
#include "rap/json.h"

#include <stdbool.h>
#include <string.h>

struct code_title {
	const char *code;
	const char *title;
};

/* Every code an HTTP error of the platform carries, services and gateway:
 * docs/errors.md lists the same (tests/contract/problems.test.mjs). */
static const struct code_title titles[] = {
	{ "already_finished", "Job already finished" },
	{ "bad_checksum", "Bad checksum header" },
	{ "bad_concat", "Bad Upload-Concat" },
	{ "bad_metadata", "Bad Upload-Metadata" },
	{ "bad_multipart", "Bad multipart body" },
	{ "bad_request", "Bad request" },
	{ "busy", "Busy" },
	{ "checksum_mismatch", "Checksum mismatch" },
	{ "forbidden", "Forbidden" },
	{ "gone", "Gone" },
	{ "headers_too_large", "Request headers too large" },
	{ "http_version_not_supported", "HTTP version not supported" },
	{ "idempotency_conflict", "Idempotency key reused" },
	{ "internal", "Internal error" },
	{ "invalid_params", "Invalid parameters" },
	{ "length_required", "Length required" },
	{ "locked", "Upload locked" },
	{ "method_not_allowed", "Method not allowed" },
	{ "missing_file", "Missing file" },
	{ "no_output", "No output" },
	{ "not_dead", "Job not dead" },
	{ "not_found", "Not found" },
	{ "not_implemented", "Not implemented" },
	{ "offset_mismatch", "Upload-Offset mismatch" },
	{ "payload_too_large", "Payload too large" },
	{ "rate_limited", "Rate limited" },
	{ "request_timeout", "Request timeout" },
	{ "storage_failed", "Storage failed" },
	{ "too_many_connections", "Too many connections" },
	{ "unauthorized", "Unauthorized" },
	{ "unavailable", "Service unavailable" },
	{ "unknown_job_type", "Unknown job type" },
	{ "unknown_object", "Unknown object" },
	{ "unsupported_checksum", "Unsupported checksum algorithm" },
	{ "unsupported_content", "Unsupported content" },
	{ "unsupported_media_type", "Unsupported media type" },
	{ "unsupported_version", "Unsupported tus version" },
	{ "upload_complete", "Upload already complete" },
	{ "upload_share_exceeded", "Upload share exceeded" },
	{ "upload_too_slow", "Upload too slow" },
	{ "uri_too_long", "URI too long" },
};

static const char *status_title(unsigned status)
{
	switch (status) {
	case 400:
		return "Bad request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not found";
	case 405:
		return "Method not allowed";
	case 409:
		return "Conflict";
	case 413:
		return "Payload too large";
	case 422:
		return "Unprocessable content";
	case 429:
		return "Too many requests";
	case 503:
		return "Service unavailable";
	default:
		return status >= 500 ? "Internal error" : "Error";
	}
}

const char *rap_problem_title(const char *code, unsigned status)
{
	size_t i;

	for (i = 0; code && i < sizeof(titles) / sizeof(titles[0]); i++)
		if (strcmp(titles[i].code, code) == 0)
			return titles[i].title;
	return status_title(status);
}

const char *rap_problem_status_code(unsigned status)
{
	switch (status) {
	case 404:
		return "not_found";
	case 405:
		return "method_not_allowed";
	case 413:
		return "payload_too_large";
	case 414:
		return "uri_too_long";
	case 431:
		return "headers_too_large";
	case 501:
		return "not_implemented";
	case 505:
		return "http_version_not_supported";
	default:
		return status >= 500 ? "internal" : "bad_request";
	}
}

/* True when code can stand in a URI path as it is. */
static bool plain_code(const char *code)
{
	const char *p;

	if (!code || !*code || strlen(code) > 64)
		return false;
	for (p = code; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return true;
}

int rap_problem_write(struct rap_buf *b, unsigned status, const char *code, const char *detail,
		      const char *request_id)
{
	int result;

	if (plain_code(code))
		result = rap_buf_appendf(b, "{\"type\":\"" RAP_PROBLEM_TYPE_PREFIX "%s\"", code);
	else
		result = rap_buf_appends(b, "{\"type\":\"about:blank\"");
	if (result == RAP_OK)
		result = rap_buf_appends(b, ",\"title\":");
	if (result == RAP_OK)
		result = rap_json_quote(b, rap_problem_title(code, status));
	if (result == RAP_OK)
		result = rap_buf_appendf(b, ",\"status\":%u,\"detail\":", status);
	if (result == RAP_OK)
		result = rap_json_quote(b, detail ? detail : "");
	if (result == RAP_OK)
		result = rap_buf_appends(b, ",\"code\":");
	if (result == RAP_OK)
		result = rap_json_quote(b, code ? code : "");
	if (result == RAP_OK && request_id) {
		result = rap_buf_appends(b, ",\"request_id\":");
		if (result == RAP_OK)
			result = rap_json_quote(b, request_id);
	}
	if (result == RAP_OK)
		result = rap_buf_appends(b, "}");
	return result;
}
