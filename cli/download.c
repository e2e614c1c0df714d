/*
 * download.c: an object fetched from a URL (a presigned S3 GET) into a file
 * descriptor, streamed by libcurl (never whole in memory) and resumed.
 *
 * Each try asks for the bytes from d->offset on ("Range: bytes=N-").  The
 * answer is looked at when its first body bytes arrive: 206 must start at
 * the offset; 200 means the server ignored the Range, so the file starts
 * over (a stream, which cannot be rewound, skips what it already wrote);
 * anything else is an error whose body is kept for the message.  Cuts,
 * stalls, 5xx and 429 are retried within the retry budget, which moves on
 * whenever bytes arrive; a 403 (the URL expired) asks for a fresh URL.
 */
#include "cli.h"

#include "rap/err.h"
#include "rap/io.h"
#include "rap/clock.h"
#include "rap/str.h"
#include "rap/stop.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REFRESH_TRIES 3 /* fresh URLs refused in a row before giving up */

/* How one try ended. */
enum try_end {
	TRY_DONE,    /* the object is all in fd */
	TRY_AGAIN,   /* transient: wait, then resume */
	TRY_RESTART, /* the file starts over at once (a bad 416) */
	TRY_EXPIRED, /* the URL is refused: get a fresh one */
	TRY_FAILED   /* refused, a local error, or a signal: result says */
};

static int parse_num(const char *s, size_t n, long long *out)
{
	char tmp[24];

	if (n == 0 || n >= sizeof(tmp))
		return RAP_EINVAL;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return rap_strtonum(tmp, 0, INT64_MAX, out);
}

int cli_download_content_range(const char *v, long long *start, long long *end, long long *total)
{
	const char *dash, *slash;

	*start = *end = *total = -1;
	if (strncmp(v, "bytes ", 6) != 0)
		return RAP_EINVAL;
	v += 6;
	slash = strchr(v, '/');
	if (!slash)
		return RAP_EINVAL;
	if (strcmp(slash + 1, "*") != 0 && parse_num(slash + 1, strlen(slash + 1), total) != RAP_OK)
		return RAP_EINVAL;
	if (slash - v == 1 && v[0] == '*')
		return *total >= 0 ? RAP_OK : RAP_EINVAL;
	dash = memchr(v, '-', (size_t)(slash - v));
	if (!dash || parse_num(v, (size_t)(dash - v), start) != RAP_OK ||
	    parse_num(dash + 1, (size_t)(slash - dash - 1), end) != RAP_OK || *end < *start ||
	    (*total >= 0 && *end >= *total)) {
		*start = *end = *total = -1;
		return RAP_EINVAL;
	}
	return RAP_OK;
}

/* Empties the file: the answer is the whole object again. */
static int start_over(struct cli_download *d)
{
	if (d->stream) {
		d->skip = d->offset;
		return RAP_OK;
	}
	if (ftruncate(d->fd, 0) != 0 || lseek(d->fd, 0, SEEK_SET) != 0) {
		d->write_errno = errno;
		return RAP_EIO;
	}
	d->offset = 0;
	return RAP_OK;
}

/* Looks at the answer's status once its headers are in: is the body the
 * object's bytes from d->offset on?  RAP_EIO stops the transfer. */
