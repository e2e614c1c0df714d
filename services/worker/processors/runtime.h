#ifndef PROC_RUNTIME_H
#define PROC_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>

#include "processor.h"
#include "rap/buf.h"
#include "rap/uuid.h"

/*
 * runtime.c: the child's side of processor.h: each call becomes frames
 * (rap/frame.h) on the worker's pipe.  child.c owns the context: it fills
 * it from the START frame, runs the processor, then runtime_finish.
 */

/** Where the processor's outcome stands; RUNNING until it calls
 *  proc_succeed or proc_fail (once: a second call is a bug). */
enum proc_state {
	PROC_RUNNING,
	PROC_SUCCEEDED,
	PROC_FAILED
};

#define PROC_STAGE_LEN 32

struct proc_ctx {
	int in_fd;  /* 0: a pipe, or a read-only scratch file */
	int out_fd; /* 1: frames */
	char job_id[RAP_UUID_STRLEN];
	struct json_object *params; /* owned */
	long long input_size;
	long long bytes_read;
	bool input_eof;
	bool broken; /* a frame could not be written: the worker is gone */
	enum proc_state state;
	/* Progress, sent at most about once a second. */
	int64_t progress_sent_ms;
	char stage[PROC_STAGE_LEN];
	char stage_sent[PROC_STAGE_LEN];
	/* Row errors waiting to be sent as one ROW_ERRORS frame. */
	struct rap_buf rows;
	unsigned nrows;
	/* The output being written, if any. */
	bool in_output;
};

/** Fills c; params (may be NULL) becomes the context's. */
void runtime_init(struct proc_ctx *c, int in_fd, int out_fd, const char *job_id,
		  struct json_object *params, long long input_size);
/** Sends what is still buffered and says how the child should exit
 *  (enum rap_child_exit). */
int runtime_finish(struct proc_ctx *c);
void runtime_cleanup(struct proc_ctx *c);

#endif
