#ifndef RAP_PROCESSOR_H
#define RAP_PROCESSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct json_object;

/*
 * processor.h: the one small interface of a processor, as it runs inside
 * the sandboxed child (rap-processor).  A processor reads its input, reports
 * progress and row errors, writes outputs and ends with a result or a
 * failure; the child's runtime (sandbox_child.c) carries each of these to
 * the worker over frames (rap/frame.h).  A processor never sees credentials,
 * the network or the file system: only these calls.
 *
 * Every call returns RAP_OK or a negative rap_err; an error from a report
 * or an output call means the worker is gone or the output limit passed:
 * stop and return it.
 */
struct proc_ctx;

/** The job's params, validated against the type's schema (NULL: none). */
struct json_object *proc_params(struct proc_ctx *c);
/** The job's id, for messages. */
const char *proc_job_id(struct proc_ctx *c);
/** The input's size in bytes, -1 when unknown. */
long long proc_input_size(struct proc_ctx *c);

/** Reads up to n bytes of input: the count, 0 at its end, or a negative
 *  rap_err (RAP_EIO: the input broke off). */
ssize_t proc_read(struct proc_ctx *c, void *buf, size_t n);
/** For RAP_INPUT_FILE types: the read-only descriptor of the input's
 *  scratch copy, which the processor may seek in (never close it). */
int proc_input_fd(struct proc_ctx *c);

/** Says where the work stands: its stage ("parse", "validate", "write"),
 *  input bytes consumed and rows done (-1: not counted).  Cheap to call
 *  often: it is sent at most about once a second. */
int proc_progress(struct proc_ctx *c, const char *stage, long long bytes, long long rows);

/** Reports an error of one row (row numbers from 1, the header counts);
 *  column may be NULL; value is cut to an excerpt.  Batched. */
int proc_row_error(struct proc_ctx *c, long long row, const char *column, const char *code,
		   const char *message, const char *value, size_t value_len);

/** Outputs, one after the other, each stored as processed/<job_id>/<name>. */
int proc_output_begin(struct proc_ctx *c, const char *name, const char *content_type);
int proc_output_write(struct proc_ctx *c, const void *data, size_t n);
int proc_output_end(struct proc_ctx *c);

/** The outcome: success with a result (a JSON object; the context takes
 *  it), or a permanent failure of the input (code such as "invalid_input",
 *  "too_large", "unsupported"; a message for the user).  The run function
 *  returns what these return. */
int proc_succeed(struct proc_ctx *c, struct json_object *result);
int proc_fail(struct proc_ctx *c, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/** A processor: its type name, an optional prepare (runs before the
 *  sandbox closes: load what needs the file system, such as libmagic's
 *  database), and its run, which sees the input only once the sandbox is
 *  closed (a library that opens only a path: see input_fopen.c).
 *  threads: its library starts threads of its own (libvips), which the
 *  filter then allows it (threads only: a new process is still refused).
 *  scratch: its library writes temporary files (libclamav unpacks archive
 *  members): the child gets a folder of its own, and Landlock confines
 *  every file access to it (docs/sandbox.md). */
struct processor {
	const char *type;
	int (*prepare)(void);
	int (*run)(struct proc_ctx *c);
	bool threads;
	bool scratch;
};

/** The processors the child knows (processors/registry.c). */
extern const struct processor *const proc_registry[];
extern const size_t proc_registry_count;

#endif
