#ifndef NOTIFIER_H
#define NOTIFIER_H

#include <libpq-fe.h>
#include <pthread.h>
#include <sys/socket.h>
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
	long long admin_port;       /* 0: none (the WebSocket port answers too) */
	long long max_queued;       /* frames a client may have waiting */
	long long max_conns;        /* connections held at once (WebSocket port) */
	long long max_conns_per_ip; /* of them from one address (0: no limit) */
	long long idle_timeout;     /* s to upgrade and subscribe */
	long long sse_heartbeat;    /* s between an SSE stream's `: ping` comments */
	long long ws_ping;          /* s of silence before a WebSocket is pinged (0: never) */
	long long ws_pong;          /* s a pinged WebSocket has to answer */
};

/* conns.c: the connections of the WebSocket port, in total and by client
 * address (service thread only). */
#define NOTIFIER_CONN_BUCKETS 1024
#define NOTIFIER_TIE_BUCKETS 4096

struct notifier_peer {
	struct notifier_peer *next; /* in its bucket */
	unsigned count;             /* its connections held */
	unsigned char addr[16];     /* IPv4 (an IPv4-mapped one too) or IPv6 */
	unsigned char len;          /* 4 or 16 */
};

/* A connection's place, found by what holds it (its wsi). */
struct notifier_tie {
	struct notifier_tie *next; /* in its bucket */
	const void *owner;
	struct notifier_peer *peer; /* NULL: counted in the total only */
};

struct notifier_conns {
	unsigned max_total;    /* 0: no limit */
	unsigned max_per_addr; /* 0: no limit */
	unsigned total;
	struct notifier_peer *buckets[NOTIFIER_CONN_BUCKETS];
	struct notifier_tie *ties[NOTIFIER_TIE_BUCKETS];
};

void notifier_conns_init(struct notifier_conns *t, unsigned max_total, unsigned max_per_addr);
/* Frees every peer record. */
void notifier_conns_cleanup(struct notifier_conns *t);
/* Counts a connection from sa: RAP_OK, with in *peer what to give back to
 * notifier_conns_release when it ends (NULL for an address of another
 * family, counted in the total only); RAP_ETOOBIG when max_total are held,
 * RAP_ERANGE when max_per_addr are held from sa's address (nothing counted). */
int notifier_conns_admit(struct notifier_conns *t, const struct sockaddr *sa,
			 struct notifier_peer **peer);
/* Gives back a place notifier_conns_admit gave (peer is freed with its last). */
void notifier_conns_release(struct notifier_conns *t, struct notifier_peer *peer);
/* Ties a place notifier_conns_admit gave (peer) to owner (a wsi), for
 * notifier_conns_drop to give back. */
void notifier_conns_tie(struct notifier_conns *t, const void *owner, struct notifier_peer *peer);
/* Gives back the place tied to owner; false when it holds none. */
bool notifier_conns_drop(struct notifier_conns *t, const void *owner);
/* The connections held from sa's address. */
unsigned notifier_conns_from(const struct notifier_conns *t, const struct sockaddr *sa);

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
	struct notifier_conns conns;         /* service thread only */
	struct notifier_peer *conn_accepted; /* admitted, its wsi not yet made */
	bool conn_accepted_set;
	struct rap_metric *conns_now;
	struct rap_metric *refused_total;
	struct rap_metric *refused_addr;
	struct rap_metric *idle_closed;
	struct rap_metric *sse_now;
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

/* sse.c: the Server-Sent Events streams' request and text. */
#define NOTIFIER_SSE_SEEN 1024 /* the recent event ids a stream remembers */

struct rap_buf;

struct notifier_sse_req {
	char owner[RAP_MAX_OWNER + 1];
	char job_id[RAP_UUID_STRLEN]; /* lower-case; "" = every job of the owner */
	long long since;              /* the event id to resume after */
	bool resumed;                 /* since came from Last-Event-ID or ?since= */
};

/* The event ids a stream wrote last (a ring): replay and live delivery
 * overlap, and a stream writes an event once. */
struct notifier_sse_seen {
	long long ids[NOTIFIER_SSE_SEEN];
	unsigned n, pos;
};

/* True when path (no query) is an SSE route: /events, or /jobs/{x}/events
 * with x (not checked as a UUID here) in job_id ("" for /events). */
bool notifier_sse_path(const char *path, char job_id[RAP_UUID_STRLEN]);
/* Reads an SSE request: 0 with out filled, else the HTTP status to refuse
 * it with (404 not an SSE route, 401 key, 400 job id, Last-Event-ID or
 * since) and its error code and message (static).  key, last_event_id and
 * since are NULL when absent. */
int notifier_sse_decode(const struct rap_auth *auth, const char *path, const char *key,
			const char *last_event_id, const char *since, struct notifier_sse_req *out,
			const char **code, const char **msg);
/* Appends an event to b: `id: ID` (when id > 0), `event: TYPE`, a `data:`
 * line per line of data, a blank line.  RAP_ETOOBIG (b unchanged) past
 * b's bound. */
int notifier_sse_event(struct rap_buf *b, long long id, const char *type, const char *data,
		       size_t len);
/* Adds id to s: false when it is there already (written before). */
bool notifier_sse_seen_add(struct notifier_sse_seen *s, long long id);

/* ws.c: the libwebsockets side. */
int notifier_ws_run(struct notifier *n);
/* Moves pending events to subscribed clients, a slice a loop turn (service
 * thread); true while more are pending. */
bool notifier_dispatch(struct notifier *n);

#endif
