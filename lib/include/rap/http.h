#ifndef RAP_HTTP_H
#define RAP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rap/mem.h"

struct MHD_Connection;
struct rap_metrics;
struct rap_auth;

/*
 * A thin HTTP server over libmicrohttpd shared by the services.  It answers
 * /healthz, /readyz and /metrics itself, gives every request an id (the
 * client's X-Request-Id when it is sane), buffers JSON bodies up to a
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
	char request_id[65];
	const char *owner;      /* set by rap_http_authenticate */
	struct rap_buf body;    /* the buffered body (not with stream) */
	bool stream;            /* set in BEGIN to receive DATA calls */
	bool defer_reply;       /* set in BEGIN: replies wait for the body's
				   end (an early answer behind a streaming
				   proxy reaches the client as a 502) */
	bool replied;
	unsigned status;
	int64_t started_ms;
	uint64_t body_bytes;
	void *data;             /* the handler's per-request state */
	void (*data_free)(void *data);
};

/**
 * The service's handler, called in each phase.  It must have replied by the
 * end of RAP_HTTP_END (the server answers 500 otherwise).  Replies queued in
 * RAP_HTTP_DATA are held until the body ends (MHD cannot answer mid-body);
 * use rap_http_fail for that.
 */
typedef void (*rap_http_handler)(void *svc, struct rap_http_req *req,
				 enum rap_http_phase phase, const char *data,
				 size_t len);

struct rap_http_cfg {
	const char *bind;
	unsigned port;
	unsigned threads;        /* thread pool size; 0 = thread per connection */
	size_t max_body;         /* limit of buffered bodies (413 beyond) */
	rap_http_handler handler;/* NULL: only the common endpoints */
	void *svc;
	/** Readiness: true when the service can do its work; fills reason. */
	bool (*ready)(void *svc, char *reason, size_t len);
	/** Called when a request is done (for an access log). */
	void (*completed)(void *svc, const struct rap_http_req *req);
	struct rap_metrics *metrics;
};

struct rap_http_server;

/** Starts listening; RAP_EIO with a message in err if it cannot. */
int rap_http_start(const struct rap_http_cfg *cfg, struct rap_http_server **out,
		   char *err);
/** Stops the server and frees it; accepts NULL. */
void rap_http_stop(struct rap_http_server *srv);

/** Replies with a JSON text (copied). */
void rap_http_reply(struct rap_http_req *req, unsigned status, const char *json);
/** Replies {"error":{"status","code","message","request_id"}}. */
void rap_http_error(struct rap_http_req *req, unsigned status, const char *code,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/** Adds a header to the next reply of this request (copied). */
void rap_http_header(struct rap_http_req *req, const char *name, const char *value);
/** A query-string argument, or NULL. */
const char *rap_http_get_arg(struct rap_http_req *req, const char *name);
/** A request header, or NULL. */
const char *rap_http_get_header(struct rap_http_req *req, const char *name);

/**
 * Resolves the request's API key (Authorization: Bearer KEY, or X-API-Key)
 * to an owner and stores it in req->owner.  Replies 401 and returns false
 * when the key is missing or unknown.
 */
bool rap_http_authenticate(struct rap_http_req *req, const struct rap_auth *auth);

#endif
