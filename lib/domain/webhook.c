/* webhook.c: job webhooks (webhook.h): the deliveries' store, the URLs a
 * job may name (read by libcurl's URL parser) and the signatures; the
 * POST itself is webhook_send.c. */
#include "rap/webhook.h"
#include "rap/err.h"
#include "rap/mem.h"
#include "rap/pg.h"
#include "rap/str.h"
#include "rap/hash.h"
#include "rap/netaddr.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

int rap_webhook_lease(PGconn *db, int max, int per_owner, long long lease_ms,
		      struct rap_webhook **out, int *n, char *err)
{
	char lim[12], share[12], lease[24];
	const char *p[3] = { lim, lease, share };
	PGresult *res;
	int result, i;

	*out = NULL;
	*n = 0;
	snprintf(lim, sizeof(lim), "%d", max);
	snprintf(share, sizeof(share), "%d", per_owner);
	snprintf(lease, sizeof(lease), "%lld", lease_ms);
	/* Per owner with due deliveries: its share less its leases in flight
	 * (of every instance), the oldest due first; then the oldest of all
	 * of those, up to max (migration 0015). */
	result = rap_pg_exec(
		db,
		"WITH owners AS (SELECT DISTINCT owner FROM webhook_deliveries"
		"   WHERE delivered_at IS NULL AND failed_at IS NULL AND next_at <= now()),"
		" share AS (SELECT o.owner, greatest(0, $3::int - (SELECT count(*)::int"
		"   FROM webhook_deliveries b WHERE b.owner = o.owner AND b.delivered_at IS NULL"
		"   AND b.failed_at IS NULL AND b.leased_until > now())) AS free FROM owners o),"
		" due AS (SELECT x.id, x.next_at FROM share s CROSS JOIN LATERAL"
		"   (SELECT d.id, d.next_at FROM webhook_deliveries d WHERE d.owner = s.owner"
		"    AND d.delivered_at IS NULL AND d.failed_at IS NULL AND d.next_at <= now()"
		"    ORDER BY d.next_at LIMIT s.free FOR UPDATE SKIP LOCKED) x"
		"   ORDER BY x.next_at LIMIT $1::int)"
		" UPDATE webhook_deliveries d"
		" SET next_at = now() + make_interval(secs => $2::bigint / 1000.0),"
		"   leased_until = now() + make_interval(secs => $2::bigint / 1000.0)"
		" FROM due WHERE d.id = due.id RETURNING d.id, d.job_id, d.url, d.body, d.attempts",
		3, p, &res, err);
	if (result != RAP_OK)
		return result;
	*n = PQntuples(res);
	if (*n)
		*out = rap_calloc((size_t)*n, sizeof(**out));
	for (i = 0; i < *n; i++) {
		struct rap_webhook *w = &(*out)[i];
		long long v = 0;

		rap_strtonum(PQgetvalue(res, i, 0), 0, INT64_MAX, &v);
		w->id = v;
		snprintf(w->job_id, sizeof(w->job_id), "%s", PQgetvalue(res, i, 1));
		w->url = rap_strdup(PQgetvalue(res, i, 2));
		w->body = rap_strdup(PQgetvalue(res, i, 3));
		rap_strtonum(PQgetvalue(res, i, 4), 0, INT32_MAX, &v);
		w->attempts = (int)v;
	}
	PQclear(res);
	return RAP_OK;
}

void rap_webhook_free(struct rap_webhook *w, int n)
{
	for (int i = 0; i < n; i++) {
		free(w[i].url);
		free(w[i].body);
	}
	free(w);
}

