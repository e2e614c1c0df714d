/*
 * tus_client.c: a file sent to /api/files/ over tus 1.0 (docs/uploads.md).
 *
 * Each PATCH carries --chunk-size bytes and their sha256 in Upload-Checksum.
 * The chunk is read twice from the file, never held in memory: once to
 * compute that checksum (the header goes before the body), then again as
 * libcurl asks for the body (CURLOPT_READFUNCTION reads into libcurl's own
 * buffer).  The whole file's sha256 is computed on that second pass, from
 * the bytes that really went out; it is kept at the server's offset: a
 * PATCH's bytes count once the server stored them (the server keeps a
 * checksummed PATCH whole or not at all).
 *
 * A failure that passes (the network, a stalled link, a restarting server:
 * 5xx, 409, 423) is retried: wait (backoff), HEAD for the stored offset, go
 * on from there.  A PATCH cut midway halves the chunk size for the next
 * ones (down to CLI_MIN_CHUNK), since on that link a whole chunk may never
 * pass; successes grow it back.
 */
#include "cli.h"

#include "rap/err.h"
#include "rap/hash.h"
#include "rap/mem.h"
#include "rap/base64.h"
#include "rap/clock.h"
#include "rap/stop.h"
#include "rap/tus_header.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TUS_RESUMABLE "Tus-Resumable: " RAP_TUS_VERSION
#define CHECKSUM_TRIES 3 /* 460s in a row before giving up */
#define GROW_AFTER 4     /* PATCHes in a row before the chunk grows back */

/* One PATCH's body as libcurl pulls it. */
struct patch_io {
	struct cli_tus *t;
	struct cli_retry *r;
	long long start;
	long long len;
	long long sent;         /* bytes handed to libcurl */
	struct rap_sha256 hash; /* the file's digest, continued from start */
	bool read_failed;
	int read_errno;
	curl_off_t ul_seen;
};

int cli_tus_init(struct cli_tus *t, struct cli_http *http, struct cli_progress *progress, int fd,
		 const char *path, char *err)
{
	struct stat st;

	memset(t, 0, sizeof(*t));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, RAP_ERRLEN, "%s is not a regular file", path);
		return RAP_EINVAL;
	}
	t->http = http;
	t->o = http->o;
	t->progress = progress;
	t->fd = fd;
	t->path = path;
	t->size = st.st_size;
	t->mtime_s = st.st_mtim.tv_sec;
	t->mtime_ns = st.st_mtim.tv_nsec;
	t->chunk = http->o->chunk_size;
	t->buf = rap_malloc(CLI_READ_BUF);
	rap_sha256_init(&t->hash);
	return RAP_OK;
}

void cli_tus_cleanup(struct cli_tus *t)
{
	rap_sha256_cleanup(&t->hash);
	free(t->buf);
	t->buf = NULL;
}

/* Reads up to len bytes at off: RAP_OK with *n > 0, RAP_EIO (err) on an
 * error or when the file ends early (it shrank). */
static int read_at(struct cli_tus *t, void *buf, size_t len, long long off, size_t *n, char *err)
{
	ssize_t r;

	do
		r = pread(t->fd, buf, len, off);
	while (r < 0 && errno == EINTR);
	if (r <= 0) {
		snprintf(err, RAP_ERRLEN, "cannot read %s at offset %lld: %s", t->path, off,
			 r == 0 ? "the file is shorter than when the upload began"
				: strerror(errno));
		return RAP_EIO;
	}
	*n = (size_t)r;
	return RAP_OK;
}

/* Moves the file digest to cover exactly bytes 0..target (from the file). */
static int hash_to(struct cli_tus *t, long long target, char *err)
{
	size_t n;
	int result;

	if (target < t->hashed) {
		rap_sha256_cleanup(&t->hash);
		rap_sha256_init(&t->hash);
		t->hashed = 0;
	}
	if (target - t->hashed >= 256LL * 1024 * 1024)
		cli_progress_note(t->progress,
				  "reading the %lld bytes the server has, to check "
				  "the whole file's sha256 at the end",
				  target - t->hashed);
	while (t->hashed < target) {
		long long left = target - t->hashed;

		if (rap_stopping()) {
			snprintf(err, RAP_ERRLEN, "interrupted");
			return RAP_ECANCELED;
		}
		result = read_at(t, t->buf, left < CLI_READ_BUF ? (size_t)left : CLI_READ_BUF,
				 t->hashed, &n, err);
		if (result != RAP_OK)
			return result;
		rap_sha256_update(&t->hash, t->buf, n);
		t->hashed += (long long)n;
	}
	return RAP_OK;
}

