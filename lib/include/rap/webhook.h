/* webhook.h: job webhooks, queued in PostgreSQL (migration 0010) and
 * POSTed at least once, signed, with backoff. */
#ifndef RAP_WEBHOOK_H
#define RAP_WEBHOOK_H

#include <libpq-fe.h>
#include <stdbool.h>

/** One delivery that a sender has leased. */
struct rap_webhook {
	long long id;
	char job_id[37];
	char *url;
	char *body;
	int attempts;        /* made before this one */
};

/**
 * Leases up to max due deliveries for lease_ms (another job-api instance
 * skips them meanwhile; a sender that dies gives them back by the lease
 * running out).  *out gets *n of them: free with rap_webhook_free.
 */
int rap_webhook_lease(PGconn *db, int max, long long lease_ms, struct rap_webhook **out,
		      int *n, char *err);
void rap_webhook_free(struct rap_webhook *w, int n);

/**
 * Records an attempt: delivered, or failed with why; a failed one is due
 * again after backoff_ms * 2^attempts (at most an hour), and is marked
 * failed for good once it made max_attempts.  *gave_up says so.
 */
int rap_webhook_record(PGconn *db, const struct rap_webhook *w, bool delivered,
		       const char *why, long long max_attempts, long long backoff_ms,
		       bool *gave_up, char *err);

/** Hex HMAC-SHA256 of body under secret (65 bytes with the NUL). */
void rap_webhook_sign(const char *secret, const char *body, char out[65]);

/**
 * POSTs body to url as application/json with the delivery's headers
 * (X-Rap-Delivery, X-Rap-Event, and X-Rap-Signature: sha256=... when a
 * secret is set); never follows redirects.  RAP_OK on a 2xx answer;
 * otherwise why (RAP_ERRLEN) says what happened.
 */
int rap_webhook_post(const struct rap_webhook *w, const char *secret, long long timeout_ms,
		     char *why);

/** True when the URL's host is in the comma-separated list (or it is empty). */
bool rap_webhook_host_allowed(const char *url, const char *hosts);

#endif
