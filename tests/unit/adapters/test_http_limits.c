/* Tests of the HTTP server's limits and its own errors (issue 15, points 3
 * and 5; lib/adapters/http/http.c): a real server on a loopback port, raw
 * sockets. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rap/err.h"
#include "rap/http.h"

#include "loopback.h"

static void echo(void *svc, struct rap_http_req *req)
{
	rap_http_reply(req, 200, "{\"ok\":true}");
}

static const struct rap_http_route routes[] = {
	{ .method = "POST", .pattern = "/echo", .on_request = echo },
};

static int dial(unsigned port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int s = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(s, (struct sockaddr *)&a, sizeof(a)), 0);
	return s;
}

/* True when the server closed s within ms (end of stream or a reset). */
static bool closed_within(int s, int ms)
{
	struct pollfd p = { .fd = s, .events = POLLIN };
	char c;

	if (poll(&p, 1, ms) != 1)
		return false;
	return recv(s, &c, 1, MSG_DONTWAIT) <= 0;
}

/* Sends req on a fresh connection and reads the answer until the server
 * closes it (5 s at most) into out. */
static void exchange(unsigned port, const char *req, size_t req_len, char *out, size_t max)
{
	int s = dial(port);
	size_t n = 0, off = 0;
	ssize_t r;
	struct pollfd p = { .fd = s, .events = POLLIN };

	while (off < req_len) {
		r = send(s, req + off, req_len - off, MSG_NOSIGNAL);
		if (r <= 0)
			break; /* the server may answer and close before all of it */
		off += (size_t)r;
	}
	shutdown(s, SHUT_WR);
	while (n + 1 < max && poll(&p, 1, 5000) == 1) {
		r = recv(s, out + n, max - 1 - n, 0);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	out[n] = '\0';
	close(s);
}

static struct rap_http_server *start(struct rap_http_cfg *cfg)
{
	struct rap_http_server *srv;
	char err[RAP_ERRLEN];

	cfg->bind = "127.0.0.1";
	cfg->port = loopback_free_port();
	cfg->max_body = 1024;
	cfg->routes = routes;
	cfg->n_routes = 1;
	cr_assert_eq(rap_http_start(cfg, &srv, err), RAP_OK, "%s", err);
	return srv;
}

Test(http_limits, a_connection_past_the_per_address_limit_is_closed_at_once)
{
	struct rap_http_cfg cfg = { .threads = 0, .max_conns_per_ip = 2 };
	struct rap_http_server *srv = start(&cfg);
	int a = dial(cfg.port), b = dial(cfg.port), c = dial(cfg.port);

	cr_assert(closed_within(c, 2000), "the third connection is closed");
	cr_assert_not(closed_within(a, 200), "the first two stay");
	cr_assert_not(closed_within(b, 1), "the first two stay");
	close(a);
	close(b);
	close(c);
	rap_http_stop(srv);
}

Test(http_limits, a_connection_past_the_total_limit_is_not_served)
{
	struct rap_http_cfg cfg = { .threads = 0, .max_conns = 2 };
	struct rap_http_server *srv = start(&cfg);
	int a = dial(cfg.port), b = dial(cfg.port), c = dial(cfg.port);
	const char *req = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
	char buf[256];
	struct pollfd p = { .fd = c, .events = POLLIN };

	cr_assert_not(closed_within(a, 200));
	/* At the limit MHD stops accepting: the third waits (or is closed),
	 * unanswered, until a place frees. */
	cr_assert_eq(send(c, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
	if (poll(&p, 1, 300) == 1)
		cr_assert_leq(recv(c, buf, sizeof(buf), MSG_DONTWAIT), 0, "not answered");
	close(a);
	close(b);
	close(c);
	rap_http_stop(srv);
}

Test(http_limits, an_idle_connection_is_closed_after_the_idle_timeout)
{
	struct rap_http_cfg cfg = { .threads = 2, .idle_timeout = 1 };
	struct rap_http_server *srv = start(&cfg);
	int s = dial(cfg.port);

	cr_assert_not(closed_within(s, 300), "not before the timeout");
	cr_assert(closed_within(s, 4000), "closed after about a second of silence");
	close(s);
	rap_http_stop(srv);
}

Test(http_limits, the_admin_listener_answers_health_and_nothing_else)
{
	struct rap_http_cfg cfg = { .threads = 0 };
	struct rap_http_server *srv = start(&cfg), *admin;
	unsigned port = loopback_free_port();
	char err[RAP_ERRLEN], buf[2048];
	const char *h = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	const char *e = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
			"Connection: close\r\n\r\n";

	cr_assert_eq(rap_http_start_admin(&cfg, port, &admin, err), RAP_OK, "%s", err);
	exchange(port, h, strlen(h), buf, sizeof(buf));
	cr_assert(strncmp(buf, "HTTP/1.1 200", 12) == 0, "%s", buf);
	cr_assert(strstr(buf, "{\"status\":\"ok\"}"), "%s", buf);
	exchange(port, e, strlen(e), buf, sizeof(buf));
	cr_assert(strncmp(buf, "HTTP/1.1 404", 12) == 0, "%s", buf);
	exchange(cfg.port, e, strlen(e), buf, sizeof(buf));
	cr_assert(strncmp(buf, "HTTP/1.1 200", 12) == 0, "%s", buf);
	rap_http_stop(admin);
	rap_http_stop(srv);
}

/* The answer to req is status with the platform's problem+json of code. */
static void assert_json_error(unsigned port, const char *req, size_t len, unsigned status,
			      const char *code)
{
	char buf[4096], want[128];
	const char *body;

	exchange(port, req, len, buf, sizeof(buf));
	snprintf(want, sizeof(want), "HTTP/1.1 %u ", status);
	cr_assert(strncmp(buf, want, strlen(want)) == 0, "%s", buf);
	cr_assert(strstr(buf, "Content-Type: application/problem+json\r\n"), "%s", buf);
	body = strstr(buf, "\r\n\r\n");
	cr_assert(body, "%s", buf);
	snprintf(want, sizeof(want), "{\"type\":\"/problems/%s\",\"title\":\"", code);
	cr_assert(strncmp(body + 4, want, strlen(want)) == 0, "%s", body + 4);
	snprintf(want, sizeof(want), "\"status\":%u,\"detail\":\"", status);
	cr_assert(strstr(body, want), "%s", body + 4);
	snprintf(want, sizeof(want), "\"code\":\"%s\"", code);
	cr_assert(strstr(body, want), "%s", body + 4);
	cr_assert(strstr(body, "\"request_id\":\""), "%s", body + 4);
	cr_assert_null(strstr(buf, "<html>"), "%s", buf);
	cr_assert_null(strstr(buf + 1, "HTTP/1.1 "), "one answer: %s", buf);
}

Test(http_limits, one_address_holds_a_quarter_of_the_admin_listener)
{
	struct rap_http_cfg cfg = { .threads = 0 };
	struct rap_http_server *srv = start(&cfg), *admin;
	unsigned port = loopback_free_port();
	int held[RAP_HTTP_ADMIN_MAX_CONNS / 4], extra;
	char err[RAP_ERRLEN];
	size_t i;

	cr_assert_eq(rap_http_start_admin(&cfg, port, &admin, err), RAP_OK, "%s", err);
	for (i = 0; i < sizeof(held) / sizeof(held[0]); i++)
		held[i] = dial(port);
	extra = dial(port);
	cr_assert(closed_within(extra, 2000), "one more from the same address is closed");
	cr_assert_not(closed_within(held[0], 200), "the first ones stay");
	for (i = 0; i < sizeof(held) / sizeof(held[0]); i++)
		close(held[i]);
	close(extra);
	rap_http_stop(admin);
	rap_http_stop(srv);
}

Test(http_errors, what_libmicrohttpd_refuses_itself_is_answered_in_json)
{
	struct rap_http_cfg cfg = { .threads = 0, .conn_memory = 32 * 1024 };
	struct rap_http_server *srv = start(&cfg);
	const char *chunk = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
			    "ZZ\r\n{}\r\n0\r\n\r\n";
	const char *garbage = "\x01GARBAGE\x02 !!\r\n\r\n";
	const char *version = "GET /healthz HTTP/3.0\r\nHost: x\r\n\r\n";
	const char *bad_length = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n";
	const char *huge_length = "POST /echo HTTP/1.1\r\nHost: x\r\n"
				  "Content-Length: 99999999999999999999999\r\n\r\n";
	size_t big = 64 * 1024;
	char *huge = malloc(big + 128);
	int n;

	assert_json_error(cfg.port, chunk, strlen(chunk), 400, "bad_request");
	assert_json_error(cfg.port, garbage, strlen(garbage), 400, "bad_request");
	assert_json_error(cfg.port, version, strlen(version), 505, "http_version_not_supported");
	assert_json_error(cfg.port, bad_length, strlen(bad_length), 400, "bad_request");
	assert_json_error(cfg.port, huge_length, strlen(huge_length), 413, "payload_too_large");
	n = snprintf(huge, 64, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ");
	memset(huge + n, 'a', big);
	memcpy(huge + n + big, "\r\n\r\n", 4);
	assert_json_error(cfg.port, huge, (size_t)n + big + 4, 431, "headers_too_large");
	free(huge);
	rap_http_stop(srv);
}

Test(http_errors, content_length_with_transfer_encoding_is_refused_and_closed)
{
	struct rap_http_cfg cfg = { .threads = 2 };
	struct rap_http_server *srv = start(&cfg);
	const char *req = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
			  "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
			  "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
	char buf[4096];

	assert_json_error(cfg.port, req, strlen(req), 400, "bad_request");
	exchange(cfg.port, req, strlen(req), buf, sizeof(buf));
	cr_assert(strstr(buf, "Connection: close\r\n"), "%s", buf);
	/* The request after it on the connection is never read. */
	cr_assert_null(strstr(buf, "\"ok\":true"), "%s", buf);
	rap_http_stop(srv);
}

Test(http_errors, a_long_unknown_path_is_not_echoed)
{
	struct rap_http_cfg cfg = { .threads = 2 };
	struct rap_http_server *srv = start(&cfg);
	size_t len = 10 * 1024;
	char *req = malloc(len + 128), buf[4096];
	int n = snprintf(req, 16, "GET /");

	memset(req + n, 'a', len);
	memcpy(req + n + len, " HTTP/1.1\r\nHost: x\r\n\r\n", 23);
	assert_json_error(cfg.port, req, (size_t)n + len + 22, 404, "not_found");
	exchange(cfg.port, req, (size_t)n + len + 22, buf, sizeof(buf));
	cr_assert(strstr(buf, "no such endpoint (a path of 10241 bytes)"), "%s", buf);
	free(req);
	rap_http_stop(srv);
}
