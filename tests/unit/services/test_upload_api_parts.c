/*
 * Tests of services/upload-api/parts.c: the part writer, against an
 * in-memory S3 (its parts_s3_ops), on a pool of its own; and the table of
 * its slots' states.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rap/err.h"
#include "rap/hash.h"
#include "rap/metrics.h"
#include "rap/pool.h"
#include "parts.h"
#include "upload_api.h"

#define PART (128 * 1024) /* past UPLOAD_DETECT_BYTES: first parts stream too */
#define MAX_PARTS 64

/* ---- an in-memory S3 ---- */

struct fake_part {
	char *data;
	size_t len;
	unsigned requests;  /* UploadPart requests, whole or streamed */
	unsigned streamed;  /* of them, fed by a source */
	unsigned cancelled; /* streams whose source gave up */
	int fail;           /* fail this many requests first */
	int fail_stream;    /* fail this many streams at once, unread */
	unsigned delay_ms;
	bool hold;         /* its requests wait until the test releases them */
	unsigned done_seq; /* when its last request ended (1, 2, ...) */
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct fake_part parts[MAX_PARTS + 1];
	unsigned active, max_active, done_seq;
	unsigned begins, puts, completes, aborts;
	unsigned on_caller, on_other;
	pthread_t caller;
	char *object; /* the completed object (or the PUT's body) */
	size_t object_len;
} fake = { .lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER };

static void fake_enter(void)
{
	pthread_mutex_lock(&fake.lock);
	if (++fake.active > fake.max_active)
		fake.max_active = fake.active;
	if (pthread_equal(pthread_self(), fake.caller))
		fake.on_caller++;
	else
		fake.on_other++;
	pthread_mutex_unlock(&fake.lock);
}

/* Ends a request of part n; a failure consumes one of its planned ones. */
static int fake_leave(unsigned n, const char *data, size_t len, bool *failed,
		      char etag[RAP_S3_ETAG_LEN])
{
	struct fake_part *fp = &fake.parts[n];
	int result = RAP_OK;

	pthread_mutex_lock(&fake.lock);
	while (fp->hold)
		pthread_cond_wait(&fake.changed, &fake.lock);
	fake.active--;
	fp->done_seq = ++fake.done_seq;
	pthread_cond_broadcast(&fake.changed);
	if (fp->fail > 0 && failed) {
		fp->fail--;
		*failed = true;
		result = RAP_ES3;
	} else if (data) {
		free(fp->data);
		fp->data = malloc(len ? len : 1);
		memcpy(fp->data, data, len);
		fp->len = len;
		snprintf(etag, RAP_S3_ETAG_LEN, "\"etag-%u\"", n);
	}
	pthread_mutex_unlock(&fake.lock);
	return result;
}

/* Lets part n's requests end (they wait while it is held). */
static void release(unsigned n)
{
	pthread_mutex_lock(&fake.lock);
	fake.parts[n].hold = false;
	pthread_cond_broadcast(&fake.changed);
	pthread_mutex_unlock(&fake.lock);
}

/* Waits until a request of part n ended. */
static void wait_done(unsigned n)
{
	pthread_mutex_lock(&fake.lock);
	while (!fake.parts[n].done_seq)
		pthread_cond_wait(&fake.changed, &fake.lock);
	pthread_mutex_unlock(&fake.lock);
}

