/*
 * table.c: rows of text fields checked, counted, reported and written
 * (table.h), the part of csv.validate, xlsx.validate and xls.validate that
 * comes after their readers.
 *
 * A record is the header (the first, when the params say there is one) or
 * a data row.  The header names the fields; schema columns are matched to
 * them by name (exact, the first match), and a schema column the header
 * lacks is one missing_column error on the header's row, after which it
 * is not checked.  Without a header, schema column i is field i.
 *
 * A data row fails on its first structural error (row_too_long,
 * too_many_columns, unterminated_quote, ragged_row: its fields cannot be
 * trusted, so nothing more is said about it); otherwise each of its
 * problems is one error: bad_quote for the row, invalid_utf8 for a field,
 * then a schema column's first failed check (csv_schema_check).  A row
 * without errors is valid and written to valid.csv.  The number of fields
 * every row must have is the header's, or the first data row's.
 *
 * Errors go to the worker while fewer than max_errors were sent; past
 * that they are only counted (errors vs errors_reported in the result).
 * The column of an error is the schema column's name, else the header's
 * name for the field, else the field's position from 1.
 *
 * Memory: the header's names (one record, bounded by the reader), a flag
 * per field, the schema (its unique sets bounded by csv_schema) and the
 * output buffer.  Nothing grows with the number of rows.
 */
#include "table.h"
#include "processor.h"

#include "rap/err.h"
#include "rap/mem.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_ROW (1024 * 1024)

static bool opt_bool(struct json_object *params, const char *key, bool dflt)
{
	struct json_object *v;

	if (!json_object_object_get_ex(params, key, &v) ||
	    !json_object_is_type(v, json_type_boolean))
		return dflt;
	return json_object_get_boolean(v);
}

static long long opt_int(struct json_object *params, const char *key, long long min, long long max,
			 long long dflt)
{
	struct json_object *v;
	long long x;

	if (!json_object_object_get_ex(params, key, &v) || !json_object_is_type(v, json_type_int))
		return dflt;
	x = json_object_get_int64(v);
	return x < min ? min : x > max ? max : x;
}

void table_opts_parse(struct json_object *params, struct table_opts *o)
{
	struct json_object *v;

	memset(o, 0, sizeof(*o));
	if (!json_object_is_type(params, json_type_object))
		params = NULL;
	o->header = opt_bool(params, "header", true);
	o->output = opt_bool(params, "output", true);
	o->max_errors = opt_int(params, "max_errors", 0, TABLE_SEND_MAX, TABLE_SEND_MAX);
	o->max_unique = opt_int(params, "max_unique_values", 1, CSV_UNIQUE_BUDGET, 0);
	o->max_row_bytes = opt_int(params, "max_row_bytes", 64, 16 * 1024 * 1024, DEFAULT_MAX_ROW);
	if (params && json_object_object_get_ex(params, "columns", &v))
		o->columns = v;
}

int table_init(struct table *t, struct proc_ctx *c, const struct table_opts *o, char *err)
{
	size_t i;
	int result;

	memset(t, 0, sizeof(*t));
	t->c = c;
	t->header = o->header;
	t->output = o->output;
	t->max_errors = o->max_errors;
	t->expected = -1;
	t->pos = -1;
	result = csv_schema_compile(o->columns, o->max_unique, &t->schema, err);
	if (result != RAP_OK)
		return result;
	if (t->schema) {
		t->map = rap_malloc(t->schema->n * sizeof(*t->map));
		for (i = 0; i < t->schema->n; i++)
			t->map[i] = t->header ? -1 : (int)i;
	}
	t->bad = rap_calloc(CSV_MAX_FIELDS, 1);
	if (t->output)
		t->out = rap_malloc(TABLE_OUT_BUF);
	return RAP_OK;
}

void table_cleanup(struct table *t)
{
	unsigned i;

	for (i = 0; i < t->n_names; i++)
		free(t->names[i]);
	free(t->names);
	free(t->map);
	free(t->bad);
	free(t->out);
	csv_schema_free(t->schema);
	memset(t, 0, sizeof(*t));
}

