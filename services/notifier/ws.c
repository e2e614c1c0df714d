/*
 * ws.c: the notifier's libwebsockets side.  Browsers open /ws and send
 * {"type":"subscribe","api_key":...,"job_id"?,"since"?}; they get the job's
 * (or the owner's) past events from PostgreSQL first, then every new one as
 * RabbitMQ delivers it.  Events carry event_id, so clients drop the
 * duplicates that replay and live delivery may both send.  The same port
 * answers /healthz, /readyz and /metrics, and serves the same events as
 * Server-Sent Events (GET /events, /jobs/{id}/events: sse.c, sse_open):
 * an SSE stream is a client like a WebSocket, on the HTTP side.
 *
 * The model: one service thread runs lws_service and owns every client
 * and the replay connection to PostgreSQL; the consumer task (consumer.c)
 * only appends events to the pending list under n->lock and wakes the
 * service thread, which moves them to the subscribed clients
 * (notifier_dispatch).  An event is made into a frame once, shared (counted
 * references) by the queues of the clients it goes to; each client has its
 * own queue, written
 * when libwebsockets says the socket is writable: all that wait (up to
 * WRITE_COALESCE_BYTES) in one write (write_next).
 *
 * job.progress messages (from the worker running a job, at most about once
 * a second per job) go the same way, but they are never stored, so never
 * replayed, and they are not worth a client's place: one whose queue
 * already holds PROGRESS_BACKLOG frames skips them (the next one says the
 * same, newer).
 *
 * Subscribers are indexed (struct topic, a hash table): an owner's
 * owner-wide followers in one topic, a job's followers in another, so an
 * event costs the clients it goes to, not a walk over every client.
 *
 * Invariants: clients, topics, their queues and n->db are touched on the
 * service thread only; a client is in at most one topic; a client's queue
 * holds at most RAP_NOTIFIER_MAX_QUEUED frames once nothing has been
 * written to it for STALL_MS (four times that while it takes data): one
 * that falls further behind has
 * its queue dropped and is closed with CLOSE_TOO_SLOW and the
 * `since` to resume from (every event before it was written to it); an
 * incoming message is at most MAX_IN_MESSAGE bytes, UTF-8 (else the
 * connection fails with 1007) without NUL (else an error frame); the port
 * holds at most RAP_NOTIFIER_MAX_CONNECTIONS sockets,
 * RAP_NOTIFIER_MAX_CONNECTIONS_PER_IP of them from one address (conns.c,
 * conn_filter), and a socket that has not upgraded, or a WebSocket that has
 * not subscribed, within RAP_NOTIFIER_IDLE_TIMEOUT_SECONDS is closed.  The
 * health endpoints
 * are also served by a thread of their own (main.c, the admin port), so
 * probes do not wait for a busy loop.
 */
#include "notifier.h"

#include "rap/auth.h"
#include "rap/err.h"
#include "rap/log.h"
#include "rap/metrics.h"
#include "rap/mem.h"
#include "rap/pg.h"
#include "rap/problem.h"
#include "rap/buf.h"
#include "rap/clock.h"
#include "rap/random.h"
#include "rap/str.h"
#include "rap/uuid.h"
#include "rap/job.h"

#include <ctype.h>
#include <json-c/json.h>
#include <ev.h>
#include <libwebsockets.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define MAX_IN_MESSAGE 4096
#define MAX_REPLAY 5000     /* past events a page (at most half of a client's queue) */
#define PROGRESS_BACKLOG 64 /* a client this far behind skips progress */
/* At most this much a write: what libwebsockets keeps of a write the
 * socket did not take is bounded by it, per client (10,000 slow clients
 * with 256 KiB each held most of a gigabyte). */
#define WRITE_COALESCE_BYTES (64 * 1024)
#define STALL_MS 5000 /* a client over its bound this long without a write is too slow */
#define TOPIC_BUCKETS 16384
#define DISPATCH_SLICE 256                   /* events moved to queues a loop turn */
#define CLOSE_TOO_SLOW 4008                  /* the close code: reconnect with `since` */
#define SLOW_CLOSE_SECONDS 10                /* a closing slow client's time to take the close */
#define NOTIFIER_MAX_HEADER_DATA (16 * 1024) /* a request's headers, request line included */

/* An SSE stream's `retry:` hint, and the bound of one write to it (events
 * are far smaller). */
#define SSE_RETRY_MS 3000
#define SSE_MAX_WRITE (16 * 1024 * 1024)
/* How long after its replay a stream keeps the ids it wrote: live delivery
 * repeats what the replay sent only while the events in flight when it
 * opened arrive (8 KiB a stream, not held by 10,000 idle ones). */
#define SSE_SEEN_KEEP_MS 30000

/* A text to send, made once and shared by every client it goes to (an
 * event for a thousand followers is one copy, not a thousand). */
struct frame {
	unsigned refs;
	long long event_id; /* 0: not a stored event (progress, replies) */
	const char *type;   /* its SSE event type; NULL: job.status if stored, else none */
	size_t len;
	unsigned char buf[]; /* LWS_PRE bytes of headroom, then the text */
};

/* A client's place in line for a frame. */
struct out_frame {
	struct out_frame *next;
	struct frame *f;
};

/* The clients that follow one owner (owner-wide) or one job. */
struct topic {
	struct topic *next; /* in its hash bucket */
	struct client *members;
	char key[RAP_MAX_OWNER + 3]; /* "o:" owner, or "j:" job id */
};

struct client {
	struct lws *wsi;
	struct client *next, *prev;   /* every client */
	struct client *tnext, *tprev; /* the topic's members */
	struct topic *topic;
	bool is_ws;
	bool subscribed;
	bool too_slow;           /* queue dropped; closing with CLOSE_TOO_SLOW */
	long long sent_event_id; /* the last stored event written to it */
	long long resume_since;  /* told in the close: resume after this */
	long long replay_next;   /* > 0: more past events after this id to send */
	int64_t written_ms;      /* its last write, or when its queue filled from empty */
	char owner[RAP_MAX_OWNER + 1];
	char job_id[RAP_UUID_STRLEN]; /* "" = every job of the owner */
	struct out_frame *out_head, *out_tail;
	unsigned out_n;
	struct client *dirty_next; /* given frames by the dispatch under way */
	bool dirty;
	char in[MAX_IN_MESSAGE];
	size_t in_len;
	bool in_overflow;
	char *http_body; /* with LWS_PRE headroom */
	size_t http_len;
	struct rap_trace trace; /* its request's (client_trace) */
	/* An SSE stream (sse.c): an HTTP answer that stays open. */
	bool is_sse;
	bool sse_hello;        /* its `retry:` not written yet */
	bool sse_ping;         /* a `: ping` due */
	long long sse_floor;   /* it resumed after this event id: none at or below it */
	long long sse_last_id; /* the largest `id:` written to it */
	long long replay_hi;   /* > 0: its replay stops at this id (later ones come live) */
	struct notifier_sse_seen *sse_seen; /* while its replay may overlap live delivery */
	int64_t sse_replayed_ms;            /* when its replay was done (0: not yet) */
};

