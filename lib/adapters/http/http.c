/*
 * http.c: the services' HTTP server over libmicrohttpd (MHD).
 *
 * MHD calls on_access once when a request's headers are in, once per chunk
 * of body, and once more when the body has ended; on_completed when the
 * connection is done with the request, whatever happened.  Each request
 * gets a struct req_state (the public rap_http_req comes first in it) that
 * lives from the first call to on_completed, which frees it with the
 * handler's per-request data, so request memory has one owner and one
 * place of release.
 *
 * The first call answers /healthz, /readyz and /metrics, or refuses a path
 * or query that is not text (400), finds the route (404, 405) and checks
 * the API key (401); the handler then sees BEGIN, a
 * DATA per chunk when it streams, and END with the buffered body (413 past
 * max_body).  MHD cannot answer mid-body, so a reply made while the body is
 * still arriving (or with defer_reply) is kept and queued once it ends;
 * what arrives after an answer is read and dropped.  A request answers at
 * most once (req->replied); one that reaches END unanswered gets a 500.
 * 423, 429 and 503 answers carry a default Retry-After unless the handler
 * set one.  A streamed answer (rap_http_reply_stream) is MHD's callback
 * response: MHD asks the reader for the next block when the socket can
 * take it, so a slow client holds one block, not the body.  A body that
 * must not go on (too slow) is cut (rap_http_cut): its answer is written
 * to the socket as is and the socket shut down, since MHD cannot answer
 * mid-body.
 *
 * Floods (issue 15, point 3).  Each server caps its connections in total
 * (max_conns) and per client address (max_conns_per_ip): MHD accepts one
 * more and closes it at once, so with a thread per connection (upload-api)
 * a thousand idle sockets are never a thousand threads, and one address
 * never takes every place.  A connection silent for idle_timeout seconds
 * is closed; the clock restarts with every byte, so a long upload that
 * keeps sending is never cut (a slow one is point 2's business).  The
 * thread-per-connection server polls with poll(), not select(): a socket
 * numbered past FD_SETSIZE is then served, not refused.  Health and
 * metrics have a listener of their own (rap_http_start_admin): one thread
 * that a flood of the main port never reaches.
 *
 * MHD's own errors (issue 15, point 5).  MHD answers what it cannot parse
 * itself (bad request line, headers too large, bad chunk sizes, a bad
 * Content-Length) with fixed HTML pages, and 0.9.75 has no option to
 * change them.  Its one error path (transmit_error_response) calls
 * MHD_create_response_from_buffer(PERSISTENT) on one of those fixed
 * strings and then MHD_queue_response, both through the library's PLT,
 * so this file defines both (the executables export them; the library's
 * calls bind to ours) and reaches MHD's own through dlsym(RTLD_NEXT).  A
 * persistent buffer that starts "<html><head><title>" is MHD's page: its
 * response is remembered for the thread, and when MHD queues it the
 * status is known, so the platform's error (problem+json, with that status, a code
 * for it, a message for the page and a new request id) goes out in its
 * place.  A bad Content-Length is the exception: MHD 0.9.75 would send
 * the header block twice (send_direct), so that answer is written to the
 * socket by hand and the connection closed.  Limits: it rests on how MHD
 * 0.9.75 is built (an MHD that calls these internally without the PLT,
 * or builds its pages another way, sends HTML again: the tests in
 * tests/integration/malformed.test.mjs would say so), and requests MHD
 * closes without an answer stay without one.
 *
 * Durations (issue 16, point 2).  A counted server registers, at start, a
 * histogram per route of its table (and one for requests no route took)
 * by status class, labelled with the route's pattern, never the path, so
 * the series are fixed; and, for the routes of a method that sends a
 * body, the acknowledgement: from the body's last byte to the end of the
 * answer.  Both are observed in on_completed, with the status class that
 * rap_http_requests_total counts.
 */
#include "rap/http.h"
#include "rap/auth.h"
#include "rap/err.h"
#include "rap/log.h"
#include "rap/metrics.h"
#include "rap/buf.h"
#include "rap/clock.h"
#include "rap/json.h"
#include "rap/mem.h"
#include "rap/problem.h"
#include "rap/random.h"
#include "rap/str.h"
#include "rap/trace.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dlfcn.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>
#include <sys/socket.h>

struct reply_header {
	char *name;
	char *value;
	struct reply_header *next;
};

struct req_state {
	struct rap_http_req req;
	struct reply_header *headers;
	/* A reply decided while the body was still arriving. */
	unsigned deferred_status;
	char *deferred_json;
	bool deferred_problem; /* deferred_json is an error (problem+json) */
	bool too_big;
	bool in_body;    /* between the first body byte and the end */
	atomic_uint cut; /* the status rap_http_cut answered; 0: not cut */
};