size_t table_excerpt(const char *s, size_t n, size_t max, char *out)
{
	size_t i = 0, o = 0;

	while (i < n && i < max) {
		const unsigned char c = (unsigned char)s[i];
		size_t w = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;

		if (i + w > max)
			break;
		if (i + w <= n && csv_utf8_valid(s + i, w)) {
			memcpy(out + o, s + i, w);
			o += w;
			i += w;
		} else {
			memcpy(out + o, "\xEF\xBF\xBD", 3);
			o += 3;
			i++;
		}
	}
	out[o] = '\0';
	return o;
}

int table_error(struct table *t, long long row, const char *column, const char *code,
		const char *value, size_t len, const char *message)
{
	char excerpt[3 * TABLE_EXCERPT + 1];
	size_t n;

	t->errors++;
	if (t->errors_sent >= t->max_errors)
		return RAP_OK;
	t->errors_sent++;
	n = value ? table_excerpt(value, len, TABLE_EXCERPT, excerpt) : 0;
	return proc_row_error(t->c, row, column, code, message, value ? excerpt : NULL, n);
}

/* The name errors give field f: the header's, or its position. */
static const char *field_name(const struct table *t, unsigned f, char pos[16])
{
	if (f < t->n_names && t->names[f])
		return t->names[f];
	snprintf(pos, 16, "%u", f + 1);
	return pos;
}

/* --- the output ----------------------------------------------------------- */

static int out_flush(struct table *t)
{
	int result = RAP_OK;

	if (!t->out_open) {
		result = proc_output_begin(t->c, "valid.csv", "text/csv");
		if (result != RAP_OK)
			return result;
		t->out_open = true;
	}
	if (t->out_len)
		result = proc_output_write(t->c, t->out, t->out_len);
	t->out_len = 0;
	return result;
}

static int out_bytes(struct table *t, const char *s, size_t n)
{
	int result;

	while (t->out_len + n > TABLE_OUT_BUF) {
		size_t room = TABLE_OUT_BUF - t->out_len;

		memcpy(t->out + t->out_len, s, room);
		t->out_len += room;
		s += room;
		n -= room;
		result = out_flush(t);
		if (result != RAP_OK)
			return result;
	}
	memcpy(t->out + t->out_len, s, n);
	t->out_len += n;
	return RAP_OK;
}

/* The bytes that make a field need quotes in RFC 4180 output. */
static const unsigned char quote_cls[256] = { [','] = 1, ['"'] = 1, ['\r'] = 1, ['\n'] = 1 };

static bool needs_quotes(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	for (; i + 4 <= n; i += 4)
		if (quote_cls[s[i]] | quote_cls[s[i + 1]] | quote_cls[s[i + 2]] |
		    quote_cls[s[i + 3]])
			return true;
	for (; i < n; i++)
		if (quote_cls[s[i]])
			return true;
	return false;
}

/* Writes field s at o, quoted when it must be; returns the end.  Room for
 * 2 * n + 2 bytes is the caller's. */
static char *put_field(char *o, const char *s, size_t n)
{
	size_t i;

	if (!needs_quotes(s, n)) {
		memcpy(o, s, n);
		return o + n;
	}
	*o++ = '"';
	for (i = 0; i < n; i++) {
		if (s[i] == '"')
			*o++ = '"';
		*o++ = s[i];
	}
	*o++ = '"';
	return o;
}

/* A record whose worst case (every byte a quote) does not fit in the
 * buffer, written a field at a time through a scratch copy. */