static unsigned done_seq(unsigned n)
{
	unsigned seq;

	pthread_mutex_lock(&fake.lock);
	seq = fake.parts[n].done_seq;
	pthread_mutex_unlock(&fake.lock);
	return seq;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Waits until part n's stream began its request. */
static void wait_streaming(unsigned n)
{
	while (!__atomic_load_n(&fake.parts[n].streamed, __ATOMIC_SEQ_CST))
		sleep_ms(1);
}

static int fake_begin(struct rap_s3 *s3, const char *key, const char *content_type,
		      struct rap_s3_mpu **out)
{
	__atomic_add_fetch(&fake.begins, 1, __ATOMIC_SEQ_CST);
	*out = rap_s3_mpu_resume(key, "fake-upload-id");
	return RAP_OK;
}

static int fake_upload(struct rap_s3 *s3, const struct rap_s3_mpu *mpu, unsigned part,
		       const void *data, size_t len, char etag[RAP_S3_ETAG_LEN])
{
	bool failed = false;

	cr_assert(part >= 1 && part <= MAX_PARTS);
	fake_enter();
	__atomic_add_fetch(&fake.parts[part].requests, 1, __ATOMIC_SEQ_CST);
	sleep_ms(fake.parts[part].delay_ms);
	return fake_leave(part, data, len, &failed, etag);
}

static int fake_upload_from(struct rap_s3 *s3, const struct rap_s3_mpu *mpu, unsigned part,
			    size_t len, rap_s3_source src, void *ctx, char etag[RAP_S3_ETAG_LEN])
{
	struct fake_part *fp = &fake.parts[part];
	char *buf = malloc(len);
	size_t got = 0;
	bool failed = false;
	int result;

	cr_assert(part >= 1 && part <= MAX_PARTS);
	fake_enter();
	__atomic_add_fetch(&fp->requests, 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&fp->streamed, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&fp->fail_stream, __ATOMIC_SEQ_CST) > 0) {
		__atomic_sub_fetch(&fp->fail_stream, 1, __ATOMIC_SEQ_CST);
		fake_leave(part, NULL, 0, NULL, etag);
		free(buf);
		return RAP_EIO; /* dropped before it read a byte */
	}
	while (got < len) {
		long r = src(ctx, buf + got, len - got < 7000 ? len - got : 7000);

		if (r < 0) {
			__atomic_add_fetch(&fp->cancelled, 1, __ATOMIC_SEQ_CST);
			fake_leave(part, NULL, 0, NULL, etag);
			free(buf);
			return (int)r;
		}
		cr_assert(r > 0 && (size_t)r <= len - got);
		got += (size_t)r;
	}
	sleep_ms(fp->delay_ms);
	result = fake_leave(part, buf, len, &failed, etag);
	free(buf);
	return result;
}

static int fake_put(struct rap_s3 *s3, const char *key, const void *data, size_t len,
		    const char *content_type)
{
	fake.puts++;
	fake.object = malloc(len ? len : 1);
	memcpy(fake.object, data, len);
	fake.object_len = len;
	return RAP_OK;
}

/* Completes the object from the parts the upload names, each with its
 * ETag, in order. */
static int fake_complete(struct rap_s3 *s3, struct rap_s3_mpu *mpu)
{
	unsigned n = rap_s3_mpu_parts(mpu), i;
	char etag[RAP_S3_ETAG_LEN];

	fake.completes++;
	fake.object_len = 0;
	for (i = 1; i <= n; i++)
		fake.object_len += fake.parts[i].len;
	fake.object = malloc(fake.object_len ? fake.object_len : 1);
	fake.object_len = 0;
	for (i = 1; i <= n; i++) {
		snprintf(etag, sizeof(etag), "\"etag-%u\"", i);
		cr_assert_str_eq(rap_s3_mpu_etag(mpu, i), etag, "part %u", i);
		memcpy(fake.object + fake.object_len, fake.parts[i].data, fake.parts[i].len);
		fake.object_len += fake.parts[i].len;
	}
	return RAP_OK;
}

static int fake_abort(struct rap_s3 *s3, struct rap_s3_mpu *mpu)
{
	fake.aborts++;
	return RAP_OK;
}

static const struct parts_s3_ops fake_ops = {
	.begin = fake_begin,
	.upload = fake_upload,
	.upload_from = fake_upload_from,
	.put = fake_put,
	.complete = fake_complete,
	.abort = fake_abort,
};

/* ---- a writer over it ---- */

static struct upload_api api;
static struct rap_metric parts_metric;
static char *body;

/* upload-api with in_flight extra buffers, on a pool of `threads`. */
static void setup(unsigned in_flight, unsigned threads)
{
	static const struct rap_s3_cfg cfg = { "http://127.0.0.1:9", "us-east-1", "b", "k", "s" };

	memset(&api, 0, sizeof(api));
	api.cfg.upload_parts_in_flight = in_flight;
	api.cfg.upload_max_active = 4;
	api.s3cfg = cfg;
	api.parts = &parts_metric;
	pthread_mutex_init(&api.magic_lock, NULL);
	api.part_pool = rap_pool_new(threads);
	api.part_s3 = &fake_ops;
	fake.caller = pthread_self();
	body = malloc(MAX_PARTS * PART);
	for (size_t i = 0; i < MAX_PARTS * PART; i++)
		body[i] = (char)(i * 7 + i / 4099);
}

