#ifndef WORKER_SANDBOX_H
#define WORKER_SANDBOX_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "worker.h"
#include "rap/buf.h"
#include "rap/err.h"
#include "rap/frame.h"
#include "rap/joberrors.h"
#include "rap/log.h"
#include "rap/pool.h"
#include "rap/s3.h"

struct json_object;

/*
 * The supervisor's parts (docs/sandbox.md): sandbox.c runs a job in a
 * rap-processor child with these.
 */

/* spawn.c: starts the child with an empty environment and exactly fds 0
 * (in_fd), 1 (frames), 2 (log lines) and 3 (START). */
struct child {
	pid_t pid;
	int out_fd;   /* frames from the child */
	int err_fd;   /* its log lines */
	int start_fd; /* the START frame goes here, then it is closed */
};

/** RAP_EIO (err says why) when the child cannot be started: exec failed,
 *  or no pipe or process could be made. */
int sandbox_spawn(const char *path, char *const argv[], int in_fd, struct child *ch, char *err);
/** What starts a child on the four descriptors its fds 0..3 become
 *  (input, frames, log, START): exec (sandbox_spawn) or the fork server
 *  (forksrv_spawn).  RAP_OK with *pid, or an error said in err. */
typedef int (*sandbox_launch)(void *ctx, const int fds[4], pid_t *pid, char *err);
/** The pipes of a child (frames, log, START), its launch, and ch filled
 *  with the worker's ends; RAP_EIO (err says why) when any step fails,
 *  every pipe closed. */
int sandbox_child_start(int in_fd, struct child *ch, sandbox_launch launch, void *ctx, char *err);
/** The same start with the descriptors 0..n-1 taken from src (at most
 *  SPAWN_FDS_MAX): the fork server's (forksrv.c). */
#define SPAWN_FDS_MAX 4
int sandbox_spawn_fds(const char *path, char *const argv[], const int *src, int n, pid_t *pid,
		      char *err);

/* forksrv.c: the worker's side of the fork server (rap/forksrv.h,
 * docs/sandbox.md): a long-lived `rap-processor --server` that loaded a
 * type's shared state (ClamAV's engine) once, and forks each job's child,
 * which the worker then supervises as one it started (it is a child
 * subreaper).  Shared by the worker's slots (a mutex). */
struct forksrv {
	pthread_mutex_t lock;
	const char *processor, *type, *db, *tmp;
	pid_t pid;
	int sock;             /* -1: not running */
	long long signatures; /* of the running server's engine */
	long long load_ms;    /* how long it took to load */
	int64_t retry_at_ms;  /* no restart before this, after a failed one */
	int backoff_ms;       /* the next wait after a failed start */
	int ready_timeout_ms; /* the longest a start may take (loading) */
	struct rap_metric *loads, *signatures_gauge, *restarts; /* each may be NULL */
	char err[RAP_ERRLEN];                                   /* why it last failed */
};
/** Fills f; nothing starts yet.  The strings must outlive f. */
void forksrv_init(struct forksrv *f, const char *processor, const char *type, const char *db,
		  const char *tmp);
/** Starts the server and waits (bounded) until its engine is loaded;
 *  RAP_EIO with err (the server's own reason: a missing or empty
 *  database) when it cannot. */
int forksrv_start(struct forksrv *f, char *err);
/** A child for one job on in_fd with the given limits, into ch (as
 *  sandbox_spawn does); a server that died is started again first (at
 *  most once every backoff).  RAP_EIO with err when no child could be had
 *  (the job is retried). */
int forksrv_spawn(struct forksrv *f, int in_fd, long long memory_mb, long long cpu_s,
		  struct child *ch, char *err);
/** Closes the socket (the server exits), waits for it a bounded time,
 *  then kills it. */
void forksrv_stop(struct forksrv *f);

/* feeder.c: the input, from S3, on a thread of its own: into the child's
 * pipe (RAP_INPUT_STREAM), or into a scratch file (RAP_INPUT_FILE) capped
 * at `cap` bytes. */
