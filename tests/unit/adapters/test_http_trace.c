/* Tests of lib/adapters/http/http.c: W3C traceparent.  A request continues
 * a valid traceparent (or starts a trace, never failing), its handler's
 * thread logs with that trace, and the answer carries it back.  A real
 * server on a loopback port, read with libcurl. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "rap/err.h"
#include "rap/http.h"
#include "rap/log.h"
#include "rap/trace.h"

#include "loopback.h"

/* What the handler saw: the thread's trace while it ran. */
static char seen_trace[RAP_TRACE_ID_LEN], seen_span[RAP_SPAN_ID_LEN];

static void item(void *svc, struct rap_http_req *req)
{
	const struct rap_trace *t = rap_log_trace();

	(void)svc;
	snprintf(seen_trace, sizeof(seen_trace), "%s", t ? t->trace_id : "");
	snprintf(seen_span, sizeof(seen_span), "%s", t ? t->span_id : "");
	rap_http_reply(req, 200, "{\"ok\":true}");
}

static const struct rap_http_route routes[] = {
	{ .method = "GET", .pattern = "/items", .on_request = item },
};

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	char *out = ud;
	size_t len = size * n;

	if (len > 13 && strncasecmp(p, "traceparent: ", 13) == 0)
		snprintf(out, RAP_TRACEPARENT_LEN, "%.*s", (int)(len - 13), p + 13);
	return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return size * n;
}

/* GETs /items with traceparent value (none when NULL); the answer's
 * traceparent goes to out. */
static long get(unsigned port, const char *value, char out[RAP_TRACEPARENT_LEN])
{
	char url[128], hdr[256];
	struct curl_slist *h = NULL;
	CURL *curl = curl_easy_init();
	long status = 0;

	out[0] = '\0';
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/items", port);
	if (value) {
		snprintf(hdr, sizeof(hdr), "traceparent: %s", value);
		h = curl_slist_append(h, hdr);
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, out);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	cr_assert_eq(curl_easy_perform(curl), CURLE_OK);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(curl);
	curl_slist_free_all(h);
	return status;
}

Test(http_trace, a_valid_traceparent_is_continued_logged_and_answered)
{
	struct rap_http_cfg cfg = {
		.bind = "127.0.0.1", .threads = 1, .max_body = 1024, .routes = routes, .n_routes = 1
	};
	struct rap_http_server *srv;
	struct rap_trace back;
	char err[RAP_ERRLEN], tp[RAP_TRACEPARENT_LEN];

	cfg.port = loopback_free_port();
	cr_assert_eq(rap_http_start(&cfg, &srv, err), RAP_OK, "%s", err);
	cr_assert_eq(get(cfg.port, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", tp),
		     200);
	cr_assert(rap_trace_parse(tp, &back), "answered: '%s'", tp);
	cr_assert_str_eq(back.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
	cr_assert_str_eq(back.flags, "00");
	cr_assert_str_eq(seen_trace, "4bf92f3577b34da6a3ce929d0e0e4736", "the handler logs in it");
	cr_assert_eq(strncmp(tp + 36, seen_span, 16), 0, "the answer names the request's span");
	cr_assert_neq(strncmp(tp + 36, "00f067aa0ba902b7", 16), 0, "a span of its own");
	rap_http_stop(srv);
}

Test(http_trace, an_invalid_or_missing_traceparent_starts_a_trace)
{
	static const char *const bad[] = {
		NULL,
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
		"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
		"junk",
	};
	struct rap_http_cfg cfg = {
		.bind = "127.0.0.1", .threads = 1, .max_body = 1024, .routes = routes, .n_routes = 1
	};
	struct rap_http_server *srv;
	struct rap_trace back;
	char err[RAP_ERRLEN], tp[RAP_TRACEPARENT_LEN];
	size_t i;

	cfg.port = loopback_free_port();
	cr_assert_eq(rap_http_start(&cfg, &srv, err), RAP_OK, "%s", err);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(get(cfg.port, bad[i], tp), 200, "%s", bad[i] ? bad[i] : "(none)");
		cr_assert(rap_trace_parse(tp, &back), "answered: '%s'", tp);
		cr_assert_str_neq(back.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
		cr_assert_str_neq(back.trace_id, "4BF92F3577B34DA6A3CE929D0E0E4736");
		cr_assert_str_eq(seen_trace, back.trace_id);
	}
	rap_http_stop(srv);
}
