/*
 * s3.c: an S3 client over libcurl, signed with Signature V4 (sigv4.c),
 * path-style.  One CURL easy handle per client keeps connections alive.
 *
 * Every call is one request through perform(): the path is URI-encoded per
 * segment, the request is signed with an unsigned payload (the body may be
 * produced while it is sent), and the handle is reset and set up again, so
 * no option of one request leaks into the next.  Bodies stream: a PUT
 * reads from a buffer or a caller's source, a GET writes 2xx bytes to a
 * caller's sink; only small answers (XML, errors) are kept, up to MAX_XML.
 * A multipart upload (struct rap_s3_mpu) is its key, upload id and the
 * ETag of each part by number; it can be rebuilt from a stored upload id
 * (rap_s3_mpu_resume) and completes only when no part is missing.
 * Presigned URLs are signed here too (query-string SigV4): curl signs
 * headers only.
 */
#include "rap/s3.h"
#include "rap/assert.h"
#include "rap/err.h"
#include "rap/mem.h"
#include "rap/buf.h"
#include "rap/sigv4.h"
#include "rap/hash.h"
#include "s3_xml.h"
#include "sigv4_internal.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_XML (1024 * 1024) /* S3 answers we read into memory */

struct rap_s3 {
	char *endpoint;
	char *host; /* host[:port] of the endpoint */
	char *region;
	char *bucket;
	char *access_key;
	char *secret_key;
	CURL *curl;
	char err[RAP_ERRLEN];
};

struct rap_s3_mpu {
	char *key;
	char *upload_id;
	char **etags;
	unsigned n;
	unsigned cap;
};

/* One request: what to send and what came back. */
struct s3_req {
	const char *method;
	const char *key;   /* NULL: the bucket itself */
	const char *query; /* canonical query, "" for none */
	const char *content_type;
	const char *body; /* sent when has_body (and no source) */
	size_t body_len;  /* with a source too: the Content-Length */
	size_t body_off;
	bool has_body;
	rap_s3_source source; /* PUT: a body produced as it is sent */
	void *source_ctx;
	int source_result;
	rap_s3_sink sink; /* GET: streamed 2xx body */
	void *sink_ctx;
	int sink_result;
	struct rap_buf resp; /* small bodies (XML, errors) */
	CURL *curl;
	long status;
	char etag[128];
	uint64_t content_length;
};

void rap_s3_global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct rap_s3 *rap_s3_new(const struct rap_s3_cfg *cfg)
{
	struct rap_s3 *s3 = rap_calloc(1, sizeof(*s3));
	const char *h = strstr(cfg->endpoint, "://");
	size_t n;

	s3->endpoint = rap_strdup(cfg->endpoint);
	n = strlen(s3->endpoint);
	while (n > 0 && s3->endpoint[n - 1] == '/')
		s3->endpoint[--n] = '\0';
	h = h ? h + 3 : cfg->endpoint;
	s3->host = rap_strndup(h, strcspn(h, "/"));
	s3->region = rap_strdup(cfg->region);
	s3->bucket = rap_strdup(cfg->bucket);
	s3->access_key = rap_strdup(cfg->access_key);
	s3->secret_key = rap_strdup(cfg->secret_key);
	s3->curl = curl_easy_init();
	if (!s3->curl)
		abort(); /* only fails when out of memory */
	return s3;
}

void rap_s3_free(struct rap_s3 *s3)
{
	if (!s3)
		return;
	curl_easy_cleanup(s3->curl);
	free(s3->endpoint);
	free(s3->host);
	free(s3->region);
	free(s3->bucket);
	free(s3->access_key);
	free(s3->secret_key);
	free(s3);
}

const char *rap_s3_errmsg(const struct rap_s3 *s3)
{
	return s3->err;
}

