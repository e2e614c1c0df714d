/*
 * parts.c: the part writer every upload path shares (streamed multipart,
 * tus PATCHes, tus concatenation).  Bytes are hashed (SHA-256) and collect
 * in a part buffer; a full buffer goes to S3 as a multipart part on a
 * thread of its own while the next one fills, with at most `in_flight`
 * parts on the wire.  Memory is part_size x (in_flight + 1) per upload,
 * whatever the file size, and nothing touches local disk.
 *
 * Parts complete in order of part number as far as the caller can see
 * (parts_stored counts the stored prefix), and for each stored part the
 * writer remembers the SHA-256 state at its end, so that a tus upload can
 * record "bytes 0..N are in S3 and hash to this state" after every part.
 */
#include "upload_api.h"

#include "rap/codec.h"
#include "rap/err.h"
#include "rap/hash.h"
#include "rap/mem.h"
#include "rap/metrics.h"

#include <stdatomic.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IN_FLIGHT 16

struct slot {
	struct parts *owner;
	char *buf;
	size_t len;
	unsigned part;
	pthread_t thread;
	bool busy;              /* handed out, not yet joined */
	bool threaded;          /* uploaded by `thread` (else inline) */
	atomic_bool done;
	int result;
	char etag[RAP_S3_ETAG_LEN];
	char err[RAP_ERRLEN];
	unsigned char hash[RAP_SHA256_STATE_LEN]; /* state at the part's end */
	long long end;          /* object offset after the part */
	struct rap_s3 *s3;      /* the slot's own client (connection reuse) */
};

struct parts {
	struct upload_api *api;
	struct rap_s3 *s3;      /* the caller's client: begin, tail, complete */
	struct rap_s3_mpu *mpu;
	char *key;
	char *content_type;
	struct rap_sha256 sha;
	size_t part_size;
	unsigned in_flight;
	struct slot slots[MAX_IN_FLIGHT + 1];
	unsigned fill;          /* the slot being filled */
	unsigned next_part;     /* the number of the next part handed out */
	unsigned stored;        /* parts 1..stored are in S3 */
	long long stored_end;   /* object offset after part `stored` */
	unsigned char stored_hash[RAP_SHA256_STATE_LEN];
	long long offset;       /* bytes written so far */
	char detected[128];
	bool detect_done;
	const char *job_type;   /* content allow-list to check, or NULL */
	bool finished;
	char err[RAP_ERRLEN];
};

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
	unsigned n = (unsigned)api->svc.cfg.upload_parts_in_flight;

	p->api = api;
	p->s3 = rap_s3_new(&api->s3cfg);
	p->key = rap_strdup(key);
	p->content_type = rap_strdup(content_type ? content_type : "application/octet-stream");
	p->part_size = part_size;
	p->in_flight = n > MAX_IN_FLIGHT ? MAX_IN_FLIGHT : n;
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

static void *upload_slot(void *arg)
{
	struct slot *s = arg;
	struct parts *p = s->owner;

	s->result = rap_s3_mpu_upload(s->s3, p->mpu, s->part, s->buf, s->len, s->etag);
	if (s->result != RAP_OK)
		snprintf(s->err, sizeof(s->err), "%s", rap_s3_errmsg(s->s3));
	atomic_store(&s->done, true);
	return NULL;
}

/* Waits for the slot's thread and books its part; RAP_OK or its error. */
static int join_slot(struct parts *p, struct slot *s)
{
	if (s->threaded)
		pthread_join(s->thread, NULL);
	s->busy = s->threaded = false;
	s->len = 0;
	if (s->result != RAP_OK) {
		snprintf(p->err, sizeof(p->err), "UploadPart %u: %.200s", s->part, s->err);
		return s->result;
	}
	rap_s3_mpu_set_etag(p->mpu, s->part, s->etag);
	rap_metric_inc(p->api->parts, 1);
	if (s->part == p->stored + 1) {
		p->stored = s->part;
		p->stored_end = s->end;
		memcpy(p->stored_hash, s->hash, sizeof(s->hash));
	}
	return RAP_OK;
}