struct feeder {
	struct rap_s3 *s3;
	const char *key;
	int fd; /* the pipe's write end or the scratch file; the feeder closes a pipe */
	bool to_file;
	long long cap;              /* bytes (files only); 0: none */
	struct rap_metric *counter; /* rap_worker_input_bytes_total */
	atomic_llong fed;
	atomic_bool stop;
	atomic_bool done;
	int done_fd; /* an eventfd, readable once done */
	int result;  /* RAP_OK, RAP_ECANCELED (stopped or the child closed its input),
			   RAP_ETOOBIG (over cap), RAP_ENOENT, or an S3 error */
	char err[RAP_ERRLEN];
	pthread_t thread;
	bool started;
};

/** Starts the thread; RAP_EIO when it cannot. */
int feeder_start(struct feeder *f);
/** Asks it to stop, waits for it, closes done_fd. */
void feeder_join(struct feeder *f);

/* outputs.c: the child's outputs, streamed to S3 as processed/<job>/<name>
 * in 5 MiB multipart parts (one PUT when smaller), never whole in memory. */
/* At most this many outputs a job: text.txt and a page each of pdf.text's
 * 10,000 with per_page (the list grows as they come: about 400 bytes each). */
#define OUTPUTS_MAX 10001
#define OUTPUT_PREFIX_LEN 64
struct output {
	char name[RAP_MAX_OUTPUT_NAME + 1];
	char key[OUTPUT_PREFIX_LEN + RAP_MAX_OUTPUT_NAME];
	char content_type[128];
	long long bytes;
};
struct outputs {
	struct rap_s3 *s3;
	char prefix[OUTPUT_PREFIX_LEN]; /* processed/<job_id>/ */
	struct output *list;            /* cap of them, n finished */
	int cap;
	int n;                  /* finished ones */
	bool open;              /* list[n] is being written */
	struct rap_s3_mpu *mpu; /* once the first part is full */
	struct rap_buf part;    /* the part that fills */
	size_t part_size;       /* when it is full: grows with the output */
	/* The part before it, on its way to S3 on a thread of the pool while
	 * the child goes on, with a client of its own (a rap_s3 is one
	 * thread's). */
	struct rap_pool *pool;
	struct rap_pool_job job;
	struct rap_s3 *s3_flight;
	struct rap_buf flight;
	unsigned flight_no; /* its part number; 0: none on the way */
	bool flight_inline; /* sent on this thread: no pool job to wait for */
	int flight_result;
	char flight_etag[RAP_S3_ETAG_LEN];
	long long total, limit; /* bytes of all outputs; the type's output limit */
	char err[RAP_ERRLEN];
};
/** s3 is the caller's client; cfg makes the in-flight part's own. */
void outputs_init(struct outputs *o, struct rap_s3 *s3, const struct rap_s3_cfg *cfg,
		  const char *job_id, long long limit);
/** RAP_EPROTO for a bad name (not [A-Za-z0-9._-], "result.json", a
 *  repeat) or too many outputs; RAP_ES3 on S3 trouble (err). */
int outputs_begin(struct outputs *o, const char *name, const char *content_type);
/** RAP_ETOOBIG past the limit; RAP_EPROTO without an open output. */
int outputs_write(struct outputs *o, const void *data, size_t n);
int outputs_end(struct outputs *o);
/** Drops an unfinished output (abort of its multipart upload). */
void outputs_cleanup(struct outputs *o);

/* rowerrs.c: the child's row errors into job_errors, RAP_JOBERRORS_BATCH
 * per statement, up to a cap; the rest counted. */
struct rowerrs {
	PGconn *db;
	const char *job_id;
	int attempt;
	long long cap, reported, stored;
	struct rap_joberror batch[RAP_JOBERRORS_BATCH]; /* its strings are owned */
	size_t n;
	char err[RAP_ERRLEN];
};
void rowerrs_init(struct rowerrs *r, PGconn *db, const char *job_id, int attempt, long long cap);
/** A ROW_ERRORS payload: RAP_EPROTO when it is not an array of row
 *  errors, RAP_EDB when a batch could not be stored. */
int rowerrs_add(struct rowerrs *r, const unsigned char *payload, uint32_t len);
int rowerrs_flush(struct rowerrs *r);
void rowerrs_cleanup(struct rowerrs *r);

