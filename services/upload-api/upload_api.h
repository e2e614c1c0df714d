#ifndef UPLOAD_API_H
#define UPLOAD_API_H

#include <magic.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "rap/http.h"
#include "rap/s3.h"
#include "rap/service.h"

struct rap_auth;
struct rap_pg_pool;
struct rap_metric;

struct upload_api {
	struct rap_service svc;
	struct rap_auth *auth;
	struct rap_pg_pool *pool;
	struct rap_s3_cfg s3cfg;
	struct rap_s3 *presigner;    /* signs URLs for clients (shared, read-only) */
	magic_t magic;               /* libmagic is not thread-safe: magic_lock */
	pthread_mutex_t magic_lock;
	atomic_bool db_ok;
	atomic_bool s3_ok;
	struct rap_metric *uploads_ok;
	struct rap_metric *uploads_failed;
	struct rap_metric *upload_bytes;
	struct rap_metric *parts;
	struct rap_metric *in_flight;
	struct rap_metric *swept;
};

/* multipart_upload.c: POST /uploads, streamed into S3. */
void upload_api_handle(void *svc, struct rap_http_req *req,
		       enum rap_http_phase phase, const char *data, size_t len);

/* presign.c: POST /uploads/presign (the body is buffered). */
void upload_presign(struct upload_api *api, struct rap_http_req *req);

/** The MIME type libmagic sees in the first bytes of a file (out, len
 *  bytes; "" if it cannot tell). */
void upload_detect_type(struct upload_api *api, const void *data, size_t n, char *out,
			size_t len);

/** Keeps [A-Za-z0-9._-] of a client's file name (others become '_'), drops
 *  any path, and never returns "", "." or ".."; out has len bytes. */
void upload_sanitize_filename(const char *in, char *out, size_t len);

#endif
