/*
 * xls.c: xls.validate, an Excel 97-2003 (BIFF) workbook through libfreexl
 * 1.0.6, then the same table as CSV (table.c).
 *
 * freexl opens by path only (no descriptor or memory API in 1.0.6), so
 * the input's scratch copy is opened as /proc/self/fd/N in run, after the
 * sandbox closed: rap-processor's own fopen (input_fopen.c) turns that
 * path into fdopen(dup(N)), with no openat, which the filter forbids.  A
 * path that cannot be opened makes the job fail "unsupported", saying so.
 * freexl converts text with iconv, whose code-page modules glibc loads
 * from the file system on first use: prepare opens the converters BIFF
 * uses and keeps them open, so they are loaded before the sandbox closes.
 *
 * freexl reads the whole workbook at open and keeps a cell table of the
 * size each sheet's DIMENSION record declares (about 16 bytes a cell, up
 * to 65536 x 256 in BIFF8: 256 MiB).  That memory is bounded only by the
 * child's memory limit: under it, an allocation freexl cannot make is a
 * "too_large" failure with that said, never a crash.
 *
 * Cells: integers and numbers as their shortest decimal form, text as
 * UTF-8, dates as YYYY-MM-DD, date-times as YYYY-MM-DDThh:mm:ss, times as
 * hh:mm:ss (freexl tells them apart by the cell's format).  Row numbers
 * are the sheet's from 1; rows without a value are blank and skipped;
 * trailing empty cells do not lengthen a row.
 */
#include "validate.h"
#include "table.h"

#include "rap/err.h"
#include "rap/mem.h"

#include <errno.h>
#include <freexl.h>
#include <iconv.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The converters freexl may ask iconv for, kept open from prepare on. */
static const char *const charsets[] = {
	"UTF-16LE", "CP1252", "CP1250", "CP1251", "CP1253", "CP1254",    "CP1255",
	"CP1256",   "CP1257", "CP1258", "CP437",  "CP850",  "CP852",     "CP866",
	"CP874",    "CP932",  "CP936",  "CP949",  "CP950",  "MACINTOSH",
};
#define N_CHARSETS (sizeof(charsets) / sizeof(charsets[0]))
static iconv_t converters[N_CHARSETS];

static int xls_validate_prepare(void)
{
	size_t i;

	for (i = 0; i < N_CHARSETS; i++)
		if (!converters[i])
			converters[i] = iconv_open("UTF-8", charsets[i]);
	return RAP_OK;
}

/* The shortest decimal form of x that reads back as x. */
static size_t number_text(double x, char *out, size_t len)
{
	int n = snprintf(out, len, "%.15g", x);

	if (strtod(out, NULL) != x)
		n = snprintf(out, len, "%.17g", x);
	return (size_t)n;
}

/* A cell as text into num (64 bytes) or pointing into freexl; its length. */
static size_t cell_text(const FreeXL_CellValue *v, char *num, const char **text)
{
	size_t n;

	*text = num;
	switch (v->type) {
	case FREEXL_CELL_INT:
		return (size_t)snprintf(num, 64, "%d", v->value.int_value);
	case FREEXL_CELL_DOUBLE:
		return number_text(v->value.double_value, num, 64);
	case FREEXL_CELL_TEXT:
	case FREEXL_CELL_SST_TEXT:
	case FREEXL_CELL_DATE:
	case FREEXL_CELL_TIME:
		*text = v->value.text_value ? v->value.text_value : "";
		return strlen(*text);
	case FREEXL_CELL_DATETIME:
		/* "YYYY-MM-DD hh:mm:ss" as ISO 8601's "T" form, like xlsx. */
		n = (size_t)snprintf(num, 64, "%s", v->value.text_value ? v->value.text_value : "");
		if (n > 10 && num[10] == ' ')
			num[10] = 'T';
		return n;
	default:
		return 0;
	}
}

static int read_rows(struct proc_ctx *c, const void *h, struct table *t, const struct table_opts *o,
		     long long *blank, char *err)
{
	struct table_rowbuf row;
	unsigned rows, r;
	unsigned short cols, k;
	FreeXL_CellValue v;
	const char *text;
	char num[64];
	size_t n;
	int result = RAP_OK, rc;

	if (freexl_worksheet_dimensions(h, &rows, &cols) != FREEXL_OK) {
		snprintf(err, RAP_ERRLEN, "the sheet's dimensions cannot be read");
		return RAP_EINVAL;
	}
	table_rowbuf_init(&row, (size_t)o->max_row_bytes);
	for (r = 0; r < rows && result == RAP_OK; r++) {
		for (k = 0; k < cols && k < CSV_MAX_FIELDS; k++) {
			rc = freexl_get_cell_value(h, r, k, &v);
			if (rc != FREEXL_OK) {
				snprintf(err, RAP_ERRLEN, "cell %u:%u cannot be read (freexl %d)",
					 r + 1, (unsigned)k + 1, rc);
				result = RAP_EINVAL;
				break;
			}
			n = cell_text(&v, num, &text);
			if (n)
				table_rowbuf_set(&row, k, text, n);
		}
		if (result != RAP_OK)
			break;
		if (row.n == 0 && !row.flags)
			(*blank)++;
		else
			result = table_rowbuf_emit(t, &row, r + 1, t->header ? 0 : cols);
		if (result == RAP_OK && r % 1024 == 0)
			result = proc_progress(c, "validate", -1, t->rows);
	}
	table_rowbuf_cleanup(&row);
	return result;
}

