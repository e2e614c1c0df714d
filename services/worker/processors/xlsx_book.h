#ifndef RAP_XLSX_BOOK_H
#define RAP_XLSX_BOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rap/err.h"

/*
 * xlsx_book: an xlsx workbook (Office Open XML: a zip of XML parts) opened
 * for reading one sheet as a stream: the zip's entries checked against
 * the limits below before a byte is inflated, every XML part parsed by
 * expat with DOCTYPEs refused (so no entity is ever declared or expanded)
 * and the billion-laughs guard of expat 2.4+ on as well, the sheet found
 * by name or position through xl/workbook.xml and its relationships, the
 * cell styles reduced to "is this a date/time format", and the shared
 * strings held in one bounded buffer.
 *
 * Failures fill err with a message for the user and return RAP_EINVAL
 * (the file is not a well-formed xlsx), RAP_ETOOBIG (it passes a limit)
 * or RAP_ENOENT (no such sheet).
 */

/** An entry whose inflated size is over this is refused. */
#define XLSX_MAX_ENTRY (2LL * 1024 * 1024 * 1024)
/** Parts other than sheets (workbook, relationships, styles). */
#define XLSX_MAX_PART (16LL * 1024 * 1024)
/** The most an entry may inflate per compressed byte, once it is larger
 *  than XLSX_RATIO_FLOOR (a sheet's XML inflates 5 to 30 times). */
#define XLSX_MAX_RATIO 200
#define XLSX_RATIO_FLOOR (4LL * 1024 * 1024)
/** The shared-string table: strings and bytes. */
#define XLSX_SST_MAX_STRINGS (2 * 1024 * 1024)
#define XLSX_SST_MAX_BYTES (32 * 1024 * 1024)
/** Sheets, cell formats (Excel allows 64000) and custom number formats. */
#define XLSX_MAX_SHEETS 4096
#define XLSX_MAX_XFS 65536
#define XLSX_MAX_NUMFMTS 4096
/** Rows of a sheet (Excel's limit). */
#define XLSX_MAX_ROWS 1048576

/** How a cell's number is shown. */
enum xlsx_kind {
	XLSX_NUMBER,
	XLSX_DATE,
	XLSX_DATETIME,
	XLSX_TIME
};

struct zip;

struct xlsx_book {
	struct zip *zip;
	bool date1904;
	char *sheet_name;       /* the chosen sheet */
	int sheet_index;        /* from 1 */
	char *sheet_entry;      /* its zip entry */
	unsigned char *xf_kind; /* enum xlsx_kind per cell format */
	unsigned n_xf;
	char *sst; /* the shared strings, one after another */
	uint32_t *sst_end;
	unsigned n_sst;
	long long inflated; /* bytes of XML read from the current entry */
	char err[RAP_ERRLEN];
};

/**
 * Opens the workbook in fd (dup'ed: fd stays the caller's) and finds the
 * sheet: by name when sheet_name is not NULL, else at sheet_index (from
 * 1).  Reads the styles and shared strings.  Release b with
 * xlsx_book_close whatever the result.
 */
int xlsx_book_open(struct xlsx_book *b, int fd, const char *sheet_name, int sheet_index);
void xlsx_book_close(struct xlsx_book *b);

/** Shared string i, or NULL when the table has no such entry. */
const char *xlsx_book_string(const struct xlsx_book *b, unsigned long i, size_t *len);

/** Writes a cell's number v, shown in the way of kind, into out (at least
 *  32 bytes): dates in ISO 8601 (YYYY-MM-DD, YYYY-MM-DDThh:mm:ss[.fff],
 *  hh:mm:ss).  A number outside the years 1900-9999 is left as text. */
size_t xlsx_book_date(const struct xlsx_book *b, const char *v, enum xlsx_kind kind, char *out);

/** The kind of a number format's code ("yyyy-mm-dd", "0.00", ...). */
enum xlsx_kind xlsx_book_format_kind(const char *code);

/*
 * Streaming an XML part: a handler's state starts with struct xlsx_xml;
 * handlers stop the parse with xlsx_xml_fail.  Element and attribute
 * names are local (the namespace cut off).
 */
struct xlsx_xml {
	void *parser; /* XML_Parser */
	struct xlsx_book *book;
	int result;
	int depth;
};

typedef void (*xlsx_start_fn)(void *st, const char *name, const char **attrs);
typedef void (*xlsx_end_fn)(void *st, const char *name);
typedef void (*xlsx_text_fn)(void *st, const char *s, int len);

/** Parses entry (at most max bytes inflated); st begins with a struct
 *  xlsx_xml.  progress, when not NULL, is called after each chunk. */
int xlsx_xml_parse(struct xlsx_book *b, const char *entry, long long max, void *st,
		   xlsx_start_fn start, xlsx_end_fn end, xlsx_text_fn text,
		   int (*progress)(void *st));
/** Stops the parse with result (a negative rap_err) and a message. */
void xlsx_xml_fail(struct xlsx_xml *x, int result, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/** The local name of an element or attribute. */
const char *xlsx_local(const char *name);
/** An attribute's value by local name, or NULL. */
const char *xlsx_attr(const char **attrs, const char *local);

#endif
