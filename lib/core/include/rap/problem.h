#ifndef RAP_PROBLEM_H
#define RAP_PROBLEM_H

struct rap_buf;

/** The media type of every error answer of the platform (RFC 9457). */
#define RAP_PROBLEM_CONTENT_TYPE "application/problem+json"

/** The type of a problem is this prefix and its code ("/problems/not_found"):
 *  a relative URI that the gateway serves (docs/errors.md). */
#define RAP_PROBLEM_TYPE_PREFIX "/problems/"

/**
 * The fixed short title of an error code ("not_found": "Not found"); for a
 * code the platform does not know, the title of the HTTP status.  Never
 * NULL; static storage.
 */
const char *rap_problem_title(const char *code, unsigned status);

/**
 * The code of an error that has only its HTTP status, as an HTTP server
 * library's own refusals (libmicrohttpd's, libwebsockets'): 400
 * "bad_request", 413 "payload_too_large", 431 "headers_too_large", ...; any
 * other 5xx "internal", any other 4xx "bad_request".  Static storage.
 */
const char *rap_problem_status_code(unsigned status);

/**
 * Appends the RFC 9457 body of an error to b:
 * {"type","title","status","detail","code","request_id"}, flat, so a
 * client reads `code` at the top level.  type is "/problems/CODE", or
 * "about:blank" when code is empty or not made of [a-z0-9_].  detail and
 * request_id may be NULL (written "" and left out).  Whatever their bytes,
 * the body is valid JSON (rap_json_quote).  RAP_ETOOBIG when b is full.
 */
int rap_problem_write(struct rap_buf *b, unsigned status, const char *code, const char *detail,
		      const char *request_id);

#endif
