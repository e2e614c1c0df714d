#ifndef RAP_JOBERRORS_READ_H
#define RAP_JOBERRORS_READ_H

#include <libpq-fe.h>
#include <stddef.h>

struct rap_buf;

/*
 * Reading a job's row errors (job_errors, migrations 0001 and 0011), the
 * read side of lib/domain's job errors (the processors' runtime writes
 * them: rap_joberrors_insert).  Errors are in (row, id) order, paged by a
 * keyset cursor "ROW:ID" (the last error of a page), which the index
 * job_errors_job_row serves; filters by column and code.  Every call
 * checks the job's owner: another owner's job does not exist.
 */

/** The longest cursor text, NUL included. */
#define RAP_JOBERRORS_CURSOR_LEN 48
/** Bytes of a message or value a listing carries at most. */
#define RAP_JOBERRORS_TEXT_MAX 1024

struct rap_joberrors_query {
	const char *owner;
	const char *job_id;
	const char *column;            /* NULL: any */
	const char *code;              /* NULL: any */
	long long after_row, after_id; /* the cursor; 0, 0: from the start */
	int limit;
};

/** Reads a cursor "ROW:ID" (both whole numbers >= 0); RAP_EINVAL if it
 *  is not one. */
int rap_joberrors_cursor_parse(const char *s, long long *row, long long *id);

/**
 * A page of errors as JSON text (caller frees *json):
 * {"errors":[{"id","row","column","code","message","value"}...],
 *  "next":"ROW:ID"|null,"total":N}, total counting every error the
 * filters match.  RAP_ENOENT when the owner has no such job.
 */
int rap_joberrors_list(PGconn *db, const struct rap_joberrors_query *q, char **json, char *err);

/** RAP_OK when the owner has the job, RAP_ENOENT when not. */
int rap_joberrors_job_visible(PGconn *db, const char *owner, const char *job_id, char *err);

/**
 * Appends the next page of errors after the query's cursor to out as CSV
 * records (row,column,code,message,value; RFC 4180, CRLF) and moves the
 * cursor past them; *rows gets how many (fewer than the limit: the last
 * page).  The owner is not checked here: check it once with
 * rap_joberrors_job_visible.  RAP_ETOOBIG when out is full.
 */
int rap_joberrors_csv_page(PGconn *db, struct rap_joberrors_query *q, struct rap_buf *out,
			   int *rows, char *err);

/** The header record of the CSV report. */
#define RAP_JOBERRORS_CSV_HEADER "row,column,code,message,value\r\n"

#endif
