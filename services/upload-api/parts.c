/*
 * parts.c: the part writer every upload path shares (streamed multipart,
 * tus PATCHes, tus concatenation).  Bytes are hashed (SHA-256) and collect
 * in a part buffer, and each part goes to S3 as a multipart part.  A part
 * that is sure to fill (the caller says how far the body goes, from its
 * Content-Length) is on the wire while it fills: its UploadPart request is
 * sent with the part's length up front and reads the buffer as bytes
 * arrive, so receiving and sending overlap with a single buffer.  Other
 * parts go when full, and at most `in_flight` more buffers let the next
 * part fill while earlier ones finish.  Memory is part_size x
 * (in_flight + 1) per upload, whatever the file size, and nothing touches
 * local disk.  The buffer keeps every byte of its part until S3 has it, so
 * a body that ends inside a streamed part loses nothing: that request is
 * given up and the bytes become the tail (or the last part).  A part whose
 * request fails after it was full is sent once more from its buffer.
 *
 * Parts complete in order of part number as far as the caller can see
 * (parts_stored counts the stored prefix), and for each stored part the
 * writer remembers the SHA-256 state at its end, so that a tus upload can
 * record "bytes 0..N are in S3 and hash to this state" after every part.
 *
 * Threads.  Part requests run as jobs of one pool for the whole process
 * (upload_api.part_pool, rap/pool.h), never on threads of their own: a
 * part that streams, and each of the in_flight parts.  With no parts in
 * flight a full part goes to S3 on the caller's thread.  The pool has a
 * thread for every buffer that can be on the wire (parts_pool_bound),
 * started as needed, so a job waits in its queue only when PARTS_POOL_MAX
 * binds; a streaming part whose job waits fills meanwhile, and its request
 * then finds every byte.
 * If the pool has no thread and cannot start one, a part does not stream
 * (it goes when full) and the in_flight parts go on the caller's thread.
 *
 * No deadlock.  A streaming job blocks its pool thread until the writer (a
 * connection thread) hands it bytes.  The writer waits for a job only when
 * the slot it fills is full (every slot is then on the wire) or when the
 * body ends, after telling a stream whose part ends short to stop; it
 * never waits while a slot it streams from can still grow.  So every
 * running streaming job has, or will get, all the bytes it reads or its
 * cancel, whatever the other jobs do, and it ends; a queued job runs when
 * one does.  (A client that stops sending holds its stream's thread until
 * its connection times out, as it held a thread of its own before.)
 *
 * State.  Each part buffer (a slot) is in one state of enum
 * parts_slot_state (parts.h), changed only by slot_to, which asserts the
 * move against the table `allowed`:
 *   EMPTY -> FILLING             its first bytes arrive
 *   FILLING -> STREAMING         sure to fill: a job sends it as it fills
 *   FILLING, HELD -> SENDING     full (or the last part): sent whole
 *   STREAMING -> CANCELLING      the body ends inside it: the job must stop
 *   STREAMING, CANCELLING -> STREAMED   the job is handed back
 *   SENDING -> SENT              the job is handed back (or sent inline)
 *   STREAMED -> HELD             it ended short, or failed while it
 *                                filled: its bytes stay, to be sent whole
 *   STREAMED, SENT -> RETRYING   failed when full: sent again, once, inline
 *   RETRYING -> SENT
 *   STREAMED, SENT -> EMPTY      booked: stored, or its error reported
 *
 * A slot's state, and its len while it streams, change under the writer's
 * lock, where the streaming job reads them; everything else of a slot is
 * the writer's, or its job's until the job is handed back.  Also asserted:
 * len <= part_size and sent <= len; an EMPTY slot has no bytes; a slot on
 * the wire has the number of a part handed out; parts are booked in
 * order; the slot being filled is never on the wire but while it streams.
 */
#include "upload_api.h"
#include "parts.h"

#include "rap/assert.h"
#include "rap/err.h"
#include "rap/hash.h"
#include "rap/mem.h"
#include "rap/metrics.h"
#include "rap/list.h"
#include "rap/pool.h"

#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IN_FLIGHT 16