static void teardown(void)
{
	rap_pool_free(api.part_pool);
	pthread_mutex_destroy(&api.magic_lock);
	free(body);
	free(fake.object);
	for (unsigned i = 0; i <= MAX_PARTS; i++)
		free(fake.parts[i].data);
}

/* Writes body[0..len) in chunks of odd sizes, as a connection does. */
static int write_body(struct parts *p, size_t from, size_t len)
{
	static const size_t chunks[] = { 1, 4096, 65536, 333, 100000, 7 };
	size_t off = from, i = 0;
	int result = RAP_OK;

	while (off < from + len && result == RAP_OK) {
		size_t n = chunks[i++ % 6];

		if (n > from + len - off)
			n = from + len - off;
		result = parts_write(p, body + off, n);
		off += n;
	}
	return result;
}

/* Finishes the object and checks it is body[0..len) with its SHA-256. */
static void finish_and_check(struct parts *p, size_t len)
{
	char sha[RAP_SHA256_HEXLEN], want[RAP_SHA256_HEXLEN];

	cr_assert_eq(parts_finish(p, sha), RAP_OK, "%s", parts_errmsg(p));
	rap_sha256_hex(body, len, want);
	cr_assert_str_eq(sha, want);
	cr_assert_eq(fake.object_len, len);
	cr_assert(memcmp(fake.object, body, len) == 0, "the object holds the body");
}

/* ---- the slot state machine ---- */

Test(parts_slot, the_table_allows_exactly_the_moves_of_the_design)
{
	static const struct {
		enum parts_slot_state from, to;
	} moves[] = {
		{ PARTS_SLOT_EMPTY, PARTS_SLOT_FILLING },
		{ PARTS_SLOT_FILLING, PARTS_SLOT_STREAMING },
		{ PARTS_SLOT_FILLING, PARTS_SLOT_SENDING },
		{ PARTS_SLOT_HELD, PARTS_SLOT_SENDING },
		{ PARTS_SLOT_STREAMING, PARTS_SLOT_CANCELLING },
		{ PARTS_SLOT_STREAMING, PARTS_SLOT_STREAMED },
		{ PARTS_SLOT_CANCELLING, PARTS_SLOT_STREAMED },
		{ PARTS_SLOT_STREAMED, PARTS_SLOT_EMPTY },
		{ PARTS_SLOT_STREAMED, PARTS_SLOT_HELD },
		{ PARTS_SLOT_STREAMED, PARTS_SLOT_RETRYING },
		{ PARTS_SLOT_SENDING, PARTS_SLOT_SENT },
		{ PARTS_SLOT_RETRYING, PARTS_SLOT_SENT },
		{ PARTS_SLOT_SENT, PARTS_SLOT_EMPTY },
		{ PARTS_SLOT_SENT, PARTS_SLOT_RETRYING },
	};
	const size_t n = sizeof(moves) / sizeof(moves[0]);
	unsigned from, to, allowed = 0;

	for (size_t i = 0; i < n; i++)
		cr_assert(parts_slot_transition_allowed(moves[i].from, moves[i].to),
			  "%d -> %d is a move of the design", moves[i].from, moves[i].to);
	for (from = 0; from < PARTS_SLOT_STATES; from++)
		for (to = 0; to < PARTS_SLOT_STATES; to++)
			allowed += parts_slot_transition_allowed(from, to);
	cr_assert_eq(allowed, n, "the table allows %u moves, the design %zu", allowed, n);
}

Test(parts_slot, the_table_refuses_what_would_lose_or_repeat_a_part)
{
	/* bytes dropped, a job forgotten, a part sent twice */
	cr_assert_not(parts_slot_transition_allowed(PARTS_SLOT_FILLING, PARTS_SLOT_EMPTY));
	cr_assert_not(parts_slot_transition_allowed(PARTS_SLOT_STREAMING, PARTS_SLOT_EMPTY));
	cr_assert_not(parts_slot_transition_allowed(PARTS_SLOT_STREAMING, PARTS_SLOT_HELD));
	cr_assert_not(parts_slot_transition_allowed(PARTS_SLOT_SENDING, PARTS_SLOT_EMPTY));
	cr_assert_not(parts_slot_transition_allowed(PARTS_SLOT_HELD, PARTS_SLOT_STREAMING));
	cr_assert_not(parts_slot_transition_allowed(PARTS_SLOT_SENT, PARTS_SLOT_HELD));
	cr_assert_not(parts_slot_transition_allowed(PARTS_SLOT_EMPTY, PARTS_SLOT_EMPTY));
	cr_assert_not(parts_slot_transition_allowed(PARTS_SLOT_STATES, PARTS_SLOT_EMPTY));
	cr_assert_not(parts_slot_transition_allowed(PARTS_SLOT_EMPTY, PARTS_SLOT_STATES));
}

