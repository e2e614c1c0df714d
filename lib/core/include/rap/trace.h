#ifndef RAP_TRACE_H
#define RAP_TRACE_H

#include <stdbool.h>

/*
 * W3C Trace Context (https://www.w3.org/TR/trace-context/), version 00:
 * a traceparent header is "00-<trace id>-<parent id>-<flags>", 32, 16 and 2
 * lowercase hex digits.  A unit of work (an HTTP request, a job's run, an
 * event's fan-out) keeps the trace id it was given and takes a span id of
 * its own; what it calls next gets "00-<trace id>-<its span id>-<flags>".
 */
#define RAP_TRACE_ID_LEN 33    /* 32 hex digits and the NUL */
#define RAP_SPAN_ID_LEN 17     /* 16 hex digits and the NUL */
#define RAP_TRACEPARENT_LEN 56 /* "00-" 32 "-" 16 "-" 2 and the NUL */

struct rap_trace {
	char trace_id[RAP_TRACE_ID_LEN];
	char span_id[RAP_SPAN_ID_LEN]; /* this unit of work's own span */
	char flags[3];                 /* the caller's trace-flags, "01" when started here */
};

/**
 * Parses a version-00 traceparent strictly: exactly 55 characters,
 * lowercase hex, neither the trace id nor the parent id all zeros (version
 * ff and any other version are refused).  On success fills out with the
 * trace id and flags and a new span id, and returns true; on failure
 * returns false and leaves out untouched.  value may be NULL.
 */
bool rap_trace_parse(const char *value, struct rap_trace *out);

/** Starts a new trace: random trace and span ids, flags "01". */
void rap_trace_start(struct rap_trace *out);

/** rap_trace_parse of value, or a new trace when it is missing or invalid. */
void rap_trace_continue(const char *value, struct rap_trace *out);

/** Writes "00-<trace id>-<span id>-<flags>" of t into out. */
void rap_trace_format(const struct rap_trace *t, char out[RAP_TRACEPARENT_LEN]);

#endif
