/*
 * keylimit.c: rate limits per API key shared across instances through
 * PostgreSQL (rap/keylimit.h).  The local table holds, per key, the tokens
 * this instance reserved and has not spent, and a refusal still in force;
 * it is a small array searched in order (the keys of RAP_API_KEYS are tens,
 * not millions).  The lock is never held across the round trip: two
 * requests of one key that both find the reservation empty both reserve,
 * which costs a round trip, never the bound (every token comes out of the
 * shared bucket).
 */
#include "rap/keylimit.h"
#include "rap/err.h"
#include "rap/mem.h"
#include "rap/pg.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEYLIMIT_MAX_KEYS 1024
#define KEYLIMIT_POOL_WAIT_MS 1000

struct held {
	char key_id[17];
	double tokens;        /* reserved, not spent yet */
	int64_t hold_until;   /* when tokens are dropped */
	int64_t denied_until; /* a request of denied_need or more is refused until then */
	double denied_need;
};

struct rap_keylimit {
	pthread_mutex_t lock;
	char class_name[32];
	double rate, burst, chunk;
	struct rap_pg_pool *pool;
	size_t n;
	struct held held[KEYLIMIT_MAX_KEYS];
};

/* A new bucket starts full less what is taken; an old one is refilled by
 * rate for the time since its last update, up to burst, and gives
 * rap_bucket_grant(level, need, want) (migration 0017). */
static const char take_sql[] =
	"INSERT INTO rate_buckets AS b (key_id, class, tokens, granted, updated_at)"
	" VALUES ($1, $2, $4::float8 - $6::float8, $6::float8, now())"
	" ON CONFLICT (key_id, class) DO UPDATE SET"
	"  granted = rap_bucket_grant(rap_bucket_level(b.tokens, b.updated_at, $3, $4), $5, $6),"
	"  tokens = rap_bucket_level(b.tokens, b.updated_at, $3, $4)"
	"   - rap_bucket_grant(rap_bucket_level(b.tokens, b.updated_at, $3, $4), $5, $6),"
	"  updated_at = greatest(b.updated_at, now())"
	" RETURNING granted, tokens";

double rap_keylimit_chunk(double rate, double burst)
{
	double c = rate / 20.0;

	if (c > burst / 10.0)
		c = burst / 10.0;
	c = (double)(long long)c; /* whole tokens */
	return c < 1 ? 1 : c;
}

struct rap_keylimit *rap_keylimit_new(const char *class_name, double rate, double burst,
				      struct rap_pg_pool *pool)
{
	struct rap_keylimit *kl = rap_calloc(1, sizeof(*kl));

	pthread_mutex_init(&kl->lock, NULL);
	snprintf(kl->class_name, sizeof(kl->class_name), "%s", class_name);
	kl->rate = rate;
	kl->burst = burst < 1 ? 1 : burst;
	kl->chunk = rap_keylimit_chunk(rate, kl->burst);
	kl->pool = pool;
	return kl;
}

void rap_keylimit_free(struct rap_keylimit *kl)
{
	if (!kl)
		return;
	pthread_mutex_destroy(&kl->lock);
	free(kl);
}

/* key_id's entry, or a new one; NULL when the table is full of entries
 * still in use.  Under lock. */
static struct held *find(struct rap_keylimit *kl, const char *key_id, int64_t now_ms, bool add)
{
	size_t i;

	for (i = 0; i < kl->n; i++)
		if (strcmp(kl->held[i].key_id, key_id) == 0)
			return &kl->held[i];
	if (!add)
		return NULL;
	if (kl->n == KEYLIMIT_MAX_KEYS) {
		for (i = 0; i < kl->n; i++)
			if (kl->held[i].hold_until <= now_ms && kl->held[i].denied_until <= now_ms)
				break;
		if (i == kl->n)
			return NULL;
		kl->held[i] = kl->held[--kl->n];
	}
	memset(&kl->held[kl->n], 0, sizeof(kl->held[kl->n]));
	snprintf(kl->held[kl->n].key_id, sizeof(kl->held[kl->n].key_id), "%s", key_id);
	return &kl->held[kl->n++];
}

/* Serves need from the reservation when it can (true), or takes what it
 * holds into *have for the round trip.  A refusal in force: true with
 * *retry_s set. */