/*
 * The pool's cap.  A thread per buffer that can be on the wire means no
 * part ever waits, as with the thread per part this pool replaced, and the
 * defaults need 64.  Past 512 S3 requests at once one instance is bound by
 * its network and CPU, not by threads (512 parts of 8 MiB are 4 GiB on the
 * wire), while each thread costs a stack and an S3 connection; settings
 * that ask for more (RAP_UPLOAD_MAX_ACTIVE allows 100,000 uploads of 17
 * buffers) make the extra parts wait their turn, FIFO, which the design
 * note shows cannot deadlock.
 */
unsigned parts_pool_bound(long long max_active, long long in_flight)
{
	long long n;

	if (in_flight > MAX_IN_FLIGHT)
		in_flight = MAX_IN_FLIGHT;
	n = max_active * (1 + in_flight);
	return n > PARTS_POOL_MAX ? PARTS_POOL_MAX : n < 1 ? 1 : (unsigned)n;
}

struct slot {
	struct parts *owner;
	enum parts_slot_state state; /* under owner->lock: slot_to */
	char *buf;
	size_t len;  /* bytes in buf; under owner->lock while streaming */
	size_t sent; /* streaming: bytes its request took (its job's) */
	unsigned part;
	struct rap_pool_job job; /* its request, while STREAMING, CANCELLING, SENDING */
	int result;
	char etag[RAP_S3_ETAG_LEN];
	char err[RAP_ERRLEN];
	unsigned char hash[RAP_SHA256_STATE_LEN]; /* state at the part's end */
	long long end;                            /* object offset after the part */
	struct rap_s3 *s3;                        /* the slot's own client (connection reuse) */
};

struct parts {
	struct upload_api *api;
	const struct parts_s3_ops *ops;
	struct rap_pool *pool; /* the process's part pool */
	struct rap_s3 *s3;     /* the caller's client: begin, tail, complete */
	struct rap_s3_mpu *mpu;
	char *key;
	char *content_type;
	struct rap_sha256 sha;
	size_t part_size;
	unsigned in_flight;
	struct slot slots[MAX_IN_FLIGHT + 1];
	unsigned fill;        /* the slot being filled */
	unsigned next_part;   /* the number of the next part handed out */
	unsigned stored;      /* parts 1..stored are in S3 */
	long long stored_end; /* object offset after part `stored` */
	unsigned char stored_hash[RAP_SHA256_STATE_LEN];
	long long offset; /* bytes written so far */
	char detected[128];
	bool detect_done;
	const char *job_type; /* content allow-list to check, or NULL */
	long long expect_end; /* object offset the body reaches, -1: unknown */
	pthread_mutex_t lock; /* slots' states, a streaming slot's len */
	pthread_cond_t more;  /* they changed */
	bool finished;        /* completed or aborted */
	char err[RAP_ERRLEN];
};

const struct parts_s3_ops parts_s3 = {
	.begin = rap_s3_mpu_begin,
	.upload = rap_s3_mpu_upload,
	.upload_from = rap_s3_mpu_upload_from,
	.put = rap_s3_put,
	.complete = rap_s3_mpu_complete,
	.abort = rap_s3_mpu_abort,
};

/* The moves of a slot's state (the design note draws them). */
static const bool allowed[PARTS_SLOT_STATES][PARTS_SLOT_STATES] = {
	[PARTS_SLOT_EMPTY] = { [PARTS_SLOT_FILLING] = true },
	[PARTS_SLOT_FILLING] = { [PARTS_SLOT_STREAMING] = true, [PARTS_SLOT_SENDING] = true },
	[PARTS_SLOT_HELD] = { [PARTS_SLOT_SENDING] = true },
	[PARTS_SLOT_STREAMING] = { [PARTS_SLOT_CANCELLING] = true, [PARTS_SLOT_STREAMED] = true },
	[PARTS_SLOT_CANCELLING] = { [PARTS_SLOT_STREAMED] = true },
	[PARTS_SLOT_STREAMED] = { [PARTS_SLOT_EMPTY] = true,
				  [PARTS_SLOT_HELD] = true,
				  [PARTS_SLOT_RETRYING] = true },
	[PARTS_SLOT_SENDING] = { [PARTS_SLOT_SENT] = true },
	[PARTS_SLOT_RETRYING] = { [PARTS_SLOT_SENT] = true },
	[PARTS_SLOT_SENT] = { [PARTS_SLOT_EMPTY] = true, [PARTS_SLOT_RETRYING] = true },
};

