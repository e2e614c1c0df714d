#ifndef RAP_POOL_H
#define RAP_POOL_H

#include <stdbool.h>

/*
 * A fixed, bounded pool of worker threads with a FIFO queue (libuv's
 * threadpool, Redis's bio): work that blocks (an S3 request) runs here
 * instead of on a thread of its own.  Threads start as work arrives, up to
 * the pool's bound, and stay for the next job; a job that finds every
 * thread busy waits in the queue.  The caller owns each job's memory and
 * waits for it before reusing or freeing it.
 *
 * A job's state only moves forward, under the pool's lock:
 *   IDLE -> QUEUED (rap_pool_submit) -> RUNNING -> DONE -> IDLE
 *   (rap_pool_wait, or rap_pool_done seeing DONE, hands it back)
 */
enum rap_pool_state {
	RAP_POOL_IDLE,
	RAP_POOL_QUEUED,
	RAP_POOL_RUNNING,
	RAP_POOL_DONE
};

struct rap_pool_job {
	void (*fn)(void *arg);
	void *arg;
	/* The pool's own, under its lock. */
	enum rap_pool_state state;
	struct rap_pool_job *next;
};

struct rap_pool;

/** A pool of at most max_threads threads (at least 1); none runs yet. */
struct rap_pool *rap_pool_new(unsigned max_threads);
/** Waits for every queued and running job, stops the threads and frees
 *  the pool; accepts NULL. */
void rap_pool_free(struct rap_pool *p);

/**
 * Queues job (IDLE) to run fn(arg) on a pool thread, starting a thread if
 * none is idle and the bound allows.  RAP_EIO, with the job left IDLE, when
 * the pool has no thread at all and none can start (the caller runs the
 * work itself or does without).
 */
int rap_pool_submit(struct rap_pool *p, struct rap_pool_job *job, void (*fn)(void *), void *arg);

/** Waits until the job ran, and hands it back (IDLE). */
void rap_pool_wait(struct rap_pool *p, struct rap_pool_job *job);

/** True, and the job handed back (IDLE), when it ran; false while it is
 *  queued or running.  Never waits. */
bool rap_pool_done(struct rap_pool *p, struct rap_pool_job *job);

/** Threads started so far, and jobs waiting in the queue (for tests and
 *  metrics). */
unsigned rap_pool_threads(struct rap_pool *p);
unsigned rap_pool_queued(struct rap_pool *p);

#endif