int rap_webhook_record(PGconn *db, const struct rap_webhook *w, bool delivered, const char *why,
		       long long max_attempts, long long backoff_ms, bool *gave_up, char *err)
{
	char id[24], max[24], backoff[24];
	const char *p[5] = { id, delivered ? "true" : "false", why, max, backoff };
	PGresult *res;
	int result;

	snprintf(id, sizeof(id), "%lld", w->id);
	snprintf(max, sizeof(max), "%lld", max_attempts);
	snprintf(backoff, sizeof(backoff), "%lld", backoff_ms);
	/* The wait doubles from backoff_ms (the exponent is capped first, so
	 * the arithmetic never overflows) and stops growing at an hour. */
	result = rap_pg_exec(
		db,
		"UPDATE webhook_deliveries SET attempts = attempts + 1, leased_until = NULL,"
		"  delivered_at = CASE WHEN $2::bool THEN now() END,"
		"  last_error = CASE WHEN $2::bool THEN last_error ELSE $3 END,"
		"  failed_at = CASE WHEN NOT $2::bool AND attempts + 1 >= $4::int THEN now() END,"
		"  next_at = now() + make_interval(secs => least(3600,"
		"    $5::bigint / 1000.0 * power(2, least(attempts, 30))))"
		" WHERE id = $1::bigint RETURNING failed_at IS NOT NULL",
		5, p, &res, err);
	if (result != RAP_OK)
		return result;
	*gave_up = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	return RAP_OK;
}

void rap_webhook_sign(const char *secret, const char *body, char out[RAP_SHA256_HEXLEN])
{
	unsigned char mac[RAP_SHA256_LEN];
	unsigned int n = 0;

	HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, strlen(body),
	     mac, &n);
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", mac[i]);
}

/* Copies the canonical form of a host name or address into out: lower case,
 * no IPv6 brackets, no trailing dot, and an address in inet_ntop's form (so
 * "127.1" and "127.0.0.1", "[::1]" and "0::1" are the same).  False when it
 * does not fit. */
static bool canonical_host(const char *in, size_t n, char out[RAP_WEBHOOK_HOSTLEN])
{
	struct in6_addr a6;
	struct in_addr a4;
	char tmp[RAP_WEBHOOK_HOSTLEN];

	if (n >= 2 && in[0] == '[' && in[n - 1] == ']') {
		in++;
		n -= 2;
	}
	if (n && in[n - 1] == '.')
		n--;
	if (n == 0 || n >= sizeof(tmp))
		return false;
	for (size_t i = 0; i < n; i++)
		tmp[i] = (char)((in[i] >= 'A' && in[i] <= 'Z') ? in[i] - 'A' + 'a' : in[i]);
	tmp[n] = '\0';
	if (inet_pton(AF_INET6, tmp, &a6) == 1)
		return inet_ntop(AF_INET6, &a6, out, RAP_WEBHOOK_HOSTLEN) != NULL;
	/* inet_aton takes every numeric form (127.1, 0x7f000001, 0177.0.0.1,
	 * 2130706433), as the resolver would. */
	if (inet_aton(tmp, &a4) == 1)
		return inet_ntop(AF_INET, &a4, out, RAP_WEBHOOK_HOSTLEN) != NULL;
	memcpy(out, tmp, n + 1);
	return true;
}

bool rap_webhook_host_listed(const char *host, const char *hosts)
{
	const char *p = hosts, *end;
	char entry[RAP_WEBHOOK_HOSTLEN];

	while (*p) {
		end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		while (p < end && *p == ' ')
			p++;
		if (canonical_host(p, (size_t)(end - p), entry) && strcmp(entry, host) == 0)
			return true;
		p = *end ? end + 1 : end;
	}
	return false;
}

/* Parses u with libcurl's URL parser into *out (free with curl_url_cleanup)
 * when it is a webhook URL (rap_webhook_url_valid's rules); false if not. */
