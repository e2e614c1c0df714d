/* consumer.c: status events from RabbitMQ to the service thread, a task of
 * its own (rap/task.h). */
#include "notifier.h"

#include "rap/amqp.h"
#include "rap/err.h"
#include "rap/log.h"
#include "rap/metrics.h"
#include "rap/mem.h"
#include "rap/clock.h"
#include "rap/task.h"

#include <json-c/json.h>
#include <libwebsockets.h>
#include <string.h>
#include <stdlib.h>

#define MAX_PENDING 100000 /* beyond it the consumer waits: back-pressure */

static const struct rap_log_ctx consumer_ctx = { .action = "consume-events" };

static void push(struct notifier *n, const char *body, size_t len)
{
	struct pending_event *e = rap_calloc(1, sizeof(*e));

	e->json = rap_strndup(body, len);
	pthread_mutex_lock(&n->lock);
	if (n->tail)
		n->tail->next = e;
	else
		n->head = e;
	n->tail = e;
	n->pending++;
	pthread_mutex_unlock(&n->lock);
	lws_cancel_service(n->lws);
}

/*
 * Hands a message's events to the service thread: a job.status event as it
 * is, or each event of a job.status.batch in order.  Returns how many.
 */
static unsigned push_message(struct notifier *n, const char *body, size_t len)
{
	struct json_object *o, *events, *type;
	struct json_tokener *tok;
	size_t i, count;

	if (len < 64 || !memmem(body, 64, "\"job.status.batch\"", 18)) {
		push(n, body, len);
		return 1;
	}
	tok = json_tokener_new();
	o = json_tokener_parse_ex(tok, body, (int)len);
	json_tokener_free(tok);
	if (!o || !json_object_object_get_ex(o, "type", &type) ||
	    strcmp(json_object_get_string(type), "job.status.batch") != 0 ||
	    !json_object_object_get_ex(o, "events", &events) ||
	    !json_object_is_type(events, json_type_array)) {
		json_object_put(o);
		push(n, body, len); /* not a batch after all: forward as is */
		return 1;
	}
	count = json_object_array_length(events);
	rap_metric_inc(n->batches_in, 1);
	for (i = 0; i < count; i++) {
		const char *e = json_object_to_json_string_ext(json_object_array_get_idx(events, i),
							       JSON_C_TO_STRING_PLAIN);

		push(n, e, strlen(e));
	}
	json_object_put(o);
	return (unsigned)count;
}

static struct rap_amqp *connect_events(struct notifier *n)
{
	const struct rap_settings *cfg = &n->svc.cfg;
	struct rap_amqp *a = NULL;
	char err[RAP_ERRLEN], queue[256];

	if (rap_amqp_connect(cfg->amqp_url, "notifier", &a, err) != RAP_OK) {
		rap_log(RAP_LOG_WARN, &consumer_ctx, "RabbitMQ: %s", err);
		return NULL;
	}
	/* A private queue per notifier: every instance sees every event. */
	if (rap_amqp_declare_file(a, cfg->amqp_definitions) != RAP_OK ||
	    rap_amqp_declare_temp_queue(a, "jobs.status", "#", queue, sizeof(queue)) != RAP_OK ||
	    rap_amqp_consume(a, queue, 500) != RAP_OK) {
		rap_log(RAP_LOG_ERROR, &consumer_ctx, "RabbitMQ: %s", rap_amqp_errmsg(a));
		rap_amqp_free(a);
		return NULL;
	}
	rap_log(RAP_LOG_INFO, &consumer_ctx, "consuming status events from %s", queue);
	return a;
}

struct consumer {
	struct rap_task task;
	struct notifier *n;
	struct rap_amqp *amqp;
};

static int consumer_connect(void *ctx)
{
	struct consumer *c = ctx;

	if (c->amqp && rap_amqp_ok(c->amqp))
		return RAP_OK;
	atomic_store(&c->n->amqp_ok, false);
	rap_amqp_free(c->amqp);
	c->amqp = connect_events(c->n);
	if (!c->amqp)
		return RAP_EAMQP;
	atomic_store(&c->n->amqp_ok, true);
	return RAP_OK;
}

/* Takes one message unless the service thread is too far behind (then it
 * waits a little: back-pressure on the queue, not memory). */
static int consumer_step(void *ctx)
{
	struct consumer *c = ctx;
	struct notifier *n = c->n;
	struct rap_amqp_msg m;
	struct rap_trace trace;
	unsigned pending, count;

	pthread_mutex_lock(&n->lock);
	pending = n->pending;
	pthread_mutex_unlock(&n->lock);
	if (pending > MAX_PENDING) {
		rap_sleep_ms(10);
		return RAP_OK;
	}
	if (rap_amqp_next(c->amqp, 500, &m) != RAP_OK)
		return RAP_OK; /* nothing came, or the connection failed: connect looks */
	count = push_message(n, m.body, m.len);
	rap_metric_inc(n->events_in, count);
	/* A message of one job's events carries its trace (lib/domain/outbox.c):
	 * the fan-out is a span of that trace.  Progress and mixed batches
	 * carry none and are not logged, as before. */
	if (rap_trace_parse(m.traceparent, &trace)) {
		rap_log_set_trace(&trace);
		rap_log(RAP_LOG_INFO, &consumer_ctx, "%u event(s) %s handed to the fan-out", count,
			m.routing_key);
		rap_log_set_trace(NULL);
	}
	rap_amqp_ack(c->amqp, m.delivery_tag);
	rap_amqp_msg_release(&m);
	return RAP_OK;
}

/* The end: the service thread may be waiting in lws_service; wake it. */
static void consumer_close(void *ctx)
{
	struct consumer *c = ctx;

	rap_amqp_free(c->amqp);
	c->amqp = NULL;
	lws_cancel_service(c->n->lws);
}

static const struct rap_task_ops consumer_ops = {
	.connect = consumer_connect,
	.step = consumer_step,
	.close = consumer_close,
};

struct rap_task *notifier_consumer_new(struct notifier *n)
{
	struct consumer *c = rap_calloc(1, sizeof(*c));

	c->n = n;
	c->task = (struct rap_task){ .name = "consumer", .ops = &consumer_ops, .ctx = c };
	return &c->task;
}

void notifier_consumer_free(struct rap_task *t)
{
	if (t)
		free(t->ctx);
}
