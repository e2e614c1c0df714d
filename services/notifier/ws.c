/*
 * ws.c: the notifier's libwebsockets side.  Browsers open /ws and send
 * {"type":"subscribe","api_key":...,"job_id"?,"since"?}; they get the job's
 * (or the owner's) past events from PostgreSQL first, then every new one as
 * RabbitMQ delivers it.  Events carry event_id, so clients drop the
 * duplicates that replay and live delivery may both send.  The same port
 * answers /healthz, /readyz and /metrics.
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
#define DISPATCH_SLICE 256    /* events moved to queues a loop turn */
#define CLOSE_TOO_SLOW 4008   /* the close code: reconnect with `since` */
#define SLOW_CLOSE_SECONDS 10 /* a closing slow client's time to take the close */

/* A text to send, made once and shared by every client it goes to (an
 * event for a thousand followers is one copy, not a thousand). */
struct frame {
	unsigned refs;
	long long event_id; /* 0: not a stored event (progress, replies) */
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
};

static struct frame *frame_new(const char *text, size_t len, long long event_id)
{
	struct frame *f = rap_malloc(sizeof(*f) + LWS_PRE + len);

	f->refs = 0;
	f->event_id = event_id;
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
	char sincebuf[24], limit[12], err[RAP_ERRLEN];
	const char *p[4] = { c->owner, c->job_id[0] ? c->job_id : NULL, sincebuf, limit };
	PGresult *res;
	int i, result, page = replay_page(n);

	c->replay_next = 0;
	if (!db_ready(n))
		return RAP_EDB;
	snprintf(sincebuf, sizeof(sincebuf), "%lld", since);
	snprintf(limit, sizeof(limit), "%d", page);
	result = rap_pg_exec(
		n->db,
		"SELECT e.id, json_build_object('v', 1, 'type', 'job.status', 'event_id', e.id,"
		" 'job_id', e.job_id, 'owner', j.owner, 'job_type', j.type,"
		" 'from', e.from_state, 'to', e.to_state, 'attempt', e.attempt,"
		" 'at', rap_ts(e.at), 'detail', e.detail, 'replay', true)::text"
		" FROM job_events e JOIN jobs j ON j.id = e.job_id"
		" WHERE j.owner = $1 AND ($2::uuid IS NULL OR e.job_id = $2::uuid)"
		" AND e.id > $3::bigint ORDER BY e.id LIMIT $4::int",
		4, p, &res, err);
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
	if (replay(n, c, c->replay_next) != RAP_OK)
		send_text(
			n, c,
			"{\"type\":\"error\",\"code\":\"unavailable\",\"message\":\"history unavailable; events from now on only\"}");
}

/* True when the owner has the job (answers the client otherwise). */
static bool owns_job(struct notifier *n, struct client *c)
{
	const char *p[2] = { c->job_id, c->owner };
	char err[RAP_ERRLEN];
	PGresult *res;
	bool found;

	if (!db_ready(n) || rap_pg_exec(n->db, "SELECT 1 FROM jobs WHERE id = $1 AND owner = $2", 2,
					p, &res, err) != RAP_OK) {
		send_text(
			n, c,
			"{\"type\":\"error\",\"code\":\"unavailable\",\"message\":\"the job store is unavailable; retry\"}");
		return false;
	}
	found = PQntuples(res) == 1;
	PQclear(res);
	if (!found)
		send_text(n, c,
			  "{\"type\":\"error\",\"code\":\"not_found\",\"message\":\"no job %s\"}",
			  c->job_id);
	return found;
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
		if (!*fr)
			*fr = frame_new(e->json, strlen(e->json), event_id);
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
	rap_metric_inc(n->clients_now, -1);
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
static int write_next(struct notifier *n, struct client *c)
{
	struct out_frame *f = c->out_head;
	unsigned char *buf, *p;
	size_t total = 0, len;
	unsigned k = 0;

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

/* Builds an HTTP answer for the health and metrics endpoints. */
static int http_answer(struct notifier *n, struct client *c, struct lws *wsi, const char *uri)
{
	unsigned char hdr[LWS_PRE + 1024], *start = &hdr[LWS_PRE], *p = start,
					   *end = &hdr[sizeof(hdr) - 1];
	struct rap_buf b;
	unsigned status = 200;
	const char *ctype = "application/json";

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
		char rid[33];

		/* The same problem details as every other service. */
		rap_random(raw, sizeof(raw));
		rap_hex(raw, sizeof(raw), rid);
		status = 404;
		ctype = RAP_PROBLEM_CONTENT_TYPE;
		rap_problem_write(&b, 404, "not_found",
				  "no such endpoint; WebSocket clients connect to /ws", rid);
	}
	c->http_len = b.len - LWS_PRE;
	c->http_body = rap_buf_take(&b);
	if (lws_add_http_common_headers(wsi, status, ctype, c->http_len, &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return 1;
	lws_callback_on_writable(wsi);
	return 0;
}

/* The code and message of libwebsockets' own refusals, by status. */
static const char *lws_refusal(unsigned code, const char **msg)
{
	switch (code) {
	case 400:
		*msg = "the notifier could not read this request: a malformed request line, "
		       "header or framing";
		return "bad_request";
	case 404:
		*msg = "no such endpoint; WebSocket clients connect to /ws";
		return "not_found";
	case 405:
		*msg = "this method is not taken here";
		return "method_not_allowed";
	case 413:
		*msg = "the request is larger than the notifier accepts";
		return "payload_too_large";
	case 414:
		*msg = "the request line is longer than the notifier accepts";
		return "uri_too_long";
	case 431:
		*msg = "the request headers are larger than the notifier accepts";
		return "headers_too_large";
	case 501:
		*msg = "the notifier does not implement this";
		return "not_implemented";
	case 505:
		*msg = "the notifier speaks HTTP/1.0 and HTTP/1.1";
		return "http_version_not_supported";
	default:
		*msg = code >= 500 ? "the notifier failed this request" : "refused";
		return code >= 500 ? "internal" : "bad_request";
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
 * closes without calling this (headers past its buffer) stays without an
 * answer.
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
	name = lws_refusal(code, &msg);
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
	case LWS_CALLBACK_HTTP:
		return http_answer(n, c, wsi, in ? (const char *)in : "/");
	case LWS_CALLBACK_HTTP_WRITEABLE:
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
		rap_metric_inc(n->clients_now, 1);
		/* It has until the idle timeout to subscribe (LWS_CALLBACK_TIMER). */
		lws_set_timer_usecs(wsi, n->cfg.idle_timeout * LWS_US_PER_SEC);
		break;
	case LWS_CALLBACK_TIMER:
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
			on_message(n, c);
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
