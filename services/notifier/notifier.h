#ifndef NOTIFIER_H
#define NOTIFIER_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdbool.h>

#include "rap/config.h"
#include "rap/job.h"
#include "rap/service.h"
#include "rap/task.h"
#include "rap/uuid.h"

struct lws_context;
struct ev_loop;
struct rap_auth;
struct rap_metric;
struct client;
struct topic;

/* An event body waiting for the service thread. */
struct pending_event {
	char *json;
	struct pending_event *next;
};

/* settings.c: the settings that are notifier's own. */
struct notifier_settings {
	long long notifier_port;
	long long admin_port; /* 0: none (the WebSocket port answers too) */
	long long max_queued; /* frames a client may have waiting */
};

extern const struct rap_cfg_opt notifier_settings_table[];
extern const size_t notifier_settings_count;

struct notifier {
	struct rap_service svc;
	struct notifier_settings cfg; /* its own; the shared ones: svc.cfg */
	struct rap_auth *auth;
	struct lws_context *lws;
	struct ev_loop *ev_loop; /* the service thread's event loop (libev) */
	PGconn *db;              /* service thread only: replays */
	struct client *clients;  /* service thread only */
	struct topic **topics;   /* service thread only: subscribers by owner, by job */
	int64_t trimmed_ms;      /* last malloc_trim (service thread only) */
	struct rap_task *consumer;
	atomic_bool amqp_ok;
	_Atomic int64_t loop_ms; /* the service loop's last turn (a 1 s heartbeat) */
	pthread_mutex_t lock;    /* guards the pending list */
	struct pending_event *head, *tail;
	unsigned pending;
	struct rap_metric *events_in;
	struct rap_metric *batches_in;
	struct rap_metric *frames_out;
	struct rap_metric *writes_out;
	struct rap_metric *clients_now;
	struct rap_metric *replayed;
	struct rap_metric *dropped_clients;
	struct rap_metric *progress_skipped;
};

/* consumer.c: the AMQP task that feeds status events to the service thread
 * (start it with rap_task_start; free it after rap_task_join). */
struct rap_task *notifier_consumer_new(struct notifier *n);
void notifier_consumer_free(struct rap_task *t);

/* subscribe.c: a client's subscribe message, read and checked. */
struct notifier_subscribe {
	char owner[RAP_MAX_OWNER + 1]; /* whose api_key it carried */
	char job_id[RAP_UUID_STRLEN];  /* lower-case; "" = every job of the owner */
	long long since;               /* replay events after this id; 0: none */
};

/* Decodes msg (NUL-terminated) into out: NULL on success, else the error
 * frame (a JSON object text, static) to send the client.  auth maps the
 * message's api_key to its owner. */
const char *notifier_subscribe_decode(const struct rap_auth *auth, const char *msg,
				      struct notifier_subscribe *out);

/* ws.c: the libwebsockets side. */
int notifier_ws_run(struct notifier *n);
/* Moves pending events to subscribed clients, a slice a loop turn (service
 * thread); true while more are pending. */
bool notifier_dispatch(struct notifier *n);

#endif
