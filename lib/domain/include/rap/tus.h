#ifndef RAP_TUS_H
#define RAP_TUS_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "rap/hash.h"
#include "rap/tus_header.h"
#include "rap/upload.h"
#include "rap/uuid.h"

/*
 * The state of tus 1.0 resumable uploads kept in PostgreSQL
 * (db/migrations/0008_tus.sql); the protocol's header grammar is
 * rap/tus_header.h.
 */
/** An upload's state name and the NUL. */
#define RAP_TUS_STATE_LEN 16

struct rap_tus {
	char id[RAP_UUID_STRLEN];
	char object_key[RAP_UPLOAD_KEY_LEN];
	char state[RAP_TUS_STATE_LEN]; /* UPLOADING, COMPLETE or ABORTED */
	long long length;              /* -1 while deferred */
	long long offset;
	long long part_size;
	long long tail_len; /* bytes after the last part (a tail object) */
	char *s3_upload_id; /* NULL before the first part */
	char **etags;       /* the stored parts, in order */
	unsigned parts;
	unsigned char hash[RAP_SHA256_STATE_LEN]; /* of the bytes in parts */
	bool has_hash;
	char *metadata;
	char *concat; /* NULL, "partial" or "final;..." */
	char *content_type;
	char *detected_type; /* NULL until known */
	time_t expires_at;   /* 0 once complete */
	bool expired;
};

/** What creating an upload records. */
struct rap_tus_new {
	const char *id;
	const char *owner;
	const char *object_key;
	const char *filename; /* sanitized */
	const char *content_type;
	long long length; /* -1: deferred */
	long long part_size;
	const char *metadata;
	const char *concat; /* NULL, "partial" or "final;..." */
	int expire_s;
};

/** Records a new UPLOADING upload and its tus state in one transaction. */
int rap_tus_create(PGconn *db, const struct rap_tus_new *n, char *err);

/**
 * Loads the owner's upload id into t (rap_tus_cleanup frees it); owner NULL
 * for any owner's (the sweeper).
 * RAP_ENOENT when there is no such tus upload of the owner's, RAP_ECANCELED
 * when it was terminated (tus answers 410 Gone then).
 */
int rap_tus_load(PGconn *db, const char *owner, const char *id, struct rap_tus *t, char *err);
void rap_tus_cleanup(struct rap_tus *t);

/** Adds an ETag to t's list of stored parts (copied). */
void rap_tus_add_part(struct rap_tus *t, const char *etag);

/**
 * Saves t's progress (offset, length, parts, tail, hash state, detected
 * type) and moves its expiry to expire_s seconds from now.
 */
int rap_tus_save(PGconn *db, const struct rap_tus *t, int expire_s, char *err);

/** Marks the upload COMPLETE with its size and sha256; the tus state keeps
 *  only what HEAD shows. */
int rap_tus_complete(PGconn *db, const struct rap_tus *t, const char *sha256, char *err);

/** Termination or expiry: ABORTED, or (drop) the rows deleted. */
int rap_tus_end(PGconn *db, const char *id, bool drop, char *err);

/**
 * Takes the upload's advisory lock on db's session without waiting:
 * RAP_OK when held, RAP_ECONFLICT when another session holds it.  The lock
 * goes with the session: a killed process never leaves an upload locked.
 */
int rap_tus_lock(PGconn *db, const char *id, char *err);
void rap_tus_unlock(PGconn *db, const char *id);

/** The S3 key of the tail object of t (bytes after its last part). */
void rap_tus_tail_key(const struct rap_tus *t, long long start, char *out, size_t len);

/** Up to max ids of unfinished uploads whose expiry passed (ids[i] has
 *  RAP_UUID_STRLEN bytes); *n counts them. */
int rap_tus_expired(PGconn *db, char (*ids)[RAP_UUID_STRLEN], unsigned max, unsigned *n, char *err);

#endif