/* Selects the sheet the params name (a name, or a position from 1). */
static int select_sheet(const void *h, struct json_object *params, char *name, size_t len,
			unsigned *index, char *err)
{
	struct json_object *v = NULL;
	unsigned count = 0, i, want = 1;
	const char *s, *want_name = NULL;

	if (json_object_is_type(params, json_type_object))
		json_object_object_get_ex(params, "sheet", &v);
	if (json_object_is_type(v, json_type_string))
		want_name = json_object_get_string(v);
	else if (json_object_is_type(v, json_type_int) && json_object_get_int(v) >= 1)
		want = (unsigned)json_object_get_int(v);
	freexl_get_info(h, FREEXL_BIFF_SHEET_COUNT, &count);
	for (i = 0; i < count; i++) {
		if (freexl_get_worksheet_name(h, (unsigned short)i, &s) != FREEXL_OK)
			s = "";
		if (want_name ? strcmp(s, want_name) == 0 : i + 1 == want) {
			snprintf(name, len, "%s", s);
			*index = i + 1;
			return freexl_select_active_worksheet(h, (unsigned short)i) == FREEXL_OK
				       ? RAP_OK
				       : RAP_EINVAL;
		}
	}
	if (want_name)
		snprintf(err, RAP_ERRLEN, "the workbook has no sheet '%s'", want_name);
	else
		snprintf(err, RAP_ERRLEN, "the workbook has no sheet %u (it has %u)", want, count);
	return RAP_ENOENT;
}

/* Opens the input by its descriptor's path: RAP_OK, or a failure of the
 * job already reported (*failed). */
static int open_book(struct proc_ctx *c, const void **h, bool *failed)
{
	char path[64];
	unsigned info = 0;
	int rc, fd = proc_input_fd(c);

	*failed = true;
	*h = NULL;
	if (fd < 0)
		return proc_fail(c, "unsupported", "xls.validate needs its input as a file");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	errno = 0;
	rc = freexl_open(path, h);
	if (rc == FREEXL_FILE_NOT_FOUND)
		return proc_fail(c, "unsupported",
				 "the input cannot be opened by path in this sandbox (%s)",
				 strerror(errno));
	if (rc == FREEXL_INSUFFICIENT_MEMORY || (rc == FREEXL_OK && !*h))
		return proc_fail(c, "too_large",
				 "the workbook cannot be read within the memory limit (freexl "
				 "holds every cell a sheet declares)");
	if (rc != FREEXL_OK)
		return proc_fail(c, "invalid_input",
				 "not an xls (Excel 97-2003) workbook, or a damaged one (freexl "
				 "error %d)",
				 rc);
	if (freexl_get_info(*h, FREEXL_BIFF_PASSWORD, &info) == FREEXL_OK &&
	    info == FREEXL_BIFF_OBFUSCATED)
		return proc_fail(c, "unsupported", "the workbook is password-protected");
	*failed = false;
	return RAP_OK;
}

static int xls_validate_run(struct proc_ctx *c)
{
	struct json_object *params = proc_params(c), *res;
	struct table_opts o;
	struct table t;
	const void *h = NULL;
	char err[RAP_ERRLEN] = "", name[256] = "";
	unsigned index = 0, biff = 0;
	long long blank = 0;
	bool failed;
	int result;

	table_opts_parse(params, &o);
	if (table_init(&t, c, &o, err) != RAP_OK) {
		table_cleanup(&t);
		return proc_fail(c, "invalid_params", "%s", err);
	}
	result = open_book(c, &h, &failed);
	if (failed)
		goto out_close;
	result = select_sheet(h, params, name, sizeof(name), &index, err);
	if (result == RAP_OK)
		result = read_rows(c, h, &t, &o, &blank, err);
	if (result == RAP_EINVAL || result == RAP_ENOENT) {
		result = proc_fail(c, "invalid_input", "%s",
				   err[0] ? err : "the sheet cannot be read");
		goto out_close;
	}
	res = json_object_new_object();
	if (result == RAP_OK)
		result = table_finish(&t, res);
	if (result != RAP_OK) {
		json_object_put(res);
		goto out_close;
	}
	freexl_get_info(h, FREEXL_BIFF_VERSION, &biff);
	json_object_object_add(res, "sheet", json_object_new_string(name));
	json_object_object_add(res, "sheet_index", json_object_new_int((int)index));
	json_object_object_add(res, "encoding", json_object_new_string("UTF-8"));
	json_object_object_add(res, "rows_blank", json_object_new_int64(blank));
	json_object_object_add(res, "biff_version", json_object_new_int((int)biff));
	result = proc_succeed(c, res);
out_close:
	if (h)
		freexl_close(h);
	table_cleanup(&t);
	return result;
}

const struct processor proc_xls_validate = {
	.type = "xls.validate",
	.prepare = xls_validate_prepare,
	.run = xls_validate_run,
};
