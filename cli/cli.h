#ifndef RAP_CLI_H
#define RAP_CLI_H

/*
 * cli.h: the modules of `rap`, the command-line client (docs/cli.md).
 * main.c parses arguments and dispatches; each module below is one file
 * of cli/ and its functions are prefixed with the file's name.  Functions
 * return RAP_OK or a negative enum rap_err and write a message into a
 * caller's err[RAP_ERRLEN]; only the commands turn results into exit codes.
 */
#include <curl/curl.h>
#include <signal.h>
#include <time.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "rap/hash.h"
#include "rap/mem.h"
#include "rap/buf.h"

#define CLI_VERSION "0.1.0"

struct json_object;

/* Exit codes of every command (documented in --help and docs/cli.md). */
enum cli_exit {
	CLI_EXIT_OK = 0,           /* done; with --watch: the job COMPLETED */
	CLI_EXIT_ERROR = 1,        /* the platform could not be talked to, or refused */
	CLI_EXIT_USAGE = 2,        /* bad command line */
	CLI_EXIT_INTEGRITY = 3,    /* the stored bytes are not the file's (sha256) */
	CLI_EXIT_FAILED = 4,       /* the job ended FAILED */
	CLI_EXIT_DEAD = 5,         /* the job ended DEAD */
	CLI_EXIT_CANCELLED = 6,    /* the job ended CANCELLED */
	CLI_EXIT_INTERRUPTED = 130 /* SIGINT or SIGTERM */
};

/* What the command line (and the environment) asked for. */
struct cli_opts {
	const char *command; /* "upload", "watch", "status", "output" */
	const char *arg;     /* FILE or JOB_ID */
	const char *url;     /* gateway base URL, no trailing slash */
	const char *api_key;
	const char *cacert;        /* PEM file of trusted CAs for https, NULL: the system's */
	const char *type;          /* upload: job type */
	const char *params;        /* upload: job params (a JSON object) or NULL */
	long long max_attempts;    /* upload: 0 = the platform's default */
	long long chunk_size;      /* bytes per PATCH */
	long long retry_timeout_s; /* give up after this long without progress */
	long long stall_timeout_s; /* a transfer below 1 byte/s this long is cut */
	const char *state_dir;     /* NULL: resolved by cli_resume_dir */
	const char *output_name;   /* output: --name, NULL for the main output */
	const char *output_file;   /* output: -o FILE, "-" for stdout, NULL: the output's name */
	bool watch, quiet, json, no_resume, force;
	char url_buf[2048]; /* url points here */
};

/* ---- args.c: the command line, its option table and --help ---- */

enum cli_action {
	CLI_ACTION_RUN,  /* run o->command */
	CLI_ACTION_HELP, /* print the help of o->command (NULL: all) */
	CLI_ACTION_VERSION
};

/**
 * Parses argv (options anywhere; the first operand is the command) into o,
 * with RAP_URL and RAP_API_KEY as defaults, and checks every value.
 * RAP_EINVAL with the reason in err for a usage error (exit 2).
 */
int cli_args_parse(int argc, char **argv, struct cli_opts *o, enum cli_action *action, char *err);
/** Prints the help of command (NULL: the whole tool) on out. */
void cli_args_help(FILE *out, const char *command);

/* ---- units.c: sizes, rates and durations, parsed and printed ---- */

/** Parses "123", "64K", "64M", "1G" (binary multiples, also "KiB", "MB"...)
 *  into [min, max]: RAP_EINVAL when malformed, RAP_ERANGE outside. */
int cli_units_parse_size(const char *s, long long min, long long max, long long *out);
/** Writes n bytes as "512 B", "10.2 KiB", "1.5 MiB", "2.0 GiB". */
void cli_units_bytes(double n, char *out, size_t len);
/** Writes seconds as "7s", "2m05s", "1h02m"; "?" when s < 0. */
void cli_units_duration(double s, char *out, size_t len);

/* ---- backoff.c: retry delays and the "no progress for so long" deadline ---- */

struct cli_backoff {
	int min_ms;
	int max_ms;
	int cur_ms;
};

