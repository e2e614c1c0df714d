#ifndef RAP_KEYLIMIT_H
#define RAP_KEYLIMIT_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Rate limits per API key shared by every instance of a service: one token
 * bucket per (key, class) in PostgreSQL (table rate_buckets), refilled and
 * drawn in one UPSERT.  An instance does not ask PostgreSQL for every
 * request: it reserves a chunk of tokens at a time (rap_keylimit_chunk) and
 * serves the next requests of that key from its reservation, which it
 * drops after RAP_KEYLIMIT_HOLD_MS unused.  Tokens only ever leave the
 * shared bucket, so N instances admit at most rate*t + burst over any t,
 * plus N*chunk reserved before t and spent in it.  A refusal is remembered
 * locally until the bucket can hold that request again, so a client that
 * insists costs no round trip.
 */
struct rap_keylimit;
struct rap_pg_pool;

/** How long a reservation is served before it is dropped. */
#define RAP_KEYLIMIT_HOLD_MS 1000

/** The tokens one reservation asks for: rate/20, at most burst/10, at
 *  least 1 (a twentieth of a second of traffic at full rate). */
double rap_keylimit_chunk(double rate, double burst);

/**
 * A limit of rate tokens a second up to burst per API key for one class
 * of requests (a name of up to 31 characters: "create", "status",
 * "upload"), kept through pool.  rate 0 turns it off (every take passes,
 * without PostgreSQL).  The caller keeps pool alive longer than the limit.
 */
struct rap_keylimit *rap_keylimit_new(const char *class_name, double rate, double burst,
				      struct rap_pg_pool *pool);
/** Frees the limit; accepts NULL. */
void rap_keylimit_free(struct rap_keylimit *kl);

/**
 * Takes cost tokens (a cost above burst is taken as burst) for key_id at
 * now_ms (a monotonic clock).  *admitted says whether the request may go
 * on; when it may not, *retry_after_s gets the whole seconds, at least 1,
 * after which it would pass.  A failure to reach PostgreSQL is returned
 * (RAP_EDB or RAP_ETIMEDOUT, message in err) with *admitted true: the
 * limit lets traffic through rather than adding an outage of its own.
 */
int rap_keylimit_take(struct rap_keylimit *kl, const char *key_id, double cost, int64_t now_ms,
		      bool *admitted, long long *retry_after_s, char *err);

#endif