bool parts_slot_transition_allowed(enum parts_slot_state from, enum parts_slot_state to)
{
	return from < PARTS_SLOT_STATES && to < PARTS_SLOT_STATES && allowed[from][to];
}

/* Whether the slot's part is on the wire or not yet booked: not to fill. */
static bool slot_busy(const struct slot *s)
{
	return s->state != PARTS_SLOT_EMPTY && s->state != PARTS_SLOT_FILLING &&
	       s->state != PARTS_SLOT_HELD;
}

/* Moves the slot to state `to`, which the table must allow, under the lock
 * (a streaming job reads the state) and wakes the job. */
static void slot_to(struct parts *p, struct slot *s, enum parts_slot_state to)
{
	pthread_mutex_lock(&p->lock);
	RAP_ASSERT(parts_slot_transition_allowed(s->state, to));
	RAP_ASSERT(s->len <= p->part_size);
	RAP_ASSERT(to != PARTS_SLOT_EMPTY || s->len == 0);
	RAP_ASSERT(!slot_busy(s) || (s->part > 0 && s->part <= p->next_part));
	s->state = to;
	pthread_cond_broadcast(&p->more);
	pthread_mutex_unlock(&p->lock);
}

/*
 * Part buffers are mapped and unmapped whole: from malloc, freed 8 MiB
 * blocks stay in the per-thread arenas (glibc raises its mmap threshold
 * after the first free), and upload-api's RSS would keep the high-water
 * mark of every connection thread that ever uploaded.
 */
static char *part_buffer(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		abort(); /* out of memory: the one policy (mem.h) */
	return p;
}

struct parts *parts_new(struct upload_api *api, const char *key, const char *content_type,
			size_t part_size)
{
	struct parts *p = rap_calloc(1, sizeof(*p));
	unsigned n = (unsigned)api->cfg.upload_parts_in_flight;

	RAP_ASSERT(api->part_pool && part_size > 0);
	p->api = api;
	p->ops = api->part_s3 ? api->part_s3 : &parts_s3;
	p->pool = api->part_pool;
	p->s3 = rap_s3_new(&api->s3cfg);
	p->key = rap_strdup(key);
	p->content_type = rap_strdup(content_type ? content_type : "application/octet-stream");
	p->part_size = part_size;
	p->in_flight = n > MAX_IN_FLIGHT ? MAX_IN_FLIGHT : n;
	p->expect_end = -1;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->more, NULL);
	rap_sha256_init(&p->sha);
	rap_sha256_save(&p->sha, p->stored_hash);
	return p;
}

int parts_resume(struct parts *p, const char *upload_id, char *const *etags, unsigned n,
		 const unsigned char *hash)
{
	unsigned i;

	if (hash) {
		rap_sha256_cleanup(&p->sha);
		if (rap_sha256_restore(&p->sha, hash, RAP_SHA256_STATE_LEN) != RAP_OK) {
			rap_sha256_init(&p->sha);
			snprintf(p->err, sizeof(p->err), "the saved SHA-256 state is damaged");
			return RAP_EINVAL;
		}
	}
	if (upload_id) {
		p->mpu = rap_s3_mpu_resume(p->key, upload_id);
		for (i = 0; i < n; i++)
			rap_s3_mpu_set_etag(p->mpu, i + 1, etags[i]);
	}
	p->next_part = p->stored = n;
	p->stored_end = p->offset = (long long)n * (long long)p->part_size;
	rap_sha256_save(&p->sha, p->stored_hash);
	p->detect_done = n > 0; /* the first part went through detection */
	return RAP_OK;
}

void parts_expect(struct parts *p, long long end)
{
	p->expect_end = end;
}

