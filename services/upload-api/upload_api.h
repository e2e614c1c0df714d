#ifndef UPLOAD_API_H
#define UPLOAD_API_H

#include <magic.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "rap/http.h"
#include "rap/s3.h"
#include "rap/config.h"
#include "rap/service.h"
#include "rap/hash.h"

struct rap_auth;
struct rap_pg_pool;
struct rap_keylimit;
struct rap_metric;
struct parts_s3_ops;
struct rap_pool;
struct rap_task;
struct upload_place;

/* settings.c: the settings that are upload-api's own. */
struct upload_settings {
	long long upload_port;
	long long upload_max_bytes;
	long long upload_part_size;
	long long upload_parts_in_flight;
	long long upload_max_active;
	long long upload_max_active_per_owner;
	long long upload_min_rate;
	long long upload_rate_window_s;
	long long upload_request_rate;
	long long upload_request_burst;
	long long tus_expire_seconds;
	long long presign_grace_seconds;
	long long upload_sweep_ms;
	long long admin_port;
	long long max_conns;
	long long max_conns_per_ip;
	long long idle_timeout;
};

extern const struct rap_cfg_opt upload_settings_table[];
extern const size_t upload_settings_count;

struct upload_api {
	struct rap_service svc;
	struct upload_settings cfg; /* its own; the shared ones: svc.cfg */
	struct rap_auth *auth;
	struct rap_pg_pool *pool;
	struct rap_s3_cfg s3cfg;
	struct rap_s3 *presigner;           /* signs URLs for clients (shared, read-only) */
	struct rap_pool *part_pool;         /* runs part requests (parts_pool_bound threads) */
	const struct parts_s3_ops *part_s3; /* the part writer's S3; NULL: S3 (parts.h) */
	char *content_list; /* the job types' effective allow-lists (rap_jobtype_content_list) */
	magic_t magic;      /* libmagic is not thread-safe: magic_lock */
	pthread_mutex_t magic_lock;
	atomic_bool db_ok;
	atomic_bool s3_ok;
	struct rap_metric *uploads_ok;
	struct rap_metric *uploads_failed;
	struct rap_metric *upload_bytes;
	struct rap_metric *throughput_tus, *throughput_multipart; /* bytes/s histograms */
	struct rap_metric *parts;
	struct rap_metric *in_flight;
	struct rap_metric *busy;
	struct rap_metric *over_share;
	struct rap_metric *too_slow;
	struct rap_metric *rate_limited;
	struct rap_keylimit *limit;  /* RAP_UPLOAD_REQUEST_RATE, per key */
	pthread_mutex_t places_lock; /* places.c: the places and their count */
	struct upload_place *places;
	long long active;
	struct rap_metric *swept;
	struct rap_metric *tus_expired;
};

/* places.c: the places of streaming requests, shared between owners, and
 * the pace their bodies keep. */
/**
 * Takes one of the RAP_UPLOAD_MAX_ACTIVE places for a request that streams
 * into a part writer (a streamed upload, a tus PATCH, a concatenation), so
 * that memory stays bounded however many clients come at once.  False,
 * after answering, when the request's owner holds its share of them
 * already (429 `upload_share_exceeded`) or every place is taken (503
 * `busy`), both with Retry-After.  True sets *place; a paced place (a
 * client's body, not a copy the server makes) is cut with 408
 * `upload_too_slow` when its body falls behind RAP_UPLOAD_MIN_RATE.
 * upload_release gives the place back when *place is set, and clears it,
 * so the request's end (before its answer goes out: a client's next
 * request must find the place free) and its free may both call it.
 */
bool upload_admit(struct upload_api *api, struct rap_http_req *req, bool paced,
		  struct upload_place **place);
void upload_release(struct upload_api *api, struct upload_place **place);
/** Counts n body bytes that arrived for place (NULL: nothing); false when
 *  the body fell behind its pace and was cut (rap_http_cut). */
bool upload_place_bytes(struct upload_api *api, struct upload_place *place, size_t n);
/** The body is in: what the request does now is the server's, not paced.
 *  False when the pacer cut it first (its client has the 408 already): the
 *  request must then end as if its client had gone. */
bool upload_place_body_done(struct upload_api *api, struct upload_place *place);
/** Sets t up as the pacer (rap/task.h), which cuts bodies that send too
 *  little, nothing at all included; run it with rap_task_start. */
void upload_pacer_init(struct upload_api *api, struct rap_task *t);

