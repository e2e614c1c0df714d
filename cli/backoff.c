/*
 * backoff.c: how long to wait before trying again (exponential, with
 * jitter so that many clients cut by one outage do not return in step), and
 * the retry budget: a command gives up only after --retry-timeout seconds
 * in which nothing moved forward.
 */
#include "cli.h"

#include "rap/err.h"
#include "rap/clock.h"
#include "rap/random.h"
#include "rap/stop.h"

#include <stdint.h>
#include <stdio.h>

void cli_backoff_init(struct cli_backoff *b, int min_ms, int max_ms)
{
	b->min_ms = min_ms;
	b->max_ms = max_ms;
	b->cur_ms = min_ms;
}

void cli_backoff_reset(struct cli_backoff *b)
{
	b->cur_ms = b->min_ms;
}

int cli_backoff_next(struct cli_backoff *b, double r)
{
	double d = b->cur_ms * (0.75 + 0.5 * r);

	b->cur_ms = b->cur_ms > b->max_ms / 2 ? b->max_ms : b->cur_ms * 2;
	return (int)d;
}

void cli_retry_init(struct cli_retry *r, int64_t timeout_ms)
{
	r->timeout_ms = timeout_ms;
	cli_backoff_init(&r->bo, 500, 10000);
	cli_retry_progress(r);
}

void cli_retry_progress(struct cli_retry *r)
{
	r->deadline_ms = rap_now_ms() + r->timeout_ms;
	cli_backoff_reset(&r->bo);
	r->hint_ms = 0;
}

void cli_retry_hint(struct cli_retry *r, int ms)
{
	if (ms < 0)
		return;
	r->hint_ms = ms > CLI_RETRY_AFTER_MAX_MS ? CLI_RETRY_AFTER_MAX_MS : ms;
}

/* A uniform random number in [0, 1) for the jitter. */
static double jitter(void)
{
	uint32_t v = 0;

	if (rap_random(&v, sizeof(v)) != RAP_OK)
		return 0.5;
	return v / 4294967296.0;
}

int cli_retry_next(struct cli_retry *r, int *delay_ms)
{
	int64_t now = rap_now_ms();
	int ms;

	if (now >= r->deadline_ms)
		return RAP_ETIMEDOUT;
	ms = cli_backoff_next(&r->bo, jitter());
	if (ms < r->hint_ms)
		ms = r->hint_ms;
	r->hint_ms = 0;
	if (now + ms > r->deadline_ms)
		ms = (int)(r->deadline_ms - now);
	*delay_ms = ms;
	return RAP_OK;
}

int cli_retry_sleep(int ms)
{
	rap_sleep_ms(ms);
	return rap_stopping() ? RAP_ECANCELED : RAP_OK;
}

int cli_retry_after(struct cli_retry *r, struct cli_progress *p, const char *what, const char *why,
		    char *err)
{
	int ms, result;

	if (rap_stopping()) {
		snprintf(err, RAP_ERRLEN, "interrupted");
		return RAP_ECANCELED;
	}
	result = cli_retry_next(r, &ms);
	if (result != RAP_OK) {
		snprintf(err, RAP_ERRLEN, "gave up after %lld s without progress: %s: %s",
			 (long long)(r->timeout_ms / 1000), what, why);
		return result;
	}
	cli_progress_note(p, "retry: %s: %s; trying again in %.1f s", what, why, ms / 1000.0);
	result = cli_retry_sleep(ms);
	if (result != RAP_OK)
		snprintf(err, RAP_ERRLEN, "interrupted");
	return result;
}
