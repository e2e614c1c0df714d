#ifndef RAP_PRESIGNED_H
#define RAP_PRESIGNED_H

#include <libpq-fe.h>
#include <stddef.h>

struct rap_s3;

/*
 * Presigned uploads: the client PUTs its file straight to S3 with a URL
 * that upload-api signed, so the platform records only the promise (who,
 * which key, how many bytes, until when) and checks it when the object is
 * first used.
 */

/** What POST /uploads/presign asks for. */
struct rap_presigned_req {
	unsigned long long size; /* bytes the client will PUT */
	char filename[256];      /* "" when absent (not yet sanitised) */
	char content_type[128];  /* "" when absent */
};

/** Decodes a POST /uploads/presign body {"size", "filename"?,
 *  "content_type"?}; unknown fields are refused, err says why. */
int rap_presigned_decode(const char *body, size_t len, struct rap_presigned_req *out, char *err);

/** Records an UPLOADING upload of size bytes whose presigned URL expires
 *  expires_s seconds from now.  filename and content_type may be NULL. */
int rap_presigned_record(PGconn *db, const char *upload_id, const char *owner,
			 const char *object_key, const char *filename, const char *content_type,
			 unsigned long long size, int expires_s, char *err);

/**
 * Completes a presigned upload of the owner's if its object is in S3 with
 * the declared size.  RAP_OK when it is COMPLETE now (or became so
 * concurrently); RAP_ENOENT when object_key names no pending presigned
 * upload of the owner's; RAP_EINVAL when the object is missing or its size
 * differs (err says which); RAP_ES3 / RAP_EDB when a server failed.
 */
int rap_presigned_verify(PGconn *db, struct rap_s3 *s3, const char *owner, const char *object_key,
			 char *err);

/**
 * The sweeper: presigned uploads still UPLOADING grace_s seconds after
 * their URL expired are abandoned: their object (if the client PUT one but
 * never used it) is deleted from S3 and the upload becomes ABORTED.  At
 * most limit per call, rows locked with SKIP LOCKED so several instances
 * may sweep; *aborted counts them.
 */
int rap_presigned_sweep(PGconn *db, struct rap_s3 *s3, int grace_s, int limit, unsigned *aborted,
			char *err);

#endif