static struct frame *frame_new(const char *text, size_t len, long long event_id)
{
	struct frame *f = rap_malloc(sizeof(*f) + LWS_PRE + len);

	f->refs = 0;
	f->event_id = event_id;
	f->type = NULL;
	f->len = len;
	memcpy(f->buf + LWS_PRE, text, len);
	return f;
}

/* Frees f when no client holds it (also one nobody took). */
static void frame_unused(struct frame *f)
{
	if (f && f->refs == 0)
		free(f);
}

static void frame_put(struct frame *f)
{
	f->refs--;
	frame_unused(f);
}

/* Frees the first k frames of c's queue. */
static void drop_written(struct client *c, unsigned k)
{
	struct out_frame *f;

	while (k-- > 0 && (f = c->out_head) != NULL) {
		c->out_head = f->next;
		c->out_n--;
		frame_put(f->f);
		free(f);
	}
	if (!c->out_head)
		c->out_tail = NULL;
}

/*
 * A client whose queue is full: its frames are dropped (the memory is
 * back at once) and it is closed with CLOSE_TOO_SLOW when its socket takes
 * the close, or cut off after SLOW_CLOSE_SECONDS.  It resumes after the
 * last stored event written to it, or before the first one dropped,
 * whichever is earlier (the replay sends past events from the store; the
 * client drops the ones it has by event_id).
 */
static void too_slow(struct notifier *n, struct client *c)
{
	struct out_frame *f;
	long long since = c->sent_event_id;
	unsigned waiting = c->out_n;
	long long stalled = (long long)(rap_now_ms() - c->written_ms);

	for (f = c->out_head; f; f = f->next)
		if (f->f->event_id > 0 && f->f->event_id - 1 < since)
			since = f->f->event_id - 1;
	c->resume_since = since;
	c->too_slow = true;
	drop_written(c, c->out_n);
	rap_metric_inc(n->dropped_clients, 1);
	rap_log(RAP_LOG_INFO, NULL,
		"a client of %s is too slow (%u frames waiting, none written for %lld ms): "
		"closing it (%d, resume with since %lld)",
		c->owner, waiting, stalled, CLOSE_TOO_SLOW, since);
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, SLOW_CLOSE_SECONDS);
	lws_callback_on_writable(c->wsi);
}

/* Puts fr in c's queue (a reference, not a copy); false when c is too
 * slow to take it.  Whoever calls it sees that c gets written. */
static bool queue_frame(struct notifier *n, struct client *c, struct frame *fr)
{
	struct out_frame *o;

	if (c->too_slow)
		return false;
	/* Too slow: over the bound and nothing written to it for STALL_MS (a
	 * client that reads may be over it for a moment, when a burst comes
	 * faster than the loop writes; it has up to four times the bound). */
	if (c->out_n >= (unsigned long long)n->cfg.max_queued &&
	    (c->out_n >= 4ULL * (unsigned long long)n->cfg.max_queued ||
	     rap_now_ms() - c->written_ms >= STALL_MS)) {
		too_slow(n, c);
		return false;
	}
	if (c->out_n == 0)
		c->written_ms = rap_now_ms(); /* the clock runs while frames wait */
	o = rap_malloc(sizeof(*o));
	o->next = NULL;
	o->f = fr;
	fr->refs++;
	if (c->out_tail)
		c->out_tail->next = o;
	else
		c->out_head = o;
	c->out_tail = o;
	c->out_n++;
	return true;
}

/* Puts fr in c's queue, to be written when its socket is writable. */
static void enqueue_frame(struct notifier *n, struct client *c, struct frame *fr)
{
	if (queue_frame(n, c, fr))
		lws_callback_on_writable(c->wsi);
}

/* A text for this client alone. */
static void enqueue(struct notifier *n, struct client *c, const char *text, size_t len,
		    long long event_id)
{
	struct frame *fr = frame_new(text, len, event_id);

	enqueue_frame(n, c, fr);
	frame_unused(fr);
}

