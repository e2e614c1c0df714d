/* backoff.c: exponential backoff with jitter, for reconnecting. */
#include "rap/backoff.h"
#include "rap/random.h"

void rap_backoff_init(struct rap_backoff *b, int min_ms, int max_ms)
{
	b->min_ms = min_ms;
	b->max_ms = max_ms;
	b->cur_ms = min_ms;
}

int rap_backoff_next(struct rap_backoff *b)
{
	unsigned r = 0;
	int d = b->cur_ms;

	rap_random(&r, sizeof(r));
	d += (int)(r % (unsigned)(d / 4 + 1));
	b->cur_ms = b->cur_ms * 2 > b->max_ms ? b->max_ms : b->cur_ms * 2;
	return d;
}

void rap_backoff_reset(struct rap_backoff *b)
{
	b->cur_ms = b->min_ms;
}