static void amz_now(char out[17], time_t now)
{
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

/* "/bucket/key" with the key URI-encoded per segment. */
static void build_path(struct rap_s3 *s3, const char *key, struct rap_buf *path)
{
	rap_buf_append(path, "/", 1);
	rap__sigv4_uri_encode(path, s3->bucket, false);
	if (key) {
		rap_buf_append(path, "/", 1);
		rap__sigv4_uri_encode(path, key, true);
	}
}

static size_t on_header(char *buf, size_t size, size_t n, void *arg)
{
	struct s3_req *r = arg;
	size_t len = size * n;

	if (len > 5 && strncasecmp(buf, "ETag:", 5) == 0) {
		const char *v = buf + 5;
		size_t vlen = len - 5;

		while (vlen && (*v == ' ' || *v == '\t')) {
			v++;
			vlen--;
		}
		while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
			vlen--;
		snprintf(r->etag, sizeof(r->etag), "%.*s", (int)vlen, v);
	}
	return len;
}

static size_t on_body(char *buf, size_t size, size_t n, void *arg)
{
	struct s3_req *r = arg;
	size_t len = size * n;

	if (r->status == 0)
		curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->sink && r->status >= 200 && r->status < 300) {
		r->sink_result = r->sink(r->sink_ctx, buf, len);
		return r->sink_result == RAP_OK ? len : 0;
	}
	if (rap_buf_append(&r->resp, buf, len) != RAP_OK)
		return 0;
	return len;
}

static size_t on_read(char *buf, size_t size, size_t n, void *arg)
{
	struct s3_req *r = arg;
	size_t take = size * n;
	long got;

	if (take > r->body_len - r->body_off)
		take = r->body_len - r->body_off;
	if (r->source && take > 0) {
		got = r->source(r->source_ctx, buf, take);
		if (got <= 0) {
			r->source_result = got < 0 ? (int)got : RAP_EIO;
			return CURL_READFUNC_ABORT;
		}
		take = (size_t)got;
	} else {
		memcpy(buf, r->body + r->body_off, take);
	}
	r->body_off += take;
	return take;
}

/* Copies <Code> and <Message> of an S3 error document into err. */
static void xml_error(struct rap_s3 *s3, const struct s3_req *r)
{
	rap__s3_xml_error(r->resp.data, r->method, r->key ? r->key : s3->bucket, r->status, s3->err,
			  sizeof(s3->err));
}

/* Sets the Authorization and x-amz headers of a request. */
static struct curl_slist *sign_headers(struct rap_s3 *s3, struct s3_req *r, const char *path)
{
	char amz_date[17], sig[RAP_SHA256_HEXLEN], names[256], line[512], host[300];
	const char *hdrs[4];
	struct curl_slist *list = NULL;
	struct rap_sigv4_req sr;

	amz_now(amz_date, time(NULL));
	snprintf(host, sizeof(host), "host:%s", s3->host);
	snprintf(line, sizeof(line), "x-amz-date:%s", amz_date);
	hdrs[0] = host;
	hdrs[1] = "x-amz-content-sha256:UNSIGNED-PAYLOAD";
	hdrs[2] = line;
	hdrs[3] = NULL;
	memset(&sr, 0, sizeof(sr));
	sr.method = r->method;
	sr.host = s3->host;
	sr.path = path;
	sr.query = r->query;
	sr.headers = hdrs;
	sr.payload_hash = "UNSIGNED-PAYLOAD";
	sr.amz_date = amz_date;
	sr.region = s3->region;
	sr.service = "s3";
	sr.secret_key = s3->secret_key;
	rap_sigv4_sign(&sr, sig, names, sizeof(names));
	list = curl_slist_append(list, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
	snprintf(line, sizeof(line), "x-amz-date: %s", amz_date);
	list = curl_slist_append(list, line);
	snprintf(line, sizeof(line),
		 "Authorization: AWS4-HMAC-SHA256 Credential=%s/%.8s/%s/s3/aws4_request, "
		 "SignedHeaders=%s, Signature=%s",
		 s3->access_key, amz_date, s3->region, names, sig);
	list = curl_slist_append(list, line);
	/* No 100-continue round trip; Expect is not a signed header. */
	list = curl_slist_append(list, "Expect:");
	if (r->content_type) {
		snprintf(line, sizeof(line), "Content-Type: %s", r->content_type);
		list = curl_slist_append(list, line);
	}
	return list;
}

/* Performs r; RAP_OK for 2xx, else RAP_ENOENT / RAP_ES3 / RAP_EIO. */
static int perform(struct rap_s3 *s3, struct s3_req *r)
{
	struct rap_buf path, url;
	struct curl_slist *hdrs;
	CURL *c = s3->curl;
	CURLcode cc;
	curl_off_t cl = -1;
	int result;

	rap_buf_init(&path, 8192);
	rap_buf_init(&url, 16384);
	rap_buf_init(&r->resp, MAX_XML);
	r->status = 0;
	r->sink_result = RAP_OK;
	r->source_result = RAP_OK;
	r->curl = c;
	build_path(s3, r->key, &path);
	rap_buf_appendf(&url, "%s%s%s%s", s3->endpoint, path.data, r->query[0] ? "?" : "",
			r->query);
	hdrs = sign_headers(s3, r, path.data);
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url.data);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (strcmp(r->method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (r->has_body && strcmp(r->method, "PUT") == 0) {
		r->body_off = 0;
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, r);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->body_len);
	} else if (strcmp(r->method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->has_body ? r->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)(r->has_body ? r->body_len : 0));
	} else if (strcmp(r->method, "GET") != 0) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method);
	}
	/* The write callback reads the status through the handle. */
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
	r->content_length = cl > 0 ? (uint64_t)cl : 0;
	curl_slist_free_all(hdrs);
	if (r->sink_result != RAP_OK) {
		snprintf(s3->err, sizeof(s3->err), "the consumer stopped the transfer: %s",
			 rap_strerror(r->sink_result));
		result = r->sink_result;
	} else if (r->source_result != RAP_OK) {
		snprintf(s3->err, sizeof(s3->err), "the producer stopped the transfer: %s",
			 rap_strerror(r->source_result));
		result = r->source_result;
	} else if (cc != CURLE_OK) {
		snprintf(s3->err, sizeof(s3->err), "%s %s: %s", r->method, url.data,
			 curl_easy_strerror(cc));
		result = RAP_EIO;
	} else if (r->status >= 200 && r->status < 300) {
		result = RAP_OK;
	} else {
		xml_error(s3, r);
		result = r->status == 404 ? RAP_ENOENT : RAP_ES3;
	}
	rap_buf_cleanup(&url);
	rap_buf_cleanup(&path);
	return result;
}