/* The bytes of a streaming slot as they arrive (its job's thread). */
static long slot_source(void *ctx, void *buf, size_t n)
{
	struct slot *s = ctx;
	struct parts *p = s->owner;
	size_t avail;

	pthread_mutex_lock(&p->lock);
	while (s->len == s->sent && s->state != PARTS_SLOT_CANCELLING)
		pthread_cond_wait(&p->more, &p->lock);
	RAP_ASSERT(s->sent <= s->len && s->len <= p->part_size);
	avail = s->state == PARTS_SLOT_CANCELLING ? 0 : s->len - s->sent;
	pthread_mutex_unlock(&p->lock);
	if (avail == 0)
		return RAP_ECANCELED;
	if (n > avail)
		n = avail;
	/* The writer only appends past len: these bytes stay as they are. */
	memcpy(buf, s->buf + s->sent, n);
	s->sent += n;
	return (long)n;
}

/* The job of a streaming slot: its UploadPart, fed as the part fills. */
static void stream_part(void *arg)
{
	struct slot *s = arg;
	struct parts *p = s->owner;
	bool cancelled;

	/* Given up while it waited in the pool's queue: no request at all. */
	pthread_mutex_lock(&p->lock);
	cancelled = s->state == PARTS_SLOT_CANCELLING;
	pthread_mutex_unlock(&p->lock);
	if (cancelled) {
		s->result = RAP_ECANCELED;
		snprintf(s->err, sizeof(s->err), "the part ended short");
		return;
	}
	s->result =
		p->ops->upload_from(s->s3, p->mpu, s->part, p->part_size, slot_source, s, s->etag);
	if (s->result != RAP_OK)
		snprintf(s->err, sizeof(s->err), "%s", rap_s3_errmsg(s->s3));
}

/* A whole part's UploadPart: a pool job, or called on the writer's thread. */
static void send_part(void *arg)
{
	struct slot *s = arg;
	struct parts *p = s->owner;

	s->result = p->ops->upload(s->s3, p->mpu, s->part, s->buf, s->len, s->etag);
	if (s->result != RAP_OK)
		snprintf(s->err, sizeof(s->err), "%s", rap_s3_errmsg(s->s3));
}

/* The state a slot goes to when its request is over. */
static enum parts_slot_state over_state(const struct slot *s)
{
	return s->state == PARTS_SLOT_SENDING ? PARTS_SLOT_SENT : PARTS_SLOT_STREAMED;
}

/* Whether the slot's request is over (its job handed back); never waits. */
static bool slot_over(struct parts *p, struct slot *s)
{
	if (s->state == PARTS_SLOT_STREAMED || s->state == PARTS_SLOT_SENT)
		return true;
	RAP_ASSERT(s->state == PARTS_SLOT_STREAMING || s->state == PARTS_SLOT_CANCELLING ||
		   s->state == PARTS_SLOT_SENDING);
	if (!rap_pool_done(p->pool, &s->job))
		return false;
	slot_to(p, s, over_state(s));
	return true;
}

/* Waits until the slot's request is over.  A stream is only waited for
 * when it has all its bytes, or was told to stop: the writer is the one
 * that would hand it more (the design note's "no deadlock"). */
static void slot_wait(struct parts *p, struct slot *s)
{
	if (s->state == PARTS_SLOT_STREAMED || s->state == PARTS_SLOT_SENT)
		return;
	RAP_ASSERT(s->state != PARTS_SLOT_STREAMING || s->len == p->part_size);
	RAP_ASSERT(s->state == PARTS_SLOT_STREAMING || s->state == PARTS_SLOT_CANCELLING ||
		   s->state == PARTS_SLOT_SENDING);
	rap_pool_wait(p->pool, &s->job);
	slot_to(p, s, over_state(s));
}

/* A streaming request ended before its part was full (given up, or failed:
 * an S3 idle timeout under a slow client, say).  Every byte is still in the
 * buffer, so the part goes the usual way, as a whole part or the tail; the
 * part number is released (the slot being filled has the highest one). */