static void send_text(struct notifier *n, struct client *c, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void send_text(struct notifier *n, struct client *c, const char *fmt, ...)
{
	struct rap_buf b;
	va_list ap;

	rap_buf_init(&b, 64 * 1024);
	va_start(ap, fmt);
	rap_buf_vappendf(&b, fmt, ap);
	va_end(ap);
	enqueue(n, c, b.data ? b.data : "", b.len, 0);
	rap_buf_cleanup(&b);
}

static bool db_ready(struct notifier *n)
{
	char err[RAP_ERRLEN];

	if (n->db && rap_pg_alive(n->db))
		return true;
	PQfinish(n->db);
	n->db = NULL;
	if (rap_pg_connect(n->svc.cfg.pg_url, &n->db, err) != RAP_OK) {
		rap_log(RAP_LOG_WARN, NULL, "PostgreSQL: %s", err);
		n->db = NULL;
		return false;
	}
	return true;
}

/* Past events a page of replay: at most MAX_REPLAY, and at most half of a
 * client's queue, so a replay alone never makes a client too slow. */
static int replay_page(const struct notifier *n)
{
	long long half = n->cfg.max_queued / 2;

	return half < MAX_REPLAY ? (int)half : MAX_REPLAY;
}

/*
 * Sends a page of the events after `since` of the subscription from
 * job_events; when the page was full, c->replay_next says where the next
 * one starts, sent once the client has taken most of this one
 * (replay_more), so a long history goes out in bounded steps.
 */
static int replay(struct notifier *n, struct client *c, long long since)
{
	char sincebuf[24], limit[12], hibuf[24], err[RAP_ERRLEN];
	const char *p[5] = { c->owner, c->job_id[0] ? c->job_id : NULL, sincebuf, limit,
			     c->replay_hi > 0 ? hibuf : NULL };
	PGresult *res;
	int i, result, page = replay_page(n);

	c->replay_next = 0;
	if (!db_ready(n))
		return RAP_EDB;
	snprintf(sincebuf, sizeof(sincebuf), "%lld", since);
	snprintf(limit, sizeof(limit), "%d", page);
	snprintf(hibuf, sizeof(hibuf), "%lld", c->replay_hi);
	result = rap_pg_exec(
		n->db,
		"SELECT e.id, json_build_object('v', 1, 'type', 'job.status', 'event_id', e.id,"
		" 'job_id', e.job_id, 'owner', j.owner, 'job_type', j.type,"
		" 'from', e.from_state, 'to', e.to_state, 'attempt', e.attempt,"
		" 'at', rap_ts(e.at), 'detail', e.detail, 'replay', true)::text"
		" FROM job_events e JOIN jobs j ON j.id = e.job_id"
		" WHERE j.owner = $1 AND ($2::uuid IS NULL OR e.job_id = $2::uuid)"
		" AND e.id > $3::bigint AND ($5::bigint IS NULL OR e.id <= $5::bigint)"
		" ORDER BY e.id LIMIT $4::int",
		5, p, &res, err);
	if (result != RAP_OK) {
		rap_log(RAP_LOG_WARN, NULL, "replay: %s", err);
		return result;
	}
	for (i = 0; i < PQntuples(res); i++)
		enqueue(n, c, PQgetvalue(res, i, 1), (size_t)PQgetlength(res, i, 1),
			atoll(PQgetvalue(res, i, 0)));
	if (PQntuples(res) == page)
		c->replay_next = atoll(PQgetvalue(res, page - 1, 0));
	rap_metric_inc(n->replayed, PQntuples(res));
	PQclear(res);
	return RAP_OK;
}

/* The next page of a long replay, once the client's queue is mostly out. */
static void replay_more(struct notifier *n, struct client *c)
{
	if (c->replay_next <= 0 || c->too_slow || c->out_n > (unsigned)replay_page(n) / 4)
		return;
	if (replay(n, c, c->replay_next) == RAP_OK)
		return;
	if (c->is_sse) /* no error frame: closed, it resumes with Last-Event-ID */
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
	else
		send_text(
			n, c,
			"{\"type\":\"error\",\"code\":\"unavailable\",\"message\":\"history unavailable; events from now on only\"}");
}

/* Whether c's owner has c's job: RAP_OK, RAP_ENOENT, or RAP_EDB. */
static int job_owned(struct notifier *n, const struct client *c)
{
	const char *p[2] = { c->job_id, c->owner };
	char err[RAP_ERRLEN];
	PGresult *res;
	bool found;

	if (!db_ready(n) || rap_pg_exec(n->db, "SELECT 1 FROM jobs WHERE id = $1 AND owner = $2", 2,
					p, &res, err) != RAP_OK)
		return RAP_EDB;
	found = PQntuples(res) == 1;
	PQclear(res);
	return found ? RAP_OK : RAP_ENOENT;
}

/* True when the owner has the job (answers the client otherwise). */
static bool owns_job(struct notifier *n, struct client *c)
{
	int r = job_owned(n, c);

	if (r == RAP_EDB) {
		send_text(
			n, c,
			"{\"type\":\"error\",\"code\":\"unavailable\",\"message\":\"the job store is unavailable; retry\"}");
		return false;
	}
	if (r != RAP_OK)
		send_text(n, c,
			  "{\"type\":\"error\",\"code\":\"not_found\",\"message\":\"no job %s\"}",
			  c->job_id);
	return r == RAP_OK;
}

static size_t topic_bucket(const char *key)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 16777619u;
	return h % TOPIC_BUCKETS;
}

/* The topic of kind 'o' (owner-wide) or 'j' (a job) for name, or NULL. */
static struct topic *topic_find(struct notifier *n, char kind, const char *name)
{
	char key[sizeof(((struct topic *)0)->key)];
	struct topic *t;

	snprintf(key, sizeof(key), "%c:%s", kind, name);
	for (t = n->topics[topic_bucket(key)]; t; t = t->next)
		if (strcmp(t->key, key) == 0)
			return t;
	return NULL;
}