/* The duration histograms of one route (or of requests no route took):
 * by status class, and, for a method that sends a body, the
 * acknowledgement (last body byte to the end of the answer). */
enum {
	CLASS_2XX,
	CLASS_4XX,
	CLASS_5XX,
	CLASSES
};
struct route_metrics {
	struct rap_metric *duration[CLASSES];
	struct rap_metric *ack; /* NULL for a method without a body */
};

struct rap_http_server {
	struct rap_http_cfg cfg;
	struct MHD_Daemon *daemon;
	struct rap_metric *req_2xx, *req_4xx, *req_5xx, *req_bytes;
	/* cfg.n_routes + 1 (the last: no route); NULL when not counted */
	struct route_metrics *routes;
};

typedef struct MHD_Response *(*mhd_create_fn)(size_t size, void *buffer,
					      enum MHD_ResponseMemoryMode mode);
typedef enum MHD_Result (*mhd_queue_fn)(struct MHD_Connection *conn, unsigned int status,
					struct MHD_Response *resp);

static bool sane_request_id(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 64)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("-_.:", s[i]))
			return false;
	return true;
}

static void init_request_id(struct rap_http_req *req)
{
	const char *id = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "X-Request-Id");
	unsigned char raw[16];

	if (id && sane_request_id(id)) {
		snprintf(req->request_id, sizeof(req->request_id), "%s", id);
		return;
	}
	rap_random_cached(raw, sizeof(raw));
	rap_hex(raw, sizeof(raw), req->request_id);
}

/*
 * How long a client should wait before asking again after an answer that
 * says "not now", unless the handler said otherwise: a busy tus upload
 * (423) frees in about a second; an unavailable store (503) or a limit
 * (429) takes longer.  Clients that honour Retry-After then neither hammer
 * a recovering service nor wait longer than needed.
 */
static const char *default_retry_after(unsigned status)
{
	switch (status) {
	case 423:
		return "1";
	case 429:
	case 503:
		return "2";
	default:
		return NULL;
	}
}

static bool has_header(const struct req_state *st, const char *name)
{
	const struct reply_header *h;

	for (h = st->headers; h; h = h->next)
		if (strcasecmp(h->name, name) == 0)
			return true;
	return false;
}

/* Sends resp with the headers every answer carries and the handler's. */
static void queue_response(struct req_state *st, unsigned status, struct MHD_Response *resp)
{
	struct rap_http_req *req = &st->req;
	struct reply_header *h;
	const char *retry = default_retry_after(status);
	char traceparent[RAP_TRACEPARENT_LEN];

	rap_trace_format(&req->trace, traceparent);
	MHD_add_response_header(resp, "X-Request-Id", req->request_id);
	MHD_add_response_header(resp, "traceparent", traceparent);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	for (h = st->headers; h; h = h->next)
		MHD_add_response_header(resp, h->name, h->value);
	if (retry && !has_header(st, "Retry-After"))
		MHD_add_response_header(resp, "Retry-After", retry);
	MHD_queue_response(req->conn, status, resp);
	MHD_destroy_response(resp);
	req->replied = true;
	req->status = status;
}

