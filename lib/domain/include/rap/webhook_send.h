/* webhook_send.h: one webhook POST as a libcurl easy handle, set up so that
 * it reaches only public addresses unless an operator allows its host, and
 * its outcome told in words that reveal nothing of what it reached
 * (docs/webhooks.md, "Safe by default"). */
#ifndef RAP_WEBHOOK_SEND_H
#define RAP_WEBHOOK_SEND_H

#include <curl/curl.h>
#include <stdbool.h>

#include "rap/err.h"
#include "rap/webhook.h"

/** How a sender POSTs (job-api's RAP_WEBHOOK_* settings). */
struct rap_webhook_send_opts {
	const char *secret;        /* HMAC key of X-Rap-Signature; "" unsigned */
	const char *allowed_hosts; /* RAP_WEBHOOK_ALLOWED_HOSTS */
	long long connect_timeout_ms;
	long long timeout_ms; /* the whole POST, connection included */
};

/** One POST in flight: the caller owns it (_init/_cleanup). */
struct rap_webhook_send {
	CURL *curl; /* add it to a multi handle, or curl_easy_perform it */
	struct curl_slist *headers;
	CURLU *url;
	bool host_allowed; /* the host is on the allow-list: any address */
	int refused;       /* addresses refused at connect time */
	char host[RAP_WEBHOOK_HOSTLEN];
	char errbuf[CURL_ERROR_SIZE];
	void *data; /* the caller's; CURLINFO_PRIVATE of curl gives this struct */
};

/**
 * Sets up s->curl to POST w->body to w->url as application/json with the
 * delivery's headers (X-Rap-Delivery, X-Rap-Event, X-Rap-Signature when a
 * secret is set): no proxy (the *_proxy environment is ignored), no
 * redirects, the connect timeout and the overall deadline of o, and a
 * socket callback that refuses every resolved address that is not public
 * (rap/netaddr.h) unless the URL's host is on o->allowed_hosts, so a name
 * that resolves to loopback (DNS rebinding) connects nowhere.  RAP_EINVAL
 * (a URL that is not valid) or RAP_ENOMEM, with err; s is then clean.
 * The body is not copied: w must outlive the transfer.
 */
int rap_webhook_send_init(struct rap_webhook_send *s, const struct rap_webhook_send_opts *o,
			  const struct rap_webhook *w, char *err);

/** Frees what _init made (accepts a zeroed or cleaned s). */
void rap_webhook_send_cleanup(struct rap_webhook_send *s);

/**
 * The outcome of the finished transfer (rc: its CURLcode).  RAP_OK for a
 * 2xx answer.  Otherwise RAP_EIO, why gets one of the classes a job may
 * show ("the receiver answered HTTP 4xx", "... 5xx", "... 3xx (redirects
 * are not followed)", "unreachable", "timed out", "refused: the address is
 * not allowed"), never a status or curl's text, and detail gets what
 * happened for the operator's log.
 */
int rap_webhook_send_outcome(struct rap_webhook_send *s, CURLcode rc, char why[RAP_ERRLEN],
			     char detail[RAP_ERRLEN]);

#endif
