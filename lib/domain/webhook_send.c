/* webhook_send.c: one webhook POST, safe by default (webhook_send.h). */
#include "rap/webhook_send.h"
#include "rap/hash.h"
#include "rap/netaddr.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* The answer's body is read and thrown away. */
static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
	(void)p;
	(void)ctx;
	return size * n;
}

/* libcurl's socket for each address it tries: none for an address that is
 * not public, unless the host is allowed.  libcurl then tries the next
 * address, and fails with CURLE_COULDNT_CONNECT when none is left. */
static curl_socket_t open_socket(void *ctx, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct rap_webhook_send *s = ctx;

	(void)purpose;
	if (!s->host_allowed && rap_netaddr_classify(&a->addr, a->addrlen) != RAP_NETADDR_PUBLIC) {
		s->refused++;
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* The delivery's headers, in s->headers. */
static int headers(struct rap_webhook_send *s, const char *secret, const struct rap_webhook *w)
{
	char delivery[64], signature[96], sig[RAP_SHA256_HEXLEN];
	const char *lines[] = {
		"Content-Type: application/json",
		"User-Agent: resilient-async-platform-webhooks/1",
		"X-Rap-Event: job.finished",
		delivery,
		"Expect:", /* small bodies: no 100-continue wait */
		secret[0] ? signature : NULL,
	};
	struct curl_slist *h;

	snprintf(delivery, sizeof(delivery), "X-Rap-Delivery: %lld", w->id);
	if (secret[0]) {
		rap_webhook_sign(secret, w->body, sig);
		snprintf(signature, sizeof(signature), "X-Rap-Signature: sha256=%s", sig);
	}
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]) && lines[i]; i++) {
		h = curl_slist_append(s->headers, lines[i]);
		if (!h)
			return RAP_ENOMEM;
		s->headers = h;
	}
	return RAP_OK;
}

int rap_webhook_send_init(struct rap_webhook_send *s, const struct rap_webhook_send_opts *o,
			  const struct rap_webhook *w, char *err)
{
	CURL *c;
	int result;

	memset(s, 0, sizeof(*s));
	if (rap_webhook_url_host(w->url, s->host) != RAP_OK) {
		snprintf(err, RAP_ERRLEN, "not a valid webhook URL");
		return RAP_EINVAL;
	}
	s->host_allowed = rap_webhook_host_listed(s->host, o->allowed_hosts);
	s->url = curl_url();
	s->curl = c = curl_easy_init();
	if (!s->url || !s->curl || headers(s, o->secret, w) != RAP_OK) {
		snprintf(err, RAP_ERRLEN, "out of memory setting up a webhook");
		result = RAP_ENOMEM;
		goto out_cleanup;
	}
	/* The URL that was checked is the URL that is sent: the parsed handle,
	 * not the text again. */
	if (curl_url_set(s->url, CURLUPART_URL, w->url, 0) != CURLUE_OK) {
		snprintf(err, RAP_ERRLEN, "not a valid webhook URL");
		result = RAP_EINVAL;
		goto out_cleanup;
	}
	curl_easy_setopt(c, CURLOPT_CURLU, s->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_PROXY, ""); /* never the *_proxy environment */
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 0L);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, s);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)o->connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, s->headers);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, w->body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(w->body));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(c, CURLOPT_PRIVATE, s);
	return RAP_OK;
out_cleanup:
	rap_webhook_send_cleanup(s);
	return result;
}

void rap_webhook_send_cleanup(struct rap_webhook_send *s)
{
	curl_easy_cleanup(s->curl);
	curl_url_cleanup(s->url);
	curl_slist_free_all(s->headers);
	s->curl = NULL;
	s->url = NULL;
	s->headers = NULL;
}

int rap_webhook_send_outcome(struct rap_webhook_send *s, CURLcode rc, char why[RAP_ERRLEN],
			     char detail[RAP_ERRLEN])
{
	long status = 0;

	why[0] = detail[0] = '\0';
	if (rc == CURLE_COULDNT_CONNECT && s->refused) {
		snprintf(why, RAP_ERRLEN, "refused: the address is not allowed");
		snprintf(detail, RAP_ERRLEN,
			 "%d address(es) of %.120s refused: not public, and the host is not in "
			 "RAP_WEBHOOK_ALLOWED_HOSTS",
			 s->refused, s->host);
		return RAP_EIO;
	}
	if (rc != CURLE_OK) {
		snprintf(why, RAP_ERRLEN, "%s",
			 rc == CURLE_OPERATION_TIMEDOUT ? "timed out" : "unreachable");
		snprintf(detail, RAP_ERRLEN, "%.80s: %.160s", curl_easy_strerror(rc),
			 s->errbuf[0] ? s->errbuf : "-");
		return RAP_EIO;
	}
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status <= 299)
		return RAP_OK;
	snprintf(detail, RAP_ERRLEN, "the receiver answered HTTP %ld", status);
	if (status >= 300 && status <= 399)
		snprintf(why, RAP_ERRLEN,
			 "the receiver answered HTTP 3xx (redirects are not followed)");
	else if (status >= 400 && status <= 499)
		snprintf(why, RAP_ERRLEN, "the receiver answered HTTP 4xx");
	else if (status >= 500 && status <= 599)
		snprintf(why, RAP_ERRLEN, "the receiver answered HTTP 5xx");
	else
		snprintf(why, RAP_ERRLEN, "the receiver's answer was not HTTP 2xx to 5xx");
	return RAP_EIO;
}