static int out_row_large(struct table *t, const struct csv_row *row)
{
	const char *f;
	char *tmp = NULL;
	size_t n, cap = 0;
	unsigned i;
	int result = RAP_OK;

	for (i = 0; i < row->n && result == RAP_OK; i++) {
		f = csv_field(row, i, &n);
		if (2 * n + 3 > cap) {
			cap = 2 * n + 3;
			tmp = rap_realloc(tmp, cap);
		}
		tmp[0] = ',';
		result = out_bytes(t, tmp + !i, (size_t)(put_field(tmp + 1, f, n) - tmp) - !i);
	}
	free(tmp);
	return result == RAP_OK ? out_bytes(t, "\r\n", 2) : result;
}

static int out_row(struct table *t, const struct csv_row *row)
{
	size_t total = row->n ? row->ends[row->n - 1] : 0, worst = 2 * total + 3 * row->n + 2, n;
	const char *f;
	char *o;
	unsigned i;
	int result;

	if (!t->output)
		return RAP_OK;
	if (worst > TABLE_OUT_BUF)
		return out_row_large(t, row);
	if (t->out_len + worst > TABLE_OUT_BUF) {
		result = out_flush(t);
		if (result != RAP_OK)
			return result;
	}
	o = t->out + t->out_len;
	for (i = 0; i < row->n; i++) {
		if (i)
			*o++ = ',';
		f = csv_field(row, i, &n);
		o = put_field(o, f, n);
	}
	*o++ = '\r';
	*o++ = '\n';
	t->out_len = (size_t)(o - t->out);
	return RAP_OK;
}

/* --- rows --------------------------------------------------------------- */

static bool all_ascii(const char *s, size_t n)
{
	size_t i = 0;
	uint64_t w, acc = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		acc |= w;
	}
	for (; i < n; i++)
		acc |= (unsigned char)s[i];
	return !(acc & 0x8080808080808080ull);
}

/* Flags the fields that are not UTF-8, reporting each; the error count. */
static int check_utf8(struct table *t, const struct csv_row *row, int *failed)
{
	char pos[16];
	const char *f;
	size_t n;
	unsigned i;
	int result = RAP_OK;

	if (row->n == 0 || all_ascii(row->data, row->ends[row->n - 1])) {
		memset(t->bad, 0, row->n);
		return RAP_OK;
	}
	for (i = 0; i < row->n && result == RAP_OK; i++) {
		f = csv_field(row, i, &n);
		t->bad[i] = !csv_utf8_valid(f, n);
		if (!t->bad[i])
			continue;
		(*failed)++;
		result = table_error(t, row->no, field_name(t, i, pos), "invalid_utf8", f, n,
				     "the value is not valid UTF-8");
	}
	return result;
}

static int take_header(struct table *t, const struct csv_row *row)
{
	unsigned i;
	size_t j, n;
	const char *f;
	int result = RAP_OK, failed = 0;

	t->header_done = true;
	t->expected = row->n;
	result = check_utf8(t, row, &failed);
	t->names = rap_calloc(row->n ? row->n : 1, sizeof(*t->names));
	t->n_names = row->n;
	for (i = 0; i < row->n; i++) {
		f = csv_field(row, i, &n);
		if (!t->bad[i])
			t->names[i] = rap_strndup(f, n);
	}
	for (j = 0; t->schema && j < t->schema->n && result == RAP_OK; j++) {
		const char *name = t->schema->cols[j].name;

		for (i = 0; i < row->n && t->map[j] < 0; i++)
			if (t->names[i] && strcmp(t->names[i], name) == 0)
				t->map[j] = (int)i;
		if (t->map[j] < 0)
			result = table_error(t, row->no, name, "missing_column", NULL, 0,
					     "the header has no column of this name");
	}
	if (result == RAP_OK)
		result = out_row(t, row);
	return result;
}

