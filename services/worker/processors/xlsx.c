/*
 * xlsx.c: xlsx.validate.  Opens the workbook (xlsx_book.c: the zip and
 * its limits, the sheet by name or position, styles, shared strings), then
 * streams the sheet's XML through expat, turning <row>s of <c>ells into
 * rows of text fields for the table (table.c), which checks, reports and
 * writes them exactly as for a CSV.
 *
 * Cells become the text the sheet holds: shared and inline strings as
 * they are (rich-text runs joined, phonetic runs left out), booleans as
 * true/false, error cells as their code (#N/A), numbers as written in the
 * file (the shortest form that reads back, as Excel writes them) except
 * under a date or time format, which become ISO 8601 (1900 or 1904 date
 * system).  Other display formats (thousands separators, percent, fixed
 * decimals) are not applied: the value is checked, not its looks.
 *
 * Rows and columns: a row's number is its r attribute (the sheet's own
 * numbering, so errors name the row a user sees); rows that are absent or
 * hold no value are blank and skipped.  A cell's column is its reference
 * (B7), or the next one; gaps are empty fields; empty cells at a row's
 * end do not lengthen it, and a row shorter than the header is padded.
 * Rows out of order, cells out of order or past column XFD (16384), or
 * past row 1048576 are a malformed sheet, refused as a whole: so a sheet
 * of a million empty columns costs nothing before it is refused.
 */
#include "validate.h"
#include "table.h"
#include "xlsx_book.h"

#include "rap/err.h"
#include "rap/mem.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sheet_st {
	struct xlsx_xml x; /* first: the XML helpers' part */
	struct proc_ctx *c;
	struct table *t;
	struct table_rowbuf row;
	long long row_no, last_row, blank;
	unsigned next_col, dim_cols;
	int runtime; /* an error of the runtime (not of the file) */
	/* the current cell */
	unsigned col;
	char type[12];
	unsigned style;
	bool in_v, in_is;
	int in_t, in_rph;
	char *cell;
	size_t cell_len, cell_max;
	bool cell_long;
};

/* Column letters ("AB") as an index from 0; *end past them.  -1 when
 * there are none or they pass XFD. */
static long column_of(const char *ref, const char **end)
{
	long col = 0;
	int letters = 0;

	while (*ref >= 'A' && *ref <= 'Z' && letters < 4) {
		col = col * 26 + (*ref++ - 'A' + 1);
		letters++;
	}
	*end = ref;
	if (!letters || (*ref >= 'A' && *ref <= 'Z'))
		return -1;
	return col - 1;
}

static void on_dimension(struct sheet_st *s, const char **attrs)
{
	const char *ref = xlsx_attr(attrs, "ref"), *last, *end;
	long col;

	if (!ref)
		return;
	last = strchr(ref, ':');
	col = column_of(last ? last + 1 : ref, &end);
	if (col >= 0 && col < CSV_MAX_FIELDS)
		s->dim_cols = (unsigned)col + 1;
}

static void on_row(struct sheet_st *s, const char **attrs)
{
	const char *r = xlsx_attr(attrs, "r");
	long long no = r ? strtoll(r, NULL, 10) : s->last_row + 1;

	if (no <= s->last_row || no > XLSX_MAX_ROWS) {
		xlsx_xml_fail(&s->x, RAP_EINVAL,
			      "row %lld of the sheet is out of order or past row %d", no,
			      XLSX_MAX_ROWS);
		return;
	}
	s->row_no = no;
	s->next_col = 0;
}

static void on_cell(struct sheet_st *s, const char **attrs)
{
	const char *r = xlsx_attr(attrs, "r"), *t = xlsx_attr(attrs, "t"),
		   *style = xlsx_attr(attrs, "s"), *end;
	long col = r ? column_of(r, &end) : (long)s->next_col;

	if (col < 0 || col >= CSV_MAX_FIELDS) {
		xlsx_xml_fail(
			&s->x, RAP_EINVAL,
			"a cell of row %lld (%.20s) is past column XFD, the last of %d a sheet "
			"may have",
			s->row_no, r ? r : "without a reference", CSV_MAX_FIELDS);
		return;
	}
	if ((unsigned)col < s->next_col) {
		xlsx_xml_fail(&s->x, RAP_EINVAL, "the cells of row %lld are out of order (%.20s)",
			      s->row_no, r ? r : "?");
		return;
	}
	s->col = (unsigned)col;
	s->next_col = (unsigned)col + 1;
	snprintf(s->type, sizeof(s->type), "%s", t ? t : "n");
	s->style = style ? (unsigned)strtoul(style, NULL, 10) : 0;
	s->cell_len = 0;
	s->cell_long = false;
}

