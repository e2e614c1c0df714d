/*
 * csv.c: csv.validate.  Reads the input front to back in chunks of
 * CSV_CHUNK bytes (one buffer, reused), guesses the delimiter from the
 * first CSV_SAMPLE bytes when the params name none, and hands the chunks
 * to the streaming parser (csv_parse.c), whose records go to the table
 * (table.c): checks, row errors, valid.csv.  Memory is the chunk, one
 * record of at most max_row_bytes, and the schema's bounded unique sets,
 * whatever the size of the file.
 *
 * Encoding: UTF-8 (ASCII included), with or without a BOM.  A file that
 * starts with a UTF-16 or UTF-32 byte order mark is refused whole
 * (unsupported); other bytes that are not UTF-8 are invalid_utf8 errors
 * of their fields.
 */
#include "validate.h"
#include "csv_parse.h"
#include "table.h"

#include "rap/err.h"
#include "rap/mem.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#define CSV_CHUNK (1024 * 1024)
#define CSV_SAMPLE (64 * 1024)

static int on_record(void *ctx, const struct csv_row *row)
{
	struct table *t = ctx;

	/* Bytes parsed, not bytes read: a chunk read at once may hold the
	 * whole file, and its rows can take minutes (a costly pattern). */
	t->pos = row->offset + row->bytes;
	return table_row(t, row);
}

/* The delimiter the params name, or 0. */
static char param_delimiter(struct json_object *params)
{
	struct json_object *v;
	const char *s;

	if (!json_object_is_type(params, json_type_object) ||
	    !json_object_object_get_ex(params, "delimiter", &v) ||
	    !json_object_is_type(v, json_type_string))
		return 0;
	s = json_object_get_string(v);
	return strlen(s) == 1 && strchr(",;\t|", s[0]) ? s[0] : 0;
}

/* Reads until the sample is full or the input ends: its size, or a
 * negative rap_err. */
static long long read_sample(struct proc_ctx *c, char *buf, bool *eof)
{
	size_t have = 0;

	*eof = false;
	while (have < CSV_SAMPLE) {
		ssize_t n = proc_read(c, buf + have, CSV_CHUNK - have);

		if (n < 0)
			return n;
		if (n == 0) {
			*eof = true;
			break;
		}
		have += (size_t)n;
	}
	return (long long)have;
}

static bool wide_bom(const unsigned char *s, size_t n)
{
	return n >= 2 && ((s[0] == 0xFF && s[1] == 0xFE) || (s[0] == 0xFE && s[1] == 0xFF));
}

/* Parses the sample, then the rest of the input. */
static int parse_all(struct proc_ctx *c, struct csv_parser *p, struct table *t, char *buf,
		     size_t have, long long *bytes)
{
	int result = csv_parse_feed(p, buf, have, on_record, t);
	ssize_t n;

	*bytes = (long long)have;
	while (result == RAP_OK) {
		result = proc_progress(c, "validate", *bytes, t->rows);
		if (result != RAP_OK)
			break;
		n = proc_read(c, buf, CSV_CHUNK);
		if (n <= 0) {
			result = n < 0 ? (int)n : csv_parse_finish(p, on_record, t);
			break;
		}
		*bytes += n;
		result = csv_parse_feed(p, buf, (size_t)n, on_record, t);
	}
	return result;
}

static int csv_validate_run(struct proc_ctx *c)
{
	struct json_object *params = proc_params(c), *result_json;
	struct table_opts o;
	struct table t;
	struct csv_parser p;
	char err[RAP_ERRLEN], delim, dname[2] = "";
	char *buf;
	long long have, bytes = 0;
	bool eof, detected;
	int result;

	table_opts_parse(params, &o);
	if (table_init(&t, c, &o, err) != RAP_OK) {
		table_cleanup(&t);
		return proc_fail(c, "invalid_params", "%s", err);
	}
	buf = rap_malloc(CSV_CHUNK);
	have = read_sample(c, buf, &eof);
	if (have < 0) {
		result = (int)have;
		goto out_free_buf;
	}
	if (wide_bom((unsigned char *)buf, (size_t)have)) {
		result = proc_fail(c, "unsupported",
				   "the file is UTF-16 or UTF-32 (its byte order mark says so); "
				   "save it as UTF-8");
		goto out_free_buf;
	}
	delim = param_delimiter(params);
	detected = !delim;
	if (!delim)
		delim = csv_parse_detect(buf, (size_t)have, eof);
	csv_parse_init(&p, delim, (size_t)o.max_row_bytes);
	result = parse_all(c, &p, &t, buf, (size_t)have, &bytes);
	if (result == RAP_OK)
		result = proc_progress(c, "write", bytes, t.rows);
	result_json = json_object_new_object();
	if (result == RAP_OK)
		result = table_finish(&t, result_json);
	if (result != RAP_OK) {
		json_object_put(result_json);
		goto out_cleanup_parser;
	}
	dname[0] = delim;
	json_object_object_add(result_json, "delimiter", json_object_new_string(dname));
	json_object_object_add(result_json, "delimiter_detected",
			       json_object_new_boolean(detected));
	json_object_object_add(result_json, "encoding", json_object_new_string("UTF-8"));
	json_object_object_add(result_json, "bom", json_object_new_boolean(p.bom));
	json_object_object_add(result_json, "rows_blank", json_object_new_int64(p.blank));
	json_object_object_add(result_json, "bytes", json_object_new_int64(bytes));
	result = proc_succeed(c, result_json);
out_cleanup_parser:
	csv_parse_cleanup(&p);
out_free_buf:
	free(buf);
	table_cleanup(&t);
	return result;
}

const struct processor proc_csv_validate = {
	.type = "csv.validate",
	.prepare = NULL,
	.run = csv_validate_run,
};