/** Delays start at min_ms and double up to max_ms. */
void cli_backoff_init(struct cli_backoff *b, int min_ms, int max_ms);
void cli_backoff_reset(struct cli_backoff *b);
/** The next delay: the current step with +-25 % jitter taken from r (a
 *  uniform random number in [0, 1)); the step then doubles. */
int cli_backoff_next(struct cli_backoff *b, double r);

struct cli_retry {
	int64_t timeout_ms;  /* without progress */
	int64_t deadline_ms; /* rap_now_ms() value */
	struct cli_backoff bo;
	int hint_ms; /* the server's Retry-After for the next wait, 0 none */
};

#define CLI_RETRY_AFTER_MAX_MS 60000 /* a longer Retry-After is cut to this */

/** A retry budget of timeout_ms without progress, starting now. */
void cli_retry_init(struct cli_retry *r, int64_t timeout_ms);
/** Progress was made: the deadline moves and the delays start small again. */
void cli_retry_progress(struct cli_retry *r);
/** The server asked for ms before the next try (Retry-After; < 0: it did
 *  not say): the next delay is at least that, up to CLI_RETRY_AFTER_MAX_MS. */
void cli_retry_hint(struct cli_retry *r, int ms);
/** The delay before the next try (the deadline is never passed): RAP_OK,
 *  or RAP_ETIMEDOUT when the deadline has passed. */
int cli_retry_next(struct cli_retry *r, int *delay_ms);
/** Sleeps ms unless a signal comes: RAP_OK, or RAP_ECANCELED. */
int cli_retry_sleep(int ms);
/**
 * After a failed try of what (failing with why): tells the user on p
 * ("retry: <what>: <why>; trying again in 1.2 s") and waits.  RAP_OK: try
 * again; RAP_ETIMEDOUT with err "gave up after N s without progress: ...";
 * RAP_ECANCELED on a signal.
 */
struct cli_progress;
int cli_retry_after(struct cli_retry *r, struct cli_progress *p, const char *what, const char *why,
		    char *err);

/* ---- progress.c: the progress bar (TTY) or progress lines (not a TTY) ---- */

struct cli_progress {
	FILE *out;
	bool tty;   /* redraw one line, else print lines */
	bool quiet; /* print nothing */
	bool drawn; /* a TTY line is on screen */
	long long total;
	long long bytes; /* last value given */
	long long base;  /* bytes at the last rate sample */
	int64_t base_ms;
	double rate;          /* bytes/s, smoothed; < 0 until known */
	int64_t last_draw_ms; /* TTY redraw, or the last plain line */
	int last_step;        /* plain lines: the last 5 % step printed */
};

/** Starts a display of total bytes on out; tty chooses the style. */
void cli_progress_init(struct cli_progress *p, FILE *out, bool tty, bool quiet, long long total,
		       int64_t now_ms);
/** Records that bytes of total are sent (it may go down after a retry:
 *  the rate then restarts from there) and redraws when due. */
void cli_progress_update(struct cli_progress *p, long long bytes, int64_t now_ms);
/** The transfer goes on from bytes (a resume, or the offset after a retry):
 *  the rate is measured from here on. */