Test(parts_pool, a_thread_per_buffer_on_the_wire_up_to_the_cap)
{
	cr_assert_eq(parts_pool_bound(64, 0), 64, "the defaults");
	cr_assert_eq(parts_pool_bound(64, 1), 128);
	cr_assert_eq(parts_pool_bound(1, 0), 1);
	cr_assert_eq(parts_pool_bound(4, 99), 4 * 17, "in flight is at most 16");
	cr_assert_eq(parts_pool_bound(100000, 16), PARTS_POOL_MAX);
	cr_assert_eq(parts_pool_bound(512, 0), PARTS_POOL_MAX);
}

/* ---- the writer ---- */

Test(parts_writer, without_parts_in_flight_whole_parts_go_on_the_callers_thread, .init = NULL,
     .fini = teardown)
{
	struct parts *p;

	setup(0, 4);
	p = parts_new(&api, "uploads/x", NULL, PART);
	cr_assert_eq(write_body(p, 0, 5 * PART + PART / 2), RAP_OK);
	cr_assert_eq(parts_stored(p, NULL, NULL), 5);
	finish_and_check(p, 5 * PART + PART / 2);
	cr_assert_eq(fake.completes, 1);
	cr_assert_eq(fake.on_other, 0, "no request left the caller's thread");
	cr_assert_eq(fake.on_caller, 6);
	cr_assert_eq(rap_pool_threads(api.part_pool), 0, "nothing streamed, nothing in flight");
	cr_assert_eq(fake.max_active, 1);
	parts_free(p);
}

Test(parts_writer, a_body_smaller_than_a_part_is_one_put, .fini = teardown)
{
	struct parts *p;

	setup(1, 4);
	p = parts_new(&api, "uploads/x", NULL, PART);
	cr_assert_eq(write_body(p, 0, 1000), RAP_OK);
	finish_and_check(p, 1000);
	cr_assert_eq(fake.puts, 1);
	cr_assert_eq(fake.begins, 0);
	cr_assert_eq(fake.completes, 0);
	parts_free(p);
}

Test(parts_writer, parts_in_flight_run_on_the_pool_within_the_limit, .fini = teardown)
{
	struct parts *p;
	unsigned i;

	setup(2, 16);
	for (i = 1; i <= 12; i++)
		fake.parts[i].delay_ms = (i % 3) * 15;
	p = parts_new(&api, "uploads/x", NULL, PART);
	cr_assert_eq(write_body(p, 0, 12 * PART + 5), RAP_OK);
	finish_and_check(p, 12 * PART + 5);
	cr_assert_gt(rap_pool_threads(api.part_pool), 0, "the pool sent parts");
	cr_assert_gt(fake.on_other, 0);
	cr_assert_leq(fake.max_active, 3, "1 + in_flight buffers, so at most 3 parts at once");
	cr_assert_geq(fake.max_active, 2, "parts were in flight together");
	for (i = 1; i <= 13; i++)
		cr_assert_eq(fake.parts[i].requests, 1, "part %u once", i);
	parts_free(p);
}

Test(parts_writer, parts_are_booked_in_part_order, .fini = teardown, .timeout = 20)
{
	long long end;
	struct parts *p;

	setup(2, 16);
	fake.parts[1].hold = true;
	p = parts_new(&api, "uploads/x", NULL, PART);
	cr_assert_eq(write_body(p, 0, 2 * PART), RAP_OK);
	wait_done(2); /* part 2 is in S3, part 1 not yet */
	cr_assert_eq(parts_write(p, body + 2 * PART, 1), RAP_OK);
	cr_assert_eq(done_seq(1), 0);
	cr_assert_eq(parts_stored(p, &end, NULL), 0, "part 2 waits for part 1 to count");
	cr_assert_eq(end, 0);
	release(1);
	cr_assert_eq(parts_drain(p), RAP_OK);
	cr_assert_eq(parts_write(p, body + 2 * PART + 1, 1), RAP_OK);
	cr_assert_eq(parts_stored(p, &end, NULL), 2, "then both count, in order");
	cr_assert_eq(end, 2 * PART);
	cr_assert_str_eq(parts_etag(p, 1), "\"etag-1\"");
	cr_assert_str_eq(parts_etag(p, 2), "\"etag-2\"");
	finish_and_check(p, 2 * PART + 2);
	parts_free(p);
}