/* The errors that make a whole row untrustworthy: RAP_AGAIN after one. */
static int check_structure(struct table *t, const struct csv_row *row)
{
	char msg[128];
	const char *code = NULL;
	size_t n = row->n ? row->ends[row->n - 1] : 0;
	int result;

	if (row->flags & CSV_ROW_TOO_LONG) {
		code = "row_too_long";
		snprintf(msg, sizeof(msg), "the row is longer than max_row_bytes (%lld bytes)",
			 row->bytes);
	} else if (row->flags & CSV_ROW_TOO_MANY_FIELDS) {
		code = "too_many_columns";
		snprintf(msg, sizeof(msg), "the row has more than %d fields", CSV_MAX_FIELDS);
	} else if (row->flags & CSV_ROW_UNTERMINATED) {
		code = "unterminated_quote";
		snprintf(msg, sizeof(msg), "a quoted field is not closed before the end of input");
	} else if (t->expected >= 0 && row->n != t->expected) {
		code = "ragged_row";
		snprintf(msg, sizeof(msg), "%u fields where %lld are expected", row->n,
			 t->expected);
	}
	if (!code)
		return RAP_OK;
	result = table_error(t, row->no, NULL, code, row->data, n, msg);
	return result == RAP_OK ? RAP_AGAIN : result;
}

static int check_schema(struct table *t, const struct csv_row *row, int *failed)
{
	char msg[CSV_MSGLEN];
	const char *f, *code;
	size_t j, n;
	int result = RAP_OK;

	for (j = 0; j < t->schema->n && result == RAP_OK; j++) {
		struct csv_column *col = &t->schema->cols[j];
		int k = t->map[j];

		if (k < 0 || (unsigned)k >= row->n || t->bad[k])
			continue;
		f = csv_field(row, (unsigned)k, &n);
		code = csv_schema_check(t->schema, col, f, n, msg);
		if (!code)
			continue;
		(*failed)++;
		result = table_error(t, row->no, col->name, code, f, n, msg);
	}
	return result;
}

/* Without a header, schema columns past the first row's fields. */
static int report_absent(struct table *t, const struct csv_row *row)
{
	size_t j;
	int result = RAP_OK;

	for (j = 0; t->schema && j < t->schema->n && result == RAP_OK; j++) {
		if ((unsigned)t->map[j] < row->n)
			continue;
		t->map[j] = -1;
		result = table_error(t, row->no, t->schema->cols[j].name, "missing_column", NULL, 0,
				     "the rows have no field for this column");
	}
	return result;
}

int table_row(struct table *t, const struct csv_row *row)
{
	int result, failed = 0;

	if (t->header && !t->header_done) {
		if (!(row->flags &
		      (CSV_ROW_TOO_LONG | CSV_ROW_TOO_MANY_FIELDS | CSV_ROW_UNTERMINATED)))
			return take_header(t, row);
		/* A header that cannot be read: said once, and no names. */
		t->header_done = true;
		result = check_structure(t, row);
		return result == RAP_AGAIN ? RAP_OK : result;
	}
	t->rows++;
	/* Where it stands, from within a chunk too (one of CSV_CHUNK may hold
	 * tens of thousands of rows, minutes of them with a costly pattern);
	 * proc_progress sends at most about once a second. */
	if ((t->rows & 255) == 0) {
		result = proc_progress(t->c, "validate", t->pos, t->rows);
		if (result != RAP_OK)
			return result;
	}
	result = check_structure(t, row);
	if (result != RAP_OK) {
		t->failed++;
		return result == RAP_AGAIN ? RAP_OK : result;
	}
	if (t->expected < 0) {
		t->expected = row->n;
		result = report_absent(t, row);
		if (result != RAP_OK)
			return result;
	}
	if (row->flags & CSV_ROW_BAD_QUOTE) {
		failed++;
		result = table_error(t, row->no, NULL, "bad_quote", row->data,
				     row->n ? row->ends[row->n - 1] : 0,
				     "a quote inside an unquoted field, or text after a closing "
				     "quote");
	}
	if (result == RAP_OK)
		result = check_utf8(t, row, &failed);
	if (result == RAP_OK && t->schema)
		result = check_schema(t, row, &failed);
	if (result != RAP_OK)
		return result;
	if (failed) {
		t->failed++;
		return RAP_OK;
	}
	t->valid++;
	return out_row(t, row);
}