/* Queues json, an error's problem details when problem is true. */
static void queue_as(struct req_state *st, unsigned status, const char *json, bool problem)
{
	struct MHD_Response *resp;
	const char *type = "application/json";

	if (st->req.replied)
		return;
	if (problem)
		type = RAP_PROBLEM_CONTENT_TYPE;
	else if (strncmp(json, "# HELP", 6) == 0 || json[0] == '\0')
		type = "text/plain; version=0.0.4";
	resp = MHD_create_response_from_buffer(strlen(json), (void *)json, MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(resp, "Content-Type", type);
	queue_response(st, status, resp);
}

static void queue(struct req_state *st, unsigned status, const char *json)
{
	queue_as(st, status, json, false);
}

struct stream {
	rap_http_reader reader;
	void *ctx;
	void (*free_ctx)(void *ctx);
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *s = cls;
	long n = s->reader(s->ctx, buf, max);

	if (n == 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	return n < 0 ? MHD_CONTENT_READER_END_WITH_ERROR : (ssize_t)n;
}

static void stream_free(void *cls)
{
	struct stream *s = cls;

	if (s->free_ctx)
		s->free_ctx(s->ctx);
	free(s);
}

void rap_http_reply_stream(struct rap_http_req *req, unsigned status, const char *content_type,
			   size_t block, rap_http_reader reader, void *ctx,
			   void (*free_ctx)(void *ctx))
{
	struct req_state *st = (struct req_state *)req;
	struct stream *s;
	struct MHD_Response *resp;

	if (req->replied || st->deferred_json || st->in_body) {
		/* Only after the body and once: the handler's mistake. */
		if (free_ctx)
			free_ctx(ctx);
		rap_http_error(req, 500, "internal", "a streamed answer came too late or twice");
		return;
	}
	s = rap_calloc(1, sizeof(*s));
	s->reader = reader;
	s->ctx = ctx;
	s->free_ctx = free_ctx;
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, block, stream_read, s,
						 stream_free);
	MHD_add_response_header(resp, "Content-Type", content_type);
	queue_response(st, status, resp);
}

static void reply(struct req_state *st, unsigned status, const char *json, bool problem)
{
	struct rap_http_req *req = &st->req;

	if (req->replied || st->deferred_json)
		return;
	if (st->in_body || req->defer_reply) {
		/* Mid-body: MHD answers only once the body is read. */
		st->deferred_status = status;
		st->deferred_json = rap_strdup(json);
		st->deferred_problem = problem;
		return;
	}
	queue_as(st, status, json, problem);
}

void rap_http_reply(struct rap_http_req *req, unsigned status, const char *json)
{
	reply((struct req_state *)req, status, json, false);
}

void rap_http_error(struct rap_http_req *req, unsigned status, const char *code, const char *fmt,
		    ...)
{
	struct rap_buf msg, out;
	va_list ap;

	rap_buf_init(&msg, 4096);
	rap_buf_init(&out, 8192);
	va_start(ap, fmt);
	rap_buf_vappendf(&msg, fmt, ap);
	va_end(ap);
	rap_problem_write(&out, status, code, msg.data ? msg.data : "", req->request_id);
	reply((struct req_state *)req, status, out.data, true);
	rap_buf_cleanup(&out);
	rap_buf_cleanup(&msg);
}

void rap_http_header(struct rap_http_req *req, const char *name, const char *value)
{
	struct req_state *st = (struct req_state *)req;
	struct reply_header *h = rap_calloc(1, sizeof(*h));

	h->name = rap_strdup(name);
	h->value = rap_strdup(value);
	h->next = st->headers;
	st->headers = h;
}

const char *rap_http_param(const struct rap_http_req *req, const char *name)
{
	return rap_http_match_param(&req->match, name);
}

const char *rap_http_get_arg(struct rap_http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *rap_http_get_header(struct rap_http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

bool rap_http_authenticate(struct rap_http_req *req, const struct rap_auth *auth)
{
	const char *h = rap_http_get_header(req, "Authorization");
	const struct rap_auth_key *found;
	const char *key = NULL;

	if (h && strncasecmp(h, "Bearer ", 7) == 0)
		key = h + 7;
	else
		key = rap_http_get_header(req, "X-API-Key");
	if (!key) {
		rap_http_error(req, 401, "unauthorized",
			       "missing API key: send 'Authorization: Bearer <key>'");
		return false;
	}
	found = rap_auth_find(auth, key);
	if (!found) {
		rap_http_error(req, 401, "unauthorized", "unknown API key");
		return false;
	}
	req->owner = found->owner;
	req->key_id = found->id;
	req->admin = found->admin;
	return true;
}

/*
 * A request with both Content-Length and Transfer-Encoding is refused
 * (400) and its connection closed: MHD would take the chunked body and
 * ignore the length, and a proxy in front that read the length instead
 * would see another request boundary (request smuggling; RFC 9112 6.1
 * lets a server refuse it and says to close).  True when refused.
 */
static bool conflicting_lengths(struct rap_http_req *req)
{
	if (!rap_http_get_header(req, MHD_HTTP_HEADER_TRANSFER_ENCODING) ||
	    !rap_http_get_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH))
		return false;
	rap_http_header(req, "Connection", "close");
	rap_http_error(req, 400, "bad_request",
		       "Content-Length and Transfer-Encoding together: send one of them");
	return true;
}

/* The reason phrases of the answers a cut gives. */
static const char *cut_reason(unsigned status)
{
	switch (status) {
	case 408:
		return "Request Timeout";
	case 413:
		return "Content Too Large";
	case 429:
		return "Too Many Requests";
	default:
		return "Bad Request";
	}
}

void rap_http_cut(struct rap_http_req *req, unsigned status, const char *code, const char *msg)
{
	struct req_state *st = (struct req_state *)req;
	const union MHD_ConnectionInfo *ci;
	unsigned none = 0;
	struct rap_buf body, out;

	if (!atomic_compare_exchange_strong(&st->cut, &none, status))
		return;
	ci = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!ci)
		return;
	rap_buf_init(&body, 8192);
	rap_buf_init(&out, 16384);
	rap_problem_write(&body, status, code, msg, req->request_id);
	rap_buf_appendf(
		&out,
		"HTTP/1.1 %u %s\r\nConnection: close\r\nContent-Type: " RAP_PROBLEM_CONTENT_TYPE
		"\r\nCache-Control: no-store\r\nX-Request-Id: %s\r\n"
		"Content-Length: %zu\r\n\r\n%s",
		status, cut_reason(status), req->request_id, body.len, body.data);
	/* Best effort, never blocking: a client that reads nothing may miss
	 * the answer, not hold this thread. */
	(void)send(ci->connect_fd, out.data, out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
	shutdown(ci->connect_fd, SHUT_RDWR);
	rap_buf_cleanup(&out);
	rap_buf_cleanup(&body);
}

/* Answers /healthz, /readyz and /metrics; false for any other URL. */
static bool serve_common(struct rap_http_server *srv, struct req_state *st)
{
	struct rap_http_req *req = &st->req;
	char reason[256] = "";
	struct rap_buf b;

	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)
		return false;
	if (strcmp(req->url, "/healthz") == 0) {
		queue(st, 200, "{\"status\":\"ok\"}");
		return true;
	}
	if (strcmp(req->url, "/readyz") == 0) {
		if (!srv->cfg.ready || srv->cfg.ready(srv->cfg.svc, reason, sizeof(reason))) {
			queue(st, 200, "{\"status\":\"ready\"}");
		} else {
			rap_buf_init(&b, 1024);
			rap_buf_appends(&b, "{\"status\":\"not ready\",\"reason\":");
			rap_json_quote(&b, reason);
			rap_buf_appends(&b, "}");
			queue(st, 503, b.data);
			rap_buf_cleanup(&b);
		}
		return true;
	}
	if (strcmp(req->url, "/metrics") == 0 && srv->cfg.metrics) {
		rap_buf_init(&b, 1024 * 1024);
		rap_metrics_render(srv->cfg.metrics, &b);
		rap_metrics_render_process(&b);
		queue(st, 200, b.data ? b.data : "");
		rap_buf_cleanup(&b);
		return true;
	}
	return false;
}

/* Finds the request's route when its headers are in: by its own method,
 * then, where that route honours X-HTTP-Method-Override, by the method the
 * header names.  False, after the 404 or 405 answer, when there is none. */
static bool route(struct rap_http_server *srv, struct rap_http_req *req)
{
	char methods[2 * sizeof(req->match.allow)];
	size_t n = 0;
	int r;

	if (!srv->cfg.routes) {
		rap_http_error(req, 404, "not_found", "no such endpoint");
		return false;
	}
	r = rap_http_route_find(srv->cfg.routes, srv->cfg.n_routes, req->method,
				rap_http_get_header(req, RAP_HTTP_METHOD_OVERRIDE), req->url,
				&req->match);
	if (r == RAP_OK)
		return true;
	if (r == RAP_ENOENT) {
		/* A long path is not echoed: it would not fit the message. */
		if (strlen(req->url) > 256)
			rap_http_error(req, 404, "not_found",
				       "no such endpoint (a path of %zu bytes)", strlen(req->url));
		else
			rap_http_error(req, 404, "not_found", "no such endpoint: %s", req->url);
		return false;
	}
	/* "GET, POST" in the Allow header is "GET or POST" in the message. */
	rap_http_header(req, "Allow", req->match.allow);
	for (const char *a = req->match.allow; *a; a++) {
		if (a[0] == ',' && a[1] == ' ') {
			memcpy(methods + n, " or ", 4);
			n += 4;
			a++;
		} else {
			methods[n++] = *a;
		}
	}
	methods[n] = '\0';
	rap_http_error(req, 405, "method_not_allowed", "use %s %s", methods, req->url);
	return false;
}

/* Stops at the first query argument whose name or value is not text. */
static enum MHD_Result arg_check(void *cls, enum MHD_ValueKind kind, const char *key,
				 const char *value)
{
	const char **bad = cls;

	(void)kind;
	if (rap_utf8_printable(key, strlen(key)) &&
	    (!value || rap_utf8_printable(value, strlen(value))))
		return MHD_YES;
	*bad = key;
	return MHD_NO;
}

/* Refuses with 400 a request whose path or query, as MHD decoded their %XX
 * escapes, is not valid UTF-8 without control characters: both go into
 * JSON, SQL and logs.  False after that answer. */
static bool url_valid(struct rap_http_req *req)
{
	const char *bad = NULL;

	if (!rap_utf8_printable(req->url, strlen(req->url))) {
		rap_http_error(req, 400, "bad_request",
			       "the path must be valid UTF-8 without control characters");
		return false;
	}
	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, arg_check, &bad);
	if (bad) {
		rap_http_error(req, 400, "bad_request",
			       "the query argument '%s' must be valid UTF-8 without control "
			       "characters",
			       bad);
		return false;
	}
	return true;
}

