/* sigv4.c: AWS Signature Version 4 (header and query-string signing). */
#include "rap/s3.h"
#include "rap/err.h"
#include "rap/hash.h"
#include "rap/mem.h"
#include "rap/buf.h"
#include "rap/sigv4.h"
#include "rap/str.h"
#include "sigv4_internal.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

static void hmac(const void *key, size_t klen, const char *msg, unsigned char out[RAP_SHA256_LEN])
{
	unsigned int n = 32;

	HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out, &n);
}

int rap_sigv4_sign(const struct rap_sigv4_req *req, char signature[RAP_SHA256_HEXLEN],
		   char *signed_headers, size_t signed_len)
{
	struct rap_buf creq, sts, names;
	unsigned char k[RAP_SHA256_LEN], sig[RAP_SHA256_LEN];
	char date[9], hash[RAP_SHA256_HEXLEN], *secret;
	const char *const *h;
	int result = RAP_EINVAL;

	if (strlen(req->amz_date) != 16)
		return RAP_EINVAL;
	memcpy(date, req->amz_date, 8);
	date[8] = '\0';
	rap_buf_init(&creq, 64 * 1024);
	rap_buf_init(&sts, 4096);
	rap_buf_init(&names, 4096);
	rap_buf_appendf(&creq, "%s\n%s\n%s\n", req->method, req->path, req->query);
	for (h = req->headers; *h; h++) {
		const char *colon = strchr(*h, ':');

		if (!colon)
			goto out_free;
		rap_buf_appendf(&creq, "%s\n", *h);
		rap_buf_appendf(&names, "%s%.*s", names.len ? ";" : "", (int)(colon - *h), *h);
	}
	rap_buf_appendf(&creq, "\n%s\n%s", names.data, req->payload_hash);
	rap_sha256_hex(creq.data, creq.len, hash);
	rap_buf_appendf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", req->amz_date,
			date, req->region, req->service, hash);
	secret = rap_asprintf("AWS4%s", req->secret_key);
	hmac(secret, strlen(secret), date, k);
	free(secret);
	hmac(k, 32, req->region, k);
	hmac(k, 32, req->service, k);
	hmac(k, 32, "aws4_request", k);
	hmac(k, 32, sts.data, sig);
	rap_hex(sig, 32, signature);
	if (snprintf(signed_headers, signed_len, "%s", names.data) >= (int)signed_len)
		goto out_free;
	result = RAP_OK;
out_free:
	rap_buf_cleanup(&names);
	rap_buf_cleanup(&sts);
	rap_buf_cleanup(&creq);
	return result;
}

void rap__sigv4_uri_encode(struct rap_buf *out, const char *s, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~' || (keep_slash && c == '/')) {
			rap_buf_append(out, s, 1);
		} else {
			char esc[3] = { '%', hex[c >> 4], hex[c & 15] };

			rap_buf_append(out, esc, 3);
		}
	}
}
