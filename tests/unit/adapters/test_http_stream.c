/* Tests of rap_http_reply_stream (lib/adapters/http/http.c): a real server
 * on a loopback port, read with libcurl. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rap/err.h"
#include "rap/http.h"

#include "loopback.h"

#define TOTAL (10 * 1024 * 1024)

struct gen {
	size_t sent, fail_at;
	size_t most; /* the largest block asked for */
};

static atomic_int freed;

static long gen_read(void *ctx, char *buf, size_t max)
{
	struct gen *g = ctx;
	size_t n = TOTAL - g->sent, i;

	if (g->fail_at && g->sent >= g->fail_at)
		return RAP_EIO;
	if (max > g->most)
		g->most = max;
	if (n > max)
		n = max;
	for (i = 0; i < n; i++)
		buf[i] = (char)('a' + (g->sent + i) % 26);
	g->sent += n;
	return (long)n;
}

static void gen_free(void *ctx)
{
	struct gen *g = ctx;

	cr_assert_leq(g->most, 256 * 1024, "a block fits the connection's buffer");
	free(g);
	atomic_fetch_add(&freed, 1);
}

static void stream_ok(void *svc, struct rap_http_req *req)
{
	struct gen *g = calloc(1, sizeof(*g));

	rap_http_header(req, "Content-Disposition", "attachment");
	rap_http_reply_stream(req, 200, "text/csv", 4096, gen_read, g, gen_free);
}

static void stream_broken(void *svc, struct rap_http_req *req)
{
	struct gen *g = calloc(1, sizeof(*g));

	g->fail_at = TOTAL / 2;
	rap_http_reply_stream(req, 200, "text/csv", 4096, gen_read, g, gen_free);
}

static const struct rap_http_route routes[] = {
	{ .method = "GET", .pattern = "/ok", .on_request = stream_ok },
	{ .method = "GET", .pattern = "/broken", .on_request = stream_broken },
};

struct body {
	size_t len;
	bool in_order;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct body *b = ud;
	size_t i;

	for (i = 0; i < size * n; i++)
		b->in_order = b->in_order && p[i] == (char)('a' + (b->len + i) % 26);
	b->len += size * n;
	return size * n;
}

static CURLcode get(unsigned port, const char *path, struct body *b, char *ctype)
{
	char url[64], *ct = NULL;
	CURL *curl = curl_easy_init();
	CURLcode rc;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
	b->len = 0;
	b->in_order = true;
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, b);
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &ct);
	snprintf(ctype, 64, "%s", ct ? ct : "");
	curl_easy_cleanup(curl);
	return rc;
}

Test(http_stream, a_body_streams_in_blocks_and_its_state_is_freed_once)
{
	struct rap_http_cfg cfg = {
		.bind = "127.0.0.1", .threads = 2, .max_body = 1024, .routes = routes, .n_routes = 2
	};
	struct rap_http_server *srv;
	char err[RAP_ERRLEN], ctype[64];
	struct body b;

	cfg.port = loopback_free_port();
	cr_assert_eq(rap_http_start(&cfg, &srv, err), RAP_OK, "%s", err);
	cr_assert_eq(get(cfg.port, "/ok", &b, ctype), CURLE_OK);
	cr_assert_eq(b.len, TOTAL);
	cr_assert(b.in_order);
	cr_assert_str_eq(ctype, "text/csv");
	/* Broken off: the client sees an error, not a short complete body. */
	cr_assert_neq(get(cfg.port, "/broken", &b, ctype), CURLE_OK);
	cr_assert_lt(b.len, TOTAL);
	rap_http_stop(srv);
	cr_assert_eq(atomic_load(&freed), 2);
}