static void req_init(struct s3_req *r, const char *method, const char *key, const char *query)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
	r->key = key;
	r->query = query;
}

int rap_s3_ensure_bucket(struct rap_s3 *s3)
{
	struct s3_req r;
	int result;

	req_init(&r, "PUT", NULL, "");
	result = perform(s3, &r);
	if (result == RAP_ES3 && r.status == 409)
		result = RAP_OK; /* BucketAlreadyOwnedByYou / BucketAlreadyExists */
	rap_buf_cleanup(&r.resp);
	return result;
}

int rap_s3_put(struct rap_s3 *s3, const char *key, const void *data, size_t len,
	       const char *content_type)
{
	struct s3_req r;
	int result;

	req_init(&r, "PUT", key, "");
	r.body = data;
	r.body_len = len;
	r.has_body = true;
	r.content_type = content_type;
	result = perform(s3, &r);
	rap_buf_cleanup(&r.resp);
	return result;
}

int rap_s3_head(struct rap_s3 *s3, const char *key, uint64_t *size)
{
	struct s3_req r;
	int result;

	req_init(&r, "HEAD", key, "");
	result = perform(s3, &r);
	if (result == RAP_OK && size)
		*size = r.content_length;
	rap_buf_cleanup(&r.resp);
	return result;
}

int rap_s3_get(struct rap_s3 *s3, const char *key, rap_s3_sink cb, void *ctx)
{
	struct s3_req r;
	int result;

	req_init(&r, "GET", key, "");
	r.sink = cb;
	r.sink_ctx = ctx;
	result = perform(s3, &r);
	rap_buf_cleanup(&r.resp);
	return result;
}

int rap_s3_delete(struct rap_s3 *s3, const char *key)
{
	struct s3_req r;
	int result;

	req_init(&r, "DELETE", key, "");
	result = perform(s3, &r);
	if (result == RAP_ENOENT)
		result = RAP_OK;
	rap_buf_cleanup(&r.resp);
	return result;
}

int rap_s3_mpu_begin(struct rap_s3 *s3, const char *key, const char *content_type,
		     struct rap_s3_mpu **out)
{
	struct rap_s3_mpu *mpu;
	struct s3_req r;
	char *id;
	int result;

	/* "uploads=" with the '=': curl 7.88 does not normalise queries. */
	req_init(&r, "POST", key, "uploads=");
	r.content_type = content_type;
	result = perform(s3, &r);
	if (result != RAP_OK)
		goto out_resp;
	id = rap__s3_xml_value(r.resp.data, "UploadId");
	if (!id || !*id) {
		free(id);
		snprintf(s3->err, sizeof(s3->err), "InitiateMultipartUpload: no UploadId");
		result = RAP_EPROTO;
		goto out_resp;
	}
	mpu = rap_calloc(1, sizeof(*mpu));
	mpu->key = rap_strdup(key);
	mpu->upload_id = id;
	*out = mpu;
out_resp:
	rap_buf_cleanup(&r.resp);
	return result;
}

