#ifndef RAP_CLOCK_H
#define RAP_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

/** An ISO 8601 time with milliseconds, "2026-12-05T09:00:00.000Z", and NUL. */
#define RAP_ISO_TIME_LEN 32

/** Milliseconds of a monotonic clock. */
int64_t rap_now_ms(void);
/** Microseconds of the same monotonic clock (durations for histograms). */
int64_t rap_now_us(void);
/** Writes the current UTC time as ISO 8601 with milliseconds. */
void rap_iso_time(char out[RAP_ISO_TIME_LEN]);
/** Sleeps ms milliseconds unless the process is asked to stop first
 *  (rap/stop.h), which ends the sleep at once; false when stopping. */
bool rap_sleep_ms(int ms);

#endif
