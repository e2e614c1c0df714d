#ifndef RAP_S3_H
#define RAP_S3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/*
 * S3 client over libcurl, signed with AWS Signature Version 4 and path-style
 * URLs (endpoint/bucket/key).  Debian's libs3 has no multipart API and signs
 * with V2 only, hence this module (docs/decisions/s3-client.md).
 *
 * A struct rap_s3 is owned by one thread at a time (it keeps a CURL easy
 * handle for connection reuse).  Errors: RAP_ES3 when the server answers with
 * an error status (message in err, HTTP status in *status where asked),
 * RAP_EIO for transport failures, RAP_ENOENT for 404 / NoSuchKey.
 */
/* S3's part numbers: 1 to 10,000. */
#define RAP_S3_MAX_PARTS 10000u

struct rap_s3_cfg {
	const char *endpoint; /* e.g. http://127.0.0.1:9100, no trailing slash */
	const char *region;   /* e.g. us-east-1 */
	const char *bucket;
	const char *access_key;
	const char *secret_key;
};

struct rap_s3;

/** Initialises libcurl; call once at start, before threads. */
void rap_s3_global_init(void);

/** Creates a client; copies the configuration strings. */
struct rap_s3 *rap_s3_new(const struct rap_s3_cfg *cfg);
/** Frees a client; accepts NULL. */
void rap_s3_free(struct rap_s3 *s3);
/** The message of the last failure on this client ("" if none). */
const char *rap_s3_errmsg(const struct rap_s3 *s3);

/** Creates the bucket if it does not exist (200/409 are both success). */
int rap_s3_ensure_bucket(struct rap_s3 *s3);

/** Single PUT of a whole in-memory object. */
int rap_s3_put(struct rap_s3 *s3, const char *key, const void *data, size_t len,
	       const char *content_type);

/** HEAD: fills *size (may be NULL); RAP_ENOENT when the object is missing. */
int rap_s3_head(struct rap_s3 *s3, const char *key, uint64_t *size);

/**
 * Streams an object: cb is called with each chunk as it arrives and returns
 * 0 to continue or a negative rap_err to stop (that code is returned).
 * RAP_ENOENT when the object is missing.
 */
typedef int (*rap_s3_sink)(void *ctx, const void *data, size_t len);
int rap_s3_get(struct rap_s3 *s3, const char *key, rap_s3_sink cb, void *ctx);

/** Deletes an object; a missing object is success. */
int rap_s3_delete(struct rap_s3 *s3, const char *key);

/*
 * Multipart upload.  Parts are numbered from 1 to RAP_S3_MAX_PARTS (S3's
 * range; a number outside it is refused before any request, and recording
 * an ETag for one is a programming error); every part but the last must
 * be at least 5 MiB (S3's rule).  The upload remembers each part's ETag.
 * Abort follows the S3 API (DELETE ?uploadId=); a server that does not
 * implement it (s3rver answers 405) is reported as RAP_EUNSUPPORTED, and the
 * caller's fallback is to leave the parts for the bucket's lifecycle rule.
 */
struct rap_s3_mpu;

/** Starts a multipart upload of key; the returned handle is the caller's. */
int rap_s3_mpu_begin(struct rap_s3 *s3, const char *key, const char *content_type,
		     struct rap_s3_mpu **out);
#define RAP_S3_ETAG_LEN 128
/** A handle for an upload begun earlier (its parts: rap_s3_mpu_set_etag). */
struct rap_s3_mpu *rap_s3_mpu_resume(const char *key, const char *upload_id);
/**
 * Uploads part number `part` and writes its ETag; the handle is only read,
 * so parts may upload concurrently, each thread with its own client.  The
 * caller records the ETag with rap_s3_mpu_set_etag.
 */
int rap_s3_mpu_upload(struct rap_s3 *s3, const struct rap_s3_mpu *mpu, unsigned part,
		      const void *data, size_t len, char etag[RAP_S3_ETAG_LEN]);
/**
 * A body produced while it is sent: writes at most n bytes to buf and
 * returns how many (at least 1; it may block until they exist), or a
 * negative rap_err, which aborts the request and is what the upload returns.
 */
typedef long (*rap_s3_source)(void *ctx, void *buf, size_t n);
/**
 * Uploads part number `part` of exactly len bytes that src produces as the
 * request goes (the Content-Length is sent first), so a part can be on the
 * wire while its bytes still arrive.  Otherwise as rap_s3_mpu_upload.
 */
int rap_s3_mpu_upload_from(struct rap_s3 *s3, const struct rap_s3_mpu *mpu, unsigned part,
			   size_t len, rap_s3_source src, void *ctx, char etag[RAP_S3_ETAG_LEN]);
/** Records the ETag of part (>= 1); the upload has max(part) parts. */
void rap_s3_mpu_set_etag(struct rap_s3_mpu *mpu, unsigned part, const char *etag);
/** The ETag of part (>= 1), or NULL. */
const char *rap_s3_mpu_etag(const struct rap_s3_mpu *mpu, unsigned part);
/** Uploads the next part (numbered in call order). */
int rap_s3_mpu_part(struct rap_s3 *s3, struct rap_s3_mpu *mpu, const void *data, size_t len);
/** Completes the upload with every part sent so far; frees nothing. */
int rap_s3_mpu_complete(struct rap_s3 *s3, struct rap_s3_mpu *mpu);
/** Aborts the upload on the server; frees nothing. */
int rap_s3_mpu_abort(struct rap_s3 *s3, struct rap_s3_mpu *mpu);
/** The number of parts uploaded so far. */
unsigned rap_s3_mpu_parts(const struct rap_s3_mpu *mpu);
/** The server's upload id (owned by the handle). */
const char *rap_s3_mpu_id(const struct rap_s3_mpu *mpu);
/** Frees the handle; accepts NULL. */
void rap_s3_mpu_free(struct rap_s3_mpu *mpu);

/**
 * Builds a presigned URL (query-string SigV4) for method on key valid for
 * expires seconds from now.  Returns a new string the caller frees, or NULL.
 */
char *rap_s3_presign(struct rap_s3 *s3, const char *method, const char *key, unsigned expires,
		     time_t now);

#endif
