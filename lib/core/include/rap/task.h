#ifndef RAP_TASK_H
#define RAP_TASK_H

#include <pthread.h>
#include <stdbool.h>

#include "rap/backoff.h"

/*
 * A background task that keeps a connection alive: the one shape of every
 * long-running loop of the services (a relay, a consumer, a sender, a
 * readiness probe).  The spine owns the loop; the task says what to do:
 *
 *   while the stop is not requested:
 *       connect()      make sure what the task needs is connected; cheap
 *                      when it is, since it runs before every step
 *       step()         one round of work, waiting a bounded time at most
 *       on a failure of either: down(), then a backoff with jitter
 *       (ops->min_ms doubling up to ops->max_ms), cut short by a stop
 *   close()
 *
 * After a failure, the next successful connect() calls up() (so does the
 * first one): the place to mark the service ready again.  A step that
 * succeeds resets the backoff.  A step returns RAP_OK to go on, RAP_DONE
 * when the task's work is over (a one-shot task such as migrating the
 * database), or a negative rap_err.  The spine does not log (the library
 * never does): connect and step log their own failures, which they know
 * best, and down() marks what depends on the connection.
 */
struct rap_task_ops {
	int (*connect)(void *ctx);
	int (*step)(void *ctx);
	void (*up)(void *ctx);    /* may be NULL */
	void (*down)(void *ctx);  /* may be NULL */
	void (*close)(void *ctx); /* may be NULL */
	int min_ms;               /* first backoff; 0: 200 ms */
	int max_ms;               /* longest backoff; 0: 10 s */
};

struct rap_task {
	const char *name;
	const struct rap_task_ops *ops;
	void *ctx;
	/* The spine's own; zero them (a designated initialiser does). */
	struct rap_backoff backoff;
	pthread_t thread;
	bool started;
	int result;
};

/**
 * Runs the task on the calling thread until the stop is requested or a
 * step returns RAP_DONE.  Returns RAP_OK when the work is done,
 * RAP_ECANCELED when it stopped first.
 */
int rap_task_run(struct rap_task *t);

/** Runs the task on a thread of its own; RAP_EIO when none can start. */
int rap_task_start(struct rap_task *t);

/** Waits for a started task's thread (it ends once the stop is requested
 *  or its work is done); nothing for a task that never started.  Returns
 *  what rap_task_run returned. */
int rap_task_join(struct rap_task *t);

#endif
