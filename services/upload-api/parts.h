#ifndef UPLOAD_PARTS_H
#define UPLOAD_PARTS_H

/*
 * parts.h: the part writer of every upload path (parts.c).  Bytes written
 * are hashed and buffered; parts go to S3 on the process's part pool
 * (upload_api.part_pool), RAP_UPLOAD_PARTS_IN_FLIGHT more buffers at most;
 * errors (S3's message in parts_errmsg) come back from the call that
 * notices them.  One thread uses a writer at a time.
 */
#include <stdbool.h>
#include <stddef.h>

#include "rap/hash.h"
#include "rap/s3.h"

struct upload_api;
struct parts;

/**
 * The S3 calls the writer makes, with the contracts of the rap/s3.h
 * functions of the same names: a table so that tests can put an in-memory
 * S3 in its place (upload_api.part_s3; NULL: parts_s3).
 */
struct parts_s3_ops {
	int (*begin)(struct rap_s3 *s3, const char *key, const char *content_type,
		     struct rap_s3_mpu **out);
	int (*upload)(struct rap_s3 *s3, const struct rap_s3_mpu *mpu, unsigned part,
		      const void *data, size_t len, char etag[RAP_S3_ETAG_LEN]);
	int (*upload_from)(struct rap_s3 *s3, const struct rap_s3_mpu *mpu, unsigned part,
			   size_t len, rap_s3_source src, void *ctx, char etag[RAP_S3_ETAG_LEN]);
	int (*put)(struct rap_s3 *s3, const char *key, const void *data, size_t len,
		   const char *content_type);
	int (*complete)(struct rap_s3 *s3, struct rap_s3_mpu *mpu);
	int (*abort)(struct rap_s3 *s3, struct rap_s3_mpu *mpu);
};

/** S3 itself (lib/adapters/s3). */
extern const struct parts_s3_ops parts_s3;

/** The most part pool threads one upload-api runs, whatever its settings
 *  (parts.c says why). */
#define PARTS_POOL_MAX 512
/** The bound of the part pool: a thread for every part buffer that can be
 *  on the wire at once (max_active writers of 1 + in_flight buffers), at
 *  most PARTS_POOL_MAX. */
unsigned parts_pool_bound(long long max_active, long long in_flight);

/**
 * The state of one part buffer (a slot) of a writer; parts.c's design
 * note draws the machine.  Exposed for the tests of its transitions.
 */
enum parts_slot_state {
	PARTS_SLOT_EMPTY,      /* no bytes, no request: the next one to fill */
	PARTS_SLOT_FILLING,    /* bytes arrive; not on the wire */
	PARTS_SLOT_HELD,       /* bytes arrive; its stream gave up: sent whole */
	PARTS_SLOT_STREAMING,  /* a pool job sends it while it fills */
	PARTS_SLOT_CANCELLING, /* its part ends short: the job is told to stop */
	PARTS_SLOT_STREAMED,   /* the stream's request is over (result set) */
	PARTS_SLOT_SENDING,    /* the whole part is on the wire (a job or here) */
	PARTS_SLOT_RETRYING,   /* its request failed: sent again, once, here */
	PARTS_SLOT_SENT,       /* the whole part's request is over (result set) */
	PARTS_SLOT_STATES
};

/** Whether a slot may go from one state to the other (the table every
 *  change of state is asserted against). */
bool parts_slot_transition_allowed(enum parts_slot_state from, enum parts_slot_state to);

/** A writer of the object key (content_type: NULL for
 *  application/octet-stream) in parts of part_size bytes, with
 *  api->cfg.upload_parts_in_flight more buffers (at most 16).  The caller
 *  frees it with parts_free. */
struct parts *parts_new(struct upload_api *api, const char *key, const char *content_type,
			size_t part_size);
/** Checks the content type libmagic detects in the first bytes against the
 *  allow-list of job_type (RAP_JOB_CONTENT_TYPES; kept, not copied) before
 *  they are stored: writes and parts_finish fail with RAP_EUNSUPPORTED. */
void parts_check_content(struct parts *p, const char *job_type);
/** Detects (and checks) the type now if the buffer holds the first bytes. */
int parts_detect(struct parts *p);
/** The object offset the body being written will reach if it arrives whole
 *  (from its Content-Length; -1, the default: unknown).  Parts that are
 *  sure to fill then go on the wire while they fill.  An estimate too high
 *  costs a request given up at the end, never bytes. */
void parts_expect(struct parts *p, long long end);
/** Continues an S3 multipart upload whose n first parts are stored (ETags
 *  etags), so at object offset n x part_size, with the SHA-256 state hash
 *  of those bytes (NULL: a fresh digest).  RAP_EINVAL if hash is damaged. */
int parts_resume(struct parts *p, const char *upload_id, char *const *etags, unsigned n,
		 const unsigned char *hash);
/** Writes n bytes: they are hashed and buffered, and every part they fill
 *  goes to S3.  An error of S3 (or RAP_EUNSUPPORTED for refused content)
 *  with a message in parts_errmsg. */
int parts_write(struct parts *p, const void *data, size_t n);
/** Waits until no part is in flight. */
int parts_drain(struct parts *p);
/** The parts 1..N stored in S3 (returned), the object offset after part N
 *  and the SHA-256 state there (either may be NULL). */
unsigned parts_stored(const struct parts *p, long long *end, unsigned char *hash);
const char *parts_etag(const struct parts *p, unsigned part);
/** The S3 multipart upload id, NULL before the first full part. */
const char *parts_upload_id(const struct parts *p);
/** The bytes after the last full part (not yet in S3). */
const char *parts_tail(struct parts *p, size_t *len);
/** The object offset reached: bytes resumed plus bytes written. */
long long parts_offset(const struct parts *p);
/** libmagic's type of the object's first bytes ("" until seen). */
const char *parts_detected(const struct parts *p);
/** Stores the tail as the last part and completes the object (one PUT if it
 *  is smaller than a part); writes the object's sha256. */
int parts_finish(struct parts *p, char sha256[RAP_SHA256_HEXLEN]);
/** Aborts the S3 multipart upload unless finished (RAP_EUNSUPPORTED when the
 *  server lacks AbortMultipartUpload). */
int parts_abort(struct parts *p);
const char *parts_errmsg(const struct parts *p);
/** Frees the writer after waiting for its parts; accepts NULL. */
void parts_free(struct parts *p);

#endif