static void topic_leave(struct notifier *n, struct client *c)
{
	struct topic *t = c->topic, **pp;

	if (!t)
		return;
	if (c->tprev)
		c->tprev->tnext = c->tnext;
	else
		t->members = c->tnext;
	if (c->tnext)
		c->tnext->tprev = c->tprev;
	c->topic = NULL;
	c->tnext = c->tprev = NULL;
	if (t->members)
		return;
	for (pp = &n->topics[topic_bucket(t->key)]; *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	free(t);
}

/* Makes c a member of the topic its subscription names (and of no other). */
static void topic_join(struct notifier *n, struct client *c)
{
	char kind = c->job_id[0] ? 'j' : 'o';
	const char *name = c->job_id[0] ? c->job_id : c->owner;
	struct topic *t;

	topic_leave(n, c);
	t = topic_find(n, kind, name);
	if (!t) {
		size_t b;

		t = rap_calloc(1, sizeof(*t));
		snprintf(t->key, sizeof(t->key), "%c:%s", kind, name);
		b = topic_bucket(t->key);
		t->next = n->topics[b];
		n->topics[b] = t;
	}
	c->topic = t;
	c->tprev = NULL;
	c->tnext = t->members;
	if (t->members)
		t->members->tprev = c;
	t->members = c;
}

static const char *jstring(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Whether a message holds a NUL, raw or escaped (\u0000): it gets an
 * error frame instead of being read up to the NUL. */
static bool in_has_nul(const struct client *c)
{
	return memchr(c->in, '\0', c->in_len) || memmem(c->in, c->in_len, "\\u0000", 6);
}

static void on_message(struct notifier *n, struct client *c)
{
	struct notifier_subscribe sub;
	const char *error = notifier_subscribe_decode(n->auth, c->in, &sub);
	bool job;

	if (error) {
		send_text(n, c, "%s", error);
		return;
	}
	job = sub.job_id[0] != '\0';
	snprintf(c->owner, sizeof(c->owner), "%s", sub.owner);
	snprintf(c->job_id, sizeof(c->job_id), "%s", sub.job_id);
	if (job && !owns_job(n, c))
		return;
	/* Live events flow from now on; the replay fills what came before. */
	c->subscribed = true;
	lws_set_timer_usecs(c->wsi, LWS_SET_TIMER_USEC_CANCEL);
	c->replay_next = 0;
	topic_join(n, c);
	send_text(n, c, "{\"type\":\"subscribed\",\"job_id\":%s%s%s}", job ? "\"" : "",
		  job ? c->job_id : "null", job ? "\"" : "");
	if ((job || sub.since > 0) && replay(n, c, sub.since) != RAP_OK)
		send_text(
			n, c,
			"{\"type\":\"error\",\"code\":\"unavailable\",\"message\":\"history unavailable; events from now on only\"}");
}

/* Queues the event (its frame made on first use, in *fr) for t's members,
 * each put once on the *dirty list. */
static void deliver(struct notifier *n, struct topic *t, const struct pending_event *e,
		    long long event_id, bool progress, struct frame **fr, struct client **dirty)
{
	struct client *c;

	for (c = t ? t->members : NULL; c; c = c->tnext) {
		if (progress && c->out_n >= PROGRESS_BACKLOG) {
			rap_metric_inc(n->progress_skipped, 1);
			continue;
		}
		if (!*fr) {
			*fr = frame_new(e->json, strlen(e->json), event_id);
			(*fr)->type = progress ? "job.progress" : "job.status";
		}
		if (queue_frame(n, c, *fr) && !c->dirty) {
			c->dirty = true;
			c->dirty_next = *dirty;
			*dirty = c;
		}
	}
}

static int write_next(struct notifier *n, struct client *c);

/*
 * Writes to the clients a dispatch gave frames to at once, rather than
 * asking libwebsockets to wait until each socket is writable: that cost
 * two epoll_ctl() and a loop turn per client and event (a fifth of the
 * notifier's CPU with 1,000 followers of one owner), and a socket with room
 * in its buffer is writable now.  A client libwebsockets still holds bytes
 * for (lws_partial_buffered: its socket was full), or one too slow, waits
 * for writable as before; what one write leaves is written when writable
 * (write_next asks).  A failed write closes the client, later.
 */
static void write_dirty(struct notifier *n, struct client *c)
{
	struct client *next;

	for (; c; c = next) {
		next = c->dirty_next;
		c->dirty_next = NULL;
		c->dirty = false;
		if (c->too_slow || lws_partial_buffered(c->wsi))
			lws_callback_on_writable(c->wsi);
		else if (write_next(n, c) != 0)
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT,
					LWS_TO_KILL_ASYNC);
	}
}

/*
 * Moves up to DISPATCH_SLICE pending events to their followers' queues and
 * comes back (lws_cancel_service) for the rest after the loop has written:
 * a burst (a batch of a thousand jobs is thousands of events) reaches a
 * client that keeps up as a stream, not as one heap that would count
 * against its queue's bound, and a loop turn stays short.  True when
 * events are still pending.
 */
bool notifier_dispatch(struct notifier *n)
{
	struct pending_event *e, *next, *last;
	struct client *dirty = NULL;
	unsigned k;
	bool more;

	pthread_mutex_lock(&n->lock);
	e = last = n->head;
	for (k = 1; last && last->next && k < DISPATCH_SLICE; k++)
		last = last->next;
	if (last) {
		n->head = last->next;
		last->next = NULL;
		if (!n->head)
			n->tail = NULL;
		n->pending -= k;
	}
	more = n->head != NULL;
	pthread_mutex_unlock(&n->lock);
	if (more)
		lws_cancel_service(n->lws);
	for (; e; e = next) {
		struct json_object *o = json_tokener_parse(e->json);
		const char *owner = o ? jstring(o, "owner") : NULL;
		const char *job = o ? jstring(o, "job_id") : NULL;
		const char *type = o ? jstring(o, "type") : NULL;
		bool progress = type && strcmp(type, "job.progress") == 0;
		struct json_object *v;
		long long event_id = 0;
		struct frame *fr = NULL;

		next = e->next;
		if (!progress && json_object_object_get_ex(o, "event_id", &v))
			event_id = json_object_get_int64(v);
		if (owner && job && rap_uuid_valid(job)) {
			char lower[RAP_UUID_STRLEN];
			size_t i;

			for (i = 0; i + 1 < sizeof(lower) && job[i]; i++)
				lower[i] = (char)tolower((unsigned char)job[i]);
			lower[i] = '\0';
			deliver(n, topic_find(n, 'o', owner), e, event_id, progress, &fr, &dirty);
			/* A job's followers are its owner's (checked on subscribe). */
			deliver(n, topic_find(n, 'j', lower), e, event_id, progress, &fr, &dirty);
		}
		frame_unused(fr);
		json_object_put(o);
		free(e->json);
		free(e);
	}
	write_dirty(n, dirty);
	return more;
}

static void client_unlink(struct notifier *n, struct client *c)
{
	struct out_frame *f, *next;

	topic_leave(n, c);
	if (c->prev)
		c->prev->next = c->next;
	else
		n->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->next = c->prev = NULL;
	for (f = c->out_head; f; f = next) {
		next = f->next;
		frame_put(f->f);
		free(f);
	}
	c->out_head = c->out_tail = NULL;
	c->out_n = 0;
	free(c->sse_seen);
	c->sse_seen = NULL;
	rap_metric_inc(c->is_sse ? n->sse_now : n->clients_now, -1);
	/* What the clients held (their queues, their buffers) goes back to the
	 * system, not only to malloc: after a crowd leaves, the notifier
	 * returns to its idle size.  At most once a second, and whenever the
	 * last client has gone. */
	if (!n->clients || rap_now_ms() - n->trimmed_ms >= 1000) {
		malloc_trim(0);
		n->trimmed_ms = rap_now_ms();
	}
}

/*
 * Writes what the client has waiting: one frame as libwebsockets frames it,
 * or several (up to WRITE_COALESCE_BYTES) framed here, unmasked text frames
 * as a server sends them, in one write, so a busy client costs one send()
 * a loop turn, not one a frame (each send was most of the notifier's CPU
 * under load).  No extension is negotiated, so the frames need nothing else.
 */
static int sse_write(struct notifier *n, struct client *c);

static int write_next(struct notifier *n, struct client *c)
{
	struct out_frame *f = c->out_head;
	unsigned char *buf, *p;
	size_t total = 0, len;
	unsigned k = 0;

	if (c->is_sse)
		return sse_write(n, c);
	if (c->too_slow) {
		char why[96];
		int wn = snprintf(why, sizeof(why), "{\"code\":\"too_slow\",\"since\":%lld}",
				  c->resume_since);

		lws_close_reason(c->wsi, (enum lws_close_status)CLOSE_TOO_SLOW,
				 (unsigned char *)why, (size_t)wn);
		return -1;
	}
	if (!f)
		return 0;
	if (!f->next) {
		/* libwebsockets writes the frame's header into the headroom: the
		 * same bytes for every client of a shared frame. */
		if (lws_write(c->wsi, f->f->buf + LWS_PRE, f->f->len, LWS_WRITE_TEXT) <
		    (int)f->f->len)
			return -1;
		rap_metric_inc(n->frames_out, 1);
		rap_metric_inc(n->writes_out, 1);
		c->written_ms = rap_now_ms();
		if (f->f->event_id > c->sent_event_id)
			c->sent_event_id = f->f->event_id;
		drop_written(c, 1);
		return 0;
	}
	for (; f && (k == 0 || total + f->f->len + 10 <= WRITE_COALESCE_BYTES); f = f->next, k++)
		total += f->f->len + 10; /* the longest header: 2 + 8 bytes */
	buf = rap_malloc(LWS_PRE + total);
	p = buf + LWS_PRE;
	for (f = c->out_head, len = 0; len < k; f = f->next, len++) {
		size_t flen = f->f->len;

		*p++ = 0x81; /* FIN, text */
		if (flen < 126) {
			*p++ = (unsigned char)flen;
		} else if (flen < 65536) {
			*p++ = 126;
			*p++ = (unsigned char)(flen >> 8);
			*p++ = (unsigned char)flen;
		} else {
			*p++ = 127;
			for (int shift = 56; shift >= 0; shift -= 8)
				*p++ = (unsigned char)((uint64_t)flen >> shift);
		}
		memcpy(p, f->f->buf + LWS_PRE, flen);
		p += flen;
		if (f->f->event_id > c->sent_event_id)
			c->sent_event_id = f->f->event_id;
	}
	total = (size_t)(p - (buf + LWS_PRE));
	if (lws_write(c->wsi, buf + LWS_PRE, total, LWS_WRITE_RAW) < (int)total) {
		free(buf);
		return -1;
	}
	free(buf);
	rap_metric_inc(n->frames_out, k);
	rap_metric_inc(n->writes_out, 1);
	c->written_ms = rap_now_ms();
	drop_written(c, k);
	if (c->out_head)
		lws_callback_on_writable(c->wsi);
	return 0;
}

/*
 * Connection limits (conns.c; libwebsockets as Debian builds it has none):
 * a socket is counted when it is accepted, before libwebsockets makes its
 * wsi, and refused (closed at once) past RAP_NOTIFIER_MAX_CONNECTIONS or
 * past RAP_NOTIFIER_MAX_CONNECTIONS_PER_IP from its address.  Its place is
 * tied to the wsi made next (LWS_CALLBACK_WSI_CREATE, which libwebsockets
 * calls right after, on this thread; its opaque user data is set after
 * that, so the tie is conns.c's own) and given back when the wsi is
 * destroyed, however it ends.  Non-zero
 * refuses the socket.
 */
static int conn_filter(struct notifier *n, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct notifier_peer *peer;
	int r;

	/* A place admitted whose wsi was never made (libwebsockets failed to
	 * adopt the socket): back now, or it would be lost. */
	if (n->conn_accepted_set) {
		notifier_conns_release(&n->conns, n->conn_accepted);
		rap_metric_inc(n->conns_now, -1);
		n->conn_accepted_set = false;
	}
	memset(&ss, 0, sizeof(ss));
	if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
		return 1; /* gone already */
	r = notifier_conns_admit(&n->conns, (struct sockaddr *)&ss, &peer);
	if (r != RAP_OK) {
		rap_metric_inc(r == RAP_ERANGE ? n->refused_addr : n->refused_total, 1);
		return 1;
	}
	n->conn_accepted = peer;
	n->conn_accepted_set = true;
	rap_metric_inc(n->conns_now, 1);
	return 0;
}

/* Ties the place conn_filter admitted to the wsi made for its socket. */
static void conn_bind(struct notifier *n, struct lws *wsi)
{
	if (!n->conn_accepted_set)
		return;
	notifier_conns_tie(&n->conns, wsi, n->conn_accepted);
	n->conn_accepted_set = false;
	n->conn_accepted = NULL;
}

static void conn_release(struct notifier *n, struct lws *wsi)
{
	if (notifier_conns_drop(&n->conns, wsi))
		rap_metric_inc(n->conns_now, -1);
}

/* The trace of a request, as lib/adapters/http gives the other services
 * theirs: the client's traceparent continued with a span of the request's
 * own, or a new trace.  Set for the service thread's log lines. */
static void client_trace(struct client *c, struct lws *wsi)
{
	char tp[RAP_TRACEPARENT_LEN + 8];

	if (lws_hdr_custom_copy(wsi, tp, sizeof(tp), "traceparent:", 12) < 0)
		tp[0] = '\0';
	rap_trace_continue(tp, &c->trace);
	rap_log_set_trace(&c->trace);
}

/* The answer's traceparent header; nonzero when it does not fit. */
static int trace_header(const struct client *c, struct lws *wsi, unsigned char **p,
			unsigned char *end)
{
	char tp[RAP_TRACEPARENT_LEN];

	rap_trace_format(&c->trace, tp);
	return lws_add_http_header_by_name(wsi, (const unsigned char *)"traceparent:",
					   (const unsigned char *)tp, (int)strlen(tp), p, end);
}

/*
 * SSE streams (sse.c reads the request and makes the text): a client of
 * its own kind on the HTTP side, in a topic and fed by the same queue,
 * replay and dispatch as a WebSocket, written as `id:`/`event:`/`data:`
 * events instead of frames.  What a WebSocket client does itself (drop
 * event ids it has, resume after the largest) is done here: a stored
 * event at or below the id it resumed after, or one it was written
 * already (replay and live delivery overlap: the last 1,024 ids, kept
 * until SSE_SEEN_KEEP_MS after its replay), is left out, and `id:` is
 * written only when it grows, so Last-Event-ID is always the largest
 * id the browser got.  Its replay stops at the largest event id recorded
 * when it opened (later ones come live), so a long paged replay does not
 * send again what came live meanwhile.  The answer has no length: the
 * stream ends when the connection does (a slow stream, one whose replay
 * fails, or the notifier stopping closes it; an EventSource reconnects
 * with Last-Event-ID).  A job's stream stays open after a terminal state:
 * a job may be replayed.
 */
static int sse_write(struct notifier *n, struct client *c)
{
	static const char headroom[LWS_PRE];
	struct out_frame *f;
	struct rap_buf b;
	unsigned k = 0, events = 0;
	int r = 0;

	if (c->too_slow)
		return -1; /* it resumes with Last-Event-ID */
	rap_buf_init(&b, SSE_MAX_WRITE);
	rap_buf_append(&b, headroom, LWS_PRE);
	if (c->sse_hello)
		rap_buf_appendf(&b, "retry: %d\n\n", SSE_RETRY_MS);
	if (c->sse_ping)
		rap_buf_appends(&b, ": ping\n\n");
	for (f = c->out_head; f && b.len < LWS_PRE + WRITE_COALESCE_BYTES; f = f->next, k++) {
		long long id = f->f->event_id;
		const char *type = f->f->type ? f->f->type : id > 0 ? "job.status" : NULL;

		if (!type || (id > 0 && (id <= c->sse_floor ||
					 (c->sse_seen && !notifier_sse_seen_add(c->sse_seen, id)))))
			continue;
		if (notifier_sse_event(&b, id > c->sse_last_id ? id : 0, type,
				       (const char *)f->f->buf + LWS_PRE, f->f->len) != RAP_OK) {
			r = -1;
			goto out;
		}
		if (id > c->sse_last_id)
			c->sse_last_id = id;
		events++;
	}
	if (b.len > LWS_PRE) {
		size_t len = b.len - LWS_PRE;

		if (lws_write(c->wsi, (unsigned char *)b.data + LWS_PRE, len, LWS_WRITE_HTTP) <
		    (int)len) {
			r = -1;
			goto out;
		}
		rap_metric_inc(n->frames_out, events);
		rap_metric_inc(n->writes_out, 1);
	}
	c->sse_hello = c->sse_ping = false;
	c->written_ms = rap_now_ms();
	drop_written(c, k);
	if (c->sse_seen && c->replay_next <= 0) {
		if (!c->sse_replayed_ms)
			c->sse_replayed_ms = c->written_ms;
		else if (c->written_ms - c->sse_replayed_ms >= SSE_SEEN_KEEP_MS) {
			free(c->sse_seen);
			c->sse_seen = NULL;
		}
	}
	if (c->out_head)
		lws_callback_on_writable(c->wsi);
out:
	rap_buf_cleanup(&b);
	return r;
}

/* A request header (name lower-case, with its colon) in buf, NULL when it
 * is absent; one longer than buf reads as "?" (no key, no event id). */
static const char *sse_header(struct lws *wsi, const char *name, char *buf, int len)
{
	int nlen = (int)strlen(name), vlen = lws_hdr_custom_length(wsi, name, nlen);

	if (vlen < 0)
		return NULL;
	if (vlen >= len || lws_hdr_custom_copy(wsi, buf, len, name, nlen) < 0)
		snprintf(buf, (size_t)len, "?");
	return buf;
}

/* The largest event id recorded now (0 for none), in c->replay_hi. */
static int sse_replay_bound(struct notifier *n, struct client *c)
{
	char err[RAP_ERRLEN];
	PGresult *res;

	if (!db_ready(n) || rap_pg_exec(n->db, "SELECT coalesce(max(id), 0) FROM job_events", 0,
					NULL, &res, err) != RAP_OK)
		return RAP_EDB;
	c->replay_hi = atoll(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (c->replay_hi <= 0)
		c->replay_hi = 1; /* none yet: every one comes live */
	return RAP_OK;
}

/*
 * Opens the SSE stream uri asks for: 0 when it streams (its headers are
 * written), -1 when the connection is to be closed, else the HTTP status
 * to refuse it with and its error code and message (static).
 */
static int sse_open(struct notifier *n, struct client *c, struct lws *wsi, const char *uri,
		    const char **code, const char **msg)
{
	unsigned char hdr[LWS_PRE + 512], *start = &hdr[LWS_PRE], *p = start,
					  *end = &hdr[sizeof(hdr) - 1];
	char key[RAP_MAX_OWNER + 256], last[32], qkey[sizeof(key) + 8], qsince[40];
	struct notifier_sse_req req;
	const char *k, *l, *s;
	int status;

	if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0) {
		*code = "method_not_allowed";
		*msg = "event streams are read with GET";
		return 405;
	}
	/* The key as every service takes it (Authorization: Bearer, or
	 * X-API-Key), or as an EventSource can send it (?api_key=). */
	k = NULL;
	if (lws_hdr_copy(wsi, key, (int)sizeof(key), WSI_TOKEN_HTTP_AUTHORIZATION) > 7 &&
	    strncasecmp(key, "Bearer ", 7) == 0)
		k = key + 7;
	if (!k)
		k = sse_header(wsi, "x-api-key:", key, (int)sizeof(key));
	if (!k)
		k = lws_get_urlarg_by_name(wsi, "api_key=", qkey, (int)sizeof(qkey));
	l = sse_header(wsi, "last-event-id:", last, (int)sizeof(last));
	s = lws_get_urlarg_by_name(wsi, "since=", qsince, (int)sizeof(qsince));
	status = notifier_sse_decode(n->auth, uri, k, l, s, &req, code, msg);
	if (status != 0)
		return status;
	memset(c, 0, sizeof(*c));
	c->wsi = wsi;
	snprintf(c->owner, sizeof(c->owner), "%s", req.owner);
	snprintf(c->job_id, sizeof(c->job_id), "%s", req.job_id);
	if (c->job_id[0]) {
		status = job_owned(n, c);
		if (status != RAP_OK) {
			*code = status == RAP_EDB ? "unavailable" : "not_found";
			*msg = status == RAP_EDB ? "the job store is unavailable; retry"
						 : "no such job";
			return status == RAP_EDB ? 503 : 404;
		}
	}
	c->is_sse = true;
	c->subscribed = true;
	c->sse_hello = true;
	c->sse_floor = c->sse_last_id = req.since;
	c->written_ms = rap_now_ms();
	c->next = n->clients;
	if (c->next)
		c->next->prev = c;
	n->clients = c;
	rap_metric_inc(n->sse_now, 1);
	topic_join(n, c);
	/* As a WebSocket's subscribe: a job's whole history (or after since),
	 * an owner's only when resuming. */
	if (c->job_id[0] || req.resumed)
		c->sse_seen = rap_calloc(1, sizeof(*c->sse_seen));
	if (c->sse_seen &&
	    (sse_replay_bound(n, c) != RAP_OK || replay(n, c, req.since) != RAP_OK)) {
		client_unlink(n, c);
		c->is_sse = false;
		*code = "unavailable";
		*msg = "the event history is unavailable; retry";
		return 503;
	}
	if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK, "text/event-stream",
					LWS_ILLEGAL_HTTP_CONTENT_LEN, &p, end) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
					(const unsigned char *)"no-cache", 8, &p, end) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"x-accel-buffering:",
					(const unsigned char *)"no", 2, &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return -1; /* CLOSED_HTTP unlinks it */
	/* It stays, with no timeout, and gives its header table back (what
	 * lws_http_mark_sse does, but for its part that is HTTP/2's only and
	 * logs an error on HTTP/1). */
	lws_http_headers_detach(wsi);
	lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
	lws_set_timer_usecs(wsi, n->cfg.sse_heartbeat * LWS_US_PER_SEC);
	lws_callback_on_writable(wsi);
	return 0;
}

