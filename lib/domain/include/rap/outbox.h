#ifndef RAP_OUTBOX_H
#define RAP_OUTBOX_H

#include <libpq-fe.h>

struct rap_amqp;

/*
 * The outbox relay.  Rows written in the same transaction as the change they
 * announce are published with publisher confirms and deleted only once the
 * broker confirmed them, so a crash anywhere in between publishes them again
 * (at least once; consumers are idempotent).  A confirmed work message moves
 * its job CREATED -> QUEUED.  A work message the broker returned as
 * unroutable (no queue bound for its type) moves the job to DEAD with the
 * reason, so it is never silently dropped.
 */
struct rap_outbox_stats {
	unsigned published;
	unsigned queued;     /* jobs moved to QUEUED */
	unsigned unroutable; /* work messages returned by the broker */
	/* Set by the caller, or NULL: called once the batch is committed, for
	 * each work message in it, with its job id and its traceparent header
	 * ("" when none), so the service can log the publish in the job's
	 * trace. */
	void (*on_work)(void *ctx, const char *job_id, const char *traceparent);
	void *ctx;
};

/**
 * Publishes up to limit work rows, then up to limit status events (so a
 * backlog of events never delays new work), in one transaction (SKIP
 * LOCKED, so several relays can run).  a must be in confirm mode.  RAP_OK (stats' counts filled; zero
 * published means the outbox is empty), or RAP_EDB / RAP_EAMQP /
 * RAP_ETIMEDOUT with a message in err (nothing is deleted then).
 */
int rap_outbox_relay(PGconn *db, struct rap_amqp *a, int limit, struct rap_outbox_stats *stats,
		     char *err);

#endif