Test(parts_writer, a_failed_part_is_sent_once_more, .fini = teardown)
{
	struct parts *p;

	setup(1, 4);
	fake.parts[2].fail = 1;
	p = parts_new(&api, "uploads/x", NULL, PART);
	cr_assert_eq(write_body(p, 0, 4 * PART), RAP_OK);
	finish_and_check(p, 4 * PART);
	cr_assert_eq(fake.parts[2].requests, 2);
	cr_assert_eq(fake.parts[3].requests, 1);
	parts_free(p);
}

Test(parts_writer, a_part_that_fails_twice_fails_the_upload, .fini = teardown)
{
	char sha[RAP_SHA256_HEXLEN];
	struct parts *p;
	int result;

	setup(0, 4);
	fake.parts[2].fail = 2;
	p = parts_new(&api, "uploads/x", NULL, PART);
	result = write_body(p, 0, 4 * PART);
	if (result == RAP_OK)
		result = parts_finish(p, sha);
	cr_assert_eq(result, RAP_ES3);
	cr_assert(strstr(parts_errmsg(p), "UploadPart 2"), "%s", parts_errmsg(p));
	cr_assert_eq(fake.parts[2].requests, 2, "one retry, no more");
	cr_assert_eq(fake.completes, 0);
	cr_assert_eq(parts_abort(p), RAP_OK);
	cr_assert_eq(fake.aborts, 1);
	parts_free(p);
}

Test(parts_writer, parts_sure_to_fill_stream_while_they_fill, .fini = teardown)
{
	struct parts *p;
	unsigned i;

	setup(0, 4);
	p = parts_new(&api, "uploads/x", NULL, PART);
	parts_expect(p, 4 * PART);
	cr_assert_eq(write_body(p, 0, 4 * PART), RAP_OK);
	finish_and_check(p, 4 * PART);
	for (i = 1; i <= 4; i++) {
		cr_assert_eq(fake.parts[i].streamed, 1, "part %u streamed", i);
		cr_assert_eq(fake.parts[i].requests, 1, "part %u once", i);
	}
	cr_assert_gt(rap_pool_threads(api.part_pool), 0, "streams run on the pool");
	parts_free(p);
}

Test(parts_writer, a_body_ending_inside_a_streaming_part_loses_nothing, .fini = teardown,
     .timeout = 20)
{
	struct parts *p;

	setup(0, 4);
	p = parts_new(&api, "uploads/x", NULL, PART);
	parts_expect(p, 3 * PART); /* the client said more than it sends */
	cr_assert_eq(write_body(p, 0, 2 * PART + PART / 3), RAP_OK);
	wait_streaming(3); /* part 3's request reads what there is, and waits */
	finish_and_check(p, 2 * PART + PART / 3);
	cr_assert_eq(fake.parts[3].streamed, 1);
	cr_assert_eq(fake.parts[3].cancelled, 1, "its stream was given up");
	cr_assert_eq(fake.parts[3].requests, 2, "and the part sent whole");
	cr_assert_eq(fake.parts[3].len, PART / 3);
	parts_free(p);
}

Test(parts_writer, a_stream_cut_short_leaves_its_bytes_as_the_tail, .fini = teardown, .timeout = 20)
{
	const char *tail;
	long long end;
	size_t len;
	struct parts *p;

	setup(1, 4);
	p = parts_new(&api, "uploads/x", NULL, PART);
	parts_expect(p, 3 * PART);
	cr_assert_eq(write_body(p, 0, PART + 1000), RAP_OK);
	wait_streaming(2); /* part 2's request reads what there is, and waits */
	cr_assert_eq(parts_drain(p), RAP_OK);
	tail = parts_tail(p, &len);
	cr_assert_eq(len, 1000);
	cr_assert(memcmp(tail, body + PART, len) == 0);
	cr_assert_eq(parts_stored(p, &end, NULL), 1);
	cr_assert_eq(end, PART);
	cr_assert_eq(fake.parts[2].cancelled, 1);
	parts_free(p);
}