static void unstream(struct parts *p, struct slot *s)
{
	RAP_ASSERT(s->state == PARTS_SLOT_STREAMED && s->part == p->next_part);
	RAP_ASSERT(s->sent <= s->len);
	slot_to(p, s, PARTS_SLOT_HELD);
	s->sent = 0;
	p->next_part--;
}

/* Books a part whose request is over, in part order: RAP_OK or its error.
 * A part that failed whole is sent once more, here, first. */
static int book(struct parts *p, struct slot *s)
{
	if (s->result != RAP_OK) {
		/* The part is still whole in its buffer: one more try, here, for
		 * a connection that broke or a server that blinked. */
		slot_to(p, s, PARTS_SLOT_RETRYING);
		send_part(s);
		slot_to(p, s, PARTS_SLOT_SENT);
	}
	s->len = s->sent = 0;
	slot_to(p, s, PARTS_SLOT_EMPTY);
	if (s->result != RAP_OK) {
		snprintf(p->err, sizeof(p->err), "UploadPart %u: %.200s", s->part, s->err);
		return s->result;
	}
	RAP_ASSERT(s->part > p->stored);
	rap_s3_mpu_set_etag(p->mpu, s->part, s->etag);
	rap_metric_inc(p->api->parts, 1);
	if (s->part == p->stored + 1) {
		p->stored = s->part;
		p->stored_end = s->end;
		memcpy(p->stored_hash, s->hash, sizeof(s->hash));
	}
	return RAP_OK;
}

/* Waits for the slot's request and books its part; RAP_OK or its error.
 * A stream that ended short keeps its bytes instead (HELD). */
static int join_slot(struct parts *p, struct slot *s)
{
	slot_wait(p, s);
	if (s->state == PARTS_SLOT_STREAMED && s->len < p->part_size) {
		unstream(p, s);
		return RAP_OK;
	}
	return book(p, s);
}

/* The busy slot of the lowest part number, or NULL. */
static struct slot *oldest(struct parts *p)
{
	struct slot *o = NULL;
	unsigned i;

	for (i = 0; i <= p->in_flight; i++)
		if (slot_busy(&p->slots[i]) && (!o || p->slots[i].part < o->part))
			o = &p->slots[i];
	return o;
}

/* Joins busy slots in part order: all of them (wait) or those done. */
static int reap(struct parts *p, bool wait)
{
	int result = RAP_OK;
	struct slot *s;

	while ((s = oldest(p)) && (wait || slot_over(p, s)))
		if (join_slot(p, s) != RAP_OK && result == RAP_OK)
			result = s->result;
	return result;
}

/* Detects the content type from the object's first bytes (when the buffer
 * holds them) and checks it against the job type's allow-list, before the
 * bytes go anywhere. */
static int detect(struct parts *p, const struct slot *s)
{
	const char *list = p->api->content_list ? p->api->content_list : "";

	if (p->detect_done || p->offset - (long long)s->len != 0 || s->len == 0)
		return RAP_OK;
	p->detect_done = s->len >= UPLOAD_DETECT_BYTES;
	upload_detect_type(p->api, s->buf, s->len, p->detected, sizeof(p->detected));
	if (p->job_type && !rap_list_allows(list, p->job_type, p->detected)) {
		snprintf(p->err, sizeof(p->err), "job type %.64s does not take %.100s content",
			 p->job_type, p->detected[0] ? p->detected : "unrecognised");
		return RAP_EUNSUPPORTED;
	}
	return RAP_OK;
}

void parts_check_content(struct parts *p, const char *job_type)
{
	p->job_type = job_type;
}

int parts_detect(struct parts *p)
{
	return detect(p, &p->slots[p->fill]);
}

static int begin_mpu(struct parts *p)
{
	int result;

	if (p->mpu)
		return RAP_OK;
	result = p->ops->begin(p->s3, p->key, p->content_type, &p->mpu);
	if (result != RAP_OK)
		snprintf(p->err, sizeof(p->err), "%s", rap_s3_errmsg(p->s3));
	return result;
}

/* Numbers the slot's part, which ends at object offset end. */
static void claim_part(struct parts *p, struct slot *s, long long end)
{
	s->owner = p;
	s->part = ++p->next_part;
	s->end = end;
	if (!s->s3)
		s->s3 = rap_s3_new(&p->api->s3cfg);
}

