/*
 * pool.c: the bounded thread pool (rap/pool.h).  One lock guards the queue,
 * the counts and every job's state; `work` wakes an idle thread when a job
 * is queued or the pool stops, `done` wakes waiters when a job finished.
 * Invariants, checked under the lock: a queued job is QUEUED and in the
 * queue exactly once; idle <= threads <= max; a thread never leaves while
 * a job is queued.
 */
#include "rap/pool.h"
#include "rap/assert.h"
#include "rap/err.h"
#include "rap/mem.h"

#include <pthread.h>
#include <stdlib.h>

struct rap_pool {
	pthread_mutex_t lock;
	pthread_cond_t work;
	pthread_cond_t done;
	struct rap_pool_job *head, *tail;
	unsigned queued;
	unsigned max;
	unsigned threads;
	unsigned idle;
	unsigned running;
	bool stopping;
	pthread_t *ids;
};

static struct rap_pool_job *take(struct rap_pool *p)
{
	struct rap_pool_job *job = p->head;

	RAP_ASSERT(job);
	RAP_ASSERT(p->queued > 0 && job->state == RAP_POOL_QUEUED);
	p->head = job->next;
	if (!p->head)
		p->tail = NULL;
	job->next = NULL;
	p->queued--;
	job->state = RAP_POOL_RUNNING;
	return job;
}

static void *pool_thread(void *arg)
{
	struct rap_pool *p = arg;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct rap_pool_job *job;

		while (!p->head && !p->stopping) {
			p->idle++;
			pthread_cond_wait(&p->work, &p->lock);
			p->idle--;
		}
		if (!p->head)
			break; /* stopping, and nothing left to run */
		job = take(p);
		p->running++;
		pthread_mutex_unlock(&p->lock);
		job->fn(job->arg);
		pthread_mutex_lock(&p->lock);
		RAP_ASSERT(job->state == RAP_POOL_RUNNING && p->running > 0);
		p->running--;
		job->state = RAP_POOL_DONE;
		pthread_cond_broadcast(&p->done);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct rap_pool *rap_pool_new(unsigned max_threads)
{
	struct rap_pool *p = rap_calloc(1, sizeof(*p));

	p->max = max_threads ? max_threads : 1;
	p->ids = rap_calloc(p->max, sizeof(*p->ids));
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	return p;
}

void rap_pool_free(struct rap_pool *p)
{
	unsigned i;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->threads; i++)
		pthread_join(p->ids[i], NULL);
	RAP_ASSERT(!p->head && p->running == 0);
	pthread_cond_destroy(&p->done);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->lock);
	free(p->ids);
	free(p);
}

/* Starts one more thread if every thread is busy and the bound allows;
 * under the lock.  False when none could start. */
static bool grow(struct rap_pool *p)
{
	if (p->idle > p->queued || p->threads >= p->max)
		return true;
	if (pthread_create(&p->ids[p->threads], NULL, pool_thread, p) != 0)
		return false;
	p->threads++;
	return true;
}

int rap_pool_submit(struct rap_pool *p, struct rap_pool_job *job, void (*fn)(void *), void *arg)
{
	pthread_mutex_lock(&p->lock);
	RAP_ASSERT(job->state == RAP_POOL_IDLE && !p->stopping);
	if (!grow(p) && p->threads == 0) {
		pthread_mutex_unlock(&p->lock);
		return RAP_EIO;
	}
	job->fn = fn;
	job->arg = arg;
	job->next = NULL;
	job->state = RAP_POOL_QUEUED;
	if (p->tail)
		p->tail->next = job;
	else
		p->head = job;
	p->tail = job;
	p->queued++;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
	return RAP_OK;
}

void rap_pool_wait(struct rap_pool *p, struct rap_pool_job *job)
{
	pthread_mutex_lock(&p->lock);
	RAP_ASSERT(job->state != RAP_POOL_IDLE);
	while (job->state != RAP_POOL_DONE)
		pthread_cond_wait(&p->done, &p->lock);
	job->state = RAP_POOL_IDLE;
	pthread_mutex_unlock(&p->lock);
}

bool rap_pool_done(struct rap_pool *p, struct rap_pool_job *job)
{
	bool done;

	pthread_mutex_lock(&p->lock);
	RAP_ASSERT(job->state != RAP_POOL_IDLE);
	done = job->state == RAP_POOL_DONE;
	if (done)
		job->state = RAP_POOL_IDLE;
	pthread_mutex_unlock(&p->lock);
	return done;
}

unsigned rap_pool_threads(struct rap_pool *p)
{
	unsigned n;

	pthread_mutex_lock(&p->lock);
	n = p->threads;
	pthread_mutex_unlock(&p->lock);
	return n;
}

unsigned rap_pool_queued(struct rap_pool *p)
{
	unsigned n;

	pthread_mutex_lock(&p->lock);
	n = p->queued;
	pthread_mutex_unlock(&p->lock);
	return n;
}