/* Hands a phase of the request to its route (found, and the API key
 * checked, when the headers are in). */
static void call(struct rap_http_server *srv, struct req_state *st, enum rap_http_phase phase,
		 const char *data, size_t len)
{
	struct rap_http_req *req = &st->req;
	const struct rap_http_route *r;

	if (phase == RAP_HTTP_BEGIN) {
		if (!route(srv, req))
			return;
		r = req->match.route;
		if (srv->cfg.auth && !r->anonymous && !rap_http_authenticate(req, srv->cfg.auth))
			return;
	}
	r = req->match.route;
	if (!r || req->replied)
		return;
	if (r->on_phase)
		r->on_phase(srv->cfg.svc, req, phase, data, len);
	else if (phase == RAP_HTTP_END)
		r->on_request(srv->cfg.svc, req);
}

static enum MHD_Result access_step(void *cls, struct MHD_Connection *conn, const char *url,
				   const char *method, const char *upload_data,
				   size_t *upload_data_size, void **con_cls)
{
	struct rap_http_server *srv = cls;
	struct req_state *st = *con_cls;
	struct rap_http_req *req;

	if (!st) {
		st = rap_calloc(1, sizeof(*st));
		req = &st->req;
		req->conn = conn;
		req->method = method;
		req->url = url;
		req->started_ms = rap_now_ms();
		req->started_us = rap_now_us();
		rap_buf_init(&req->body, srv->cfg.max_body);
		init_request_id(req);
		rap_trace_continue(
			MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "traceparent"),
			&req->trace);
		rap_log_set_trace(&req->trace);
		*con_cls = st;
		if (conflicting_lengths(req))
			return MHD_YES;
		if (serve_common(srv, st))
			return MHD_YES;
		req->status = 1; /* marks "in progress" until a reply */
		if (url_valid(req))
			call(srv, st, RAP_HTTP_BEGIN, NULL, 0);
		return MHD_YES;
	}
	req = &st->req;
	rap_log_set_trace(&req->trace);
	if (atomic_load(&st->cut))
		return MHD_NO; /* answered and shut down: close it */
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		req->body_bytes += n;
		st->in_body = true;
		if (req->replied || st->deferred_json || st->too_big)
			return MHD_YES; /* drain what follows an early answer */
		if (req->stream) {
			call(srv, st, RAP_HTTP_DATA, upload_data, n);
		} else if (rap_buf_append(&req->body, upload_data, n) != RAP_OK) {
			st->too_big = true;
		}
		return MHD_YES;
	}
	if (st->in_body)
		req->body_end_us = rap_now_us();
	st->in_body = false;
	if (req->replied)
		return MHD_YES;
	if (st->deferred_json) {
		queue_as(st, st->deferred_status, st->deferred_json, st->deferred_problem);
		return MHD_YES;
	}
	if (st->too_big) {
		rap_http_error(req, 413, "payload_too_large",
			       "request body is larger than %zu bytes", srv->cfg.max_body);
		return MHD_YES;
	}
	req->defer_reply = false; /* the body is in: answers go out now */
	call(srv, st, RAP_HTTP_END, req->body.data ? req->body.data : "", req->body.len);
	if (!req->replied)
		rap_http_error(req, 500, "internal", "the request was not answered");
	return MHD_YES;
}

