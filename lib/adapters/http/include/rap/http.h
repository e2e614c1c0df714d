#ifndef RAP_HTTP_H
#define RAP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "rap/mem.h"
#include "rap/buf.h"
#include "rap/http_route.h"
#include "rap/log.h"

struct MHD_Connection;
struct rap_metrics;
struct rap_auth;

/*
 * A thin HTTP server over libmicrohttpd shared by the services.  It answers
 * /healthz, /readyz and /metrics itself, gives every request an id (the
 * client's X-Request-Id when it is sane) and a trace (rap/trace.h), buffers JSON bodies up to a
 * maximum or streams bodies to the handler, and scopes per-request memory
 * to the request (freed in MHD's request-completed callback).
 */
enum rap_http_phase {
	RAP_HTTP_BEGIN, /* headers are in; the handler may reply now */
	RAP_HTTP_DATA,  /* a chunk of a streamed body (req->stream set) */
	RAP_HTTP_END    /* the body is complete (buffered in req->body) */
};

struct rap_http_req {
	struct MHD_Connection *conn;
	const char *method;
	const char *url;
	char request_id[RAP_REQUEST_ID_LEN];
	/* The client's traceparent continued with a span of this request's
	 * own, or a new trace (a missing or invalid one never fails the
	 * request); the thread logs with it while it serves the request and
	 * the answer carries it back as traceparent. */
	struct rap_trace trace;
	const char *owner;   /* set by rap_http_authenticate */
	const char *key_id;  /* its key's id (struct rap_auth_key), likewise */
	bool admin;          /* its key is an admin's, likewise */
	struct rap_buf body; /* the buffered body (not with stream) */
	bool stream;         /* set in BEGIN to receive DATA calls */
	bool defer_reply;    /* set in BEGIN: replies wait for the body's
				   end (an early answer behind a streaming
				   proxy reaches the client as a 502) */
	bool replied;
	unsigned status;
	int64_t started_ms;
	int64_t started_us;  /* the same moment, in microseconds (rap_now_us) */
	int64_t body_end_us; /* when the last byte of a body came; 0: none */
	uint64_t body_bytes;
	struct rap_http_match match; /* the route it took (rap_http_param) */
	void *data;                  /* the handler's per-request state */
	void (*data_free)(void *data);
};

/*
 * A route's handler (rap/http_route.h) must have replied by the end of the
 * request (the server answers 500 otherwise).  A phase handler's replies
 * queued in RAP_HTTP_DATA are held until the body ends (MHD cannot answer
 * mid-body).
 */

struct rap_http_cfg {
	const char *bind;
	unsigned port;
	unsigned threads; /* thread pool size; 0 = thread per connection */
	size_t max_body;  /* limit of buffered bodies (413 beyond) */
	/* Memory of a connection (libmicrohttpd's pool: headers and the read
	 * buffer, cleared for every request); 0: 256 KiB, for large reads of
	 * streamed bodies.  A service of small requests takes less. */
	size_t conn_memory;
	/* Connections open at once (0: RAP_HTTP_MAX_CONNS); one more is
	 * accepted and closed.  With a thread per connection this bounds the
	 * threads too. */
	unsigned max_conns;
	/* Connections open at once from one client address (0: no limit). */
	unsigned max_conns_per_ip;
	/* Seconds a connection may stay silent (no byte read or written)
	 * before it is closed (0: RAP_HTTP_IDLE_TIMEOUT). */
	unsigned idle_timeout;
	/* The service's routes (rap/http_route.h); none: only the common
	 * endpoints.  Paths no route takes are answered 404, methods a path
	 * does not take 405. */
	const struct rap_http_route *routes;
	size_t n_routes;
	const struct rap_auth *auth; /* API keys the routes ask for; NULL: none */
	void *svc;
	/** Readiness: true when the service can do its work; fills reason. */
	bool (*ready)(void *svc, char *reason, size_t len);
	/** Called when a request is done (for an access log). */
	void (*completed)(void *svc, const struct rap_http_req *req);
	struct rap_metrics *metrics;
};