/* "Upload-Checksum: sha256 <base64>" of bytes [start, start + len). */
static int chunk_checksum(struct cli_tus *t, long long start, long long len, char *out,
			  size_t outlen, char *err)
{
	unsigned char md[RAP_DIGEST_MAX];
	char b64[RAP_DIGEST_MAX * 2];
	struct rap_digest d;
	long long done = 0;
	size_t n, mdlen;
	int result = RAP_OK;

	rap_digest_init(&d, "sha256");
	while (result == RAP_OK && done < len) {
		long long left = len - done;

		if (rap_stopping()) {
			snprintf(err, RAP_ERRLEN, "interrupted");
			result = RAP_ECANCELED;
			break;
		}
		result = read_at(t, t->buf, left < CLI_READ_BUF ? (size_t)left : CLI_READ_BUF,
				 start + done, &n, err);
		if (result == RAP_OK) {
			rap_digest_update(&d, t->buf, n);
			done += (long long)n;
		}
	}
	if (result == RAP_OK) {
		mdlen = rap_digest_final(&d, md);
		rap_base64_encode(md, mdlen, b64);
		snprintf(out, outlen, "Upload-Checksum: sha256 %s", b64);
	}
	rap_digest_cleanup(&d); /* after final too: it does nothing then */
	return result;
}

/* libcurl pulls the PATCH body: straight from the file into its buffer. */
static size_t on_read(char *buf, size_t size, size_t nitems, void *arg)
{
	struct patch_io *io = arg;
	long long left = io->len - io->sent;
	size_t want = size * nitems;
	ssize_t r;

	if (rap_stopping())
		return CURL_READFUNC_ABORT;
	if (left <= 0)
		return 0;
	if ((long long)want > left)
		want = (size_t)left;
	do
		r = pread(io->t->fd, buf, want, io->start + io->sent);
	while (r < 0 && errno == EINTR);
	if (r <= 0) {
		io->read_failed = true;
		io->read_errno = r == 0 ? 0 : errno;
		return CURL_READFUNC_ABORT;
	}
	rap_sha256_update(&io->hash, buf, (size_t)r);
	io->sent += r;
	return (size_t)r;
}

static int on_patch_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
			     curl_off_t ulnow)
{
	struct patch_io *io = arg;

	if (rap_stopping())
		return 1;
	/* Bytes moving is the link alive: a long chunk on a slow link must
	 * not use up the retry budget while it is being sent. */
	if (ulnow > io->ul_seen) {
		io->ul_seen = ulnow;
		io->r->deadline_ms = rap_now_ms() + io->r->timeout_ms;
	}
	cli_progress_update(io->t->progress, io->start + (long long)ulnow, rap_now_ms());
	return 0;
}

int cli_tus_create(struct cli_tus *t, const char *filename, struct cli_retry *r, char *err)
{
	char url[CLI_URL_MAX], length[48], *fn64, *ft64, *jt64, *meta;
	const char *ftype = "application/octet-stream";
	struct cli_req req = { .method = "POST", .url = url };
	struct curl_slist *h = NULL;
	struct cli_resp resp;
	int result;

	fn64 = rap_malloc(4 * (strlen(filename) / 3 + 1) + 1);
	ft64 = rap_malloc(4 * (strlen(ftype) / 3 + 1) + 1);
	jt64 = rap_malloc(4 * (strlen(t->o->type) / 3 + 1) + 1);
	rap_base64_encode(filename, strlen(filename), fn64);
	rap_base64_encode(ftype, strlen(ftype), ft64);
	rap_base64_encode(t->o->type, strlen(t->o->type), jt64);
	meta = rap_asprintf("Upload-Metadata: filename %s,filetype %s,job_type %s", fn64, ft64,
			    jt64);
	snprintf(url, sizeof(url), "%s/api/files/", t->o->url);
	snprintf(length, sizeof(length), "Upload-Length: %lld", t->size);
	h = curl_slist_append(h, TUS_RESUMABLE);
	h = curl_slist_append(h, length);
	h = curl_slist_append(h, meta);
	req.headers = h;
	cli_resp_init(&resp);
	result = cli_api_call(t->http, &req, r, t->progress, &resp, err);
	if (result != RAP_OK)
		goto out_free_resp;
	if (resp.status != 201 || !resp.location[0] ||
	    cli_http_resolve(url, resp.location, t->upload_url, sizeof(t->upload_url)) != RAP_OK) {
		snprintf(err, RAP_ERRLEN, "POST %.160s: HTTP %ld without a usable Location", url,
			 resp.status);
		result = RAP_EPROTO;
		goto out_free_resp;
	}
	t->offset = resp.upload_offset > 0 ? resp.upload_offset : 0;
	t->gone = false;
out_free_resp:
	cli_resp_cleanup(&resp);
	curl_slist_free_all(h);
	free(meta);
	free(jt64);
	free(ft64);
	free(fn64);
	return result;
}

