#ifndef RAP_BACKOFF_H
#define RAP_BACKOFF_H

/* Exponential backoff with jitter, for reconnecting (rap/task.h uses it). */
struct rap_backoff {
	int min_ms;
	int max_ms;
	int cur_ms;
};

void rap_backoff_init(struct rap_backoff *b, int min_ms, int max_ms);
/** The next delay: the current one plus up to 25% jitter; the current one
 *  then doubles, up to the maximum. */
int rap_backoff_next(struct rap_backoff *b);
/** Back to the minimum (after a success). */
void rap_backoff_reset(struct rap_backoff *b);

#endif
