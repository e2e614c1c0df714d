/* Tests of lib/domain/webhook_send.c: a webhook's POST connects only where
 * the policy lets it.  The receiver is a socket of this test on 127.0.0.1;
 * the URL names receiver.invalid, which CURLOPT_RESOLVE maps to it (the
 * .invalid name never resolves otherwise): a name that resolves to loopback,
 * as DNS rebinding would make one. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "rap/webhook_send.h"

struct receiver {
	int fd;
	int port;
	const char *answer; /* the status line and headers it answers */
	char request[4096];
	pthread_t thread;
};

static void receiver_open(struct receiver *r, const char *answer)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t n = sizeof(a);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r->answer = answer;
	r->fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(r->fd, 0);
	cr_assert_eq(bind(r->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(r->fd, 4), 0);
	cr_assert_eq(getsockname(r->fd, (struct sockaddr *)&a, &n), 0);
	r->port = ntohs(a.sin_port);
}

/* Accepts one connection, reads the request (headers and the 2-byte body),
 * answers, closes. */
static void *receiver_run(void *arg)
{
	struct receiver *r = arg;
	size_t got = 0;
	char *end = NULL;
	int c = accept(r->fd, NULL, NULL);

	if (c < 0)
		return NULL;
	while (got < sizeof(r->request) - 1) {
		ssize_t k = recv(c, r->request + got, sizeof(r->request) - 1 - got, 0);

		if (k <= 0)
			break;
		got += (size_t)k;
		r->request[got] = '\0';
		end = strstr(r->request, "\r\n\r\n");
		if (end && strlen(end + 4) >= 2)
			break;
	}
	if (send(c, r->answer, strlen(r->answer), MSG_NOSIGNAL) < 0)
		perror("send");
	close(c);
	return NULL;
}

/* POSTs to receiver.invalid:port (resolved to 127.0.0.1) with the allow-list
 * given; returns the outcome, why in why. */
static int post(struct receiver *r, const char *allowed, struct rap_webhook_send *s, char *why)
{
	char url[64], map[64], detail[RAP_ERRLEN], err[RAP_ERRLEN];
	struct rap_webhook w = { .id = 7, .body = (char *)"{}" };
	const struct rap_webhook_send_opts o = {
		.secret = "k",
		.allowed_hosts = allowed,
		.connect_timeout_ms = 2000,
		.timeout_ms = 5000,
	};
	struct curl_slist *resolve;
	int result;

	snprintf(url, sizeof(url), "http://receiver.invalid:%d/hook", r->port);
	snprintf(map, sizeof(map), "receiver.invalid:%d:127.0.0.1", r->port);
	w.url = url;
	cr_assert_eq(rap_webhook_send_init(s, &o, &w, err), RAP_OK, "%s", err);
	resolve = curl_slist_append(NULL, map);
	curl_easy_setopt(s->curl, CURLOPT_RESOLVE, resolve);
	result = rap_webhook_send_outcome(s, curl_easy_perform(s->curl), why, detail);
	curl_slist_free_all(resolve);
	return result;
}