/* rap_http_request_duration_seconds and rap_http_request_ack_seconds of a
 * request that is done (its status class as rap_http_requests_total's). */
static void observe_durations(struct rap_http_server *srv, const struct rap_http_req *req)
{
	const struct rap_http_route *r = req->match.route;
	struct route_metrics *rm;
	int64_t now = rap_now_us();
	size_t i = srv->cfg.n_routes;

	if (!srv->routes)
		return;
	if (r && r >= srv->cfg.routes && r < srv->cfg.routes + srv->cfg.n_routes)
		i = (size_t)(r - srv->cfg.routes);
	rm = &srv->routes[i];
	rap_metric_observe(rm->duration[req->status >= 500 || !req->replied ? CLASS_5XX
					: req->status >= 400                ? CLASS_4XX
									    : CLASS_2XX],
			   (double)(now - req->started_us) / 1e6);
	if (rm->ack && req->body_end_us && req->replied)
		rap_metric_observe(rm->ack, (double)(now - req->body_end_us) / 1e6);
}

/* MHD's access handler: a request's every step is logged with its trace
 * (a thread serves one request at a time, between these calls). */
static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
				 const char *method, const char *version, const char *upload_data,
				 size_t *upload_data_size, void **con_cls)
{
	enum MHD_Result r;

	(void)version;
	r = access_step(cls, conn, url, method, upload_data, upload_data_size, con_cls);
	rap_log_set_trace(NULL);
	return r;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct rap_http_server *srv = cls;
	struct req_state *st = *con_cls;
	struct reply_header *h, *next;
	unsigned cut;

	if (!st)
		return;
	cut = atomic_load(&st->cut);
	if (cut) {
		st->req.replied = true;
		st->req.status = cut;
	}
	if (st->req.status >= 500 || (!st->req.replied))
		rap_metric_inc(srv->req_5xx, 1);
	else if (st->req.status >= 400)
		rap_metric_inc(srv->req_4xx, 1);
	else
		rap_metric_inc(srv->req_2xx, 1);
	rap_metric_inc(srv->req_bytes, (long long)st->req.body_bytes);
	observe_durations(srv, &st->req);
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && !st->req.replied)
		st->req.status = 499; /* the client went away */
	rap_log_set_trace(&st->req.trace);
	if (srv->cfg.completed)
		srv->cfg.completed(srv->cfg.svc, &st->req);
	rap_log_set_trace(NULL);
	if (st->req.data_free)
		st->req.data_free(st->req.data);
	for (h = st->headers; h; h = next) {
		next = h->next;
		free(h->name);
		free(h->value);
		free(h);
	}
	free(st->deferred_json);
	rap_buf_cleanup(&st->req.body);
	rap_http_match_cleanup(&st->req.match);
	free(st);
	*con_cls = NULL;
}

