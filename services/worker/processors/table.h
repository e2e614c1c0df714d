#ifndef RAP_TABLE_H
#define RAP_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "csv_parse.h"
#include "csv_schema.h"

struct json_object;
struct proc_ctx;

/*
 * table: what csv.validate, xlsx.validate and xls.validate share once a
 * file is rows of text fields (struct csv_row): the header and how the
 * schema's columns map to fields, the structural checks of a row (too
 * long, unterminated, ragged, quotes, UTF-8), the schema's checks, row
 * errors with their cap, the cleaned output of the valid rows, the
 * counters, and the result fields they all report
 * (proto/schemas/validate-result.json).
 *
 * The output, valid.csv, is RFC 4180 whatever the input was: ',' between
 * fields, CRLF after each record, no BOM, a field quoted only when it
 * holds ',', '"', CR or LF (quotes doubled); the header first when the
 * input has one.
 */

/** Errors a processor sends at most (the params schema's max_errors
 *  maximum); the worker stores up to its own cap and counts the rest. */
#define TABLE_SEND_MAX 1000000
/** Bytes of a value that go with its error. */
#define TABLE_EXCERPT 200
/** The output's buffer: written to the worker a buffer at a time. */
#define TABLE_OUT_BUF (256 * 1024)

/** The params every validate job takes; absent or malformed ones take
 *  their defaults (params are validated before a job is created). */
struct table_opts {
	bool header;                 /* default true */
	bool output;                 /* default true */
	long long max_errors;        /* errors to send; default TABLE_SEND_MAX */
	long long max_unique;        /* max_unique_values; 0: the default */
	long long max_row_bytes;     /* default 1 MiB */
	struct json_object *columns; /* borrowed from the params */
};

void table_opts_parse(struct json_object *params, struct table_opts *o);

struct table {
	struct proc_ctx *c;
	struct csv_schema *schema; /* NULL: structural checks only */
	bool header, header_done, output, out_open;
	long long expected; /* fields per record; -1 until the first */
	int *map;           /* schema column -> field index; -1: absent */
	char **names;       /* the header's fields (valid UTF-8 ones), for messages */
	unsigned n_names;
	unsigned char *bad; /* per field of the current row: not UTF-8 */
	long long rows, valid, failed, errors, errors_sent, max_errors;
	char *out;
	size_t out_len;
	/* Input bytes up to the end of the current row, for progress; -1 when
	 * the source cannot say (then the bytes read so far are reported). */
	long long pos;
};

/** Compiles the schema of o; RAP_EINVAL with a message in err (RAP_ERRLEN)
 *  for columns that cannot be compiled. */
int table_init(struct table *t, struct proc_ctx *c, const struct table_opts *o, char *err);
void table_cleanup(struct table *t);

/** Takes one record: the header, or a data row to check (and to write
 *  when valid).  A negative rap_err when the worker is gone. */
int table_row(struct table *t, const struct csv_row *row);

/** Counts an error of row (column may be NULL), and sends it while under
 *  the cap.  value is excerpted and made valid UTF-8. */
int table_error(struct table *t, long long row, const char *column, const char *code,
		const char *value, size_t len, const char *message);

/** Ends the output and adds the counters to result (a json object):
 *  rows_processed, rows_valid, rows_failed, errors, errors_reported,
 *  has_header, columns, column_names, output, unique_incomplete. */
int table_finish(struct table *t, struct json_object *result);

/*
 * A row being assembled cell by cell (the spreadsheets): fields set by
 * column, gaps left empty, at most max bytes of text (past it the row is
 * flagged CSV_ROW_TOO_LONG) and CSV_MAX_FIELDS fields.
 */
struct table_rowbuf {
	char *data;
	size_t len, cap, max;
	uint32_t *ends; /* CSV_MAX_FIELDS */
	unsigned n;
	unsigned flags;
};

void table_rowbuf_init(struct table_rowbuf *r, size_t max);
void table_rowbuf_cleanup(struct table_rowbuf *r);
/** Sets field col (at least the fields so far, below CSV_MAX_FIELDS) to
 *  s; the fields between stay empty. */
void table_rowbuf_set(struct table_rowbuf *r, unsigned col, const char *s, size_t n);
/** Hands the row over as record no, padded with empty fields to the
 *  table's width (or to pad_to while that is unknown), and empties r. */
int table_rowbuf_emit(struct table *t, struct table_rowbuf *r, long long no, unsigned pad_to);

/** Copies at most max bytes of s to out (3 * max + 1 bytes) as valid
 *  UTF-8: cut at a character, invalid bytes as U+FFFD.  Its length. */
size_t table_excerpt(const char *s, size_t n, size_t max, char *out);

#endif