#define RAP_HTTP_MAX_CONNS 1024
/* Past nginx's upstream keepalive_timeout (60 s): see docs/architecture.md. */
#define RAP_HTTP_IDLE_TIMEOUT 75
/* The admin listener's connections (rap_http_start_admin), a quarter of
 * them from one address; a health-only server (the worker's) takes the
 * same. */
#define RAP_HTTP_ADMIN_MAX_CONNS 64

struct rap_http_server;

/** Starts listening; RAP_EIO with a message in err if it cannot. */
int rap_http_start(const struct rap_http_cfg *cfg, struct rap_http_server **out, char *err);
/**
 * Starts the admin listener of a service whose main server has cfg: on
 * port, one thread of its own answering only /healthz, /readyz and
 * /metrics (404 otherwise), so a flood of the main port cannot starve
 * them.  Its requests are not counted in rap_http_requests_total.
 */
int rap_http_start_admin(const struct rap_http_cfg *cfg, unsigned port,
			 struct rap_http_server **out, char *err);
/** Stops the server and frees it; accepts NULL. */
void rap_http_stop(struct rap_http_server *srv);

/** Replies with a JSON text (copied). */
void rap_http_reply(struct rap_http_req *req, unsigned status, const char *json);
/**
 * A body made piece by piece while it is sent (rap_http_reply_stream):
 * writes at most max bytes into buf and returns how many, 0 at the end of
 * the body, or a negative rap_err to break the response off (the client
 * sees a chunked body cut short, never a complete-looking one).  Called
 * from the server's threads, one call at a time per response; it may
 * block (a database page), which holds that thread.
 */
typedef long (*rap_http_reader)(void *ctx, char *buf, size_t max);

/**
 * Replies with a streamed body of unknown length (chunked), produced by
 * reader as the client takes it, a block at a time (block: the size MHD
 * prefers; max, what fits its connection buffer), so what is held is the
 * reader's own bounded state, never the whole body.  The
 * response owns ctx from this call on and releases it with free_ctx (may
 * be NULL) when the response ends, however it ends.  For on_request
 * handlers (the request's body is in); headers set with rap_http_header
 * go with it.
 */
void rap_http_reply_stream(struct rap_http_req *req, unsigned status, const char *content_type,
			   size_t block, rap_http_reader reader, void *ctx,
			   void (*free_ctx)(void *ctx));

/**
 * Cuts a request whose body must not go on (a client too slow): answers
 * the problem details of rap_http_error with status and code at once, mid-body, and closes the
 * connection (MHD cannot queue an answer before the body's end, so the
 * answer is written to the socket, best effort, and the socket shut down;
 * MHD then ends the request and the handler's data_free runs as for a
 * client gone).  The access log and metrics see status.  The first cut of
 * a request wins; safe from any thread while the request is alive (before
 * its data_free returns).
 */
void rap_http_cut(struct rap_http_req *req, unsigned status, const char *code, const char *msg);

/**
 * Replies an error as RFC 9457 problem details (application/problem+json,
 * rap_problem_write): type, title, status, detail (the formatted message),
 * code and the request's request_id.
 */
void rap_http_error(struct rap_http_req *req, unsigned status, const char *code, const char *fmt,
		    ...) __attribute__((format(printf, 4, 5)));
/** Adds a header to the next reply of this request (copied). */
void rap_http_header(struct rap_http_req *req, const char *name, const char *value);
/** A query-string argument, or NULL. */
const char *rap_http_get_arg(struct rap_http_req *req, const char *name);
/** The value of the {name} segment of the request's route, or NULL. */
const char *rap_http_param(const struct rap_http_req *req, const char *name);
/** A request header, or NULL. */
const char *rap_http_get_header(struct rap_http_req *req, const char *name);

/** An HTTP date (RFC 7231 IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT")
 *  and the NUL. */
#define RAP_HTTP_DATE_LEN 32
/** Writes t as an HTTP date (tus's Upload-Expires, say). */
void rap_http_date(time_t t, char out[RAP_HTTP_DATE_LEN]);

/**
 * Resolves the request's API key (Authorization: Bearer KEY, or X-API-Key)
 * to an owner and stores it in req->owner (its id in req->key_id, its role
 * in req->admin).  Replies 401 and returns false
 * when the key is missing or unknown.
 */
bool rap_http_authenticate(struct rap_http_req *req, const struct rap_auth *auth);

#endif