/* "partNumber=N&uploadId=X" (sorted, encoded) or "uploadId=X". */
static char *mpu_query(const struct rap_s3_mpu *mpu, unsigned part)
{
	struct rap_buf q;

	rap_buf_init(&q, 4096);
	if (part)
		rap_buf_appendf(&q, "partNumber=%u&", part);
	rap_buf_appends(&q, "uploadId=");
	rap__sigv4_uri_encode(&q, mpu->upload_id, false);
	return rap_buf_take(&q);
}

/* UploadPart of len bytes, from data or (data NULL) from src. */
static int upload_part(struct rap_s3 *s3, const struct rap_s3_mpu *mpu, unsigned part,
		       const void *data, size_t len, rap_s3_source src, void *ctx,
		       char etag[RAP_S3_ETAG_LEN])
{
	char *query;
	struct s3_req r;
	int result;

	if (part < 1 || part > RAP_S3_MAX_PARTS) {
		snprintf(s3->err, sizeof(s3->err), "UploadPart: part number %u is outside 1..%u",
			 part, RAP_S3_MAX_PARTS);
		return RAP_EINVAL;
	}
	query = mpu_query(mpu, part);
	req_init(&r, "PUT", mpu->key, query);
	r.body = data;
	r.body_len = len;
	r.has_body = true;
	r.source = data ? NULL : src;
	r.source_ctx = ctx;
	result = perform(s3, &r);
	if (result == RAP_OK && !r.etag[0]) {
		snprintf(s3->err, sizeof(s3->err), "UploadPart %u: no ETag", part);
		result = RAP_EPROTO;
	}
	if (result == RAP_OK)
		snprintf(etag, RAP_S3_ETAG_LEN, "%s", r.etag);
	rap_buf_cleanup(&r.resp);
	free(query);
	return result;
}

int rap_s3_mpu_upload(struct rap_s3 *s3, const struct rap_s3_mpu *mpu, unsigned part,
		      const void *data, size_t len, char etag[RAP_S3_ETAG_LEN])
{
	return upload_part(s3, mpu, part, data ? data : "", len, NULL, NULL, etag);
}

int rap_s3_mpu_upload_from(struct rap_s3 *s3, const struct rap_s3_mpu *mpu, unsigned part,
			   size_t len, rap_s3_source src, void *ctx, char etag[RAP_S3_ETAG_LEN])
{
	return upload_part(s3, mpu, part, NULL, len, src, ctx, etag);
}

void rap_s3_mpu_set_etag(struct rap_s3_mpu *mpu, unsigned part, const char *etag)
{
	/* Part 0 would write before the array. */
	RAP_ASSERT(part >= 1 && part <= RAP_S3_MAX_PARTS);
	if (part > mpu->cap) {
		unsigned cap = mpu->cap ? mpu->cap : 16;

		while (cap < part)
			cap *= 2;
		mpu->etags = rap_realloc(mpu->etags, cap * sizeof(*mpu->etags));
		memset(mpu->etags + mpu->cap, 0, (cap - mpu->cap) * sizeof(*mpu->etags));
		mpu->cap = cap;
	}
	free(mpu->etags[part - 1]);
	mpu->etags[part - 1] = rap_strdup(etag);
	if (part > mpu->n)
		mpu->n = part;
}

const char *rap_s3_mpu_etag(const struct rap_s3_mpu *mpu, unsigned part)
{
	return part >= 1 && part <= mpu->n ? mpu->etags[part - 1] : NULL;
}

struct rap_s3_mpu *rap_s3_mpu_resume(const char *key, const char *upload_id)
{
	struct rap_s3_mpu *mpu = rap_calloc(1, sizeof(*mpu));

	mpu->key = rap_strdup(key);
	mpu->upload_id = rap_strdup(upload_id);
	return mpu;
}

int rap_s3_mpu_part(struct rap_s3 *s3, struct rap_s3_mpu *mpu, const void *data, size_t len)
{
	char etag[RAP_S3_ETAG_LEN];
	int result;

	result = rap_s3_mpu_upload(s3, mpu, mpu->n + 1, data, len, etag);
	if (result == RAP_OK)
		rap_s3_mpu_set_etag(mpu, mpu->n + 1, etag);
	return result;
}