/* The busy slot of the lowest part number, or NULL. */
static struct slot *oldest(struct parts *p)
{
	struct slot *o = NULL;
	unsigned i;

	for (i = 0; i <= p->in_flight; i++)
		if (p->slots[i].busy && (!o || p->slots[i].part < o->part))
			o = &p->slots[i];
	return o;
}

/* Joins busy slots in part order: all of them (wait) or those done. */
static int reap(struct parts *p, bool wait)
{
	int result = RAP_OK;
	struct slot *s;

	while ((s = oldest(p)) && (wait || atomic_load(&s->done)))
		if (join_slot(p, s) != RAP_OK && result == RAP_OK)
			result = s->result;
	return result;
}

/* Detects the content type from the object's first bytes (when the buffer
 * holds them) and checks it against the job type's allow-list, before the
 * bytes go anywhere. */
static int detect(struct parts *p, const struct slot *s)
{
	const char *list = p->api->svc.cfg.job_content_types;

	if (p->detect_done || p->offset - (long long)s->len != 0 || s->len == 0)
		return RAP_OK;
	p->detect_done = s->len >= 64 * 1024;
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

/* Hands the full buffer to a thread, then finds a free slot to fill. */
static int send_full(struct parts *p)
{
	struct slot *s = &p->slots[p->fill];
	unsigned i;
	int result;

	result = detect(p, s);
	if (result != RAP_OK)
		return result;
	if (!p->mpu) {
		result = rap_s3_mpu_begin(p->s3, p->key, p->content_type, &p->mpu);
		if (result != RAP_OK) {
			snprintf(p->err, sizeof(p->err), "%s", rap_s3_errmsg(p->s3));
			return result;
		}
	}
	s->owner = p;
	s->part = ++p->next_part;
	s->end = p->offset;
	rap_sha256_save(&p->sha, s->hash);
	if (!s->s3)
		s->s3 = rap_s3_new(&p->api->s3cfg);
	s->busy = true;
	atomic_store(&s->done, false);
	s->threaded = p->in_flight > 0 &&
		      pthread_create(&s->thread, NULL, upload_slot, s) == 0;
	if (!s->threaded)
		upload_slot(s); /* no parts in flight (or no thread): here */
	for (;;) {
		result = reap(p, false);
		if (result != RAP_OK)
			return result;
		for (i = 0; i <= p->in_flight; i++)
			if (!p->slots[i].busy) {
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

		if (!s->buf)
			s->buf = part_buffer(p->part_size);
		if (take > n)
			take = n;
		memcpy(s->buf + s->len, d, take);
		rap_sha256_update(&p->sha, d, take);
		s->len += take;
		p->offset += (long long)take;
		d += take;
		n -= take;
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

int parts_finish(struct parts *p, char sha256[65])
{
	struct slot *s = &p->slots[p->fill];
	int result;

	result = detect(p, s);
	if (result == RAP_OK)
		result = parts_drain(p);
	if (result != RAP_OK)
		return result;
	if (!p->mpu) {
		result = rap_s3_put(p->s3, p->key, s->buf ? s->buf : "", s->len, p->content_type);
	} else {
		if (s->len > 0) {
			result = send_full(p);
			if (result == RAP_OK)
				result = parts_drain(p);
			if (result != RAP_OK)
				return result;
		}
		result = rap_s3_mpu_complete(p->s3, p->mpu);
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
		result = rap_s3_mpu_abort(p->s3, p->mpu); /* s3rver: lifecycle cleans */
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
		if (p->slots[i].buf)
			munmap(p->slots[i].buf, p->part_size);
		rap_s3_free(p->slots[i].s3);
	}
	rap_s3_mpu_free(p->mpu);
	rap_sha256_cleanup(&p->sha);
	rap_s3_free(p->s3);
	free(p->key);
	free(p->content_type);
	free(p);
}

int upload_delete_object(struct upload_api *api, const char *key)
{
	struct rap_s3 *s3 = rap_s3_new(&api->s3cfg);
	int result = rap_s3_delete(s3, key);

	rap_s3_free(s3);
	return result;
}
