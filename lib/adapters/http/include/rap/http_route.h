#ifndef RAP_HTTP_ROUTE_H
#define RAP_HTTP_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

struct rap_http_req;
enum rap_http_phase;

/** A handler called in each phase of a request (rap/http.h): for bodies
 *  that stream, and answers that depend on the headers alone. */
typedef void (*rap_http_phase_handler)(void *svc, struct rap_http_req *req,
				       enum rap_http_phase phase, const char *data, size_t len);
/** A handler called once, when the request's body is in (buffered, up to
 *  the server's max_body). */
typedef void (*rap_http_handler)(void *svc, struct rap_http_req *req);

/*
 * A service's routes are a table (nginx's ngx_http_core_commands[]): method,
 * path pattern, handler.  A pattern is a path of '/'-separated segments,
 * each a literal or {name}, which matches one non-empty segment and
 * captures it (rap_http_param).  A trailing '/' of the request's path is
 * ignored: "/jobs/" is "/jobs".  The first pattern of the table that
 * matches a path names its resource.  The server matches a request's method and
 * path against the table when its headers are in; a path that no pattern
 * matches is answered 404, a path some pattern matches for other methods
 * only is answered 405 with an Allow header.  Where the server has API keys
 * (rap_http_cfg.auth), a route that is not anonymous answers 401 to a
 * request without a known key before its handler sees it.
 */
struct rap_http_route {
	const char *method; /* "GET", "POST", ...; NULL for every method */
	const char *pattern;
	rap_http_handler on_request;     /* once, with the body; or: */
	rap_http_phase_handler on_phase; /* in every phase */
	bool anonymous;                  /* no API key asked, even where the server checks them */
	/* The request's path honours X-HTTP-Method-Override (tus 1.0 asks
	 * servers to): a request whose own method finds this route is routed
	 * again by the method the header names, when it sends one.  Handlers
	 * and the access log still see the method on the wire in req->method. */
	bool method_override;
};

/** The most {name} segments one pattern may have. */
#define RAP_HTTP_ROUTE_PARAMS 4

/** What matching found. */
struct rap_http_match {
	const struct rap_http_route *route; /* NULL when none matched */
	unsigned n;
	const char *names[RAP_HTTP_ROUTE_PARAMS]; /* into the pattern, up to its '}' */
	size_t name_lens[RAP_HTTP_ROUTE_PARAMS];
	char *values[RAP_HTTP_ROUTE_PARAMS]; /* owned copies of the segments */
	char allow[64]; /* on RAP_EUNSUPPORTED: "GET, POST", the methods the path takes */
};

/**
 * Matches method and path against the n routes.  The first pattern that
 * matches the path names the resource (so literal routes go before
 * patterns with captures that would match them too); the routes with that
 * same pattern say which methods it takes.  RAP_OK with m->route and the captured values; RAP_ENOENT when no pattern
 * matches the path; RAP_EUNSUPPORTED when some do, but for other methods
 * (m->allow lists them).  Release m with rap_http_match_cleanup whatever
 * the result.
 */
int rap_http_route_match(const struct rap_http_route *routes, size_t n, const char *method,
			 const char *path, struct rap_http_match *m);
void rap_http_match_cleanup(struct rap_http_match *m);

/** The value a {name} segment of the matched pattern captured, or NULL. */
const char *rap_http_match_param(const struct rap_http_match *m, const char *name);

/** The request header that names the method a request stands for, where
 *  a route honours it (rap_http_route.method_override): tus clients
 *  behind proxies that pass only GET and POST send it. */
#define RAP_HTTP_METHOD_OVERRIDE "X-HTTP-Method-Override"

/**
 * How the server routes a request: rap_http_route_match by its own method,
 * then, when the route found honours X-HTTP-Method-Override and the request
 * sends one (override, NULL when it has none; an empty one is a method no
 * route takes), by the method the header names.  Results as
 * rap_http_route_match.
 */
int rap_http_route_find(const struct rap_http_route *routes, size_t n, const char *method,
			const char *override, const char *path, struct rap_http_match *m);

#endif