/*
 * Puts the part being filled on the wire once it is sure to fill (the body
 * goes at least to its end) and, for the object's first bytes, once their
 * content passed the check.  Without a pool thread the part goes when full.
 */
static int maybe_stream(struct parts *p, struct slot *s)
{
	long long start = p->offset - (long long)s->len;
	int result;

	if (s->state != PARTS_SLOT_FILLING || p->expect_end < start + (long long)p->part_size)
		return RAP_OK;
	if (start == 0 && !p->detect_done) {
		if (s->len < UPLOAD_DETECT_BYTES)
			return RAP_OK;
		result = detect(p, s);
		if (result != RAP_OK)
			return result;
	}
	result = begin_mpu(p);
	if (result != RAP_OK)
		return result;
	claim_part(p, s, start + (long long)p->part_size);
	s->sent = 0;
	/* The job reads the state under the lock, and only to see a cancel:
	 * it may start before the slot says STREAMING. */
	if (rap_pool_submit(p->pool, &s->job, stream_part, s) != RAP_OK) {
		p->next_part--;
		return RAP_OK;
	}
	slot_to(p, s, PARTS_SLOT_STREAMING);
	return RAP_OK;
}

/*
 * The body ended (or the writer stops) inside the part being filled: its
 * streaming request expected a whole part, so it is given up, and the
 * bytes stay in the buffer as the tail or the last part.
 */
static void settle(struct parts *p)
{
	struct slot *s = &p->slots[p->fill];

	if (s->state != PARTS_SLOT_STREAMING || s->len == p->part_size)
		return;
	slot_to(p, s, PARTS_SLOT_CANCELLING);
	slot_wait(p, s);
	unstream(p, s);
}

/* The part being filled is full (or, at the end, the last one): it goes to
 * S3 unless it is on its way already; then a free slot is found to fill. */
static int send_full(struct parts *p)
{
	struct slot *s = &p->slots[p->fill];
	unsigned i;
	int result;

	rap_sha256_save(&p->sha, s->hash);
	if (s->state == PARTS_SLOT_STREAMING && slot_over(p, s) && s->result != RAP_OK)
		unstream(p, s); /* it failed while the part filled: send it whole */
	if (s->state == PARTS_SLOT_FILLING || s->state == PARTS_SLOT_HELD) {
		result = detect(p, s);
		if (result == RAP_OK)
			result = begin_mpu(p);
		if (result != RAP_OK)
			return result;
		claim_part(p, s, p->offset);
		slot_to(p, s, PARTS_SLOT_SENDING);
		if (p->in_flight == 0 ||
		    rap_pool_submit(p->pool, &s->job, send_part, s) != RAP_OK) {
			send_part(s); /* no parts in flight (or no thread): here */
			slot_to(p, s, PARTS_SLOT_SENT);
		}
	}
	for (;;) {
		result = reap(p, false);
		if (result != RAP_OK)
			return result;
		for (i = 0; i <= p->in_flight; i++)
			if (!slot_busy(&p->slots[i])) {
				RAP_ASSERT(p->slots[i].state == PARTS_SLOT_EMPTY);
				p->fill = i;
				return RAP_OK;
			}
		/* Every slot is on the wire: wait for the oldest. */
		s = oldest(p);
		result = join_slot(p, s);
		if (result != RAP_OK)
			return result;
	}
}

