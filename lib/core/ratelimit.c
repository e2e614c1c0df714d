/*
 * ratelimit.c: token buckets, alone (rap_bucket_take) and in a table by
 * key (struct rap_ratelimit).  The table is a small array searched in
 * order: it is meant for tens or hundreds of keys (the owners of API keys);
 * when it is full, a bucket that has refilled is forgotten to make room.
 */
#include "rap/ratelimit.h"
#include "rap/mem.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RAP_RATELIMIT_KEYLEN 128 /* longer keys are compared by their start */

bool rap_bucket_take(struct rap_bucket *b, double rate, double burst, double cost, int64_t now_ms,
		     int64_t *wait_ms)
{
	double need = cost < burst ? cost : burst;

	if (b->last_ms == 0) {
		b->tokens = burst;
	} else if (now_ms > b->last_ms) {
		b->tokens += rate * (double)(now_ms - b->last_ms) / 1000.0;
		if (b->tokens > burst)
			b->tokens = burst;
	}
	b->last_ms = now_ms > b->last_ms ? now_ms : b->last_ms;
	if (b->tokens >= need) {
		b->tokens -= need;
		return true;
	}
	if (wait_ms) {
		double ms = rate > 0 ? (need - b->tokens) * 1000.0 / rate : 1000.0;
		int64_t whole = (int64_t)ms;

		*wait_ms = whole + ((double)whole < ms ? 1 : 0); /* rounded up */
		if (*wait_ms < 1)
			*wait_ms = 1;
	}
	return false;
}

struct entry {
	char key[RAP_RATELIMIT_KEYLEN];
	struct rap_bucket bucket;
};

struct rap_ratelimit {
	pthread_mutex_t lock;
	double rate, burst;
	size_t max, n;
	struct entry *entries;
};

struct rap_ratelimit *rap_ratelimit_new(double rate, double burst, size_t max_keys)
{
	struct rap_ratelimit *rl = rap_calloc(1, sizeof(*rl));

	pthread_mutex_init(&rl->lock, NULL);
	rl->rate = rate;
	rl->burst = burst < 1 ? 1 : burst;
	rl->max = max_keys ? max_keys : 1;
	rl->entries = rap_calloc(rl->max, sizeof(*rl->entries));
	return rl;
}

void rap_ratelimit_free(struct rap_ratelimit *rl)
{
	if (!rl)
		return;
	pthread_mutex_destroy(&rl->lock);
	free(rl->entries);
	free(rl);
}

/* True when the bucket would be full at now_ms: it may be forgotten. */
static bool refilled(const struct rap_ratelimit *rl, const struct entry *e, int64_t now_ms)
{
	return e->bucket.tokens + rl->rate * (double)(now_ms - e->bucket.last_ms) / 1000.0 >=
	       rl->burst;
}

/* key's entry, or a new one (NULL when there is no room); under lock. */
static struct entry *find(struct rap_ratelimit *rl, const char *key, int64_t now_ms)
{
	size_t i;

	for (i = 0; i < rl->n; i++)
		if (strncmp(rl->entries[i].key, key, RAP_RATELIMIT_KEYLEN - 1) == 0)
			return &rl->entries[i];
	if (rl->n == rl->max) {
		for (i = 0; i < rl->n && !refilled(rl, &rl->entries[i], now_ms); i++)
			;
		if (i == rl->n)
			return NULL;
		rl->entries[i] = rl->entries[--rl->n];
	}
	memset(&rl->entries[rl->n], 0, sizeof(rl->entries[rl->n]));
	snprintf(rl->entries[rl->n].key, sizeof(rl->entries[rl->n].key), "%s", key);
	return &rl->entries[rl->n++];
}

bool rap_ratelimit_take(struct rap_ratelimit *rl, const char *key, double cost, int64_t now_ms,
			long long *retry_after_s)
{
	struct entry *e;
	int64_t wait_ms = 0;
	bool taken = true;

	if (rl->rate <= 0)
		return true;
	pthread_mutex_lock(&rl->lock);
	e = find(rl, key, now_ms);
	if (e)
		taken = rap_bucket_take(&e->bucket, rl->rate, rl->burst, cost, now_ms, &wait_ms);
	pthread_mutex_unlock(&rl->lock);
	if (!taken && retry_after_s)
		*retry_after_s = (wait_ms + 999) / 1000;
	return taken;
}
