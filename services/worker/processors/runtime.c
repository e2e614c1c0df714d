/*
 * runtime.c: processor.h inside the sandboxed child.  Each call of a
 * processor becomes frames on fd 1 (rap/frame.h): PROGRESS at most about
 * once a second, ROW_ERRORS batched (up to ROWS_PER_FRAME rows or
 * ROWS_FRAME_BYTES bytes a frame), OUTPUT_BEGIN / OUTPUT_DATA / OUTPUT_END,
 * then RESULT or FAIL.
 *
 * The model: one thread, blocking writes.  The worker reads frames as they
 * come; when it is slow (storing an output part in S3), write(2) blocks and
 * the processor waits: that is the back-pressure, and no frame is ever
 * buffered whole in the child except a batch of row errors.
 *
 * Invariants: frames go out in the order of the calls (buffered row errors
 * are sent before any other frame); after RESULT or FAIL nothing more is
 * sent; once a write failed (the worker is gone) every call returns RAP_EIO
 * and the child exits RAP_CHILD_EXIT_WORKER.
 */
#include "runtime.h"

#include "rap/err.h"
#include "rap/frame.h"
#include "rap/json.h"
#include "rap/mem.h"
#include "rap/str.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ROWS_PER_FRAME 500
#define ROWS_FRAME_BYTES (256 * 1024)
#define VALUE_EXCERPT 200 /* bytes of a value kept in a row error */
#define MESSAGE_MAX 512   /* bytes of a row error's message */
#define TEXT_MAX 128      /* bytes of a column name or code */
#define OUTPUT_CHUNK (256 * 1024)
#define PROGRESS_EVERY_MS 1000

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void runtime_init(struct proc_ctx *c, int in_fd, int out_fd, const char *job_id,
		  struct json_object *params, long long input_size)
{
	memset(c, 0, sizeof(*c));
	c->in_fd = in_fd;
	c->out_fd = out_fd;
	snprintf(c->job_id, sizeof(c->job_id), "%s", job_id);
	c->params = params;
	c->input_size = input_size;
	rap_buf_init(&c->rows, ROWS_FRAME_BYTES + 4096);
}

void runtime_cleanup(struct proc_ctx *c)
{
	json_object_put(c->params);
	c->params = NULL;
	rap_buf_cleanup(&c->rows);
}

/* Sends a frame unless the worker is gone; the sticky failure. */
static int send_frame(struct proc_ctx *c, int type, const void *payload, size_t len)
{
	if (c->broken)
		return RAP_EIO;
	if (rap_frame_write(c->out_fd, type, payload, (uint32_t)len) != RAP_OK) {
		c->broken = true;
		return RAP_EIO;
	}
	return RAP_OK;
}

/* Sends the buffered row errors as one ROW_ERRORS frame (a JSON array). */
static int flush_rows(struct proc_ctx *c)
{
	int result;

	if (c->nrows == 0)
		return c->broken ? RAP_EIO : RAP_OK;
	rap_buf_append(&c->rows, "]", 1);
	result = send_frame(c, RAP_FRAME_ROW_ERRORS, c->rows.data, c->rows.len);
	rap_buf_reset(&c->rows);
	c->nrows = 0;
	return result;
}

/* Sends a frame after the row errors waiting before it. */
static int send_after_rows(struct proc_ctx *c, int type, const void *payload, size_t len)
{
	int result = flush_rows(c);

	return result == RAP_OK ? send_frame(c, type, payload, len) : result;
}

struct json_object *proc_params(struct proc_ctx *c)
{
	return c->params;
}

const char *proc_job_id(struct proc_ctx *c)
{
	return c->job_id;
}

long long proc_input_size(struct proc_ctx *c)
{
	return c->input_size;
}

ssize_t proc_read(struct proc_ctx *c, void *buf, size_t n)
{
	ssize_t r;

	if (c->input_eof || n == 0)
		return 0;
	do
		r = read(c->in_fd, buf, n);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return RAP_EIO;
	if (r == 0)
		c->input_eof = true;
	c->bytes_read += r;
	return r;
}

int proc_input_fd(struct proc_ctx *c)
{
	return c->in_fd;
}

/* The PROGRESS payload: {"stage","bytes","rows"} (-1: not counted). */
static int send_progress(struct proc_ctx *c, long long bytes, long long rows)
{
	char payload[PROC_STAGE_LEN * 2 + 96];
	struct rap_buf b;
	int result;

	rap_buf_init(&b, sizeof(payload));
	rap_buf_appends(&b, "{\"stage\":");
	rap_json_quote(&b, c->stage);
	rap_buf_appendf(&b, ",\"bytes\":%lld,\"rows\":%lld}", bytes, rows);
	result = send_after_rows(c, RAP_FRAME_PROGRESS, b.data, b.len);
	rap_buf_cleanup(&b);
	c->progress_sent_ms = now_ms();
	snprintf(c->stage_sent, sizeof(c->stage_sent), "%s", c->stage);
	return result;
}

