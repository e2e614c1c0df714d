#ifndef RAP_FAKE_PROC_H
#define RAP_FAKE_PROC_H

/*
 * A test implementation of processor.h: the input is bytes in memory,
 * handed out by proc_read in chunks of a chosen size (or an fd for
 * proc_input_fd); row errors, outputs, progress and the outcome are
 * recorded for the test to look at.  One context at a time per test.
 */
#include <stdbool.h>
#include <stddef.h>

#include "processor.h"
#include "rap/buf.h"

struct json_object;

struct fake_error {
	long long row;
	char *column; /* NULL when none */
	char *code;
	char *message;
	char *value; /* NULL when none */
};

struct proc_ctx {
	const char *input;
	size_t len, pos, chunk;
	int input_fd;
	struct json_object *params;
	struct fake_error *errors;
	size_t n_errors, cap_errors;
	char *output_name; /* the last output begun */
	bool in_output;
	struct rap_buf output; /* every output's bytes, one after the other */
	int outputs_ended;
	long long progress_calls;
	long long progress_bytes[16], progress_rows[16]; /* the first 16 calls */
	long long fail_reads_at; /* -1, or the offset where proc_read fails */
	struct json_object *result;
	char *fail_code, *fail_message;
};

/** A context over len bytes of input read chunk bytes at a time (0: all at
 *  once), with params given as JSON text (NULL: none). */
struct proc_ctx *fake_proc_new(const char *input, size_t len, size_t chunk, const char *params);
void fake_proc_free(struct proc_ctx *c);

/** Runs the processor of that type over a fresh context; the caller frees it. */
struct proc_ctx *fake_proc_run(const struct processor *p, const char *input, size_t len,
			       size_t chunk, const char *params, int *result);

/** The first recorded error with that code (and row, when row > 0), or NULL. */
const struct fake_error *fake_proc_error(const struct proc_ctx *c, const char *code, long long row);

/** A result field as a number (-1 when absent). */
long long fake_proc_result_int(const struct proc_ctx *c, const char *key);
/** A result field as a string (NULL when absent). */
const char *fake_proc_result_str(const struct proc_ctx *c, const char *key);

#endif
