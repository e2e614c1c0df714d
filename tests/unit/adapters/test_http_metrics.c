/* Tests of the HTTP server's duration histograms (issue 16, point 2;
 * lib/adapters/http/http.c): a real server on a loopback port, raw
 * sockets, its registry rendered. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rap/buf.h"
#include "rap/clock.h"
#include "rap/err.h"
#include "rap/http.h"
#include "rap/metrics.h"

#include "loopback.h"

static void item(void *svc, struct rap_http_req *req)
{
	if (strcmp(rap_http_param(req, "id"), "a") == 0)
		rap_http_reply(req, 200, "{\"ok\":true}");
	else
		rap_http_error(req, 404, "not_found", "no such item");
}

static void echo(void *svc, struct rap_http_req *req)
{
	rap_http_reply(req, 200, "{\"ok\":true}");
}

static const struct rap_http_route routes[] = {
	{ .method = "GET", .pattern = "/items/{id}", .on_request = item },
	{ .method = "POST", .pattern = "/echo", .on_request = echo },
};

/* Sends req on a fresh connection and reads until the server closes it. */
static void exchange(unsigned port, const char *req)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct pollfd p = { .fd = s, .events = POLLIN };
	char buf[4096];

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(s, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(send(s, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
	shutdown(s, SHUT_WR);
	while (poll(&p, 1, 5000) == 1 && recv(s, buf, sizeof(buf), 0) > 0)
		;
	close(s);
}

/* True when the registry's text holds every line of want within 5 s (the
 * server counts a request when MHD is done with it, just after the
 * answer goes out). */
static bool renders(struct rap_metrics *m, const char *const *want, size_t n, struct rap_buf *out)
{
	int64_t end = rap_now_ms() + 5000;
	size_t i;

	do {
		out->len = 0;
		cr_assert_eq(rap_metrics_render(m, out), RAP_OK);
		for (i = 0; i < n && strstr(out->data, want[i]); i++)
			;
		if (i == n)
			return true;
		usleep(10000);
	} while (rap_now_ms() < end);
	return false;
}

Test(http_metrics, requests_are_timed_by_route_pattern_method_and_status_class)
{
	struct rap_metrics *m = rap_metrics_new();
	struct rap_http_cfg cfg = { .bind = "127.0.0.1", .max_body = 1024, .threads = 0 };
	struct rap_http_server *srv;
	struct rap_buf out;
	char err[RAP_ERRLEN];
	static const char *const want[] = {
		"rap_http_request_duration_seconds_count{method=\"GET\",route=\"/items/{id}\","
		"class=\"2xx\"} 2\n",
		"rap_http_request_duration_seconds_count{method=\"GET\",route=\"/items/{id}\","
		"class=\"4xx\"} 1\n",
		"rap_http_request_duration_seconds_count{method=\"POST\",route=\"/echo\","
		"class=\"2xx\"} 1\n",
		"rap_http_request_duration_seconds_count{method=\"*\",route=\"unmatched\","
		"class=\"4xx\"} 1\n",
		"rap_http_request_duration_seconds_bucket{method=\"GET\",route=\"/items/{id}\","
		"class=\"2xx\",le=\"10\"} 2\n",
		/* The acknowledgement of a body, for the methods that send one. */
		"rap_http_request_ack_seconds_count{method=\"POST\",route=\"/echo\"} 1\n",
	};

	cfg.port = loopback_free_port();
	cfg.routes = routes;
	cfg.n_routes = 2;
	cfg.metrics = m;
	cr_assert_eq(rap_http_start(&cfg, &srv, err), RAP_OK, "%s", err);
	exchange(cfg.port, "GET /items/a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	exchange(cfg.port, "GET /items/a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	exchange(cfg.port, "GET /items/b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	exchange(cfg.port, "GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	exchange(cfg.port, "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
			   "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
	rap_buf_init(&out, 1024 * 1024);
	cr_assert(renders(m, want, sizeof(want) / sizeof(want[0]), &out), "%s", out.data);
	/* The raw path is never a label, and a GET has no acknowledgement. */
	cr_assert_null(strstr(out.data, "/items/a"));
	cr_assert_null(strstr(out.data, "rap_http_request_ack_seconds_count{method=\"GET\""));
	rap_buf_cleanup(&out);
	rap_http_stop(srv);
	rap_metrics_free(m);
}
