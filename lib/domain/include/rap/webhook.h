/* webhook.h: job webhooks: the URLs jobs may name, and the deliveries
 * queued in PostgreSQL (migration 0010) that job-api POSTs at least once,
 * signed, with backoff. */
#ifndef RAP_WEBHOOK_H
#define RAP_WEBHOOK_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "rap/hash.h"
#include "rap/uuid.h"

/** The longest webhook_url a job may carry, in bytes. */
#define RAP_MAX_WEBHOOK_URL 2048

/** True for an http:// or https:// URL with a host, no credentials, no
 *  spaces or control characters, at most RAP_MAX_WEBHOOK_URL bytes. */
bool rap_webhook_url_valid(const char *url);

/** True when the URL's host is in the comma-separated list (or it is empty). */
bool rap_webhook_host_allowed(const char *url, const char *hosts);

/** One delivery that a sender has leased. */
struct rap_webhook {
	long long id;
	char job_id[RAP_UUID_STRLEN];
	char *url;
	char *body;
	int attempts; /* made before this one */
};

/**
 * Leases up to max due deliveries for lease_ms (another job-api instance
 * skips them meanwhile; a sender that dies gives them back by the lease
 * running out).  *out gets *n of them: free with rap_webhook_free.
 */
int rap_webhook_lease(PGconn *db, int max, long long lease_ms, struct rap_webhook **out, int *n,
		      char *err);
void rap_webhook_free(struct rap_webhook *w, int n);

/**
 * Records an attempt: delivered, or failed with why; a failed one is due
 * again after backoff_ms * 2^attempts (at most an hour), and is marked
 * failed for good once it made max_attempts.  *gave_up says so.
 */
int rap_webhook_record(PGconn *db, const struct rap_webhook *w, bool delivered, const char *why,
		       long long max_attempts, long long backoff_ms, bool *gave_up, char *err);

/** Hex HMAC-SHA256 of body under secret, for X-Rap-Signature (job-api's
 *  sender POSTs the deliveries). */
void rap_webhook_sign(const char *secret, const char *body, char out[RAP_SHA256_HEXLEN]);

#endif