int cli_tus_head(struct cli_tus *t, struct cli_retry *r, char *err)
{
	struct cli_req req = { .method = "HEAD", .url = t->upload_url };
	struct cli_resp resp;
	int result;

	req.headers = curl_slist_append(NULL, TUS_RESUMABLE);
	cli_resp_init(&resp);
	result = cli_api_call(t->http, &req, r, t->progress, &resp, err);
	if (result == RAP_EPROTO && (resp.status == 404 || resp.status == 410)) {
		t->gone = true;
		result = RAP_ENOENT;
	} else if (result == RAP_OK && resp.upload_offset < 0) {
		snprintf(err, RAP_ERRLEN, "HEAD %.160s: no Upload-Offset in the answer",
			 t->upload_url);
		result = RAP_EPROTO;
	} else if (result == RAP_OK &&
		   (resp.upload_length != t->size || resp.upload_offset > t->size)) {
		snprintf(err, RAP_ERRLEN, "the upload at %.160s is %lld bytes long, the file %lld",
			 t->upload_url, resp.upload_length, t->size);
		result = RAP_ECONFLICT;
	} else if (result == RAP_OK) {
		t->offset = resp.upload_offset;
	}
	cli_resp_cleanup(&resp);
	curl_slist_free_all(req.headers);
	return result;
}

/* True when the file's size or mtime is no longer what it was at the start. */
static bool file_changed(const struct cli_tus *t)
{
	struct stat st;

	return fstat(t->fd, &st) != 0 || st.st_size != t->size || st.st_mtim.tv_sec != t->mtime_s ||
	       st.st_mtim.tv_nsec != t->mtime_ns;
}

/*
 * One PATCH of len bytes at t->offset.  RAP_OK when the server stored them
 * (t->offset and the digest move on); otherwise *resp tells what happened
 * (RAP_EIO: the transfer failed, io->read_failed: our file did).
 */
static int patch_once(struct cli_tus *t, struct cli_retry *r, long long len, const char *checksum,
		      struct patch_io *io, struct cli_resp *resp)
{
	unsigned char saved[RAP_SHA256_STATE_LEN];
	char off[48];
	struct cli_req req = { .method = "PATCH", .url = t->upload_url };
	int result;

	memset(io, 0, sizeof(*io));
	io->t = t;
	io->r = r;
	io->start = t->offset;
	io->len = len;
	rap_sha256_save(&t->hash, saved);
	rap_sha256_restore(&io->hash, saved, sizeof(saved));
	snprintf(off, sizeof(off), "Upload-Offset: %lld", t->offset);
	req.headers = curl_slist_append(NULL, TUS_RESUMABLE);
	req.headers =
		curl_slist_append(req.headers, "Content-Type: application/offset+octet-stream");
	req.headers = curl_slist_append(req.headers, off);
	req.headers = curl_slist_append(req.headers, checksum);
	req.read = on_read;
	req.read_ctx = io;
	req.upload_len = len;
	req.progress = on_patch_progress;
	req.progress_ctx = io;
	result = cli_http_do(t->http, &req, resp);
	curl_slist_free_all(req.headers);
	if (result == RAP_OK && resp->status == 204 && io->sent == len &&
	    resp->upload_offset == t->offset + len) {
		rap_sha256_cleanup(&t->hash);
		t->hash = io->hash;
		io->hash.ctx = NULL;
		t->hashed = t->offset + len;
		t->offset += len;
		return RAP_OK;
	}
	rap_sha256_cleanup(&io->hash);
	if (result == RAP_OK && resp->status == 204) {
		/* Stored, but not what we sent: believe the server's offset. */
		if (resp->upload_offset < 0)
			return RAP_EPROTO;
		t->offset = resp->upload_offset;
		return RAP_AGAIN;
	}
	return result == RAP_OK ? RAP_EPROTO : result;
}

/* After a transient failure of the PATCH at t->offset: wait, then HEAD. */
static int recover(struct cli_tus *t, struct cli_retry *r, const char *why, char *err)
{
	char what[64];
	int result;

	snprintf(what, sizeof(what), "PATCH at offset %lld", t->offset);
	result = cli_retry_after(r, t->progress, what, why, err);
	if (result != RAP_OK)
		return result;
	return cli_tus_head(t, r, err);
}