/* Builds an HTTP answer for the health and metrics endpoints, the refusal
 * of an SSE stream, or opens one. */
static int http_answer(struct notifier *n, struct client *c, struct lws *wsi, const char *uri)
{
	unsigned char hdr[LWS_PRE + 1024], *start = &hdr[LWS_PRE], *p = start,
					   *end = &hdr[sizeof(hdr) - 1];
	struct rap_buf b;
	unsigned status = 200;
	const char *ctype = "application/json";
	char rid[33] = "";
	const char *code = NULL, *msg = NULL;
	char job[RAP_UUID_STRLEN];

	if (notifier_sse_path(uri, job)) {
		int r = sse_open(n, c, wsi, uri, &code, &msg);

		if (r <= 0)
			return r < 0 ? 1 : 0;
		status = (unsigned)r;
	}

	rap_buf_init(&b, 1024 * 1024);
	rap_buf_append(&b, "", 0);
	rap_buf_append(&b, (char[LWS_PRE]){ 0 }, LWS_PRE);
	if (strcmp(uri, "/healthz") == 0) {
		rap_buf_appends(&b, "{\"status\":\"ok\"}");
	} else if (strcmp(uri, "/readyz") == 0) {
		if (atomic_load(&n->amqp_ok)) {
			rap_buf_appends(&b, "{\"status\":\"ready\"}");
		} else {
			status = 503;
			rap_buf_appends(
				&b,
				"{\"status\":\"not ready\",\"reason\":\"not consuming status events from RabbitMQ\"}");
		}
	} else if (strcmp(uri, "/metrics") == 0) {
		ctype = "text/plain; version=0.0.4";
		rap_metrics_render(n->svc.metrics, &b);
		rap_metrics_render_process(&b);
	} else {
		unsigned char raw[16];

		/* The same problem details as every other service. */
		rap_random(raw, sizeof(raw));
		rap_hex(raw, sizeof(raw), rid);
		if (!code) {
			status = 404;
			code = "not_found";
			msg = "no such endpoint; WebSocket clients connect to /ws";
		}
		ctype = RAP_PROBLEM_CONTENT_TYPE;
		rap_problem_write(&b, status, code, msg, rid);
	}
	c->http_len = b.len - LWS_PRE;
	c->http_body = rap_buf_take(&b);
	if (lws_add_http_common_headers(wsi, status, ctype, c->http_len, &p, end) ||
	    (rid[0] && lws_add_http_header_by_name(wsi, (const unsigned char *)"x-request-id:",
						   (const unsigned char *)rid, 32, &p, end)) ||
	    trace_header(c, wsi, &p, end) || lws_finalize_write_http_header(wsi, start, &p, end))
		return 1;
	lws_callback_on_writable(wsi);
	return 0;
}