/* ------------------------------------------------ MHD's own error pages */

/* MHD's response for one of its fixed pages, made on this thread and not
 * queued yet, and the page. */
static _Thread_local struct MHD_Response *mhd_page_resp;
static _Thread_local const char *mhd_page;

static void *mhd_real(const char *name)
{
	void *fn = dlsym(RTLD_NEXT, name);

	if (!fn) {
		fprintf(stderr, "http: %s not found in libmicrohttpd\n", name);
		abort();
	}
	return fn;
}

static mhd_create_fn real_create(void)
{
	static _Atomic(mhd_create_fn) fn;
	mhd_create_fn f = atomic_load(&fn);

	if (!f) {
		f = (mhd_create_fn)mhd_real("MHD_create_response_from_buffer");
		atomic_store(&fn, f);
	}
	return f;
}

static mhd_queue_fn real_queue(void)
{
	static _Atomic(mhd_queue_fn) fn;
	mhd_queue_fn f = atomic_load(&fn);

	if (!f) {
		f = (mhd_queue_fn)mhd_real("MHD_queue_response");
		atomic_store(&fn, f);
	}
	return f;
}

struct mhd_page_text {
	const char *needle; /* in MHD's page */
	const char *message;
};

static const struct mhd_page_text mhd_pages[] = {
	{ "HTTP header was too big", "the request line or its headers are too large" },
	{ "chunked encoding was syntactically incorrect", "malformed chunked body" },
	{ "chunk size used in your HTTP chunked encoded request is too large",
	  "a chunk size of the body is too large" },
	{ "too large value for <b>Content-Length", "Content-Length is too large" },
	{ "wrong value for <b>Content-Length", "malformed Content-Length" },
	{ "header required", "an HTTP/1.1 request needs a Host header" },
	{ "version is too old", "this HTTP version is not supported" },
	{ "version is not supported", "this HTTP version is not supported" },
	{ "syntactically incorrect", "malformed HTTP request" },
	{ "Internal server error", "the server could not process the request" },
};

/*
 * MHD 0.9.75 refuses a bad Content-Length while it parses the headers, and
 * its caller then overwrites the state the error set: the answer's header
 * block goes out twice, and the client reads the second as the body.  That
 * answer is written to the socket here (a few hundred bytes on a
 * connection with nothing else to send), and MHD told the queueing failed,
 * so it closes the connection.
 */