static bool parse(const char *u, CURLU **out)
{
	static const CURLUPart none[] = { CURLUPART_USER, CURLUPART_PASSWORD, CURLUPART_OPTIONS,
					  CURLUPART_ZONEID };
	size_t n = strlen(u), scheme;
	CURLU *h = NULL;
	char *v = NULL;
	bool ok = false;

	*out = NULL;
	if (n > RAP_MAX_WEBHOOK_URL)
		return false;
	for (const char *p = u; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return false;
	/* curl forgives missing or extra slashes ("http:/h", "http:///h");
	 * a webhook's URL is written in full. */
	if (strncasecmp(u, "http://", 7) == 0)
		scheme = 7;
	else if (strncasecmp(u, "https://", 8) == 0)
		scheme = 8;
	else
		return false;
	if (u[scheme] == '/' || u[scheme] == '\0')
		return false;
	h = curl_url();
	if (!h)
		return false;
	if (curl_url_set(h, CURLUPART_URL, u, 0) != CURLUE_OK)
		goto out_free;
	if (curl_url_get(h, CURLUPART_SCHEME, &v, 0) != CURLUE_OK ||
	    (strcmp(v, "http") != 0 && strcmp(v, "https") != 0))
		goto out_free;
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		curl_free(v);
		v = NULL;
		if (curl_url_get(h, none[i], &v, 0) == CURLUE_OK)
			goto out_free; /* no user:password@, no ;options, no %zone */
	}
	curl_free(v);
	v = NULL;
	if (curl_url_get(h, CURLUPART_HOST, &v, 0) != CURLUE_OK || !v[0] ||
	    strlen(v) >= RAP_WEBHOOK_HOSTLEN)
		goto out_free;
	ok = true;
out_free:
	curl_free(v);
	if (ok)
		*out = h;
	else
		curl_url_cleanup(h);
	return ok;
}

bool rap_webhook_url_valid(const char *u)
{
	CURLU *h;

	if (!parse(u, &h))
		return false;
	curl_url_cleanup(h);
	return true;
}

int rap_webhook_url_host(const char *url, char host[RAP_WEBHOOK_HOSTLEN])
{
	CURLU *h;
	char *v = NULL;
	int result = RAP_EINVAL;

	host[0] = '\0';
	if (!parse(url, &h))
		return RAP_EINVAL;
	if (curl_url_get(h, CURLUPART_HOST, &v, 0) == CURLUE_OK &&
	    canonical_host(v, strlen(v), host))
		result = RAP_OK;
	curl_free(v);
	curl_url_cleanup(h);
	return result;
}

/* True for "localhost" and the names under it (RFC 6761: they resolve to
 * loopback, often without asking DNS). */
static bool is_localhost(const char *host)
{
	size_t n = strlen(host);

	return strcmp(host, "localhost") == 0 ||
	       (n > 10 && strcmp(host + n - 10, ".localhost") == 0);
}

int rap_webhook_url_check(const char *url, const char *allowed_hosts, char *err)
{
	char host[RAP_WEBHOOK_HOSTLEN];
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	enum rap_netaddr_class c;

	if (rap_webhook_url_host(url, host) != RAP_OK) {
		snprintf(err, RAP_ERRLEN,
			 "'webhook_url' must be an http:// or https:// URL with a host");
		return RAP_EINVAL;
	}
	if (rap_webhook_host_listed(host, allowed_hosts))
		return RAP_OK;
	if (is_localhost(host)) {
		snprintf(err, RAP_ERRLEN,
			 "'webhook_url' names localhost: only public addresses are allowed "
			 "(unless RAP_WEBHOOK_ALLOWED_HOSTS lists the host)");
		return RAP_EINVAL;
	}
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		c = rap_netaddr_classify((struct sockaddr *)v4, sizeof(*v4));
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		c = rap_netaddr_classify((struct sockaddr *)v6, sizeof(*v6));
	} else {
		return RAP_OK; /* a name: its addresses are checked at connect time */
	}
	if (c != RAP_NETADDR_PUBLIC) {
		snprintf(err, RAP_ERRLEN,
			 "'webhook_url' names a %s address: only public addresses are allowed "
			 "(unless RAP_WEBHOOK_ALLOWED_HOSTS lists the host)",
			 rap_netaddr_class_name(c));
		return RAP_EINVAL;
	}
	return RAP_OK;
}
