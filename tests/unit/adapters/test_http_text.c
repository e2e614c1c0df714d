/* Tests of lib/adapters/http/http.c: a path or query argument that is not
 * text is refused with 400 before any route, and no error body echoes such
 * bytes raw.  A real server on a loopback port, read with libcurl. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rap/buf.h"
#include "rap/err.h"
#include "rap/http.h"

#include "loopback.h"
#include "rap/str.h"

static void item(void *svc, struct rap_http_req *req)
{
	(void)svc;
	rap_http_reply(req, 200, "{\"ok\":true}");
}

static const struct rap_http_route routes[] = {
	{ .method = "GET", .pattern = "/items/{id}", .on_request = item },
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	rap_buf_append(ud, p, size * n);
	return size * n;
}

/* GETs path (sent as it is) and returns the status; the body's error
 * message (or "" when there is none) goes to msg. */
static long get(unsigned port, const char *path, char *msg, size_t size)
{
	struct json_object *o, *m;
	struct rap_buf b;
	char url[256];
	CURL *curl = curl_easy_init();
	long status = 0;

	rap_buf_init(&b, 65536);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
	cr_assert_eq(curl_easy_perform(curl), CURLE_OK);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(curl);
	cr_assert(rap_utf8_valid(b.data ? b.data : "", b.len), "not UTF-8: %.*s", (int)b.len,
		  b.data);
	o = json_tokener_parse(b.data ? b.data : "");
	cr_assert_not_null(o, "not JSON: %.*s", (int)b.len, b.data);
	snprintf(msg, size, "%s",
		 json_object_object_get_ex(o, "detail", &m) ? json_object_get_string(m) : "");
	json_object_put(o);
	rap_buf_cleanup(&b);
	return status;
}

Test(http_text, a_path_or_query_that_is_not_text_is_400_and_never_echoed)
{
	struct rap_http_cfg cfg = {
		.bind = "127.0.0.1", .threads = 1, .max_body = 1024, .routes = routes, .n_routes = 1
	};
	struct rap_http_server *srv;
	char err[RAP_ERRLEN], msg[512];

	cfg.port = loopback_free_port();
	cr_assert_eq(rap_http_start(&cfg, &srv, err), RAP_OK, "%s", err);
	cr_assert_eq(get(cfg.port, "/items/caf%C3%A9", msg, sizeof(msg)), 200);
	/* 0xff, an overlong '/', a surrogate, a control character: in a
	 * routed path and in a path no route takes (once echoed raw). */
	cr_assert_eq(get(cfg.port, "/items/%FF", msg, sizeof(msg)), 400);
	cr_assert(strstr(msg, "path"), "%s", msg);
	cr_assert_eq(get(cfg.port, "/items/a%C0%AF", msg, sizeof(msg)), 400);
	cr_assert_eq(get(cfg.port, "/no/%ED%A0%80", msg, sizeof(msg)), 400);
	cr_assert_eq(get(cfg.port, "/no/a%01b", msg, sizeof(msg)), 400);
	cr_assert_eq(get(cfg.port, "/items/x?q=%FF", msg, sizeof(msg)), 400);
	cr_assert(strstr(msg, "'q'"), "%s", msg);
	cr_assert_eq(get(cfg.port, "/items/x?q%FE=1", msg, sizeof(msg)), 400);
	cr_assert_eq(get(cfg.port, "/items/x?q=%E2%82%AC", msg, sizeof(msg)), 200);
	rap_http_stop(srv);
}