static bool serve_local(struct rap_keylimit *kl, const char *key_id, double need, int64_t now_ms,
			double *have, long long *retry_s)
{
	struct held *h;
	bool served = false;

	*have = 0;
	*retry_s = 0;
	pthread_mutex_lock(&kl->lock);
	h = find(kl, key_id, now_ms, false);
	if (h) {
		if (h->hold_until <= now_ms)
			h->tokens = 0;
		if (h->tokens >= need) {
			h->tokens -= need;
			served = true;
		} else if (h->denied_until > now_ms && need >= h->denied_need) {
			*retry_s = (h->denied_until - now_ms + 999) / 1000;
			served = true;
		} else {
			*have = h->tokens;
			h->tokens = 0;
		}
	}
	pthread_mutex_unlock(&kl->lock);
	return served;
}

/* Keeps what is left of a reservation (tokens, possibly 0), and a refusal
 * for wait_ms when wait_ms > 0. */
static void keep(struct rap_keylimit *kl, const char *key_id, double tokens, bool fresh,
		 double need, int64_t wait_ms, int64_t now_ms)
{
	struct held *h;

	pthread_mutex_lock(&kl->lock);
	h = find(kl, key_id, now_ms, true);
	if (h) {
		h->tokens += tokens;
		if (fresh)
			h->hold_until = now_ms + RAP_KEYLIMIT_HOLD_MS;
		if (wait_ms > 0) {
			h->denied_until = now_ms + wait_ms;
			h->denied_need = need;
		}
	}
	pthread_mutex_unlock(&kl->lock);
}

/* One round trip: asks the shared bucket for want tokens if it has need;
 * *granted gets what it gave (0 or need..want), *level what it has left. */
static int reserve(struct rap_keylimit *kl, const char *key_id, double need, double want,
		   double *granted, double *level, char *err)
{
	char rate[32], burst[32], n[32], w[32];
	const char *p[6] = { key_id, kl->class_name, rate, burst, n, w };
	PGresult *res;
	PGconn *db;
	int result;

	snprintf(rate, sizeof(rate), "%.17g", kl->rate);
	snprintf(burst, sizeof(burst), "%.17g", kl->burst);
	snprintf(n, sizeof(n), "%.17g", need);
	snprintf(w, sizeof(w), "%.17g", want);
	result = rap_pg_pool_get(kl->pool, KEYLIMIT_POOL_WAIT_MS, &db, err);
	if (result != RAP_OK)
		return result;
	result = rap_pg_exec_prepared(db, "rap_keylimit_take", take_sql, 6, p, &res, err);
	rap_pg_pool_put(kl->pool, db);
	if (result != RAP_OK)
		return result;
	*granted = strtod(PQgetvalue(res, 0, 0), NULL);
	*level = strtod(PQgetvalue(res, 0, 1), NULL);
	PQclear(res);
	return RAP_OK;
}

int rap_keylimit_take(struct rap_keylimit *kl, const char *key_id, double cost, int64_t now_ms,
		      bool *admitted, long long *retry_after_s, char *err)
{
	double need = cost < kl->burst ? cost : kl->burst;
	double have, want, granted = 0, level = 0, ms;
	long long retry;
	int64_t wait_ms;
	int result;

	*admitted = true;
	if (kl->rate <= 0 || !key_id)
		return RAP_OK;
	if (serve_local(kl, key_id, need, now_ms, &have, &retry)) {
		*admitted = retry == 0;
		*retry_after_s = retry < 1 ? 1 : retry;
		return RAP_OK;
	}
	want = need - have > kl->chunk ? need - have : kl->chunk;
	if (want > kl->burst)
		want = kl->burst;
	result = reserve(kl, key_id, need - have, want, &granted, &level, err);
	if (result != RAP_OK) {
		keep(kl, key_id, have, false, 0, 0, now_ms);
		return result;
	}
	if (granted > 0 && granted + have >= need) {
		keep(kl, key_id, granted + have - need, true, 0, 0, now_ms);
		return RAP_OK;
	}
	/* Refused: the wait is for the whole of need, so the reservation left
	 * here may lapse meanwhile without making Retry-After short. */
	ms = (need - (level > 0 ? level : 0)) * 1000.0 / kl->rate;
	wait_ms = (int64_t)ms + 1; /* rounded up */
	if (wait_ms < 1)
		wait_ms = 1;
	keep(kl, key_id, have + granted, false, need, wait_ms, now_ms);
	*admitted = false;
	*retry_after_s = (wait_ms + 999) / 1000;
	return RAP_OK;
}
