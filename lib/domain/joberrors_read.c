/*
 * joberrors_read.c: a job's row errors, paged for GET /jobs/{id}/errors and
 * streamed for GET /jobs/{id}/errors.csv (rap/joberrors_read.h).  Keyset
 * pages on (row_no, id): each page is one index range scan of
 * job_errors_job_row from the cursor on, whatever the page's depth.  The
 * total is counted on the first page only (a million errors take a scan of
 * a million index entries, once, not once a page).
 */
#include "rap/joberrors_read.h"

#include "rap/buf.h"
#include "rap/err.h"
#include "rap/pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rap_joberrors_cursor_parse(const char *s, long long *row, long long *id)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return RAP_EINVAL;
	*row = strtoll(s, &end, 10);
	if (*end != ':' || end[1] < '0' || end[1] > '9' || *row < 0)
		return RAP_EINVAL;
	*id = strtoll(end + 1, &end, 10);
	return *end || *id < 0 ? RAP_EINVAL : RAP_OK;
}

int rap_joberrors_list(PGconn *db, const struct rap_joberrors_query *q, char **json, char *err)
{
	char row[24], id[24], lim[12], max[12];
	const char *p[8] = { q->job_id, q->owner, q->column, q->code, row, id, lim, max };

	snprintf(row, sizeof(row), "%lld", q->after_row);
	snprintf(id, sizeof(id), "%lld", q->after_id);
	snprintf(lim, sizeof(lim), "%d", q->limit);
	snprintf(max, sizeof(max), "%d", RAP_JOBERRORS_TEXT_MAX);
	/* One row when the owner has the job, none otherwise (RAP_ENOENT). */
	return rap_pg_one_text(
		db,
		"WITH job AS (SELECT id FROM jobs WHERE id = $1::uuid AND owner = $2),"
		" hit AS (SELECT e.* FROM job_errors e JOIN job ON e.job_id = job.id"
		"   WHERE ($3::text IS NULL OR e.column_name = $3)"
		"     AND ($4::text IS NULL OR e.code = $4) AND e.row_no IS NOT NULL),"
		" page AS (SELECT * FROM hit WHERE (row_no, id) > ($5::bigint, $6::bigint)"
		"   ORDER BY row_no, id LIMIT $7::int + 1),"
		" shown AS (SELECT * FROM page ORDER BY row_no, id LIMIT $7::int)"
		" SELECT json_build_object("
		"  'errors', coalesce((SELECT json_agg(json_build_object('id', id, 'row', row_no,"
		"     'column', column_name, 'code', code, 'message', left(message, $8::int),"
		"     'value', left(value, $8::int)) ORDER BY row_no, id) FROM shown), '[]'),"
		"  'next', CASE WHEN (SELECT count(*) FROM page) > $7::int THEN"
		"     (SELECT row_no || ':' || id FROM shown ORDER BY row_no DESC, id DESC LIMIT 1)"
		"     END,"
		"  'total', CASE WHEN ($5::bigint, $6::bigint) = (0, 0)"
		"     THEN (SELECT count(*) FROM hit) END)::text"
		" FROM job",
		8, p, json, err);
}

int rap_joberrors_job_visible(PGconn *db, const char *owner, const char *job_id, char *err)
{
	const char *p[2] = { job_id, owner };
	PGresult *res;
	int result;

	result = rap_pg_one(db, "SELECT 1 FROM jobs WHERE id = $1::uuid AND owner = $2", 2, p, &res,
			    err);
	if (result == RAP_OK)
		PQclear(res);
	return result;
}

/*
 * Appends s as one CSV field (quoted, its quotes doubled, when it must be).
 * The values are the user's rows, and the report is opened in spreadsheets:
 * a field that starts with = + - @ or a tab or CR would be a formula there
 * (CSV injection), so it gets a leading ' (OWASP's advice), which shows
 * the text as it was.
 */
static int csv_field(struct rap_buf *out, const char *s)
{
	bool formula = s[0] && strchr("=+-@\t\r", s[0]);
	const char *q;
	int result;

	if (!formula && !strpbrk(s, ",\"\r\n"))
		return rap_buf_appends(out, s);
	result = rap_buf_append(out, formula ? "\"'" : "\"", formula ? 2 : 1);
	for (q = strchr(s, '"'); q && result == RAP_OK; q = strchr(s, '"')) {
		result = rap_buf_append(out, s, (size_t)(q - s) + 1);
		if (result == RAP_OK)
			result = rap_buf_append(out, "\"", 1);
		s = q + 1;
	}
	if (result == RAP_OK)
		result = rap_buf_appends(out, s);
	return result == RAP_OK ? rap_buf_append(out, "\"", 1) : result;
}

int rap_joberrors_csv_page(PGconn *db, struct rap_joberrors_query *q, struct rap_buf *out,
			   int *rows, char *err)
{
	char row[24], id[24], lim[12], max[12];
	const char *p[7] = { q->job_id, q->column, q->code, row, id, lim, max };
	PGresult *res;
	int i, k, n, result;

	*rows = 0;
	snprintf(row, sizeof(row), "%lld", q->after_row);
	snprintf(id, sizeof(id), "%lld", q->after_id);
	snprintf(lim, sizeof(lim), "%d", q->limit);
	snprintf(max, sizeof(max), "%d", RAP_JOBERRORS_TEXT_MAX);
	result = rap_pg_exec(db,
			     "SELECT id, row_no, column_name, code, left(message, $7::int),"
			     " left(value, $7::int) FROM job_errors"
			     " WHERE job_id = $1::uuid AND ($2::text IS NULL OR column_name = $2)"
			     "   AND ($3::text IS NULL OR code = $3)"
			     "   AND (row_no, id) > ($4::bigint, $5::bigint)"
			     " ORDER BY row_no, id LIMIT $6::int",
			     7, p, &res, err);
	if (result != RAP_OK)
		return result;
	n = PQntuples(res);
	for (i = 0; i < n && result == RAP_OK; i++) {
		result = rap_buf_appends(out, PQgetvalue(res, i, 1));
		for (k = 2; k < 6 && result == RAP_OK; k++) {
			result = rap_buf_append(out, ",", 1);
			if (result == RAP_OK && !PQgetisnull(res, i, k))
				result = csv_field(out, PQgetvalue(res, i, k));
		}
		if (result == RAP_OK)
			result = rap_buf_append(out, "\r\n", 2);
		q->after_row = strtoll(PQgetvalue(res, i, 1), NULL, 10);
		q->after_id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
	}
	*rows = n;
	PQclear(res);
	if (result == RAP_ETOOBIG)
		snprintf(err, RAP_ERRLEN, "a page of the error report passed its buffer");
	return result;
}