static void sheet_start(void *ud, const char *name, const char **attrs)
{
	struct sheet_st *s = ud;

	if (strcmp(name, "c") == 0)
		on_cell(s, attrs);
	else if (strcmp(name, "v") == 0)
		s->in_v = true;
	else if (strcmp(name, "is") == 0)
		s->in_is = true;
	else if (strcmp(name, "t") == 0)
		s->in_t++;
	else if (strcmp(name, "rPh") == 0)
		s->in_rph++;
	else if (strcmp(name, "row") == 0)
		on_row(s, attrs);
	else if (strcmp(name, "dimension") == 0)
		on_dimension(s, attrs);
}

static void sheet_text(void *ud, const char *text, int len)
{
	struct sheet_st *s = ud;
	size_t n = (size_t)len;

	if (!s->in_v && !(s->in_is && s->in_t && !s->in_rph))
		return;
	if (s->cell_len + n > s->cell_max) {
		s->cell_long = true;
		n = s->cell_max - s->cell_len;
	}
	memcpy(s->cell + s->cell_len, text, n);
	s->cell_len += n;
}

/* The cell's text as the table gets it. */
static void end_cell(struct sheet_st *s)
{
	struct xlsx_book *b = s->x.book;
	const char *text = s->cell;
	size_t n = s->cell_len;
	char num[40];

	if (s->cell_long)
		s->row.flags |= CSV_ROW_TOO_LONG;
	if (strcmp(s->type, "s") == 0) {
		char *endp;
		unsigned long i;

		s->cell[s->cell_len] = '\0';
		i = strtoul(s->cell, &endp, 10);
		text = endp != s->cell ? xlsx_book_string(b, i, &n) : NULL;
		if (!text) {
			xlsx_xml_fail(&s->x, RAP_EINVAL,
				      "a cell of row %lld names shared string '%.20s', which the "
				      "workbook does not have (it has %u)",
				      s->row_no, s->cell, b->n_sst);
			return;
		}
	} else if (strcmp(s->type, "b") == 0) {
		text = n == 1 && s->cell[0] == '1' ? "true" : "false";
		n = n ? strlen(text) : 0;
	} else if (strcmp(s->type, "n") == 0 && n && s->style < b->n_xf &&
		   b->xf_kind[s->style] != XLSX_NUMBER && n < 32) {
		s->cell[n] = '\0';
		n = xlsx_book_date(b, s->cell, (enum xlsx_kind)b->xf_kind[s->style], num);
		text = num;
	}
	if (n)
		table_rowbuf_set(&s->row, s->col, text, n);
}

static void sheet_end(void *ud, const char *name)
{
	struct sheet_st *s = ud;
	int result;

	if (strcmp(name, "c") == 0) {
		end_cell(s);
	} else if (strcmp(name, "v") == 0) {
		s->in_v = false;
	} else if (strcmp(name, "is") == 0) {
		s->in_is = false;
	} else if (strcmp(name, "t") == 0) {
		s->in_t--;
	} else if (strcmp(name, "rPh") == 0) {
		s->in_rph--;
	} else if (strcmp(name, "row") == 0) {
		s->last_row = s->row_no;
		if (s->row.n == 0 && !s->row.flags) {
			s->blank++;
			return;
		}
		result =
			table_rowbuf_emit(s->t, &s->row, s->row_no, s->t->header ? 0 : s->dim_cols);
		if (result != RAP_OK) {
			s->runtime = result;
			xlsx_xml_fail(&s->x, result, NULL);
		}
	}
}

static int sheet_progress(void *ud)
{
	struct sheet_st *s = ud;

	return proc_progress(s->c, "validate", s->x.book->inflated, s->t->rows);
}