int table_finish(struct table *t, struct json_object *result)
{
	struct json_object *names, *incomplete = NULL;
	unsigned i;
	size_t j;
	int r = RAP_OK;

	if (t->output) {
		r = out_flush(t);
		if (r == RAP_OK)
			r = proc_output_end(t->c);
		if (r != RAP_OK)
			return r;
	}
	json_object_object_add(result, "rows_processed", json_object_new_int64(t->rows));
	json_object_object_add(result, "rows_valid", json_object_new_int64(t->valid));
	json_object_object_add(result, "rows_failed", json_object_new_int64(t->failed));
	json_object_object_add(result, "errors", json_object_new_int64(t->errors));
	json_object_object_add(result, "errors_reported", json_object_new_int64(t->errors_sent));
	json_object_object_add(result, "has_header", json_object_new_boolean(t->header));
	json_object_object_add(result, "columns",
			       json_object_new_int64(t->expected < 0 ? 0 : t->expected));
	names = json_object_new_array();
	for (i = 0; i < t->n_names && i < 1024; i++)
		json_object_array_add(names,
				      t->names[i] ? json_object_new_string(t->names[i]) : NULL);
	json_object_object_add(result, "column_names", t->header ? names : NULL);
	if (!t->header)
		json_object_put(names);
	json_object_object_add(result, "output",
			       t->output ? json_object_new_string("valid.csv") : NULL);
	for (j = 0; t->schema && j < t->schema->n; j++) {
		if (!t->schema->cols[j].unique_full)
			continue;
		if (!incomplete)
			incomplete = json_object_new_array();
		json_object_array_add(incomplete, json_object_new_string(t->schema->cols[j].name));
	}
	if (incomplete) {
		json_object_object_add(result, "unique_incomplete", incomplete);
		json_object_object_add(result, "unique_limit",
				       json_object_new_int64(t->schema->unique_limit));
	}
	return RAP_OK;
}

/* --- rows assembled cell by cell ------------------------------------------- */

void table_rowbuf_init(struct table_rowbuf *r, size_t max)
{
	memset(r, 0, sizeof(*r));
	r->max = max;
	r->ends = rap_malloc(CSV_MAX_FIELDS * sizeof(*r->ends));
}

void table_rowbuf_cleanup(struct table_rowbuf *r)
{
	free(r->data);
	free(r->ends);
	memset(r, 0, sizeof(*r));
}

void table_rowbuf_set(struct table_rowbuf *r, unsigned col, const char *s, size_t n)
{
	if (col >= CSV_MAX_FIELDS) {
		r->flags |= CSV_ROW_TOO_MANY_FIELDS;
		return;
	}
	while (r->n < col)
		r->ends[r->n++] = (uint32_t)r->len;
	if (r->len + n > r->max) {
		r->flags |= CSV_ROW_TOO_LONG;
		n = r->max - r->len;
	}
	if (r->len + n > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;

		while (cap < r->len + n)
			cap *= 2;
		r->cap = cap < r->max ? cap : r->max;
		r->data = rap_realloc(r->data, r->cap);
	}
	if (n)
		memcpy(r->data + r->len, s, n);
	r->len += n;
	r->ends[r->n++] = (uint32_t)r->len;
}

int table_rowbuf_emit(struct table *t, struct table_rowbuf *r, long long no, unsigned pad_to)
{
	struct csv_row row = { .no = no };
	long long width = t->expected >= 0 ? t->expected : pad_to;
	int result;

	while (r->n < width && r->n < CSV_MAX_FIELDS)
		r->ends[r->n++] = (uint32_t)r->len;
	row.n = r->n;
	row.flags = r->flags;
	row.data = r->data ? r->data : "";
	row.ends = r->ends;
	row.bytes = (long long)r->len;
	result = table_row(t, &row);
	r->len = 0;
	r->n = 0;
	r->flags = 0;
	return result;
}
