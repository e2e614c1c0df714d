/* webhook.c: the store and the sender of job webhooks (webhook.h). */
#include "rap/webhook.h"
#include "rap/err.h"
#include "rap/mem.h"
#include "rap/pg.h"
#include "rap/list.h"
#include "rap/str.h"
#include "rap/hash.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rap_webhook_lease(PGconn *db, int max, long long lease_ms, struct rap_webhook **out, int *n,
		      char *err)
{
	char lim[12], lease[24];
	const char *p[2] = { lim, lease };
	PGresult *res;
	int result, i;

	*out = NULL;
	*n = 0;
	snprintf(lim, sizeof(lim), "%d", max);
	snprintf(lease, sizeof(lease), "%lld", lease_ms);
	result = rap_pg_exec(
		db,
		"UPDATE webhook_deliveries d SET next_at = now() + make_interval(secs => $2::bigint / 1000.0)"
		" FROM (SELECT id FROM webhook_deliveries"
		"       WHERE delivered_at IS NULL AND failed_at IS NULL AND next_at <= now()"
		"       ORDER BY next_at LIMIT $1::int FOR UPDATE SKIP LOCKED) due"
		" WHERE d.id = due.id RETURNING d.id, d.job_id, d.url, d.body, d.attempts",
		2, p, &res, err);
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
		"UPDATE webhook_deliveries SET attempts = attempts + 1,"
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

bool rap_webhook_host_allowed(const char *url, const char *hosts)
{
	const char *host = strstr(url, "://");
	char name[256];
	size_t n = 0;

	if (!hosts[0])
		return true;
	if (!host)
		return false;
	host += 3;
	if (*host == '[') { /* [v6]:port */
		const char *end = strchr(host, ']');

		if (!end || (size_t)(end - host) >= sizeof(name) - 1)
			return false;
		n = (size_t)(end - host) + 1;
	} else {
		while (host[n] && !strchr(":/?#", host[n]) && n < sizeof(name) - 1)
			n++;
	}
	memcpy(name, host, n);
	name[n] = '\0';
	for (char *p = name; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return rap_list_contains(hosts, name);
}

bool rap_webhook_url_valid(const char *u)
{
	size_t n = strlen(u), scheme;
	const char *host, *p;

	if (n > RAP_MAX_WEBHOOK_URL)
		return false;
	if (strncasecmp(u, "http://", 7) == 0)
		scheme = 7;
	else if (strncasecmp(u, "https://", 8) == 0)
		scheme = 8;
	else
		return false;
	for (p = u; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return false;
	host = u + scheme;
	/* A host before any path, query or fragment; no user:password@. */
	for (p = host; *p && *p != '/' && *p != '?' && *p != '#'; p++)
		if (*p == '@')
			return false;
	return p > host && *host != ':';
}
