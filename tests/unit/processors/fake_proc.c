/* The fake processor runtime of the processors' tests (fake_proc.h). */
#include "fake_proc.h"

#include "rap/err.h"
#include "rap/mem.h"

#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUTPUT_MAX (512u * 1024 * 1024)

struct proc_ctx *fake_proc_new(const char *input, size_t len, size_t chunk, const char *params)
{
	struct proc_ctx *c = rap_calloc(1, sizeof(*c));

	c->input = input;
	c->len = len;
	c->chunk = chunk ? chunk : len + 1;
	c->input_fd = -1;
	c->fail_reads_at = -1;
	if (params) {
		c->params = json_tokener_parse(params);
		cr_assert_not_null(c->params, "test params are JSON: %s", params);
	}
	rap_buf_init(&c->output, OUTPUT_MAX);
	return c;
}

void fake_proc_free(struct proc_ctx *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n_errors; i++) {
		free(c->errors[i].column);
		free(c->errors[i].code);
		free(c->errors[i].message);
		free(c->errors[i].value);
	}
	free(c->errors);
	free(c->output_name);
	rap_buf_cleanup(&c->output);
	json_object_put(c->params);
	json_object_put(c->result);
	free(c->fail_code);
	free(c->fail_message);
	free(c);
}

struct proc_ctx *fake_proc_run(const struct processor *p, const char *input, size_t len,
			       size_t chunk, const char *params, int *result)
{
	struct proc_ctx *c = fake_proc_new(input, len, chunk, params);

	*result = p->run(c);
	return c;
}

const struct fake_error *fake_proc_error(const struct proc_ctx *c, const char *code, long long row)
{
	size_t i;

	for (i = 0; i < c->n_errors; i++)
		if (strcmp(c->errors[i].code, code) == 0 && (row <= 0 || c->errors[i].row == row))
			return &c->errors[i];
	return NULL;
}

long long fake_proc_result_int(const struct proc_ctx *c, const char *key)
{
	struct json_object *v;

	if (!c->result || !json_object_object_get_ex(c->result, key, &v) || !v)
		return -1;
	return json_object_get_int64(v);
}

const char *fake_proc_result_str(const struct proc_ctx *c, const char *key)
{
	struct json_object *v;

	if (!c->result || !json_object_object_get_ex(c->result, key, &v) || !v)
		return NULL;
	return json_object_get_string(v);
}

/* --- processor.h ---------------------------------------------------------- */

struct json_object *proc_params(struct proc_ctx *c)
{
	return c->params;
}

const char *proc_job_id(struct proc_ctx *c)
{
	return "00000000-0000-4000-8000-000000000000";
}

long long proc_input_size(struct proc_ctx *c)
{
	return (long long)c->len;
}

ssize_t proc_read(struct proc_ctx *c, void *buf, size_t n)
{
	size_t k = c->len - c->pos;

	if (c->fail_reads_at >= 0 && c->pos >= (size_t)c->fail_reads_at)
		return RAP_EIO;
	if (k > n)
		k = n;
	if (k > c->chunk)
		k = c->chunk;
	memcpy(buf, c->input + c->pos, k);
	c->pos += k;
	return (ssize_t)k;
}

int proc_input_fd(struct proc_ctx *c)
{
	return c->input_fd;
}

int proc_progress(struct proc_ctx *c, const char *stage, long long bytes, long long rows)
{
	cr_assert(strcmp(stage, "parse") == 0 || strcmp(stage, "validate") == 0 ||
		  strcmp(stage, "write") == 0 || strcmp(stage, "thumbnail") == 0 ||
		  strcmp(stage, "extract") == 0 || strcmp(stage, "probe") == 0 ||
		  strcmp(stage, "seek") == 0 || strcmp(stage, "decode") == 0 ||
		  strcmp(stage, "encode") == 0);
	if (c->progress_calls < 16) {
		c->progress_bytes[c->progress_calls] = bytes < 0 ? (long long)c->pos : bytes;
		c->progress_rows[c->progress_calls] = rows;
	}
	c->progress_calls++;
	return RAP_OK;
}

int proc_row_error(struct proc_ctx *c, long long row, const char *column, const char *code,
		   const char *message, const char *value, size_t value_len)
{
	struct fake_error *e;

	cr_assert_not_null(code);
	cr_assert_not_null(message);
	if (c->n_errors == c->cap_errors) {
		c->cap_errors = c->cap_errors ? c->cap_errors * 2 : 16;
		c->errors = rap_realloc(c->errors, c->cap_errors * sizeof(*c->errors));
	}
	e = &c->errors[c->n_errors++];
	e->row = row;
	e->column = column ? rap_strdup(column) : NULL;
	e->code = rap_strdup(code);
	e->message = rap_strdup(message);
	e->value = value ? rap_strndup(value, value_len) : NULL;
	return RAP_OK;
}

int proc_output_begin(struct proc_ctx *c, const char *name, const char *content_type)
{
	cr_assert_not(c->in_output, "one output at a time");
	free(c->output_name);
	c->output_name = rap_strdup(name);
	c->in_output = true;
	return RAP_OK;
}

int proc_output_write(struct proc_ctx *c, const void *data, size_t n)
{
	cr_assert(c->in_output, "output_write after output_begin");
	return rap_buf_append(&c->output, data, n);
}

int proc_output_end(struct proc_ctx *c)
{
	cr_assert(c->in_output, "output_end after output_begin");
	c->in_output = false;
	c->outputs_ended++;
	return RAP_OK;
}

int proc_succeed(struct proc_ctx *c, struct json_object *result)
{
	cr_assert_null(c->result, "one outcome");
	cr_assert_null(c->fail_code, "one outcome");
	c->result = result;
	return RAP_OK;
}

int proc_fail(struct proc_ctx *c, const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	cr_assert_null(c->result, "one outcome");
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->fail_code = rap_strdup(code);
	c->fail_message = rap_strdup(msg);
	return RAP_OK;
}