static enum MHD_Result send_direct(struct MHD_Connection *conn, unsigned status, const char *json,
				   const char *id)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	const char *reason = MHD_get_reason_phrase_for(status);
	char out[1024];
	size_t off = 0;
	ssize_t w;
	int n;

	n = snprintf(
		out, sizeof(out),
		"HTTP/1.1 %u %s\r\nConnection: close\r\nContent-Type: " RAP_PROBLEM_CONTENT_TYPE
		"\r\n"
		"X-Request-Id: %s\r\nCache-Control: no-store\r\nContent-Length: %zu\r\n\r\n%s",
		status, reason ? reason : "Error", id, strlen(json), json);
	if (!ci || n <= 0 || (size_t)n >= sizeof(out))
		return MHD_NO;
	while (off < (size_t)n) {
		w = send(ci->connect_fd, out + off, (size_t)n - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	return MHD_NO;
}

/* The platform's problem+json in place of MHD's page, queued with status. */
static enum MHD_Result queue_json_page(struct MHD_Connection *conn, unsigned status,
				       const char *page)
{
	const char *message = "the request could not be processed";
	unsigned char raw[16];
	char id[33];
	struct rap_buf json;
	struct MHD_Response *resp;
	enum MHD_Result r = MHD_NO;
	size_t i;

	for (i = 0; i < sizeof(mhd_pages) / sizeof(mhd_pages[0]); i++)
		if (strstr(page, mhd_pages[i].needle)) {
			message = mhd_pages[i].message;
			break;
		}
	rap_random_cached(raw, sizeof(raw));
	rap_hex(raw, sizeof(raw), id);
	rap_buf_init(&json, 768); /* send_direct's 1 KiB holds it */
	if (rap_problem_write(&json, status, rap_problem_status_code(status), message, id) !=
	    RAP_OK)
		goto out_free_json;
	if (strstr(page, "Content-Length")) {
		r = send_direct(conn, status, json.data, id);
		goto out_free_json;
	}
	resp = real_create()(json.len, json.data, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		goto out_free_json;
	MHD_add_response_header(resp, "Content-Type", RAP_PROBLEM_CONTENT_TYPE);
	MHD_add_response_header(resp, "X-Request-Id", id);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	r = real_queue()(conn, status, resp);
	MHD_destroy_response(resp);
out_free_json:
	rap_buf_cleanup(&json);
	return r;
}

/* Interposes MHD's own (design note): notes the responses of its pages. */
struct MHD_Response *MHD_create_response_from_buffer(size_t size, void *buffer,
						     enum MHD_ResponseMemoryMode mode)
{
	static const char html[] = "<html><head><title>";
	struct MHD_Response *resp = real_create()(size, buffer, mode);

	mhd_page_resp = NULL;
	if (resp && mode == MHD_RESPMEM_PERSISTENT && buffer && size >= sizeof(html) - 1 &&
	    memcmp(buffer, html, sizeof(html) - 1) == 0) {
		mhd_page_resp = resp;
		mhd_page = buffer;
	}
	return resp;
}

/* Interposes MHD's own: a page noted above goes out as problem+json. */
enum MHD_Result MHD_queue_response(struct MHD_Connection *conn, unsigned int status,
				   struct MHD_Response *resp)
{
	if (resp && resp == mhd_page_resp) {
		mhd_page_resp = NULL;
		return queue_json_page(conn, status, mhd_page);
	}
	return real_queue()(conn, status, resp);
}

/* ------------------------------------------------------------ starting */

/* Registers the duration histograms of each route and of requests no route
 * took: labels method, route (the pattern, never the path) and class. */
static void add_route_metrics(struct rap_http_server *srv, struct rap_metrics *m)
{
	static const char *const classes[CLASSES] = { "2xx", "4xx", "5xx" };
	const struct rap_http_route *r;
	const char *method, *pattern;
	char labels[256];
	size_t i;
	int c;

	srv->routes = rap_calloc(srv->cfg.n_routes + 1, sizeof(*srv->routes));
	for (i = 0; i <= srv->cfg.n_routes; i++) {
		r = i < srv->cfg.n_routes ? &srv->cfg.routes[i] : NULL;
		method = r && r->method ? r->method : "*";
		pattern = r ? r->pattern : "unmatched";
		for (c = 0; c < CLASSES; c++) {
			snprintf(labels, sizeof(labels), "method=\"%s\",route=\"%s\",class=\"%s\"",
				 method, pattern, classes[c]);
			srv->routes[i].duration[c] = rap_metrics_add_histogram(
				m, "rap_http_request_duration_seconds",
				rap_metrics_strdup(m, labels),
				"time from a request's first byte to the end of its answer, by route",
				rap_buckets_http_seconds, RAP_BUCKETS_HTTP_SECONDS);
		}
		if (!r || !r->method ||
		    (strcmp(r->method, "POST") != 0 && strcmp(r->method, "PATCH") != 0 &&
		     strcmp(r->method, "PUT") != 0))
			continue;
		snprintf(labels, sizeof(labels), "method=\"%s\",route=\"%s\"", method, pattern);
		srv->routes[i].ack = rap_metrics_add_histogram(
			m, "rap_http_request_ack_seconds", rap_metrics_strdup(m, labels),
			"time from the last byte of a request's body to the end of its answer",
			rap_buckets_http_seconds, RAP_BUCKETS_HTTP_SECONDS);
	}
}

static int start(const struct rap_http_cfg *cfg, bool count, struct rap_http_server **out,
		 char *err)
{
	struct rap_http_server *srv = rap_calloc(1, sizeof(*srv));
	struct sockaddr_in addr;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;

	srv->cfg = *cfg;
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)cfg->port);
	if (inet_pton(AF_INET, cfg->bind, &addr.sin_addr) != 1) {
		snprintf(err, RAP_ERRLEN, "bind address '%s' is not an IPv4 address", cfg->bind);
		free(srv);
		return RAP_EINVAL;
	}
	if (cfg->metrics && count) {
		srv->req_2xx = rap_metrics_add(cfg->metrics, RAP_COUNTER, "rap_http_requests_total",
					       "class=\"2xx\"",
					       "HTTP requests answered, by status class");
		srv->req_4xx = rap_metrics_add(cfg->metrics, RAP_COUNTER, "rap_http_requests_total",
					       "class=\"4xx\"",
					       "HTTP requests answered, by status class");
		srv->req_5xx = rap_metrics_add(cfg->metrics, RAP_COUNTER, "rap_http_requests_total",
					       "class=\"5xx\"",
					       "HTTP requests answered, by status class");
		srv->req_bytes = rap_metrics_add(cfg->metrics, RAP_COUNTER,
						 "rap_http_request_body_bytes_total", NULL,
						 "request body bytes received");
		add_route_metrics(srv, cfg->metrics);
	} else {
		static struct rap_metric sink[4];

		srv->req_2xx = &sink[0];
		srv->req_4xx = &sink[1];
		srv->req_5xx = &sink[2];
		srv->req_bytes = &sink[3];
	}
	if (cfg->threads == 0)
		flags |= MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
	else
		flags |= MHD_USE_EPOLL;
	srv->daemon = MHD_start_daemon(
		flags, (uint16_t)cfg->port, NULL, NULL, on_access, srv, MHD_OPTION_SOCK_ADDR,
		(struct sockaddr *)&addr, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
		MHD_OPTION_CONNECTION_TIMEOUT,
		cfg->idle_timeout ? cfg->idle_timeout : (unsigned)RAP_HTTP_IDLE_TIMEOUT,
		MHD_OPTION_CONNECTION_LIMIT, cfg->max_conns ? cfg->max_conns : RAP_HTTP_MAX_CONNS,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_conns_per_ip,
		/* Larger reads mean fewer, bigger upload chunks (a fixed cost
		 * per connection, not per body). */
		MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		cfg->conn_memory ? cfg->conn_memory : (size_t)(256 * 1024),
		MHD_OPTION_LISTENING_ADDRESS_REUSE, 1,
		/* One thread is the internal polling thread itself: a "pool" of
		 * one is ignored with a warning on stderr. */
		cfg->threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END,
		(unsigned)cfg->threads, MHD_OPTION_END);
	if (!srv->daemon) {
		snprintf(err, RAP_ERRLEN, "cannot listen on %s:%u", cfg->bind, cfg->port);
		free(srv->routes);
		free(srv);
		return RAP_EIO;
	}
	*out = srv;
	return RAP_OK;
}