void cli_progress_at(struct cli_progress *p, long long bytes, int64_t now_ms);
/** The last redraw (100 %) and its newline. */
void cli_progress_done(struct cli_progress *p, int64_t now_ms);
/** Prints a message line on the same stream without garbling the bar. */
void cli_progress_note(struct cli_progress *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/** Feeds a rate sample: bytes at now_ms (pure; called by update). */
void cli_progress_sample(struct cli_progress *p, long long bytes, int64_t now_ms);
/** The plain line "progress SENT/TOTAL P% RATE eta T" of the current state. */
void cli_progress_line(const struct cli_progress *p, char *out, size_t len);
/** True when a plain line is due at now_ms (once a second, or when a new
 *  5 % step is reached, and always at the end). */
bool cli_progress_line_due(const struct cli_progress *p, long long bytes, int64_t now_ms);

/* ---- resume.c: the state file that lets a rerun resume an upload ---- */

#define CLI_PATH_MAX 4096
#define CLI_URL_MAX 2048
#define CLI_JOB_TYPE_LEN 65 /* a job type name (64 bytes, as job-api takes them) and the NUL */
#define CLI_STATUS_LEN 16   /* a job state's name and the NUL */

/* One unfinished upload, as the state file records it. */
struct cli_state {
	char path[CLI_PATH_MAX]; /* absolute path of the file */
	long long size;
	long long mtime_s;
	long mtime_ns;
	char url[CLI_URL_MAX];       /* the gateway the upload went to */
	char type[CLI_JOB_TYPE_LEN]; /* the job type */
	char upload_url[CLI_URL_MAX];
};

/** The state folder: dir if given, else $RAP_CLI_STATE_DIR, else
 *  $XDG_STATE_HOME/rap, else $HOME/.local/state/rap.  RAP_ENOENT when
 *  none can be found (no HOME). */
int cli_resume_dir(const char *dir, char *out, size_t len);
/** The state file's name for (path, url, type): "upload-<hex>.state". */
void cli_resume_name(const char *path, const char *url, const char *type, char *out, size_t len);
/** Writes the record as text (the file's content). */
int cli_resume_format(const struct cli_state *s, struct rap_buf *out);
/** Parses a record; RAP_EINVAL with a reason in err when it is not one. */
int cli_resume_parse(const char *text, struct cli_state *s, char *err);
/** True when the record is of this file as it is now (size and mtime). */
bool cli_resume_same_file(const struct cli_state *a, const struct cli_state *b);
/** Loads dir/name: RAP_ENOENT when there is none, RAP_EINVAL when it is
 *  not a record (err says why). */
int cli_resume_load(const char *dir, const char *name, struct cli_state *s, char *err);
/** Writes dir/name atomically (a temporary file renamed over it), creating
 *  dir (0700) when needed. */
int cli_resume_save(const char *dir, const char *name, const struct cli_state *s, char *err);
/** Removes dir/name; no error when it is already gone. */
int cli_resume_remove(const char *dir, const char *name, char *err);
/**
 * Takes the lock dir/name.lock without waiting, so that two runs do not
 * send the same file at once: *fd holds it (the lock goes with the process,
 * even on SIGKILL).  RAP_ECONFLICT when another process holds it.
 */
int cli_resume_lock(const char *dir, const char *name, int *fd, char *err);
/** Releases the lock and removes its file. */
void cli_resume_unlock(const char *dir, const char *name, int fd);

/* ---- http.c: HTTP requests over one libcurl handle ---- */

#define CLI_BODY_MAX (4 * 1024 * 1024) /* answers read into memory */

struct cli_http {
	CURL *curl;
	const struct cli_opts *o;
	struct curl_slist *auth; /* Authorization and traceparent */
};

/* What to send. */
struct cli_req {
	const char *method;         /* GET, HEAD, POST, PATCH, DELETE */
	const char *url;            /* absolute */
	struct curl_slist *headers; /* extra headers (caller owns) */
	const char *body;           /* small bodies, or NULL */
	size_t body_len;
	/* A streamed body (PATCH): read is libcurl's read callback. */
	curl_read_callback read;
	void *read_ctx;
	long long upload_len;
	curl_xferinfo_callback progress; /* also aborts on a signal; NULL: default */
	void *progress_ctx;
	/* A streamed answer (a download): write gets the body instead of
	 * resp->body; it decides what to do with an error's body. */
	curl_write_callback write;
	void *write_ctx;
	bool no_auth; /* a presigned URL: no API key, no traceparent */
};

/* What came back. */
struct cli_resp {
	CURLcode curl; /* CURLE_OK when an answer came */
	char curl_err[CURL_ERROR_SIZE];
	long status; /* 0 without an answer */
	struct rap_buf body;
	bool too_big;            /* the body passed CLI_BODY_MAX */
	long long upload_offset; /* -1 when absent */
	long long upload_length; /* -1 when absent */
	char location[CLI_URL_MAX];
	int retry_after_ms;     /* Retry-After (delta-seconds) in ms, -1 when absent */
	char content_range[96]; /* "" when absent */
};

void cli_http_init(struct cli_http *h, const struct cli_opts *o);
void cli_http_cleanup(struct cli_http *h);
void cli_resp_init(struct cli_resp *r);
void cli_resp_cleanup(struct cli_resp *r);
/**
 * Sends req with the API key and reads the answer into resp (reset first).
 * RAP_OK when an HTTP answer came, whatever its status; RAP_EIO when the
 * transfer failed (resp->curl says how); RAP_ECANCELED on a signal.
 */
int cli_http_do(struct cli_http *h, const struct cli_req *req, struct cli_resp *resp);
/** True when a failed transfer is worth trying again (network, timeout). */
bool cli_http_transient(const struct cli_resp *resp);
/** True when an answer's status is worth trying again (5xx, 429). */
bool cli_http_status_transient(long status);
/**
 * Describes a failure for the user: "<message> (<code>, HTTP <status>)"
 * from the platform's JSON error, "HTTP <status>" without one, or the
 * transfer's error.
 */
void cli_resp_describe(const struct cli_resp *resp, char *out, size_t len);
/** Resolves ref (absolute, or a path such as a tus Location) against base. */
int cli_http_resolve(const char *base, const char *ref, char *out, size_t len);

/* ---- api.c: the JSON calls (uploads, jobs), retried while transient ---- */

/**
 * Sends req and retries, within r's budget, while the failure is transient
 * (network, 5xx, 429), telling the user on p.  RAP_OK with a 2xx answer in
 * resp; RAP_EPROTO with err describing any other answer; RAP_ETIMEDOUT,
 * RAP_ECANCELED.
 */
int cli_api_call(struct cli_http *h, const struct cli_req *req, struct cli_retry *r,
		 struct cli_progress *p, struct cli_resp *resp, char *err);
/** GET /api/jobs/{id}: *job is the parsed job (json_object_put it). */
int cli_api_get_job(struct cli_http *h, const char *job_id, struct cli_retry *r,
		    struct json_object **job, char *err);
/** Prints the hint for a 401 when err came from one. */
void cli_api_hint(const char *err);

/* ---- json.c: the members of JSON answers ---- */

/** The string member name of o; NULL when o is NULL, or it is absent or
 *  not a string. */
const char *cli_json_string(struct json_object *o, const char *name);

/* How the CLI prints JSON: compact, "/" as is. */
#define CLI_JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* ---- tus_client.c: a file sent over tus 1.0, resumed and retried ---- */

#define CLI_READ_BUF (256 * 1024)   /* bytes read from the file at a time */
#define CLI_MIN_CHUNK (1024 * 1024) /* the smallest PATCH a cut link shrinks to */

struct cli_tus {
	struct cli_http *http;
	const struct cli_opts *o;
	struct cli_progress *progress;
	int fd;           /* the file, open for reading (caller's) */
	const char *path; /* for messages */
	long long size;
	long long mtime_s; /* as opened: a change is noticed */
	long mtime_ns;
	char upload_url[CLI_URL_MAX];
	long long offset;       /* stored on the server */
	long long chunk;        /* bytes of the next PATCH */
	struct rap_sha256 hash; /* of the file's bytes 0..hashed */
	long long hashed;
	char sha256[RAP_SHA256_HEXLEN]; /* the file's digest, once sent */
	bool gone;                      /* the server forgot the upload (404, 410) */
	unsigned char *buf;             /* CLI_READ_BUF bytes */
};

/** Prepares t for the open file fd (path for messages); RAP_EINVAL when it
 *  is not a regular file.  cli_tus_cleanup releases t in any case. */
int cli_tus_init(struct cli_tus *t, struct cli_http *http, struct cli_progress *progress, int fd,
		 const char *path, char *err);
/** Creates the upload (POST with Upload-Length and Upload-Metadata). */
int cli_tus_create(struct cli_tus *t, const char *filename, struct cli_retry *r, char *err);
/**
 * HEADs the upload for its offset.  RAP_ENOENT (and t->gone) when the server
 * no longer has it (404, 410), RAP_ECONFLICT when its length is not the
 * file's size.
 */
int cli_tus_head(struct cli_tus *t, struct cli_retry *r, char *err);
/**
 * Sends the file from t->offset to the end, PATCH by PATCH, each with its
 * sha256 in Upload-Checksum, retrying (HEAD, then on from the server's
 * offset) while failures are transient.  t->sha256 is the file's digest at
 * the end.  RAP_ENOENT (t->gone) when the upload vanished, RAP_ECONFLICT
 * when the server refused a chunk's checksum again and again (or the file
 * changed), RAP_ETIMEDOUT, RAP_ECANCELED, RAP_EPROTO (a refusal).
 */
int cli_tus_send(struct cli_tus *t, struct cli_retry *r, char *err);
void cli_tus_cleanup(struct cli_tus *t);

/* ---- download.c: an object fetched from a (presigned) URL, resumed ---- */

/* A download into fd from offset on: the caller opens fd (a .part file, or
 * stdout) and says where the bytes come from; download.c retries and
 * resumes with Range requests. */
struct cli_download {
	struct cli_http *http;
	struct cli_progress *progress;
	int fd;
	bool stream;      /* fd cannot be rewound (stdout): a restart skips */
	long long offset; /* bytes in fd (or written to the stream) */
	long long total;  /* the object's size once an answer told it, else -1 */
	char url[CLI_URL_MAX];
	/* Asks for a fresh url when S3 refuses the one we have (403: expired). */
	int (*refresh)(void *ctx, char *url, size_t len, char *err);
	void *refresh_ctx;
	/* one try's state (download.c) */
	struct cli_resp resp; /* the answer's headers; an error's body */
	long long skip;       /* stream: bytes of a restarted answer already written */
	bool checked;         /* the answer's status was looked at */
	bool body_ok;         /* the body is the object's bytes */
	bool bad_range;       /* a 206 that does not start at offset */
	int write_errno;
};

/**
 * Parses a Content-Range value: "bytes 10-19/100" (*total -1 when the
 * size is an asterisk), or a 416's "bytes" asterisk "/100" (*start and
 * *end -1).  RAP_EINVAL when malformed (end before start, past the total,
 * not numbers).
 */
int cli_download_content_range(const char *v, long long *start, long long *end, long long *total);
/**
 * Downloads d->url into d->fd from d->offset to the end: a GET with
 * "Range: bytes=OFFSET-" when offset > 0; a 200 answer restarts from 0;
 * transfer errors, 5xx and 429 (Retry-After honoured) are retried within
 * r's budget and resumed where the bytes stopped; a 403 asks d->refresh
 * for a new URL.  RAP_OK when the object is all in fd; RAP_EPROTO (err)
 * for a refusal; RAP_EIO when fd cannot be written; RAP_ETIMEDOUT;
 * RAP_ECANCELED on a signal.
 */
int cli_download_run(struct cli_download *d, struct cli_retry *r, char *err);

/* ---- upload.c and watch.c: the commands (they return exit codes) ---- */

int cli_upload_run(const struct cli_opts *o);
int cli_watch_run(const struct cli_opts *o);
int cli_status_run(const struct cli_opts *o);
int cli_output_run(const struct cli_opts *o);
/**
 * Follows job_id until it ends (WebSocket, reconnecting; a GET after each
 * connect).  Prints the transitions on out and returns the exit code of
 * the terminal state; *job (may be NULL) gets the final job.
 */
int cli_watch_job(struct cli_http *h, const struct cli_opts *o, const char *job_id, FILE *out,
		  struct json_object **job);

/* ---- event.c: job events as the watcher prints them (pure) ---- */

struct cli_event {
	long long event_id;
	char from[16]; /* "" for the creation */
	char to[16];
	int attempt;
	char detail[512]; /* "" when none */
};

/** Reads an event object (a job.status message or an item of a job's
 *  "events"); RAP_EINVAL when a field is missing or mistyped. */
int cli_event_parse(struct json_object *o, struct cli_event *e);
/** "job <id>: FROM -> TO (attempt N): detail". */
void cli_event_format(const char *job_id, const struct cli_event *e, char *out, size_t len);
/** True for COMPLETED, FAILED, DEAD and CANCELLED. */
bool cli_event_terminal(const char *state);
/** The exit code a terminal state means (CLI_EXIT_ERROR for others). */
int cli_event_exit_code(const char *state);

/**
 * A job.progress message (proto/schemas/job-progress.json) as a line:
 * "job <id>: validate 45%, 1234 rows, done in about 1m20s"; the ETA is
 * counted from now (seconds since the epoch).  Writes the stage alone into
 * stage (len 32).  RAP_EINVAL when the message lacks its progress.
 */
int cli_event_progress_line(const char *job_id, struct json_object *o, time_t now, char *out,
			    size_t len, char stage[32]);

#endif