static int check_answer(struct cli_download *d)
{
	long long start, end, total;
	curl_off_t len = -1;
	long status = 0;

	if (d->checked)
		return RAP_OK;
	d->checked = true;
	curl_easy_getinfo(d->http->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status == 206) {
		if (cli_download_content_range(d->resp.content_range, &start, &end, &total) !=
			    RAP_OK ||
		    start != d->offset) {
			d->bad_range = true;
			return RAP_EIO;
		}
		d->total = total;
		d->body_ok = true;
		return RAP_OK;
	}
	if (status != 200)
		return RAP_OK;
	d->body_ok = true;
	if (d->offset > 0) {
		cli_progress_note(d->progress, "the server sent the whole object: starting over");
		if (start_over(d) != RAP_OK)
			return RAP_EIO;
	}
	curl_easy_getinfo(d->http->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
	if (len >= 0)
		d->total = len;
	return RAP_OK;
}

/* libcurl's write callback: the object's bytes go to fd, an error's body
 * to resp->body (bounded; the rest is dropped). */
static size_t on_write(char *buf, size_t size, size_t n, void *arg)
{
	struct cli_download *d = arg;
	size_t len = size * n, drop;

	if (check_answer(d) != RAP_OK)
		return 0;
	if (!d->body_ok) {
		rap_buf_append(&d->resp.body, buf, len);
		return len;
	}
	drop = d->skip < (long long)len ? (size_t)d->skip : len;
	d->skip -= (long long)drop;
	if (rap_write_all(d->fd, buf + drop, len - drop) != RAP_OK) {
		d->write_errno = errno;
		return 0;
	}
	d->offset += (long long)(len - drop);
	return len;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct cli_download *d = arg;

	if (d->total >= 0)
		d->progress->total = d->total;
	cli_progress_update(d->progress, d->offset, rap_now_ms());
	return rap_stopping() ? 1 : 0;
}

/* A 416 to a Range: the .part already holds the whole object when the
 * size the server gives is its length; otherwise it is of something else. */
static enum try_end unsatisfiable(struct cli_download *d, char *err)
{
	long long start, end, total;

	if (cli_download_content_range(d->resp.content_range, &start, &end, &total) == RAP_OK &&
	    total == d->offset) {
		d->total = total;
		return TRY_DONE;
	}
	if (d->stream) {
		/* What went to stdout cannot be taken back. */
		snprintf(err, RAP_ERRLEN, "the server has only %lld bytes, %lld were written",
			 total, d->offset);
		return TRY_FAILED;
	}
	cli_progress_note(d->progress,
			  "the partial file (%lld bytes) is not a beginning of the object: "
			  "starting over",
			  d->offset);
	if (start_over(d) != RAP_OK) {
		snprintf(err, RAP_ERRLEN, "cannot empty the partial file: %s",
			 strerror(d->write_errno));
		return TRY_FAILED;
	}
	return TRY_RESTART;
}

/* One GET from d->offset on; *result is set for TRY_FAILED. */
static enum try_end try_once(struct cli_download *d, int *result, char *err)
{
	char range[64], why[RAP_ERRLEN];
	struct cli_req req = { .method = "GET",
			       .url = d->url,
			       .no_auth = true,
			       .write = on_write,
			       .write_ctx = d,
			       .progress = on_progress,
			       .progress_ctx = d };
	enum try_end end;
	int rc;

	d->checked = d->body_ok = d->bad_range = false;
	d->write_errno = 0;
	d->skip = 0;
	snprintf(range, sizeof(range), "Range: bytes=%lld-", d->offset);
	if (d->offset > 0)
		req.headers = curl_slist_append(NULL, range);
	rc = cli_http_do(d->http, &req, &d->resp);
	curl_slist_free_all(req.headers);
	if (rc == RAP_OK)
		rc = check_answer(d);
	*result = RAP_OK;
	if (rc == RAP_ECANCELED) {
		snprintf(err, RAP_ERRLEN, "interrupted");
		*result = RAP_ECANCELED;
		return TRY_FAILED;
	}
	if (d->write_errno) {
		snprintf(err, RAP_ERRLEN, "cannot write the file: %s", strerror(d->write_errno));
		*result = RAP_EIO;
		return TRY_FAILED;
	}
	if (d->bad_range) {
		snprintf(err, RAP_ERRLEN, "the server answered bytes %.64s to a request from %lld",
			 d->resp.content_range, d->offset);
		*result = RAP_EPROTO;
		return TRY_FAILED;
	}
	if (rc == RAP_OK && d->body_ok)
		return TRY_DONE;
	if (rc == RAP_OK && d->resp.status == 416 && d->offset > 0) {
		end = unsatisfiable(d, err);
		if (end == TRY_FAILED)
			*result = d->write_errno ? RAP_EIO : RAP_EPROTO;
		return end;
	}
	if (rc == RAP_OK && d->resp.status == 403)
		return TRY_EXPIRED;
	cli_resp_describe(&d->resp, why, sizeof(why));
	if ((rc == RAP_OK && cli_http_status_transient(d->resp.status)) ||
	    (rc != RAP_OK && cli_http_transient(&d->resp))) {
		snprintf(err, RAP_ERRLEN, "%s", why);
		return TRY_AGAIN;
	}
	snprintf(err, RAP_ERRLEN, "the download was refused: %.200s", why);
	*result = RAP_EPROTO;
	return TRY_FAILED;
}

int cli_download_run(struct cli_download *d, struct cli_retry *r, char *err)
{
	char why[RAP_ERRLEN];
	int result = RAP_OK, refused = 0;
	long long before;
	enum try_end end;

	cli_resp_init(&d->resp);
	d->total = -1;
	cli_progress_at(d->progress, d->offset, rap_now_ms());
	for (;;) {
		before = d->offset;
		end = try_once(d, &result, why);
		if (d->offset > before || end == TRY_RESTART) {
			cli_retry_progress(r);
			refused = 0;
		}
		if (end == TRY_DONE || end == TRY_FAILED)
			break;
		if (end == TRY_EXPIRED && ++refused > REFRESH_TRIES) {
			cli_resp_describe(&d->resp, why, sizeof(why));
			snprintf(err, RAP_ERRLEN, "S3 refused %d fresh URLs in a row: %.180s",
				 REFRESH_TRIES, why);
			result = RAP_EPROTO;
			goto out_free_resp;
		}
		if (end == TRY_EXPIRED) {
			cli_progress_note(d->progress,
					  "the download URL was refused (expired?): asking for a "
					  "fresh one");
			result = d->refresh(d->refresh_ctx, d->url, sizeof(d->url), err);
			if (result != RAP_OK)
				goto out_free_resp;
			continue;
		}
		if (end == TRY_AGAIN) {
			if (d->resp.status)
				cli_retry_hint(r, d->resp.retry_after_ms);
			result = cli_retry_after(r, d->progress, "download", why, err);
			if (result != RAP_OK)
				goto out_free_resp;
		}
	}
	if (result != RAP_OK) {
		snprintf(err, RAP_ERRLEN, "%s", why);
	} else {
		d->total = d->offset;
		d->progress->total = d->offset;
		cli_progress_done(d->progress, rap_now_ms());
	}
out_free_resp:
	cli_resp_cleanup(&d->resp);
	return result;
}
