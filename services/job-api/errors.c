/*
 * errors.c: a job's row errors: GET /jobs/{id}/errors, a page of them as
 * JSON (keyset cursor, filters by column and code), and
 * GET /jobs/{id}/errors.csv, every one of them as CSV, streamed page by
 * page (rap_http_reply_stream): the report is never held whole; a page's
 * connection is taken from the pool and given back before the page is
 * sent, so a slow client holds no database connection.
 */
#include "job_api.h"

#include "rap/buf.h"
#include "rap/err.h"
#include "rap/http.h"
#include "rap/joberrors_read.h"
#include "rap/log.h"
#include "rap/mem.h"
#include "rap/pg.h"
#include "rap/str.h"
#include "rap/uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERRORS_LIMIT_DEFAULT 100
#define ERRORS_LIMIT_MAX 1000
/* The CSV report: errors per database page, and its buffer (a page is at
 * most ~500 x 4.5 KiB: every text is cut to RAP_JOBERRORS_TEXT_MAX). */
#define CSV_PAGE 500
#define CSV_BUF_MAX (4 * 1024 * 1024)
#define CSV_BLOCK (64 * 1024)
/* The longest column or code a filter may name. */
#define FILTER_MAX 256

/* Reads the filters and the cursor; false once it has answered 400. */
static bool read_query(struct rap_http_req *req, struct rap_joberrors_query *q, bool paged)
{
	const char *after = rap_http_get_arg(req, "after"), *lim = rap_http_get_arg(req, "limit");
	long long limit = ERRORS_LIMIT_DEFAULT;

	q->column = rap_http_get_arg(req, "column");
	q->code = rap_http_get_arg(req, "code");
	if ((q->column && strlen(q->column) > FILTER_MAX) ||
	    (q->code && strlen(q->code) > FILTER_MAX)) {
		rap_http_error(req, 400, "bad_request", "column and code are at most %d bytes",
			       FILTER_MAX);
		return false;
	}
	if (paged && after &&
	    rap_joberrors_cursor_parse(after, &q->after_row, &q->after_id) != RAP_OK) {
		rap_http_error(req, 400, "bad_request",
			       "after must be the 'next' cursor of a page (ROW:ID)");
		return false;
	}
	if (paged && lim && rap_strtonum(lim, 1, ERRORS_LIMIT_MAX, &limit) != RAP_OK) {
		rap_http_error(req, 400, "bad_request", "limit must be a whole number from 1 to %d",
			       ERRORS_LIMIT_MAX);
		return false;
	}
	q->limit = (int)limit;
	return true;
}

void job_api_errors(void *svc, struct rap_http_req *req)
{
	struct job_api *api = svc;
	struct rap_joberrors_query q = { .owner = req->owner, .job_id = rap_http_param(req, "id") };
	char err[RAP_ERRLEN], *json = NULL;
	PGconn *db;
	int result;

	if (!read_query(req, &q, true))
		return;
	if (!job_api_status_allowed(api, req))
		return;
	db = job_api_db_for_job(api, req, q.job_id);
	if (!db)
		return;
	result = rap_joberrors_list(db, &q, &json, err);
	rap_pg_pool_put(api->pool, db);
	if (result == RAP_ENOENT)
		rap_http_error(req, 404, "not_found", "no job %s", q.job_id);
	else if (result != RAP_OK)
		job_api_store_error(req, result, err);
	else
		rap_http_reply(req, 200, json);
	free(json);
}

/* The state of one streamed report. */
struct report {
	struct job_api *api;
	struct rap_joberrors_query q;
	char job_id[RAP_UUID_STRLEN];
	char *column, *code;
	char request_id[RAP_REQUEST_ID_LEN];
	struct rap_buf buf;
	size_t pos;
	bool last; /* the last page is in buf */
};

static void report_free(void *ctx)
{
	struct report *r = ctx;

	rap_buf_cleanup(&r->buf);
	free(r->column);
	free(r->code);
	free(r);
}

/* Fills the buffer with the next page; RAP_OK or an error (logged). */
static int report_page(struct report *r)
{
	struct rap_log_ctx ctx = { .request_id = r->request_id, .job_id = r->job_id };
	char err[RAP_ERRLEN];
	PGconn *db;
	int rows = 0, result;

	rap_buf_reset(&r->buf);
	r->pos = 0;
	result = rap_pg_pool_get(r->api->pool, 5000, &db, err);
	if (result == RAP_OK) {
		result = rap_joberrors_csv_page(db, &r->q, &r->buf, &rows, err);
		rap_pg_pool_put(r->api->pool, db);
	}
	if (result != RAP_OK)
		rap_log(RAP_LOG_ERROR, &ctx, "error report broken off: %s", err);
	r->last = rows < r->q.limit;
	return result;
}

static long report_read(void *ctx, char *out, size_t max)
{
	struct report *r = ctx;
	size_t n;

	while (r->pos == r->buf.len) {
		if (r->last)
			return 0;
		if (report_page(r) != RAP_OK)
			return RAP_EDB;
	}
	n = r->buf.len - r->pos;
	if (n > max)
		n = max;
	memcpy(out, r->buf.data + r->pos, n);
	r->pos += n;
	return (long)n;
}

void job_api_errors_csv(void *svc, struct rap_http_req *req)
{
	struct job_api *api = svc;
	struct rap_joberrors_query q = { 0 };
	const char *id = rap_http_param(req, "id");
	char err[RAP_ERRLEN], disp[128];
	struct report *r;
	PGconn *db;
	int result;

	if (!read_query(req, &q, false))
		return;
	if (!job_api_status_allowed(api, req))
		return;
	db = job_api_db_for_job(api, req, id);
	if (!db)
		return;
	result = rap_joberrors_job_visible(db, req->owner, id, err);
	rap_pg_pool_put(api->pool, db);
	if (result == RAP_ENOENT) {
		rap_http_error(req, 404, "not_found", "no job %s", id);
		return;
	}
	if (result != RAP_OK) {
		job_api_store_error(req, result, err);
		return;
	}
	r = rap_calloc(1, sizeof(*r));
	r->api = api;
	snprintf(r->job_id, sizeof(r->job_id), "%s", id);
	snprintf(r->request_id, sizeof(r->request_id), "%s", req->request_id);
	r->column = q.column ? rap_strdup(q.column) : NULL;
	r->code = q.code ? rap_strdup(q.code) : NULL;
	r->q.job_id = r->job_id;
	r->q.column = r->column;
	r->q.code = r->code;
	r->q.limit = CSV_PAGE;
	rap_buf_init(&r->buf, CSV_BUF_MAX);
	rap_buf_appends(&r->buf, RAP_JOBERRORS_CSV_HEADER);
	snprintf(disp, sizeof(disp), "attachment; filename=\"job-%s-errors.csv\"", id);
	rap_http_header(req, "Content-Disposition", disp);
	rap_http_reply_stream(req, 200, "text/csv; charset=utf-8", CSV_BLOCK, report_read, r,
			      report_free);
}
