/* Tests of lib/core/task.c (the concurrency spine) and lib/core/stop.c. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdbool.h>

#include "rap/clock.h"
#include "rap/err.h"
#include "rap/stop.h"
#include "rap/task.h"

/* A task whose connect fails `fail_connects` times, then steps `steps`
 * times (one failing step in the middle), then says it is done. */
struct script {
	int fail_connects;
	int steps;
	int connects, step_calls, ups, downs, closes;
	int failed_step; /* which step fails, 0: none */
};

static int s_connect(void *ctx)
{
	struct script *s = ctx;

	s->connects++;
	return s->fail_connects-- > 0 ? RAP_EIO : RAP_OK;
}

static int s_step(void *ctx)
{
	struct script *s = ctx;

	s->step_calls++;
	if (s->step_calls == s->failed_step)
		return RAP_EAMQP;
	return s->step_calls >= s->steps ? RAP_DONE : RAP_OK;
}

static void s_up(void *ctx)
{
	((struct script *)ctx)->ups++;
}

static void s_down(void *ctx)
{
	((struct script *)ctx)->downs++;
}

static void s_close(void *ctx)
{
	((struct script *)ctx)->closes++;
}

static const struct rap_task_ops ops = {
	.connect = s_connect,
	.step = s_step,
	.up = s_up,
	.down = s_down,
	.close = s_close,
	.min_ms = 1,
	.max_ms = 4,
};

Test(task, reconnects_with_backoff_until_connected_then_steps_until_done)
{
	struct script s = { .fail_connects = 3, .steps = 5, .failed_step = 2 };
	struct rap_task t = { .name = "test", .ops = &ops, .ctx = &s };

	cr_assert_eq(rap_task_run(&t), RAP_OK);
	/* 3 failed connects, then one before each of the 5 steps. */
	cr_assert_eq(s.connects, 3 + 5);
	cr_assert_eq(s.step_calls, 5);
	/* down after each failed connect and after the failed step; up after
	 * the first good connect and after the one that follows the failure. */
	cr_assert_eq(s.downs, 4);
	cr_assert_eq(s.ups, 2);
	cr_assert_eq(s.closes, 1);
}

Test(task, runs_on_a_thread_of_its_own_and_joins_with_its_result)
{
	struct script s = { .steps = 3 };
	struct rap_task t = { .name = "test", .ops = &ops, .ctx = &s };

	cr_assert_eq(rap_task_start(&t), RAP_OK);
	cr_assert_eq(rap_task_join(&t), RAP_OK);
	cr_assert_eq(s.step_calls, 3);
	cr_assert_eq(rap_task_join(&t), RAP_OK, "a second join does nothing");
}

static int never_connects(void *ctx)
{
	return RAP_EIO;
}

static int stop_step(void *ctx)
{
	return RAP_OK;
}

static const struct rap_task_ops slow_ops = {
	.connect = never_connects,
	.step = stop_step,
	.min_ms = 60000, /* a backoff far longer than the test */
	.max_ms = 60000,
};

/* Its own process (Criterion forks each test): the stop flag is global. */
Test(task, a_stop_request_cuts_a_long_backoff_short)
{
	struct rap_task t = { .name = "test", .ops = &slow_ops, .ctx = NULL };
	int64_t start;

	rap_stop_install(false);
	cr_assert_eq(rap_task_start(&t), RAP_OK);
	start = rap_now_ms();
	cr_assert_not(rap_stopping());
	raise(SIGTERM); /* the handler requests the stop */
	cr_assert_eq(rap_task_join(&t), RAP_ECANCELED);
	cr_assert(rap_stopping());
	cr_assert_lt(rap_now_ms() - start, 10000, "the task did not wait out its minute");
	cr_assert_not(rap_sleep_ms(1000), "sleeping after the stop returns at once");
}