/* The detail of libwebsockets' own refusals, by status (their code is
 * rap_problem_status_code's, as libmicrohttpd's are). */
static const char *lws_refusal(unsigned code)
{
	switch (code) {
	case 400:
		return "the notifier could not read this request: a malformed request line, "
		       "header or framing";
	case 404:
		return "no such endpoint; WebSocket clients connect to /ws";
	case 405:
		return "this method is not taken here";
	case 413:
		return "the request is larger than the notifier accepts";
	case 414:
		return "the request line is longer than the notifier accepts";
	case 431:
		return "the request headers are larger than the notifier accepts";
	case 501:
		return "the notifier does not implement this";
	case 505:
		return "the notifier speaks HTTP/1.0 and HTTP/1.1";
	default:
		return code >= 500 ? "the notifier failed this request" : "refused";
	}
}

/*
 * libwebsockets' own refusals (a request line it cannot read, say) go
 * through lws_return_http_status, which writes a fixed HTML page, and
 * libwebsockets 4.1.6 calls it through its PLT (objdump -d of
 * libwebsockets.so.17): this definition, which the executable exports, is
 * the one those calls reach (issue 15, point 5).  It writes the platform's
 * problem+json error (RFC 9457) at once, as the library's own writes its
 * page.  The library answers a request line it cannot read with 403 (it
 * serves no files, so no 403 here means "forbidden"): that is a 400.
 * html_body, the library's detail, is left out.  A request the library
 * closes without calling this (headers past NOTIFIER_MAX_HEADER_DATA)
 * stays without an answer.
 */
