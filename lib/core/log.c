/* log.c: one JSON object per line, written with a single write(2). */
#include "rap/log.h"
#include "rap/err.h"
#include "rap/mem.h"
#include "rap/buf.h"
#include "rap/clock.h"
#include "rap/json.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum rap_log_level rap_log_min_level = RAP_LOG_INFO;
static const char *log_service = "rap";

static const char *const level_names[] = { "debug", "info", "warn", "error" };

/* The thread's unit of work: a thread does one at a time. */
static _Thread_local struct rap_trace thread_trace;
static _Thread_local bool thread_traced;

void rap_log_set_trace(const struct rap_trace *t)
{
	thread_traced = t != NULL;
	if (t)
		thread_trace = *t;
}

const struct rap_trace *rap_log_trace(void)
{
	return thread_traced ? &thread_trace : NULL;
}

int rap_log_init(const char *service, const char *level)
{
	int i;

	log_service = service;
	for (i = 0; i < 4; i++) {
		if (strcmp(level, level_names[i]) == 0) {
			rap_log_min_level = (enum rap_log_level)i;
			return RAP_OK;
		}
	}
	return RAP_EINVAL;
}

static void field(struct rap_buf *b, const char *name, const char *value)
{
	if (!value || !*value)
		return;
	rap_buf_appendf(b, ",\"%s\":", name);
	rap_json_quote(b, value);
}

void rap__log(enum rap_log_level level, const struct rap_log_ctx *ctx, const char *fmt, ...)
{
	struct rap_buf line, msg;
	char ts[RAP_ISO_TIME_LEN];
	va_list ap;
	ssize_t w;

	rap_buf_init(&line, 64 * 1024);
	rap_buf_init(&msg, 60 * 1024);
	va_start(ap, fmt);
	rap_buf_vappendf(&msg, fmt, ap);
	va_end(ap);
	rap_iso_time(ts);
	rap_buf_appendf(&line, "{\"ts\":\"%s\",\"level\":\"%s\",\"service\":\"%s\",\"msg\":", ts,
			level_names[level], log_service);
	rap_json_quote(&line, msg.data ? msg.data : "");
	if (ctx) {
		field(&line, "request_id", ctx->request_id);
		field(&line, "job_id", ctx->job_id);
		field(&line, "action", ctx->action);
	}
	if (ctx && ctx->trace_id && *ctx->trace_id) {
		field(&line, "trace_id", ctx->trace_id);
	} else if (thread_traced) {
		field(&line, "trace_id", thread_trace.trace_id);
		field(&line, "span_id", thread_trace.span_id);
	}
	rap_buf_append(&line, "}\n", 2);
	w = write(STDERR_FILENO, line.data, line.len);
	(void)w;
	rap_buf_cleanup(&msg);
	rap_buf_cleanup(&line);
}
