#ifndef RAP_UPLOAD_H
#define RAP_UPLOAD_H

#include <libpq-fe.h>
#include <stddef.h>

/*
 * Finished uploads in PostgreSQL (the `uploads` table): a job names one by
 * its object key, and only its owner may use it.
 */

/** The object key of an upload, "uploads/<uuid>", and the NUL, with room. */
#define RAP_UPLOAD_KEY_LEN 64

/** Records a finished upload owned by owner; detected_type (libmagic's
 *  MIME type of its first bytes) may be NULL. */
int rap_upload_record(PGconn *db, const char *upload_id, const char *owner, const char *object_key,
		      const char *filename, const char *content_type, unsigned long long size,
		      const char *sha256, const char *detected_type, char *err);

/** The detected content type of the owner's upload of object_key into out
 *  ("" when unknown); RAP_ENOENT when the owner has no such upload. */
int rap_upload_detected_type(PGconn *db, const char *owner, const char *object_key, char *out,
			     size_t len, char *err);

/** The finished uploads kept (state COMPLETE): how many, and their bytes.
 *  A sum over the table: callers sample it at a bounded rate. */
int rap_upload_stored(PGconn *db, long long *objects, long long *bytes, char *err);
/** Fills json (caller frees) with the upload as the API shows it;
 *  RAP_ENOENT when the owner has no such upload. */
int rap_upload_get(PGconn *db, const char *owner, const char *upload_id, char **json, char *err);

#endif