Test(parts_writer, a_stream_given_up_in_the_queue_makes_no_request, .fini = teardown, .timeout = 20)
{
	struct parts *p[2];

	setup(1, 1);
	fake.parts[1].delay_ms = 500; /* far longer than p[1] takes to end */
	p[0] = parts_new(&api, "uploads/a", NULL, PART);
	p[1] = parts_new(&api, "uploads/b", NULL, PART);
	parts_expect(p[0], PART);
	parts_expect(p[1], PART);
	/* p[0]'s part streams and holds the only thread for a while... */
	cr_assert_eq(write_body(p[0], 0, PART), RAP_OK);
	/* ...so p[1]'s stream waits in the queue, and its body ends short. */
	cr_assert_eq(write_body(p[1], 0, PART / 2), RAP_OK);
	cr_assert_eq(parts_drain(p[1]), RAP_OK);
	cr_assert_eq(fake.parts[1].streamed, 1, "p[0]'s stream only: the queued one ran none");
	cr_assert_eq(fake.parts[1].requests, 1);
	cr_assert_eq(parts_stored(p[1], NULL, NULL), 0);
	finish_and_check(p[1], PART / 2);
	cr_assert_eq(fake.parts[1].requests, 2, "p[1]'s part went whole at the end");
	parts_free(p[0]);
	parts_free(p[1]);
}

Test(parts_writer, a_stream_dropped_while_filling_sends_the_part_whole, .fini = teardown)
{
	struct parts *p;

	setup(0, 4);
	fake.parts[2].fail_stream = 1;
	p = parts_new(&api, "uploads/x", NULL, PART);
	parts_expect(p, 3 * PART);
	cr_assert_eq(write_body(p, 0, PART + PART / 2), RAP_OK);
	sleep_ms(50); /* the drop is seen while the part fills */
	cr_assert_eq(write_body(p, PART + PART / 2, PART + PART / 2), RAP_OK);
	finish_and_check(p, 3 * PART);
	cr_assert_eq(fake.parts[2].streamed, 1, "streamed once, not again");
	cr_assert_eq(fake.parts[2].requests, 2, "then sent whole");
	parts_free(p);
}

Test(parts_writer, a_pool_of_one_thread_queues_parts_without_deadlock, .fini = teardown,
     .timeout = 20)
{
	struct parts *p[2];
	unsigned i;

	setup(2, 1);
	for (i = 1; i <= 8; i++)
		fake.parts[i].delay_ms = 5;
	p[0] = parts_new(&api, "uploads/a", NULL, PART);
	p[1] = parts_new(&api, "uploads/b", NULL, PART);
	parts_expect(p[0], 8 * PART);
	parts_expect(p[1], 8 * PART);
	/* Two writers take turns, so both streams and in-flight parts queue
	 * behind each other on the single thread. */
	for (i = 0; i < 8; i++) {
		cr_assert_eq(write_body(p[0], i * PART, PART), RAP_OK);
		cr_assert_eq(write_body(p[1], i * PART, PART), RAP_OK);
	}
	cr_assert_eq(parts_drain(p[0]), RAP_OK);
	cr_assert_eq(parts_drain(p[1]), RAP_OK);
	cr_assert_eq(parts_stored(p[0], NULL, NULL), 8);
	cr_assert_eq(parts_stored(p[1], NULL, NULL), 8);
	cr_assert_eq(rap_pool_threads(api.part_pool), 1);
	cr_assert_eq(fake.max_active, 1);
	parts_free(p[0]);
	parts_free(p[1]);
}

Test(parts_writer, aborting_gives_the_multipart_upload_up_once, .fini = teardown)
{
	struct parts *p;

	setup(1, 4);
	p = parts_new(&api, "uploads/x", NULL, PART);
	cr_assert_eq(write_body(p, 0, 2 * PART + 10), RAP_OK);
	cr_assert_eq(parts_abort(p), RAP_OK);
	cr_assert_eq(parts_abort(p), RAP_OK);
	cr_assert_eq(fake.aborts, 1);
	parts_free(p);
}