/* What to do about a PATCH that did not store its bytes. */
static int patch_failed(struct cli_tus *t, struct cli_retry *r, int result,
			const struct patch_io *io, const struct cli_resp *resp,
			int *checksum_failures, char *err)
{
	char why[RAP_ERRLEN];

	if (result == RAP_ECANCELED) {
		snprintf(err, RAP_ERRLEN, "interrupted");
		return result;
	}
	if (io->read_failed) {
		snprintf(err, RAP_ERRLEN, "cannot read %s at offset %lld: %s", t->path,
			 io->start + io->sent,
			 io->read_errno ? strerror(io->read_errno)
					: "the file is shorter than when the upload began");
		return RAP_EIO;
	}
	cli_resp_describe(resp, why, sizeof(why));
	if (result == RAP_EIO && cli_http_transient(resp)) {
		/* Cut midway: smaller PATCHes have a better chance on this link. */
		if (io->sent > 0 && t->chunk / 2 >= CLI_MIN_CHUNK)
			t->chunk /= 2;
		return recover(t, r, why, err);
	}
	if (result != RAP_EPROTO) {
		snprintf(err, RAP_ERRLEN, "PATCH %.120s: %.120s", t->upload_url, why);
		return result;
	}
	if (resp->status == RAP_TUS_CHECKSUM_MISMATCH) {
		if (file_changed(t)) {
			snprintf(err, RAP_ERRLEN, "%s changed while it was being sent", t->path);
			return RAP_ECONFLICT;
		}
		if (++*checksum_failures >= CHECKSUM_TRIES) {
			snprintf(err, RAP_ERRLEN,
				 "the server refused the checksum of the bytes at "
				 "offset %lld %d times: %.100s",
				 t->offset, CHECKSUM_TRIES, why);
			return RAP_ECONFLICT;
		}
		cli_progress_note(t->progress,
				  "retry: the bytes at offset %lld arrived damaged "
				  "(%s); sending them again",
				  t->offset, why);
		return RAP_OK;
	}
	if (resp->status == 404 || resp->status == 410) {
		t->gone = true;
		snprintf(err, RAP_ERRLEN, "the upload %.120s is gone: %.100s", t->upload_url, why);
		return RAP_ENOENT;
	}
	if (resp->status == 409 || resp->status == 423 || cli_http_status_transient(resp->status)) {
		cli_retry_hint(r, resp->retry_after_ms);
		return recover(t, r, why, err);
	}
	if (resp->status == 403) {
		/* Complete already (an earlier PATCH's answer was lost)? */
		result = cli_tus_head(t, r, err);
		if (result == RAP_OK && t->offset == t->size)
			return RAP_OK;
	}
	snprintf(err, RAP_ERRLEN, "%s", why);
	return RAP_EPROTO;
}

int cli_tus_send(struct cli_tus *t, struct cli_retry *r, char *err)
{
	char checksum[160];
	struct patch_io io;
	struct cli_resp resp;
	int checksum_failures = 0, in_a_row = 0, result = RAP_OK;

	cli_resp_init(&resp);
	while (t->offset < t->size) {
		long long len = t->size - t->offset < t->chunk ? t->size - t->offset : t->chunk;

		result = hash_to(t, t->offset, err);
		if (result == RAP_OK)
			result = chunk_checksum(t, t->offset, len, checksum, sizeof(checksum), err);
		if (result != RAP_OK)
			goto out_free_resp;
		cli_progress_at(t->progress, t->offset, rap_now_ms());
		result = patch_once(t, r, len, checksum, &io, &resp);
		if (result == RAP_OK) {
			cli_retry_progress(r);
			checksum_failures = 0;
			if (++in_a_row >= GROW_AFTER && t->chunk < t->o->chunk_size) {
				t->chunk = t->chunk * 2 > t->o->chunk_size ? t->o->chunk_size
									   : t->chunk * 2;
				in_a_row = 0;
			}
			continue;
		}
		in_a_row = 0;
		if (result == RAP_AGAIN)
			continue;
		result = patch_failed(t, r, result, &io, &resp, &checksum_failures, err);
		if (result != RAP_OK)
			goto out_free_resp;
	}
	result = hash_to(t, t->size, err);
	if (result != RAP_OK)
		goto out_free_resp;
	cli_progress_done(t->progress, rap_now_ms());
	rap_sha256_final_hex(&t->hash, t->sha256);
	rap_sha256_init(&t->hash);
	t->hashed = 0;
out_free_resp:
	cli_resp_cleanup(&resp);
	return result;
}
