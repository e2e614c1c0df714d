/* joberrors.c: a job's row errors in PostgreSQL, a batch per statement
 * (rap/joberrors.h).  The batch travels as one JSON parameter that
 * json_to_recordset spreads into rows: one round trip, no SQL built from
 * data. */
#include "rap/joberrors.h"
#include "rap/assert.h"
#include "rap/buf.h"
#include "rap/err.h"
#include "rap/json.h"
#include "rap/pg.h"

#include <stdio.h>

int rap_joberrors_clear(PGconn *db, const char *job_id, char *err)
{
	const char *p[1] = { job_id };

	return rap_pg_exec(db, "DELETE FROM job_errors WHERE job_id = $1", 1, p, NULL, err);
}

/* Appends "key":"text" or "key":null. */
static int put(struct rap_buf *b, const char *key, const char *text)
{
	int result = rap_buf_appendf(b, ",\"%s\":", key);

	if (result == RAP_OK)
		result = text ? rap_json_quote(b, text) : rap_buf_appends(b, "null");
	return result;
}

int rap_joberrors_insert(PGconn *db, const char *job_id, int attempt,
			 const struct rap_joberror *rows, size_t n, char *err)
{
	char att[12];
	const char *p[3] = { job_id, NULL, att };
	struct rap_buf b;
	int result = RAP_OK;
	size_t i;

	RAP_ASSERT(n <= RAP_JOBERRORS_BATCH);
	if (n == 0)
		return RAP_OK;
	snprintf(att, sizeof(att), "%d", attempt);
	rap_buf_init(&b, 64 * 1024 * 1024);
	rap_buf_appends(&b, "[");
	for (i = 0; i < n && result == RAP_OK; i++) {
		if (rows[i].row >= 0)
			result = rap_buf_appendf(&b, "%s{\"row_no\":%lld", i ? "," : "",
						 rows[i].row);
		else
			result = rap_buf_appendf(&b, "%s{\"row_no\":null", i ? "," : "");
		if (result == RAP_OK)
			result = put(&b, "column_name", rows[i].column);
		if (result == RAP_OK)
			result = put(&b, "code", rows[i].code ? rows[i].code : "invalid");
		if (result == RAP_OK)
			result = put(&b, "message", rows[i].message ? rows[i].message : "");
		if (result == RAP_OK)
			result = put(&b, "value", rows[i].value);
		if (result == RAP_OK)
			result = rap_buf_appends(&b, "}");
	}
	if (result == RAP_OK)
		result = rap_buf_appends(&b, "]");
	if (result != RAP_OK) {
		snprintf(err, RAP_ERRLEN, "row errors: batch over its maximum");
		goto out_free;
	}
	p[1] = b.data;
	result = rap_pg_exec(
		db,
		"INSERT INTO job_errors (job_id, row_no, column_name, code, message,"
		" value, attempt)"
		" SELECT $1, row_no, column_name, code, message, value, $3::int"
		" FROM json_to_recordset($2::json) AS t(row_no bigint, column_name text,"
		"   code text, message text, value text)",
		3, p, NULL, err);
out_free:
	rap_buf_cleanup(&b);
	return result;
}
