#ifndef RAP_AMQP_H
#define RAP_AMQP_H

#include "rap/log.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * RabbitMQ over rabbitmq-c 0.11: one connection with one channel per handle.
 * Keep consumers and confirming publishers on separate handles
 * (DEPENDENCIES.md).  rabbitmq-c 0.11 has no confirm-wait helper, so
 * rap_amqp_wait_confirms reads basic.ack / basic.nack / basic.return frames
 * itself, honouring the `multiple` flag.
 *
 * Errors: RAP_EAMQP with a message in rap_amqp_errmsg; once a handle has
 * failed it stays failed (rap_amqp_ok is false): free it and reconnect.
 */
struct rap_amqp;

struct rap_amqp_msg {
	const char *body;
	size_t len;
	char exchange[256];
	char routing_key[256];
	char message_id[128];
	char request_id[RAP_REQUEST_ID_LEN];
	/* The traceparent header as sent, cut past RAP_TRACEPARENT_LEN + 8 (so
	 * a longer one stays invalid for rap_trace_parse); "" when none. */
	char traceparent[RAP_TRACEPARENT_LEN + 8];
	uint64_t delivery_tag;
	bool redelivered;
	long long death_count;    /* sum of x-death counts: times dead-lettered */
	char death_reason[32];    /* reason of the latest x-death entry */
	char death_queue[128];    /* the queue it was dead-lettered from */
	long long delivery_count; /* x-delivery-count (quorum queues) */
	void *envelope;           /* owned; released by rap_amqp_msg_release */
};

/** Connects (no AMQP heartbeat; TCP keepalive) and opens channel 1; name shows in the
 *  management console.  err gets the reason on failure. */
int rap_amqp_connect(const char *url, const char *name, struct rap_amqp **out, char *err);
/** Closes and frees; accepts NULL. */
void rap_amqp_free(struct rap_amqp *a);
bool rap_amqp_ok(const struct rap_amqp *a);

/** The connection's socket, for poll(2); -1 when there is none. */
int rap_amqp_fd(const struct rap_amqp *a);

/** Reads whatever the broker sent on an idle publisher connection (call it
 *  when the socket is readable): a close or EOF marks the handle failed.
 *  Returns RAP_OK or RAP_EAMQP. */
int rap_amqp_drain(struct rap_amqp *a);
const char *rap_amqp_errmsg(const struct rap_amqp *a);

/**
 * Declares the exchanges, queues and bindings of a RabbitMQ definitions file
 * (the one the broker loads at boot), so services can start against a
 * broker that did not load it.  Declaring is idempotent.  A routing key of
 * a direct exchange bound in the file to one of its queues is unbound from
 * that exchange's other queues in the file (a job type that moved pools).
 */
int rap_amqp_declare_file(struct rap_amqp *a, const char *path);

/** Declares a server-named, exclusive, auto-delete queue bound to exchange
 *  with key; writes its name into name (size len). */
int rap_amqp_declare_temp_queue(struct rap_amqp *a, const char *exchange, const char *key,
				char *name, size_t len);

/** Puts the channel in confirm mode. */
int rap_amqp_confirm_select(struct rap_amqp *a);

/** Publishes a persistent JSON message; with confirms, it counts as
 *  outstanding until rap_amqp_wait_confirms.  headers (may be NULL) are
 *  extra string headers as name, value pairs ending with NULL; at most 8. */
int rap_amqp_publish(struct rap_amqp *a, const char *exchange, const char *key, const char *body,
		     size_t len, const char *message_id, const char *request_id, bool mandatory,
		     const char *const *headers);

/** Publishes a non-persistent JSON message, not mandatory, that nobody
 *  waits for (progress: the next one replaces it).  On a confirming
 *  channel its confirm is read later by rap_amqp_reap or
 *  rap_amqp_wait_confirms; it reaps first. */
int rap_amqp_publish_transient(struct rap_amqp *a, const char *exchange, const char *key,
			       const char *body, size_t len);

/** Reads, without waiting, the confirms that arrived on a publisher
 *  nobody waits on, so their bookkeeping does not grow; RAP_EAMQP when
 *  the connection failed. */
int rap_amqp_reap(struct rap_amqp *a);

/** Called for each message the broker returned as unroutable. */
typedef void (*rap_amqp_returned)(void *ctx, const char *message_id);

/**
 * Waits until every outstanding publish is confirmed.  RAP_OK when all were
 * acked; RAP_EAMQP when any was nacked (*nacked counts them) or the
 * connection failed; RAP_ETIMEDOUT after timeout_ms.  Returned messages are
 * reported through on_return (they are also acked by the broker).
 */
int rap_amqp_wait_confirms(struct rap_amqp *a, int timeout_ms, rap_amqp_returned on_return,
			   void *ctx, unsigned *nacked);

/** The most consumers one handle holds (one per queue it consumes). */
#define RAP_AMQP_CONSUMERS 16

/** Starts consuming queue with a prefetch window (per consumer) and manual
 *  acks; a handle may consume up to RAP_AMQP_CONSUMERS queues at once. */
int rap_amqp_consume(struct rap_amqp *a, const char *queue, unsigned prefetch);

/**
 * Stops every consumer of the handle (basic.cancel): no delivery comes after this returns.
 * Deliveries that were already on their way stay readable with
 * rap_amqp_next and unacked until settled.  RAP_OK when not consuming.
 */
int rap_amqp_cancel(struct rap_amqp *a);

/** True while consumers started by rap_amqp_consume are not cancelled. */
bool rap_amqp_consuming(const struct rap_amqp *a);

/** Waits up to timeout_ms for the next delivery: RAP_OK (msg filled; release
 *  it), RAP_ETIMEDOUT, or RAP_EAMQP when the connection failed. */
int rap_amqp_next(struct rap_amqp *a, int timeout_ms, struct rap_amqp_msg *msg);
void rap_amqp_msg_release(struct rap_amqp_msg *msg);

int rap_amqp_ack(struct rap_amqp *a, uint64_t tag);
/** Rejects a delivery: requeue, or dead-letter it (requeue false). */
int rap_amqp_reject(struct rap_amqp *a, uint64_t tag, bool requeue);

#endif
