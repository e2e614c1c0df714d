#ifndef RAP_LOG_H
#define RAP_LOG_H

/*
 * Logging for the services (the library itself never logs): one JSON object
 * per line on stderr, with the service name and the context of the unit of
 * work (request id, job id, trace id, current action).
 */
enum rap_log_level {
	RAP_LOG_DEBUG = 0,
	RAP_LOG_INFO = 1,
	RAP_LOG_WARN = 2,
	RAP_LOG_ERROR = 3
};

/** A request id (an X-Request-Id, a trace id): at most 64 characters and
 *  the NUL. */
#define RAP_REQUEST_ID_LEN 65

#include "rap/trace.h"

struct rap_log_ctx {
	const char *request_id;
	const char *job_id;
	const char *trace_id;
	const char *action;
};

/** The least level that is written; set once by rap_log_init. */
extern enum rap_log_level rap_log_min_level;

/** Names the service and sets the level ("debug".."error"); RAP_EINVAL on
 *  an unknown level name. */
int rap_log_init(const char *service, const char *level);

/**
 * Sets the trace of the unit of work this thread is doing (an HTTP
 * request, a job, a status event): every line the thread logs until it is
 * cleared carries its trace_id and span_id (a ctx's own trace_id wins).
 * t is copied; NULL clears it.
 */
void rap_log_set_trace(const struct rap_trace *t);

/** The trace this thread logs with (rap_log_set_trace), or NULL. */
const struct rap_trace *rap_log_trace(void);

/** Checks the level before formatting anything. ctx may be NULL. */
#define rap_log(level, ctx, ...)                                                                   \
	do {                                                                                       \
		if ((level) >= rap_log_min_level)                                                  \
			rap__log((level), (ctx), __VA_ARGS__);                                     \
	} while (0)

void rap__log(enum rap_log_level level, const struct rap_log_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
