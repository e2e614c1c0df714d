/* clock.c: the monotonic clock, wall-clock timestamps, and sleeping that a
 * stop request cuts short. */
#include "rap/clock.h"
#include "rap/stop.h"

#include <poll.h>
#include <stdio.h>
#include <time.h>

int64_t rap_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t rap_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void rap_iso_time(char out[RAP_ISO_TIME_LEN])
{
	struct timespec ts;
	struct tm tm;
	char base[24];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, RAP_ISO_TIME_LEN, "%.20s.%03dZ", base, (int)(ts.tv_nsec / 1000000) % 1000);
}

/*
 * With the stop descriptor, one poll(2) that a stop request ends at once;
 * without it (a stop flag set by a test, no handler installed), steps of
 * 50 ms that look at the flag.
 */
bool rap_sleep_ms(int ms)
{
	int64_t end = rap_now_ms() + ms;
	int fd = rap_stop_fd();

	while (!rap_stopping()) {
		int64_t left = end - rap_now_ms();

		if (left <= 0)
			return true;
		if (fd >= 0) {
			struct pollfd p = { .fd = fd, .events = POLLIN };

			poll(&p, 1, (int)left);
		} else {
			struct timespec ts = { 0, (long)(left < 50 ? left : 50) * 1000000L };

			nanosleep(&ts, NULL);
		}
	}
	return false;
}
