/* task.c: the concurrency spine's loop (rap/task.h). */
#include "rap/task.h"
#include "rap/assert.h"
#include "rap/clock.h"
#include "rap/err.h"
#include "rap/stop.h"
#include "rap/backoff.h"

#define TASK_MIN_MS 200
#define TASK_MAX_MS 10000

static void task_failed(struct rap_task *t, bool *up)
{
	if (t->ops->down)
		t->ops->down(t->ctx);
	*up = false;
	rap_sleep_ms(rap_backoff_next(&t->backoff));
}

int rap_task_run(struct rap_task *t)
{
	const struct rap_task_ops *ops = t->ops;
	bool up = false;
	int result = RAP_ECANCELED;

	RAP_ASSERT(ops && ops->connect && ops->step);
	rap_backoff_init(&t->backoff, ops->min_ms > 0 ? ops->min_ms : TASK_MIN_MS,
			 ops->max_ms > 0 ? ops->max_ms : TASK_MAX_MS);
	while (!rap_stopping()) {
		int r = ops->connect(t->ctx);

		if (r != RAP_OK) {
			task_failed(t, &up);
			continue;
		}
		if (!up && ops->up)
			ops->up(t->ctx);
		up = true;
		r = ops->step(t->ctx);
		if (r == RAP_DONE) {
			result = RAP_OK;
			break;
		}
		if (r < 0)
			task_failed(t, &up);
		else
			rap_backoff_reset(&t->backoff);
	}
	if (ops->close)
		ops->close(t->ctx);
	t->result = result;
	return result;
}

static void *task_thread(void *arg)
{
	rap_task_run(arg);
	return NULL;
}

int rap_task_start(struct rap_task *t)
{
	RAP_ASSERT(!t->started);
	if (pthread_create(&t->thread, NULL, task_thread, t) != 0)
		return RAP_EIO;
	t->started = true;
	return RAP_OK;
}

int rap_task_join(struct rap_task *t)
{
	if (!t->started)
		return RAP_OK;
	pthread_join(t->thread, NULL);
	t->started = false;
	return t->result;
}