int lws_return_http_status(struct lws *wsi, unsigned int code, const char *html_body)
{
	unsigned char buf[LWS_PRE + 1024], *start = &buf[LWS_PRE], *p = start,
					   *end = &buf[sizeof(buf) - 1];
	static const char ptype[] = RAP_PROBLEM_CONTENT_TYPE;
	unsigned char raw[16];
	const char *msg, *name;
	char rid[33];
	struct rap_buf body;
	int result = 1;

	(void)html_body;
	if (code == 403)
		code = 400;
	name = rap_problem_status_code(code);
	msg = lws_refusal(code);
	rap_random(raw, sizeof(raw));
	rap_hex(raw, sizeof(raw), rid);
	rap_buf_init(&body, 512);
	if (rap_problem_write(&body, code, name, msg, rid) != RAP_OK)
		goto out_free_body;
	if (lws_add_http_header_status(wsi, code, &p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
					 (const unsigned char *)ptype, sizeof(ptype) - 1, &p,
					 end) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"x-request-id:",
					(const unsigned char *)rid, 32, &p, end) ||
	    lws_add_http_header_content_length(wsi, (lws_filepos_t)body.len, &p, end) ||
	    lws_finalize_http_header(wsi, &p, end) || (size_t)(end - p) < body.len)
		goto out_free_body;
	memcpy(p, body.data, body.len);
	p += body.len;
	result = lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_HEADERS) !=
		 (int)(p - start);