/* outcome.c: what became of the child (pure). */
enum sandbox_kill {
	KILL_NONE,
	KILL_WALL,      /* the wall-clock limit passed */
	KILL_MEMORY,    /* its resident memory passed the limit (the watch) */
	KILL_OUTPUT,    /* its outputs passed the limit */
	KILL_PROTOCOL,  /* it broke the frame protocol */
	KILL_CANCEL,    /* the job was cancelled or taken over */
	KILL_STOP,      /* the worker is stopping */
	KILL_TRANSIENT, /* S3 or PostgreSQL failed under it */
};

struct sandbox_end {
	int status;              /* its wait status */
	enum sandbox_kill kill;  /* why the worker killed it, if it did */
	const char *kill_detail; /* more on a protocol or transient kill */
	double cpu_s;            /* user + system time it used */
	long long wall_s, cpu_limit_s, memory_mb, output_mb;
	bool result;           /* it sent RESULT */
	const char *fail_code; /* it sent FAIL: code and message, else NULL */
	const char *fail_message;
	long violation; /* the call its violation line named, or -1 */
	const char *violation_name;
	int input_result; /* the feeder's: RAP_OK or RAP_ECANCELED unless the input failed */
	const char *input_err;
};

/** Sorts the end of a child into an outcome; for every outcome but
 *  SBX_COMPLETED and SBX_CANCELLED, err (RAP_ERRLEN) gets the job's error
 *  text, "<code>: <message>" for the permanent ones. */
enum worker_sandbox_outcome sandbox_classify(const struct sandbox_end *e, char *err);
/** "SIGSEGV" for SIGSEGV; "signal N" for one without a name. */
const char *sandbox_signal_name(int sig, char *buf, size_t len);

/* sandbox.c: one sandboxed run and everything the supervisor knows of it. */
#define SBX_LOG_LINE_MAX 1024
#define SBX_TICK_MS 100 /* the longest the supervisor goes without a look */
struct sbx {
	struct job_run *run;
	struct worker *w;
	const struct rap_jobtype_limits *lim; /* &limits */
	struct rap_jobtype_limits limits;     /* the type's, with RAP_JOB_LIMITS */
	struct rap_log_ctx ctx;
	struct child ch;
	bool reaped, out_eof, err_eof;
	int status;
	struct rusage ru;
	struct rap_frame_decoder dec;
	struct feeder feed;
	long long input_size; /* -1: unknown */
	struct outputs outs;
	struct rowerrs rows;
	enum sandbox_kill kill;
	char kill_detail[RAP_ERRLEN];
	char *result; /* the RESULT payload */
	char *fail_code, *fail_message;
	char log[SBX_LOG_LINE_MAX]; /* a log line being read */
	size_t log_len;
	int log_lines;
	long violation;
	int64_t deadline_ms;
	bool verdict_only; /* a scan first: the RESULT is handed back, not stored */
};

/** One sandboxed run of run->type on the job's input: its outcome, with
 *  *result_json (caller frees) when SBX_COMPLETED and err otherwise.
 *  verdict_only: a scan before the job's processor (scanfirst.c): the
 *  result is the child's RESULT as it came, nothing is stored in S3 and
 *  the job's row errors are left alone. */
enum worker_sandbox_outcome sbx_run(struct job_run *run, bool verdict_only, char **result_json,
				    char *err);

/* input.c: the child's fd 0 for the type's input into *in_fd; *feeding
 * says whether the feeder starts once the child runs (a pipe).  A file
 * type's download happens here, heartbeating.  RAP_EINVAL: the input is
 * too large or missing (err has the job's error); else RAP_EIO, or
 * RAP_ECANCELED with s->kill saying why (cancel, stop, wall time). */
int sbx_input(struct sbx *s, int *in_fd, bool *feeding, char *err);

/* result.c: the completed job's result (caller frees), or NULL with *out
 * and err set (not a JSON object: crashed; result.json not stored:
 * transient). */
char *sbx_result(struct sbx *s, enum worker_sandbox_outcome *out, char *err);
/** The payload as a JSON object, or NULL (the caller puts it). */
struct json_object *sbx_json_object(const unsigned char *payload, uint32_t len);
/** A string member, or NULL; an integer member, or def. */
const char *sbx_jstr(struct json_object *o, const char *key);
long long sbx_jint(struct json_object *o, const char *key, long long def);

#endif
