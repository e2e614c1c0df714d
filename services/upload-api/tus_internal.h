#ifndef UPLOAD_TUS_INTERNAL_H
#define UPLOAD_TUS_INTERNAL_H

/*
 * tus_internal.h: what upload-api's tus files share: tus 1.0 resumable
 * uploads at /files/ (the gateway's /api/files/): core, creation,
 * creation-with-upload, creation-defer-length, termination, checksum,
 * expiration and concatenation.  Each file is a section; a file uses
 * those below it in this list, never those above:
 *   tus_create.c    POST: creation, creation-with-upload, concatenation
 *   tus_patch.c     PATCH, and the body of a creation-with-upload
 *   tus_progress.c  saving a PATCH's progress: parts, the tail, the end
 *   tus_head.c      HEAD
 *   tus_delete.c    DELETE, the sweeper, what an unfinished upload holds
 *   tus.c           what every request shares: headers, numbers, sizes
 * The route table (routes.c) and main.c see only upload_api.h.
 */
#include "upload_api.h"
#include "parts.h"

#include "rap/hash.h"
#include "rap/job.h"
#include "rap/pg.h"
#include "rap/tus.h"

/*
 * Where a PATCH stands (tus_patch.c moves it, asserting each move against
 * tus_patch_transition_allowed):
 *   OPENING -> RECEIVING -> SAVED     its outcome saved, answered 201/204
 *        \          \-> FAILED       an error answer is queued: nothing
 *         \-> FAILED                  more of the PATCH is kept or saved
 * A PATCH that ends RECEIVING (its client went away) keeps the bytes that
 * arrived, unless Upload-Checksum asks for all or nothing.
 */
enum tus_patch_state {
	TUS_PATCH_OPENING,   /* checked, locked and loaded; no body yet */
	TUS_PATCH_RECEIVING, /* the body streams into the part writer */
	TUS_PATCH_SAVED,     /* the outcome is saved and answered */
	TUS_PATCH_FAILED,    /* an error answer is queued */
	TUS_PATCH_STATES
};

/** Whether a PATCH may go from one state to the other. */
bool tus_patch_transition_allowed(enum tus_patch_state from, enum tus_patch_state to);

/*
 * One PATCH (or a creation-with-upload POST) in progress.  Besides its
 * state, the flags say what it holds, for patch_free to give back: the
 * advisory lock, an upload place, a checksum digest.
 */
struct tus_patch {
	struct upload_api *api;
	struct rap_http_req *req;
	enum tus_patch_state state;
	PGconn *db; /* a session of its own: holds the lock */
	bool locked;
	struct upload_place *place; /* its upload place (places.c) */
	struct rap_tus t;
	struct parts *parts;
	struct rap_digest sum; /* Upload-Checksum, if sent */
	bool has_sum;
	unsigned char want[RAP_DIGEST_MAX];
	size_t want_len;
	long long limit;                     /* the offset the body may reach */
	long long boundary;                  /* object offset of the stored parts' end */
	char old_tail[160];                  /* the tail object read back, if any */
	char job_type[RAP_MAX_JOB_TYPE + 1]; /* Upload-Metadata job_type: content checked */
	bool mpu_saved;                      /* the writer's multipart upload is recorded */
	bool creating;                       /* creation-with-upload: 201, not 204 */
};

/* tus.c */
/**
 * The checks every tus request but OPTIONS passes before its handler, in
 * this order: Tus-Resumable (412), the API key (401), an {id} that is a
 * UUID (404).  True when the handler goes on; false after the answer.
 * Either way every answer of the request now carries Tus-Resumable and
 * waits for its body.
 */
bool tus_accept(struct upload_api *api, struct rap_http_req *req);
/** Adds a header whose value is the number v to req's answer. */
void tus_add_num(struct rap_http_req *req, const char *name, long long v);
/** Adds Upload-Expires, seconds from now, to req's answer. */
void tus_add_expires(struct rap_http_req *req, int seconds);
/** A part size that keeps an upload of length bytes (-1: deferred, so up
 *  to RAP_UPLOAD_MAX_BYTES) within S3's 10,000 parts. */
long long tus_part_size_for(struct upload_api *api, long long length);
/** Reads header name as a non-negative integer into *out; false, after
 *  answering 400, when it is absent or malformed. */
bool tus_parse_length(struct rap_http_req *req, const char *name, long long *out);

/* tus_progress.c: a PATCH's progress, saved as its bytes reach S3. */
/** Deletes a tail object no longer needed (a leftover costs only space). */
void tus_progress_drop_tail(struct tus_patch *pt, const char *key);
/** After a part: saves that bytes 0..boundary are in S3; RAP_EDB. */
int tus_progress_save_parts(struct tus_patch *pt);
/** The end of a PATCH that leaves the upload unfinished: the parts in
 *  flight complete, the bytes after them become the tail object, and the
 *  upload is saved.  A message in err (RAP_ERRLEN) on failure. */
int tus_progress_save_tail(struct tus_patch *pt, char *err);
/** The last byte arrived: the object is completed in S3 and recorded
 *  (RAP_EUNSUPPORTED: its content is refused). */
int tus_progress_finish(struct tus_patch *pt, char *err);

/* tus_patch.c */
/** PATCH /files/ID (creating: the body of the creation-with-upload that
 *  created ID, answered 201): checks and locks the upload, and sets up the
 *  request to stream its body into the upload (or answers). */
void tus_patch_begin(struct upload_api *api, struct rap_http_req *req, const char *id,
		     bool creating);
/** The DATA and END phases of a request that tus_patch_begin set up
 *  (nothing for one it answered at once). */
void tus_patch_body(struct rap_http_req *req, enum rap_http_phase phase, const char *data,
		    size_t len);

/* tus_delete.c */
/** Frees what an unfinished upload holds in S3: its multipart upload and
 *  its tail object (failures are logged: a lifecycle rule finds them). */
void tus_delete_s3(struct upload_api *api, const struct rap_tus *t);

#endif