Test(webhook_send, a_name_that_resolves_to_loopback_is_refused_without_a_connection)
{
	struct receiver r;
	struct rap_webhook_send s;
	struct pollfd p;
	char why[RAP_ERRLEN];

	receiver_open(&r, "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(post(&r, "", &s, why), RAP_EIO);
	cr_assert_str_eq(why, "refused: the address is not allowed");
	cr_assert_geq(s.refused, 1);
	rap_webhook_send_cleanup(&s);
	cr_assert_eq(post(&r, "other.invalid,127.0.0.2", &s, why), RAP_EIO,
		     "other hosts on the list open nothing");
	rap_webhook_send_cleanup(&s);
	p = (struct pollfd){ .fd = r.fd, .events = POLLIN };
	cr_assert_eq(poll(&p, 1, 0), 0, "the receiver saw no connection");
	close(r.fd);
}

Test(webhook_send, an_allowed_name_is_posted_to_signed_and_without_the_proxy_of_the_env)
{
	struct receiver r;
	struct rap_webhook_send s;
	char why[RAP_ERRLEN];

	/* Were the environment's proxy used, the POST would go to a closed
	 * loopback port and fail. */
	setenv("http_proxy", "http://127.0.0.1:1", 1);
	setenv("ALL_PROXY", "http://127.0.0.1:1", 1);
	receiver_open(&r, "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n");
	pthread_create(&r.thread, NULL, receiver_run, &r);
	cr_assert_eq(post(&r, "a.invalid, receiver.invalid", &s, why), RAP_OK, "%s", why);
	pthread_join(r.thread, NULL);
	rap_webhook_send_cleanup(&s);
	close(r.fd);
	cr_assert(strstr(r.request, "POST /hook HTTP/1.1\r\n"), "%s", r.request);
	cr_assert(strstr(r.request, "X-Rap-Delivery: 7\r\n"), "%s", r.request);
	cr_assert(strstr(r.request, "X-Rap-Signature: sha256="), "%s", r.request);
}

Test(webhook_send, a_failure_shows_only_its_class)
{
	static const struct {
		const char *answer, *why;
	} cases[] = {
		{ "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
		  "the receiver answered HTTP 4xx" },
		{ "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n",
		  "the receiver answered HTTP 5xx" },
		{ "HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n",
		  "the receiver answered HTTP 3xx (redirects are not followed)" },
		{ "SSH-2.0-OpenSSH_9.2\r\n", "unreachable" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct receiver r;
		struct rap_webhook_send s;
		char why[RAP_ERRLEN];

		receiver_open(&r, cases[i].answer);
		pthread_create(&r.thread, NULL, receiver_run, &r);
		cr_assert_eq(post(&r, "receiver.invalid", &s, why), RAP_EIO);
		pthread_join(r.thread, NULL);
		rap_webhook_send_cleanup(&s);
		close(r.fd);
		cr_assert_str_eq(why, cases[i].why);
	}
}

Test(webhook_send, a_receiver_that_does_not_answer_times_out)
{
	struct receiver r;
	struct rap_webhook_send s;
	char url[64], map[64], why[RAP_ERRLEN], detail[RAP_ERRLEN], err[RAP_ERRLEN];
	struct rap_webhook w = { .id = 8, .body = (char *)"{}" };
	const struct rap_webhook_send_opts o = {
		.secret = "",
		.allowed_hosts = "receiver.invalid",
		.connect_timeout_ms = 2000,
		.timeout_ms = 300,
	};
	struct curl_slist *resolve;

	receiver_open(&r, ""); /* listens, never accepts: the kernel completes the connect */
	snprintf(url, sizeof(url), "http://receiver.invalid:%d/", r.port);
	snprintf(map, sizeof(map), "receiver.invalid:%d:127.0.0.1", r.port);
	w.url = url;
	cr_assert_eq(rap_webhook_send_init(&s, &o, &w, err), RAP_OK, "%s", err);
	resolve = curl_slist_append(NULL, map);
	curl_easy_setopt(s.curl, CURLOPT_RESOLVE, resolve);
	cr_assert_eq(rap_webhook_send_outcome(&s, curl_easy_perform(s.curl), why, detail), RAP_EIO);
	cr_assert_str_eq(why, "timed out");
	curl_slist_free_all(resolve);
	rap_webhook_send_cleanup(&s);
	close(r.fd);
}

Test(webhook_send, a_url_that_is_not_valid_is_not_set_up)
{
	struct rap_webhook_send s;
	struct rap_webhook w = { .id = 9,
				 .url = (char *)"ftp://receiver.invalid/",
				 .body = (char *)"{}" };
	const struct rap_webhook_send_opts o = { .secret = "", .allowed_hosts = "" };
	char err[RAP_ERRLEN];

	cr_assert_eq(rap_webhook_send_init(&s, &o, &w, err), RAP_EINVAL);
	cr_assert_null(s.curl);
	rap_webhook_send_cleanup(&s);
}
