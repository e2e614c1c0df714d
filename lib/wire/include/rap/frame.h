#ifndef RAP_FRAME_H
#define RAP_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The frames a sandboxed processor (rap-processor) and its worker exchange
 * over pipes: a 1-byte type, a 4-byte big-endian payload length, then the
 * payload (at most RAP_FRAME_MAX bytes).  JSON payloads are UTF-8 text
 * without a NUL.  Pure: encoding, and a decoder fed bytes in chunks of any
 * size, which never buffers more than one frame.
 *
 *   worker -> child (fd 3, then closed):
 *     START          {"type","job_id","params":{...},"input_size":N}
 *   child -> worker (the child's fd 1):
 *     PROGRESS       {"stage","bytes","rows"}  at most about once a second
 *     ROW_ERRORS     [{"row","column","code","message","value"}, ...]
 *     OUTPUT_BEGIN   {"name","content_type"}   (outputs one after another)
 *     OUTPUT_DATA    bytes of the current output
 *     OUTPUT_END     (empty)
 *     RESULT         {...}                     the job's result: success
 *     FAIL           {"code","message"}        a permanent failure of the input
 * The child's input is its fd 0; its log lines go to fd 2.
 */
enum rap_frame_type {
	RAP_FRAME_START = 1,
	RAP_FRAME_PROGRESS = 2,
	RAP_FRAME_ROW_ERRORS = 3,
	RAP_FRAME_OUTPUT_BEGIN = 4,
	RAP_FRAME_OUTPUT_DATA = 5,
	RAP_FRAME_OUTPUT_END = 6,
	RAP_FRAME_RESULT = 7,
	RAP_FRAME_FAIL = 8,
};

#define RAP_FRAME_HEADER 5
#define RAP_FRAME_MAX (1024 * 1024)

/* The bytes of an output's name (OUTPUT_BEGIN's "name"): the worker stores
 * the output as processed/{job_id}/NAME, job-api's GET /jobs/{id}/output
 * takes it as ?name=, and `rap output` writes a file of that name. */
#define RAP_MAX_OUTPUT_NAME 100

/*
 * How the child ends, besides its frames: exit 0 after RESULT or FAIL; the
 * codes below when it could not get that far.  A child that dies of a
 * signal, or exits otherwise without RESULT or FAIL, crashed
 * (docs/sandbox.md, "Outcomes").
 */
enum rap_child_exit {
	RAP_CHILD_EXIT_OK = 0,
	RAP_CHILD_EXIT_USAGE = 2,     /* bad arguments or START, or an unknown type */
	RAP_CHILD_EXIT_OOM = 3,       /* out of memory (rap_malloc): memory_limit */
	RAP_CHILD_EXIT_WORKER = 4,    /* its worker went away (a frame could not be written) */
	RAP_CHILD_EXIT_PREPARE = 5,   /* prepare or the sandbox could not be set up */
	RAP_CHILD_EXIT_NO_OUTCOME = 6 /* the processor returned without RESULT or FAIL */
};

/** The line a sandboxed child writes to fd 2 when a forbidden system call
 *  traps, followed by the call's number (decimal) and a newline; the child
 *  then dies of SIGSYS. */
#define RAP_SANDBOX_VIOLATION_LINE "rap-processor: forbidden system call "

/** Writes the 5-byte header of a frame of type t and len payload bytes. */
void rap_frame_header(unsigned char out[RAP_FRAME_HEADER], enum rap_frame_type t, uint32_t len);

/** True for a type this version knows (START .. FAIL). */
bool rap_frame_type_known(unsigned t);

/** Writes one frame to fd whole (retrying short writes and EINTR):
 *  RAP_OK, or RAP_EIO when the reader is gone.  Only write(2): safe where
 *  allocating is not (the sandboxed child's out-of-memory path). */
int rap_frame_write(int fd, enum rap_frame_type type, const void *payload, uint32_t len);

/** A decoder of a byte stream into frames.  Its payload buffer grows to
 *  the largest frame seen (at most RAP_FRAME_MAX), so a stream of small
 *  frames costs small memory; after an error it refuses every feed. */
struct rap_frame_decoder {
	unsigned char header[RAP_FRAME_HEADER];
	size_t have_header;
	unsigned char *payload; /* cap bytes, owned */
	uint32_t cap;
	uint32_t len;
	uint32_t have;
	int error; /* the first error, sticky */
};

void rap_frame_decoder_init(struct rap_frame_decoder *d);
void rap_frame_decoder_cleanup(struct rap_frame_decoder *d);

/** Called for each whole frame; a negative rap_err stops the decoder. */
typedef int (*rap_frame_sink)(void *ctx, enum rap_frame_type t, const unsigned char *payload,
			      uint32_t len);

/** Feeds n bytes; RAP_EPROTO for an unknown type or a frame over
 *  RAP_FRAME_MAX, or the sink's error.  RAP_OK otherwise. */
int rap_frame_feed(struct rap_frame_decoder *d, const void *data, size_t n, rap_frame_sink sink,
		   void *ctx);

/** True when no frame is half read (the stream may end here). */
bool rap_frame_idle(const struct rap_frame_decoder *d);

/** Whether name can name a job's output: 1 to RAP_MAX_OUTPUT_NAME letters,
 *  digits, '.', '_' and '-', not starting with '.' (so also a plain file
 *  name in any folder; the worker refuses result.json, the key of a result
 *  without outputs, besides). */
bool rap_output_name_ok(const char *name);

#endif