int rap_http_start(const struct rap_http_cfg *cfg, struct rap_http_server **out, char *err)
{
	return start(cfg, true, out, err);
}

int rap_http_start_admin(const struct rap_http_cfg *cfg, unsigned port,
			 struct rap_http_server **out, char *err)
{
	struct rap_http_cfg ac = { 0 };

	ac.bind = cfg->bind;
	ac.port = port;
	ac.threads = 1;
	ac.max_body = 1024;
	ac.conn_memory = 32 * 1024;
	/* Probes and scrapers: a few at once, and each address (a kubelet, a
	 * Prometheus) a quarter of them, so one flooding address cannot take
	 * the others' places. */
	ac.max_conns = RAP_HTTP_ADMIN_MAX_CONNS;
	ac.max_conns_per_ip = RAP_HTTP_ADMIN_MAX_CONNS / 4;
	ac.idle_timeout = 10;
	ac.svc = cfg->svc;
	ac.ready = cfg->ready;
	ac.metrics = cfg->metrics;
	return start(&ac, false, out, err);
}

void rap_http_stop(struct rap_http_server *srv)
{
	if (!srv)
		return;
	MHD_stop_daemon(srv->daemon);
	free(srv->routes);
	free(srv);
}

void rap_http_date(time_t t, char out[RAP_HTTP_DATE_LEN])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, RAP_HTTP_DATE_LEN, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}