int parts_write(struct parts *p, const void *data, size_t n)
{
	const char *d = data;
	int result;

	/* Book parts that finished meanwhile: a tus upload saves each one. */
	result = reap(p, false);
	if (result != RAP_OK)
		return result;
	while (n > 0) {
		struct slot *s = &p->slots[p->fill];
		size_t take = p->part_size - s->len;

		RAP_ASSERT(!slot_busy(s) || s->state == PARTS_SLOT_STREAMING);
		RAP_ASSERT(s->len < p->part_size);
		if (!s->buf)
			s->buf = part_buffer(p->part_size);
		if (take > n)
			take = n;
		memcpy(s->buf + s->len, d, take);
		rap_sha256_update(&p->sha, d, take);
		if (s->state == PARTS_SLOT_EMPTY)
			slot_to(p, s, PARTS_SLOT_FILLING);
		if (s->state == PARTS_SLOT_STREAMING) {
			pthread_mutex_lock(&p->lock);
			s->len += take;
			pthread_cond_broadcast(&p->more);
			pthread_mutex_unlock(&p->lock);
		} else {
			s->len += take;
		}
		p->offset += (long long)take;
		d += take;
		n -= take;
		result = maybe_stream(p, s);
		if (result != RAP_OK)
			return result;
		if (s->len == p->part_size) {
			result = send_full(p);
			if (result != RAP_OK)
				return result;
		}
	}
	return RAP_OK;
}

int parts_drain(struct parts *p)
{
	settle(p);
	return reap(p, true);
}

unsigned parts_stored(const struct parts *p, long long *end, unsigned char *hash)
{
	if (end)
		*end = p->stored_end;
	if (hash)
		memcpy(hash, p->stored_hash, RAP_SHA256_STATE_LEN);
	return p->stored;
}

const char *parts_etag(const struct parts *p, unsigned part)
{
	return p->mpu ? rap_s3_mpu_etag(p->mpu, part) : NULL;
}

const char *parts_upload_id(const struct parts *p)
{
	return p->mpu ? rap_s3_mpu_id(p->mpu) : NULL;
}

const char *parts_tail(struct parts *p, size_t *len)
{
	struct slot *s = &p->slots[p->fill];

	settle(p);
	*len = s->len;
	return s->buf;
}

long long parts_offset(const struct parts *p)
{
	return p->offset;
}

const char *parts_detected(const struct parts *p)
{
	return p->detected;
}

int parts_finish(struct parts *p, char sha256[RAP_SHA256_HEXLEN])
{
	struct slot *s;
	int result;

	settle(p);
	s = &p->slots[p->fill];
	result = detect(p, s);
	if (result == RAP_OK)
		result = parts_drain(p);
	if (result != RAP_OK)
		return result;
	if (!p->mpu) {
		result = p->ops->put(p->s3, p->key, s->buf ? s->buf : "", s->len, p->content_type);
	} else {
		if (s->len > 0) {
			result = send_full(p);
			if (result == RAP_OK)
				result = parts_drain(p);
			if (result != RAP_OK)
				return result;
		}
		result = p->ops->complete(p->s3, p->mpu);
	}
	if (result != RAP_OK) {
		snprintf(p->err, sizeof(p->err), "%s", rap_s3_errmsg(p->s3));
		return result;
	}
	p->finished = true;
	rap_sha256_final_hex(&p->sha, sha256);
	rap_sha256_init(&p->sha); /* keeps parts_free simple */
	return RAP_OK;
}

int parts_abort(struct parts *p)
{
	int result = RAP_OK;

	parts_drain(p);
	if (p->mpu && !p->finished) {
		result = p->ops->abort(p->s3, p->mpu); /* s3rver: lifecycle cleans */
		if (result != RAP_OK)
			snprintf(p->err, sizeof(p->err), "%s", rap_s3_errmsg(p->s3));
		p->finished = true; /* once: the upload id is gone either way */
	}
	return result;
}

const char *parts_errmsg(const struct parts *p)
{
	return p->err;
}

void parts_free(struct parts *p)
{
	unsigned i;

	if (!p)
		return;
	parts_drain(p);
	for (i = 0; i <= MAX_IN_FLIGHT; i++) {
		RAP_ASSERT(!slot_busy(&p->slots[i])); /* no job may outlive its slot */
		if (p->slots[i].buf)
			munmap(p->slots[i].buf, p->part_size);
		rap_s3_free(p->slots[i].s3);
	}
	rap_s3_mpu_free(p->mpu);
	rap_sha256_cleanup(&p->sha);
	pthread_cond_destroy(&p->more);
	pthread_mutex_destroy(&p->lock);
	rap_s3_free(p->s3);
	free(p->key);
	free(p->content_type);
	free(p);
}
