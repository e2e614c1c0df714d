#ifndef RAP_RATELIMIT_H
#define RAP_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Token buckets: a bucket holds up to `burst` tokens and gains `rate` a
 * second; a request that costs n tokens passes when n are there and takes
 * them.  A bucket that is full is the same as no bucket, so a keyed table
 * of them (one per owner, per client address, ...) only keeps the ones that
 * are being drained, and forgets the rest when it needs the room.
 */
struct rap_bucket {
	double tokens;
	int64_t last_ms; /* when tokens was last brought up to date; 0: never */
};

/**
 * Takes cost tokens from b at now_ms (a monotonic clock in ms) if it has
 * them, after adding what rate (tokens a second) brought since the last
 * call, up to burst; a new bucket (zeroed) starts full.  A cost above
 * burst is taken as burst (it needs a full bucket).  True when taken;
 * false leaves the bucket as it was and, when wait_ms is not NULL, stores
 * there how long until cost tokens will be there (at least 1 ms).
 */
bool rap_bucket_take(struct rap_bucket *b, double rate, double burst, double cost, int64_t now_ms,
		     int64_t *wait_ms);

/** A table of buckets by key, all with the same rate and burst (opaque,
 *  thread-safe). */
struct rap_ratelimit;

/**
 * A table of at most max_keys buckets of rate tokens a second up to burst.
 * rate 0 turns the limit off (every take passes).
 */
struct rap_ratelimit *rap_ratelimit_new(double rate, double burst, size_t max_keys);
/** Frees the table; accepts NULL. */
void rap_ratelimit_free(struct rap_ratelimit *rl);

/**
 * Takes cost tokens from key's bucket at now_ms (rap_bucket_take).  True
 * when taken; false stores in *retry_after_s (when not NULL) the whole
 * seconds, at least 1, after which the same request would pass.  A key
 * that finds the table full and no full bucket to forget is let through:
 * the table's size bounds memory, never the keys it has room for.
 */
bool rap_ratelimit_take(struct rap_ratelimit *rl, const char *key, double cost, int64_t now_ms,
			long long *retry_after_s);

#endif
