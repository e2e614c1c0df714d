/* Tests of lib/core/pool.c: the bounded thread pool. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "rap/err.h"
#include "rap/pool.h"

/* A job that waits at a gate until the test opens it, counting how many
 * run at once. */
struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool open;
	atomic_int running;
	atomic_int most;
	atomic_int ran;
};

static struct gate gate = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static void gated(void *arg)
{
	struct gate *g = arg;
	int now = atomic_fetch_add(&g->running, 1) + 1;
	int most = atomic_load(&g->most);

	while (now > most && !atomic_compare_exchange_weak(&g->most, &most, now))
		;
	pthread_mutex_lock(&g->lock);
	while (!g->open)
		pthread_cond_wait(&g->cond, &g->lock);
	pthread_mutex_unlock(&g->lock);
	atomic_fetch_sub(&g->running, 1);
	atomic_fetch_add(&g->ran, 1);
}

static void open_gate(struct gate *g)
{
	pthread_mutex_lock(&g->lock);
	g->open = true;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

static void reset_gate(struct gate *g)
{
	g->open = false;
	atomic_store(&g->running, 0);
	atomic_store(&g->most, 0);
	atomic_store(&g->ran, 0);
}

Test(pool, never_runs_more_jobs_at_once_than_its_bound_and_queues_the_rest)
{
	struct rap_pool *p = rap_pool_new(3);
	struct rap_pool_job jobs[8] = { 0 };

	reset_gate(&gate);
	for (int i = 0; i < 8; i++)
		cr_assert_eq(rap_pool_submit(p, &jobs[i], gated, &gate), RAP_OK);
	/* Three take a thread each; five wait in the queue. */
	while (atomic_load(&gate.running) < 3)
		sched_yield();
	cr_assert_eq(rap_pool_threads(p), 3);
	cr_assert_eq(rap_pool_queued(p), 5);
	cr_assert_not(rap_pool_done(p, &jobs[7]));
	open_gate(&gate);
	for (int i = 0; i < 8; i++)
		rap_pool_wait(p, &jobs[i]);
	cr_assert_eq(atomic_load(&gate.ran), 8);
	cr_assert_leq(atomic_load(&gate.most), 3);
	cr_assert_eq(rap_pool_threads(p), 3, "threads stay for the next jobs");
	rap_pool_free(p);
}

static void count(void *arg)
{
	atomic_fetch_add((atomic_int *)arg, 1);
}

Test(pool, threads_start_only_as_work_needs_them)
{
	struct rap_pool *p = rap_pool_new(16);
	struct rap_pool_job job = { 0 };
	atomic_int n = 0;

	cr_assert_eq(rap_pool_threads(p), 0);
	for (int i = 0; i < 20; i++) {
		cr_assert_eq(rap_pool_submit(p, &job, count, &n), RAP_OK);
		rap_pool_wait(p, &job);
	}
	cr_assert_eq(atomic_load(&n), 20);
	/* One job at a time never needs a second thread. */
	cr_assert_eq(rap_pool_threads(p), 1);
	rap_pool_free(p);
}

Test(pool, a_job_is_handed_back_idle_and_can_be_submitted_again)
{
	struct rap_pool *p = rap_pool_new(2);
	struct rap_pool_job job = { 0 };
	atomic_int n = 0;

	cr_assert_eq(rap_pool_submit(p, &job, count, &n), RAP_OK);
	while (!rap_pool_done(p, &job))
		sched_yield();
	cr_assert_eq(job.state, RAP_POOL_IDLE);
	cr_assert_eq(rap_pool_submit(p, &job, count, &n), RAP_OK);
	rap_pool_wait(p, &job);
	cr_assert_eq(job.state, RAP_POOL_IDLE);
	cr_assert_eq(atomic_load(&n), 2);
	rap_pool_free(p);
}

Test(pool, free_runs_what_is_still_queued)
{
	struct rap_pool *p = rap_pool_new(1);
	struct rap_pool_job jobs[4] = { 0 };
	atomic_int n = 0;

	for (int i = 0; i < 4; i++)
		cr_assert_eq(rap_pool_submit(p, &jobs[i], count, &n), RAP_OK);
	rap_pool_free(p);
	cr_assert_eq(atomic_load(&n), 4);
}

Test(pool, waiting_on_a_job_never_submitted_breaks_an_invariant, .signal = SIGABRT)
{
	struct rap_pool *p = rap_pool_new(1);
	struct rap_pool_job job = { 0 };

	rap_pool_wait(p, &job);
}