/* The rules themselves, for the tests. */
enum upload_verdict {
	UPLOAD_ADMIT,
	UPLOAD_BUSY,
	UPLOAD_OVER_SHARE
};
/** The places one owner may hold: per_owner, or a quarter of max_active
 *  when it is 0; at least 1, at most max_active. */
long long upload_owner_share(long long max_active, long long per_owner);
/** Whether a request of an owner holding owner_active places, with active
 *  places held in all, gets one: busy when every place is taken, over its
 *  share when the owner holds share of them. */
enum upload_verdict upload_place_verdict(long long active, long long owner_active,
					 long long max_active, long long share);
/** The bytes of a body in its current window of RAP_UPLOAD_RATE_WINDOW_S. */
struct upload_pace {
	int64_t window_start_ms;
	long long window_bytes;
};
void upload_pace_start(struct upload_pace *p, int64_t now_ms);
/** Adds n bytes at now_ms; false when a window has passed with fewer than
 *  min_rate bytes a second on average (min_rate 0: never).  A window that
 *  kept the pace starts the next. */
bool upload_pace_ok(struct upload_pace *p, size_t n, int64_t now_ms, long long min_rate,
		    long long window_s);

/* common.c: what the handlers and the part writer share. */
/* Takes one request from the API key's bucket of uploads (multipart POST,
 * tus POST and PATCH, presign: RAP_UPLOAD_REQUEST_RATE and _BURST, shared
 * by every instance, rap/keylimit.h); false once it has answered 429
 * `rate_limited` with Retry-After. */
bool upload_rate_allowed(struct upload_api *api, struct rap_http_req *req);
#define UPLOAD_DETECT_BYTES (64 * 1024) /* what libmagic looks at */
/** The MIME type libmagic sees in the first bytes of a file (out, len
 *  bytes; "" if it cannot tell). */
void upload_detect_type(struct upload_api *api, const void *data, size_t n, char *out, size_t len);
/** Keeps [A-Za-z0-9._-] of a client's file name (others become '_'), drops
 *  any path, and never returns "", "." or ".."; out has len bytes. */
void upload_sanitize_filename(const char *in, char *out, size_t len);
/* Whether a client's content type is printable ASCII (it goes into SQL,
 * JSON and the object store's headers as it is). */
bool upload_content_type_ok(const char *s);
/** Deletes an object with a client of its own (a missing one is RAP_OK). */
int upload_delete_object(struct upload_api *api, const char *key);

/* routes.c: the table of upload-api's routes; the handlers it names
 * follow, by file.  Handlers never call back into routes.c. */
extern const struct rap_http_route upload_api_routes[];
extern const size_t upload_api_n_routes;

/* multipart_upload.c: POST /uploads, streamed into S3; GET /uploads/{id}. */
void multipart_upload_post(void *svc, struct rap_http_req *req, enum rap_http_phase phase,
			   const char *data, size_t len);
void multipart_upload_get(void *svc, struct rap_http_req *req);

/* presign.c: POST /uploads/presign (the body is buffered). */
void presign_post(void *svc, struct rap_http_req *req);

/*
 * tus 1.0 at /files (tus_internal.h): phase handlers, so that every answer
 * waits for the body, whatever its size.  OPTIONS takes no API key; the
 * others check Tus-Resumable (412) before the key (401), and an {id} that
 * is no UUID is 404.
 */
/* tus.c: OPTIONS /files and /files/{id}, and every method they do not take. */
void tus_options(void *svc, struct rap_http_req *req, enum rap_http_phase phase, const char *data,
		 size_t len);
void tus_refuse_method(void *svc, struct rap_http_req *req, enum rap_http_phase phase,
		       const char *data, size_t len);
/* tus_create.c: POST /files: creation, creation-with-upload, concatenation. */
void tus_create(void *svc, struct rap_http_req *req, enum rap_http_phase phase, const char *data,
		size_t len);
/* tus_head.c: HEAD /files/{id}. */
void tus_head(void *svc, struct rap_http_req *req, enum rap_http_phase phase, const char *data,
	      size_t len);
/* tus_patch.c: PATCH /files/{id}. */
void tus_patch(void *svc, struct rap_http_req *req, enum rap_http_phase phase, const char *data,
	       size_t len);
/* tus_delete.c: DELETE /files/{id} (termination), and the sweeper of
 * expired uploads (main thread). */
void tus_delete(void *svc, struct rap_http_req *req, enum rap_http_phase phase, const char *data,
		size_t len);
void tus_delete_expired(struct upload_api *api);

#endif
