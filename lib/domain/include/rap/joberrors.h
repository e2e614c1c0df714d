#ifndef RAP_JOBERRORS_H
#define RAP_JOBERRORS_H

#include <libpq-fe.h>
#include <stddef.h>

/*
 * Row errors of a job (table job_errors), written by the worker as its
 * processor reports them: many rows per statement, never one INSERT per
 * row.  How many are kept is the caller's cap (RAP_JOB_ERRORS_MAX, or the
 * job's params.max_errors when lower); the rest are only counted, and the
 * job's result says so.
 */
struct rap_joberror {
	long long row;       /* from 1 (the header counts), or < 0: none */
	const char *column;  /* may be NULL */
	const char *code;    /* "not_a_number" */
	const char *message; /* for the user */
	const char *value;   /* an excerpt of the value, may be NULL */
};

/** Deletes the job's row errors: an attempt starts with none, so a
 *  retried job does not keep the errors of the attempt before. */
int rap_joberrors_clear(PGconn *db, const char *job_id, char *err);

/**
 * Inserts n row errors of attempt in one statement (the texts must be
 * valid UTF-8 without NUL: rap_utf8_clean).  At most RAP_JOBERRORS_BATCH
 * rows a call.
 */
#define RAP_JOBERRORS_BATCH 500
int rap_joberrors_insert(PGconn *db, const char *job_id, int attempt,
			 const struct rap_joberror *rows, size_t n, char *err);

#endif