out_free_body:
	rap_buf_cleanup(&body);
	return result;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len)
{
	static const char not_utf8[] = "{\"code\":\"bad_request\",\"message\":\"not UTF-8\"}";
	struct notifier *n = lws_context_user(lws_get_context(wsi));
	struct client *c = user;

	switch (reason) {
	case LWS_CALLBACK_HTTP: {
		int r;

		client_trace(c, wsi);
		r = http_answer(n, c, wsi, in ? (const char *)in : "/");
		rap_log_set_trace(NULL);
		return r;
	}
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (c && c->is_sse) {
			if (sse_write(n, c) != 0)
				return -1;
			replay_more(n, c);
			return 0;
		}
		if (!c || !c->http_body)
			break;
		lws_write(wsi, (unsigned char *)c->http_body + LWS_PRE, c->http_len,
			  LWS_WRITE_HTTP_FINAL);
		free(c->http_body);
		c->http_body = NULL;
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	case LWS_CALLBACK_CLOSED_HTTP:
		/* A socket closed before its request was read (the idle timeout)
		 * was never bound to the protocol: it has no client. */
		if (!c)
			break;
		free(c->http_body);
		c->http_body = NULL;
		if (c->is_sse) {
			client_unlink(n, c);
			c->is_sse = false;
		}
		break;
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
		char uri[64];

		/* WebSocket clients connect to /ws only. */
		if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) < 0 ||
		    strcmp(uri, "/ws") != 0)
			return 1;
		break;
	}
	case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
		return conn_filter(n, (int)(lws_intptr_t)in);
	case LWS_CALLBACK_WSI_CREATE:
		conn_bind(n, wsi);
		break;
	case LWS_CALLBACK_WSI_DESTROY:
		conn_release(n, wsi);
		break;
	case LWS_CALLBACK_ESTABLISHED:
		memset(c, 0, sizeof(*c));
		c->wsi = wsi;
		c->is_ws = true;
		c->written_ms = rap_now_ms();
		c->next = n->clients;
		if (c->next)
			c->next->prev = c;
		n->clients = c;
		client_trace(c, wsi); /* the upgrade request's */
		rap_log_set_trace(NULL);
		rap_metric_inc(n->clients_now, 1);
		/* It has until the idle timeout to subscribe (LWS_CALLBACK_TIMER). */
		lws_set_timer_usecs(wsi, n->cfg.idle_timeout * LWS_US_PER_SEC);
		break;
	case LWS_CALLBACK_TIMER:
		if (c->is_sse) { /* a comment, so that proxies keep it open */
			c->sse_ping = true;
			lws_callback_on_writable(wsi);
			lws_set_timer_usecs(wsi, n->cfg.sse_heartbeat * LWS_US_PER_SEC);
			break;
		}
		if (c->subscribed)
			break;
		rap_metric_inc(n->idle_closed, 1);
		lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
				 (unsigned char *)"{\"code\":\"idle\"}", 15);
		return -1;
	case LWS_CALLBACK_RECEIVE:
		if (c->in_len + len >= sizeof(c->in)) {
			c->in_overflow = true;
			c->in_len = 0;
		} else {
			memcpy(c->in + c->in_len, in, len);
			c->in_len += len;
		}
		if (!lws_is_final_fragment(wsi))
			break;
		if (c->in_overflow) {
			send_text(
				n, c,
				"{\"type\":\"error\",\"code\":\"too_large\",\"message\":\"messages are limited to %d bytes\"}",
				MAX_IN_MESSAGE - 1);
		} else if (in_has_nul(c)) {
			send_text(
				n, c,
				"{\"type\":\"error\",\"code\":\"bad_request\",\"message\":\"messages must not hold NUL characters\"}");
		} else if (!rap_utf8_valid(c->in, c->in_len)) {
			/* RFC 6455 8.1: a text message that is not UTF-8 fails
			 * the connection, with 1007 (checked on the whole message:
			 * a character may be split between fragments). */
			lws_close_reason(wsi, LWS_CLOSE_STATUS_INVALID_PAYLOAD,
					 (unsigned char *)not_utf8, sizeof(not_utf8) - 1);
			return -1;
		} else {
			c->in[c->in_len] = '\0';
			rap_log_set_trace(&c->trace);
			on_message(n, c);
			rap_log_set_trace(NULL);
		}
		c->in_len = 0;
		c->in_overflow = false;
		break;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (write_next(n, c) != 0)
			return -1;
		replay_more(n, c);
		return 0;
	case LWS_CALLBACK_CLOSED:
		client_unlink(n, c);
		break;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		notifier_dispatch(n);
		break;
	default:
		break;
	}
	return 0;
}

/* The loop's heartbeat: a timer on the service thread stamps n->loop_ms
 * every second, so the admin port (another thread) can tell a loop that
 * turns from one that is stuck. */
static struct {
	lws_sorted_usec_list_t sul;
	struct notifier *n;
} heartbeat;

static void heartbeat_cb(lws_sorted_usec_list_t *sul)
{
	(void)sul;
	atomic_store(&heartbeat.n->loop_ms, rap_now_ms());
	lws_sul_schedule(heartbeat.n->lws, 0, &heartbeat.sul, heartbeat_cb, LWS_US_PER_SEC);
}

static const struct lws_protocols protocols[] = { { "rap-events", callback, sizeof(struct client),
						    MAX_IN_MESSAGE, 0, NULL, 0 },
						  { NULL, NULL, 0, 0, 0, NULL, 0 } };

static void lws_to_log(int level, const char *line)
{
	char msg[512];
	size_t n = strcspn(line, "\n");

	snprintf(msg, sizeof(msg), "libwebsockets: %.*s", (int)n, line);
	rap_log(level == LLL_ERR ? RAP_LOG_ERROR : RAP_LOG_WARN, NULL, "%s", msg);
}

int notifier_ws_run(struct notifier *n)
{
	struct lws_context_creation_info info;

	lws_set_log_level(LLL_ERR | LLL_WARN, lws_to_log);
	memset(&info, 0, sizeof(info));
	info.port = (int)n->cfg.notifier_port;
	info.iface = n->svc.cfg.bind;
	info.protocols = protocols;
	info.user = n;
	info.options = LWS_SERVER_OPTION_DISABLE_IPV6 | LWS_SERVER_OPTION_VALIDATE_UTF8 |
		       LWS_SERVER_OPTION_LIBEV;
	/* A socket that does not send its request (the upgrade) within the
	 * idle timeout is closed; once upgraded, the timer of
	 * LWS_CALLBACK_ESTABLISHED gives it as long to subscribe. */
	info.timeout_secs_ah_idle = (unsigned)n->cfg.idle_timeout;
	/* Room for a request's headers: with libwebsockets' default of 4 KiB
	 * a request with a 10 KB path or header was closed without an answer;
	 * with 16 KiB it reaches the router, which answers in JSON.  Memory
	 * follows what a client sends (1,100 idle sockets: +6 MB; each with 9
	 * KB of headers: +16 MB more), so the cost of the room is paid only by
	 * requests that use it.  Past it the library still closes the request
	 * unanswered (docs/security.md, known gaps). */
	info.max_http_header_data = NOTIFIER_MAX_HEADER_DATA;
	/* A WebSocket that has not proved its peer alive (a pong) for
	 * RAP_NOTIFIER_WS_PING_SECONDS is pinged, and closed if no pong comes
	 * within RAP_NOTIFIER_WS_PONG_SECONDS more: a client gone without a
	 * word (a lost link, a sleeping laptop) would otherwise hold its place
	 * and its topic until the kernel gave up on the socket, which for a
	 * socket we never write to is never.  Browsers and WebSocket libraries
	 * answer pings by themselves. */
	static lws_retry_bo_t idle_policy;
	if (n->cfg.ws_ping > 0) {
		idle_policy.secs_since_valid_ping = (uint16_t)n->cfg.ws_ping;
		idle_policy.secs_since_valid_hangup = (uint16_t)(n->cfg.ws_ping + n->cfg.ws_pong);
		info.retry_and_idle_policy = &idle_policy;
	}
	notifier_conns_init(&n->conns, (unsigned)n->cfg.max_conns,
			    (unsigned)n->cfg.max_conns_per_ip);
	/* libev (epoll), not poll(): a loop turn costs the sockets that have
	 * something to do, not a walk over all 10,000.  The loop is ours, run
	 * a turn at a time by main.c. */
	n->ev_loop = ev_loop_new(EVFLAG_AUTO);
	info.foreign_loops = (void *[]){ n->ev_loop };
	n->topics = rap_calloc(TOPIC_BUCKETS, sizeof(*n->topics));
	n->lws = lws_create_context(&info);
	if (!n->lws) {
		rap_log(RAP_LOG_ERROR, NULL, "cannot listen on %s:%lld", info.iface,
			n->cfg.notifier_port);
		return RAP_EIO;
	}
	heartbeat.n = n;
	heartbeat_cb(&heartbeat.sul);
	return RAP_OK;
}