/* The sheet the params ask for: a name, or a position from 1 (default). */
static const char *param_sheet(struct json_object *params, int *index)
{
	struct json_object *v;

	*index = 1;
	if (!json_object_is_type(params, json_type_object) ||
	    !json_object_object_get_ex(params, "sheet", &v))
		return NULL;
	if (json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	if (json_object_is_type(v, json_type_int) && json_object_get_int(v) >= 1)
		*index = json_object_get_int(v);
	return NULL;
}

/* A failure of the file as the job's outcome; other errors pass up. */
static int file_failure(struct proc_ctx *c, int result, const char *err)
{
	switch (result) {
	case RAP_EINVAL:
	case RAP_ENOENT:
		return proc_fail(c, "invalid_input", "%s", err);
	case RAP_ETOOBIG:
		return proc_fail(c, "too_large", "%s", err);
	default:
		return result;
	}
}

/* Streams the sheet into the table: RAP_OK, a failure of the file (b->err
 * says why; *runtime false), or an error of the runtime (*runtime true). */
static int stream_sheet(struct proc_ctx *c, struct xlsx_book *b, struct table *t,
			const struct table_opts *o, long long *blank, bool *runtime)
{
	struct sheet_st s = { .c = c, .t = t };
	int result;

	s.cell_max = (size_t)o->max_row_bytes;
	s.cell = rap_malloc(s.cell_max + 1);
	table_rowbuf_init(&s.row, (size_t)o->max_row_bytes);
	result = xlsx_xml_parse(b, b->sheet_entry, XLSX_MAX_ENTRY, &s, sheet_start, sheet_end,
				sheet_text, sheet_progress);
	if (result == RAP_ENOENT)
		snprintf(b->err, sizeof(b->err), "the sheet's part %s is not in the file",
			 b->sheet_entry);
	if (s.runtime)
		result = s.runtime;
	*runtime = s.runtime != RAP_OK;
	*blank = s.blank;
	table_rowbuf_cleanup(&s.row);
	free(s.cell);
	return result;
}

static int xlsx_validate_run(struct proc_ctx *c)
{
	struct json_object *params = proc_params(c), *res;
	struct table_opts o;
	struct table t;
	struct xlsx_book b;
	const char *sheet;
	char err[RAP_ERRLEN];
	long long blank = 0;
	bool runtime = false;
	int index, result, fd = proc_input_fd(c);

	table_opts_parse(params, &o);
	if (table_init(&t, c, &o, err) != RAP_OK) {
		table_cleanup(&t);
		return proc_fail(c, "invalid_params", "%s", err);
	}
	if (fd < 0) {
		table_cleanup(&t);
		return proc_fail(c, "unsupported", "xlsx.validate needs its input as a file");
	}
	sheet = param_sheet(params, &index);
	result = xlsx_book_open(&b, fd, sheet, index);
	if (result != RAP_OK) {
		result = file_failure(c, result, b.err);
		goto out_close;
	}
	result = stream_sheet(c, &b, &t, &o, &blank, &runtime);
	if (result != RAP_OK) {
		if (!runtime)
			result = file_failure(c, result, b.err);
		goto out_close;
	}
	res = json_object_new_object();
	result = table_finish(&t, res);
	if (result != RAP_OK) {
		json_object_put(res);
		goto out_close;
	}
	json_object_object_add(res, "sheet", json_object_new_string(b.sheet_name));
	json_object_object_add(res, "sheet_index", json_object_new_int(b.sheet_index));
	json_object_object_add(res, "encoding", json_object_new_string("UTF-8"));
	json_object_object_add(res, "rows_blank", json_object_new_int64(blank));
	json_object_object_add(res, "date_system", json_object_new_int(b.date1904 ? 1904 : 1900));
	json_object_object_add(res, "shared_strings", json_object_new_int64(b.n_sst));
	result = proc_succeed(c, res);
out_close:
	xlsx_book_close(&b);
	table_cleanup(&t);
	return result;
}

const struct processor proc_xlsx_validate = {
	.type = "xlsx.validate",
	.prepare = NULL,
	.run = xlsx_validate_run,
};