int rap_s3_mpu_complete(struct rap_s3 *s3, struct rap_s3_mpu *mpu)
{
	char *query = mpu_query(mpu, 0);
	struct rap_buf xml;
	struct s3_req r;
	unsigned i;
	int result;

	rap_buf_init(&xml, 64 * 1024 * 1024);
	for (i = 0; i < mpu->n; i++) {
		if (!mpu->etags[i]) {
			snprintf(s3->err, sizeof(s3->err),
				 "CompleteMultipartUpload: part %u missing", i + 1);
			free(query);
			rap_buf_cleanup(&xml);
			return RAP_EINVAL;
		}
	}
	rap_buf_appends(&xml, "<CompleteMultipartUpload>");
	for (i = 0; i < mpu->n; i++)
		rap_buf_appendf(&xml, "<Part><PartNumber>%u</PartNumber><ETag>%s</ETag></Part>",
				i + 1, mpu->etags[i]);
	rap_buf_appends(&xml, "</CompleteMultipartUpload>");
	req_init(&r, "POST", mpu->key, query);
	r.body = xml.data;
	r.body_len = xml.len;
	r.has_body = true;
	r.content_type = "application/xml";
	result = perform(s3, &r);
	/* S3 may answer 200 with an <Error> document. */
	if (result == RAP_OK && r.resp.data && strstr(r.resp.data, "<Error>")) {
		xml_error(s3, &r);
		result = RAP_ES3;
	}
	rap_buf_cleanup(&r.resp);
	rap_buf_cleanup(&xml);
	free(query);
	return result;
}

int rap_s3_mpu_abort(struct rap_s3 *s3, struct rap_s3_mpu *mpu)
{
	char *query = mpu_query(mpu, 0);
	struct s3_req r;
	int result;

	req_init(&r, "DELETE", mpu->key, query);
	result = perform(s3, &r);
	if (result == RAP_ES3 && (r.status == 405 || r.status == 501))
		result = RAP_EUNSUPPORTED;
	else if (result == RAP_ENOENT)
		result = RAP_OK; /* already gone */
	rap_buf_cleanup(&r.resp);
	free(query);
	return result;
}

unsigned rap_s3_mpu_parts(const struct rap_s3_mpu *mpu)
{
	return mpu->n;
}

const char *rap_s3_mpu_id(const struct rap_s3_mpu *mpu)
{
	return mpu->upload_id;
}

void rap_s3_mpu_free(struct rap_s3_mpu *mpu)
{
	unsigned i;

	if (!mpu)
		return;
	for (i = 0; i < mpu->n; i++)
		free(mpu->etags[i]);
	free(mpu->etags);
	free(mpu->key);
	free(mpu->upload_id);
	free(mpu);
}

char *rap_s3_presign(struct rap_s3 *s3, const char *method, const char *key, unsigned expires,
		     time_t now)
{
	struct rap_buf path, query, cred, url;
	char amz_date[17], sig[RAP_SHA256_HEXLEN], names[64], host[300];
	const char *hdrs[2] = { host, NULL };
	struct rap_sigv4_req sr;
	char *result = NULL;

	amz_now(amz_date, now);
	rap_buf_init(&path, 8192);
	rap_buf_init(&query, 8192);
	rap_buf_init(&cred, 1024);
	rap_buf_init(&url, 16384);
	build_path(s3, key, &path);
	rap_buf_appendf(&cred, "%s/%.8s/%s/s3/aws4_request", s3->access_key, amz_date, s3->region);
	rap_buf_appends(&query, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=");
	rap__sigv4_uri_encode(&query, cred.data, false);
	rap_buf_appendf(&query, "&X-Amz-Date=%s&X-Amz-Expires=%u&X-Amz-SignedHeaders=host",
			amz_date, expires);
	snprintf(host, sizeof(host), "host:%s", s3->host);
	memset(&sr, 0, sizeof(sr));
	sr.method = method;
	sr.host = s3->host;
	sr.path = path.data;
	sr.query = query.data;
	sr.headers = hdrs;
	sr.payload_hash = "UNSIGNED-PAYLOAD";
	sr.amz_date = amz_date;
	sr.region = s3->region;
	sr.service = "s3";
	sr.secret_key = s3->secret_key;
	if (rap_sigv4_sign(&sr, sig, names, sizeof(names)) == RAP_OK) {
		rap_buf_appendf(&url, "%s%s?%s&X-Amz-Signature=%s", s3->endpoint, path.data,
				query.data, sig);
		result = rap_buf_take(&url);
	}
	rap_buf_cleanup(&url);
	rap_buf_cleanup(&cred);
	rap_buf_cleanup(&query);
	rap_buf_cleanup(&path);
	return result;
}
