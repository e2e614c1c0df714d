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

/** The longest host of a webhook_url, in bytes with its NUL. */
#define RAP_WEBHOOK_HOSTLEN 256

/** True for an http:// or https:// URL (written with "://") that libcurl's
 *  URL parser takes, with a host, no user:password@, no IPv6 zone id, no
 *  spaces or control characters, at most RAP_MAX_WEBHOOK_URL bytes. */
bool rap_webhook_url_valid(const char *url);

/**
 * The host of a valid webhook URL as it is compared with
 * RAP_WEBHOOK_ALLOWED_HOSTS: as libcurl reads it (numeric IPv4 forms such
 * as 2130706433, 0x7f000001, 0177.0.0.1 or 127.1 are the address they
 * name), in lower case, without IPv6 brackets or a trailing dot, an address
 * in its canonical text.  RAP_EINVAL for a URL that is not valid.
 */
int rap_webhook_url_host(const char *url, char host[RAP_WEBHOOK_HOSTLEN]);

/** True when host (rap_webhook_url_host's form) is one of the
 *  comma-separated hosts (names or addresses, compared in that form). */
bool rap_webhook_host_listed(const char *host, const char *hosts);

/**
 * The webhook policy at a job's creation: RAP_OK when url is valid and its
 * host is listed in allowed_hosts, is a name other than localhost and
 * *.localhost (its addresses are checked when the webhook connects), or is
 * a public address (rap/netaddr.h); otherwise RAP_EINVAL with err naming
 * 'webhook_url' and the kind of address.
 */
int rap_webhook_url_check(const char *url, const char *allowed_hosts, char *err);

/** One delivery that a sender has leased. */
struct rap_webhook {
	long long id;
	char job_id[RAP_UUID_STRLEN];
	char *url;
	char *body;
	int attempts; /* made before this one */
};

/**
 * Leases up to max due deliveries for lease_ms each (another job-api
 * instance skips them meanwhile; a sender that dies gives them back by the
 * lease running out), at most per_owner in flight per owner of the jobs,
 * counting the leases of every instance: an owner whose share is taken
 * gets none, whatever it has due.  *out gets *n of them: free with
 * rap_webhook_free.
 */
int rap_webhook_lease(PGconn *db, int max, int per_owner, long long lease_ms,
		      struct rap_webhook **out, int *n, char *err);
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
