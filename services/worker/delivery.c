/*
 * delivery.c: settling a delivery of the work queue, and the early ack of
 * a long job's (docs/architecture.md, "Long jobs").
 *
 * RabbitMQ closes a channel whose oldest unacked delivery is older than
 * its consumer_timeout (30 min by default, checked once a minute; 3.10 has
 * no per-queue timeout).  So a job that runs longer than
 * RAP_WORKER_ACK_AFTER_MS gives up its delivery: the consumer is cancelled
 * first (basic.cancel, so no new delivery arrives and waits behind the
 * job), the deliveries already sent behind it go back to the queue
 * (re-published with a confirm, then acked: a reject would count against
 * the quorum queue's delivery limit), and the job's own delivery is acked.
 * From then on the lease holds the job: if the worker dies, the lease
 * lapses and job-api's sweeper re-queues it with a new message, as for a
 * hung worker.  The consumer starts again when the job is settled.
 *
 * Invariant: an acked delivery is never acked, rejected or requeued again
 * (the broker would close the channel for an unknown delivery tag).
 */
#include "worker.h"

#include "rap/amqp.h"
#include "rap/err.h"
#include "rap/log.h"
#include "rap/jobtype.h"
#include "rap/metrics.h"

/* Puts a delivery that waited behind a long job back on its queue. */
static void give_back(struct worker *w, struct rap_amqp_msg *m)
{
	struct rap_log_ctx ctx = { .request_id = m->request_id, .action = "give-back" };
	/* The copy keeps the job's trace (docs/observability.md, "Traces"). */
	const char *hdrs[3] = { "traceparent", m->traceparent, NULL };
	unsigned nacked;

	if (rap_amqp_publish(w->pub, "jobs", m->routing_key, m->body, m->len,
			     m->message_id[0] ? m->message_id : NULL, m->request_id, false,
			     m->traceparent[0] ? hdrs : NULL) == RAP_OK &&
	    rap_amqp_wait_confirms(w->pub, 10000, NULL, NULL, &nacked) == RAP_OK) {
		rap_amqp_ack(w->amqp, m->delivery_tag);
		return;
	}
	/* Without a confirmed copy, the broker keeps the original. */
	rap_log(RAP_LOG_WARN, &ctx, "give-back publish failed (%s): requeued",
		rap_amqp_errmsg(w->pub));
	rap_amqp_reject(w->amqp, m->delivery_tag, true);
}

void delivery_ack_early(struct worker *w, struct delivery *d)
{
	struct rap_amqp_msg waiting;

	if (d->acked)
		return;
	if (rap_amqp_cancel(w->amqp) == RAP_OK) {
		while (rap_amqp_next(w->amqp, 0, &waiting) == RAP_OK) {
			give_back(w, &waiting);
			rap_amqp_msg_release(&waiting);
		}
	}
	/* On a broken channel the ack fails and the broker has requeued the
	 * delivery already: its redelivery takes the job over, as after any
	 * lost connection, and this worker's lease-guarded updates then
	 * record nothing. */
	rap_amqp_ack(w->amqp, d->m->delivery_tag);
	d->acked = true;
	rap_metric_inc(w->early_acks, 1);
}

void delivery_ack(struct worker *w, struct delivery *d)
{
	if (!d->acked)
		rap_amqp_ack(w->amqp, d->m->delivery_tag);
	d->acked = true;
}

void delivery_requeue(struct worker *w, struct delivery *d)
{
	if (!d->acked)
		rap_amqp_reject(w->amqp, d->m->delivery_tag, true);
	d->acked = true;
}

void delivery_dead_letter(struct worker *w, struct delivery *d)
{
	if (!d->acked)
		rap_amqp_reject(w->amqp, d->m->delivery_tag, false);
	d->acked = true;
}

/* Consumes the queue of each pool the worker serves, on the consumer's one
 * channel: the prefetch window is per queue (basic.qos per consumer). */
int worker_consume_pools(struct worker *w)
{
	char queue[RAP_JOBTYPE_QUEUE_LEN];

	for (size_t i = 0; i < w->n_pools; i++) {
		rap_jobtype_queue(w->pools[i], queue, sizeof(queue));
		if (rap_amqp_consume(w->amqp, queue, (unsigned)w->prefetch) != RAP_OK)
			return RAP_EAMQP;
		rap_log(RAP_LOG_INFO, NULL, "consuming %s with prefetch %lld", queue, w->prefetch);
	}
	return RAP_OK;
}

int delivery_resume(struct worker *w)
{
	if (!w->amqp || !rap_amqp_ok(w->amqp) || rap_amqp_consuming(w->amqp))
		return RAP_OK;
	return worker_consume_pools(w);
}
