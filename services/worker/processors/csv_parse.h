#ifndef RAP_CSV_PARSE_H
#define RAP_CSV_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * csv_parse: a pure, streaming RFC 4180 reader.  Bytes go in, in chunks of
 * any size; whole records come out to a callback, one at a time, with their
 * fields unquoted into one buffer of at most max_row bytes.  Nothing else
 * grows: a longer record is read to its end (quotes still honoured, so an
 * embedded newline does not end it) without being kept, and handed over
 * flagged CSV_ROW_TOO_LONG with the first max_row bytes of its fields.
 *
 * Records end at LF, CRLF or a lone CR (RFC 4180 says CRLF; files from
 * Unix, Windows and old Macs all end lines one of these ways).  A line
 * that holds nothing is a blank record: counted in the numbering, never
 * handed over (csv_parser.blank).  Records are numbered from 1 in input
 * order (a record with an embedded newline is one record); a header, when
 * the caller has one, is record 1.  A UTF-8 byte order mark at the very
 * start is skipped (csv_parser.bom says so).
 */

/** The most fields one record may have (Excel's column limit). */
#define CSV_MAX_FIELDS 16384

/** What was wrong with a record, beside its fields. */
enum csv_row_flag {
	CSV_ROW_TOO_LONG = 1,        /* over max_row bytes: fields cut */
	CSV_ROW_TOO_MANY_FIELDS = 2, /* over CSV_MAX_FIELDS fields: the rest dropped */
	CSV_ROW_BAD_QUOTE = 4,       /* a '"' inside an unquoted field, or
				        text after a closing quote (kept as is) */
	CSV_ROW_UNTERMINATED = 8,    /* the input ended inside a quoted field */
};

/** One record: field i is data[start(i) .. ends[i]), start(0) = 0 and
 *  start(i) = ends[i - 1].  Valid only during the callback. */
struct csv_row {
	long long no;     /* record number, from 1 */
	unsigned n;       /* fields kept */
	unsigned flags;   /* enum csv_row_flag */
	const char *data; /* the fields' bytes, unquoted, one after another */
	const uint32_t *ends;
	long long offset; /* the record's first byte in the input (after a BOM) */
	long long bytes;  /* its raw length, quotes and terminator included */
};

static inline const char *csv_field(const struct csv_row *r, unsigned i, size_t *len)
{
	uint32_t start = i ? r->ends[i - 1] : 0;

	*len = r->ends[i] - start;
	return r->data + start;
}

/** Takes one record; a negative rap_err stops the parser with it. */
typedef int (*csv_row_fn)(void *ctx, const struct csv_row *row);

struct csv_parser {
	unsigned char cls[256]; /* byte classes of the unquoted scan */
	char delim;
	int state;
	size_t max_row;
	char *buf; /* the record's fields, up to max_row bytes */
	size_t len, cap;
	uint32_t *ends; /* up to CSV_MAX_FIELDS */
	unsigned n, ends_cap;
	unsigned flags;
	unsigned bom_have; /* bytes of a BOM seen at the start */
	bool started;      /* past the BOM check */
	bool bom;          /* the input started with a UTF-8 BOM */
	long long offset;  /* input bytes consumed (the BOM not counted) */
	long long row_start;
	long long rows;  /* records so far, blank ones included */
	long long blank; /* blank records */
};

/** Sets p up for delimiter delim (',', ';', '\t' or '|' in practice) and
 *  records of at most max_row bytes (at least 1). */
void csv_parse_init(struct csv_parser *p, char delim, size_t max_row);
void csv_parse_cleanup(struct csv_parser *p);

/** Reads n bytes, calling fn for every record they complete.  RAP_OK, or
 *  the first negative value fn returned (the parser must not be fed again). */
int csv_parse_feed(struct csv_parser *p, const char *s, size_t n, csv_row_fn fn, void *ctx);

/** Ends the input: hands over a last record that had no terminator.  RAP_OK
 *  or fn's error. */
int csv_parse_finish(struct csv_parser *p, csv_row_fn fn, void *ctx);

/**
 * Guesses the delimiter from the start of a file (s, n bytes; eof when
 * that is all of it): the one of ',', ';', '\t' and '|' found outside
 * quotes the same number of times on the most of the first records (at
 * most 20; an unfinished last one counts only at eof), preferring more
 * occurrences, then that order.  ',' when none occurs.
 */
char csv_parse_detect(const char *s, size_t n, bool eof);

/** True when s[0..n) is well-formed UTF-8 (no overlong forms, surrogates
 *  or code points past U+10FFFF). */
bool csv_utf8_valid(const char *s, size_t n);

#endif