int proc_progress(struct proc_ctx *c, const char *stage, long long bytes, long long rows)
{
	int64_t now = now_ms();

	if (c->broken)
		return RAP_EIO;
	rap_utf8_clean(stage ? stage : "", stage ? strlen(stage) : 0, c->stage, sizeof(c->stage));
	/* A new stage shows at once, unless stages flip faster than a tenth
	 * of a second; otherwise about once a second. */
	if (now - c->progress_sent_ms >= PROGRESS_EVERY_MS ||
	    (strcmp(c->stage, c->stage_sent) != 0 && now - c->progress_sent_ms >= 100))
		return send_progress(c, bytes < 0 ? c->bytes_read : bytes, rows);
	return RAP_OK;
}

/* Appends "key":<text cleaned and cut to max bytes> (or null) to b. */
static void put_text(struct rap_buf *b, const char *key, const char *s, size_t n, size_t max)
{
	char clean[MESSAGE_MAX + 4];

	rap_buf_appendf(b, ",\"%s\":", key);
	if (!s) {
		rap_buf_appends(b, "null");
		return;
	}
	rap_utf8_clean(s, n, clean, max + 1 < sizeof(clean) ? max + 1 : sizeof(clean));
	rap_json_quote(b, clean);
}

int proc_row_error(struct proc_ctx *c, long long row, const char *column, const char *code,
		   const char *message, const char *value, size_t value_len)
{
	if (c->broken)
		return RAP_EIO;
	if (c->rows.len + 2 * MESSAGE_MAX + 4 * VALUE_EXCERPT > ROWS_FRAME_BYTES ||
	    c->nrows >= ROWS_PER_FRAME) {
		if (flush_rows(c) != RAP_OK)
			return RAP_EIO;
	}
	rap_buf_appendf(&c->rows, "%s{\"row\":%lld", c->nrows ? "," : "[", row);
	put_text(&c->rows, "column", column, column ? strlen(column) : 0, TEXT_MAX);
	put_text(&c->rows, "code", code ? code : "invalid", code ? strlen(code) : 7, TEXT_MAX);
	put_text(&c->rows, "message", message ? message : "", message ? strlen(message) : 0,
		 MESSAGE_MAX);
	put_text(&c->rows, "value", value, value_len, VALUE_EXCERPT);
	rap_buf_append(&c->rows, "}", 1);
	c->nrows++;
	return RAP_OK;
}

int proc_output_begin(struct proc_ctx *c, const char *name, const char *content_type)
{
	struct rap_buf b;
	int result;

	if (c->in_output || c->state != PROC_RUNNING)
		return RAP_EINVAL;
	rap_buf_init(&b, 4096);
	rap_buf_appends(&b, "{\"name\":");
	rap_json_quote(&b, name);
	rap_buf_appends(&b, ",\"content_type\":");
	rap_json_quote(&b, content_type ? content_type : "application/octet-stream");
	rap_buf_appends(&b, "}");
	result = send_after_rows(c, RAP_FRAME_OUTPUT_BEGIN, b.data, b.len);
	rap_buf_cleanup(&b);
	c->in_output = result == RAP_OK;
	return result;
}

int proc_output_write(struct proc_ctx *c, const void *data, size_t n)
{
	const char *p = data;
	size_t take;

	if (!c->in_output)
		return RAP_EINVAL;
	while (n > 0) {
		take = n < OUTPUT_CHUNK ? n : OUTPUT_CHUNK;
		if (send_after_rows(c, RAP_FRAME_OUTPUT_DATA, p, take) != RAP_OK)
			return RAP_EIO;
		p += take;
		n -= take;
	}
	return RAP_OK;
}

int proc_output_end(struct proc_ctx *c)
{
	if (!c->in_output)
		return RAP_EINVAL;
	c->in_output = false;
	return send_after_rows(c, RAP_FRAME_OUTPUT_END, NULL, 0);
}

int proc_succeed(struct proc_ctx *c, struct json_object *result)
{
	const char *text;
	int r;

	if (c->state != PROC_RUNNING || c->in_output) {
		json_object_put(result);
		return RAP_EINVAL;
	}
	text = json_object_to_json_string_ext(result, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE);
	r = send_after_rows(c, RAP_FRAME_RESULT, text, strlen(text));
	json_object_put(result);
	c->state = PROC_SUCCEEDED;
	return r;
}

int proc_fail(struct proc_ctx *c, const char *code, const char *fmt, ...)
{
	char msg[MESSAGE_MAX];
	struct rap_buf b;
	va_list ap;
	int result;

	if (c->state != PROC_RUNNING)
		return RAP_EINVAL;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rap_buf_init(&b, 4 * MESSAGE_MAX);
	rap_buf_appends(&b, "{\"code\":");
	rap_json_quote(&b, code);
	put_text(&b, "message", msg, strlen(msg), MESSAGE_MAX);
	rap_buf_appends(&b, "}");
	result = send_after_rows(c, RAP_FRAME_FAIL, b.data, b.len);
	rap_buf_cleanup(&b);
	c->state = PROC_FAILED;
	return result;
}

int runtime_finish(struct proc_ctx *c)
{
	if (c->broken || flush_rows(c) != RAP_OK)
		return RAP_CHILD_EXIT_WORKER;
	if (c->state == PROC_RUNNING)
		return RAP_CHILD_EXIT_NO_OUTCOME;
	return RAP_CHILD_EXIT_OK;
}
