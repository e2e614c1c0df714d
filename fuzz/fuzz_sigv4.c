/*
 * fuzz_sigv4.c: the SigV4 canonicaliser (lib/adapters/s3/sigv4.c).  The
 * input is lines: method, path, query, payload hash, x-amz-date, region,
 * secret, then "name:value" headers (up to 16).  Each line is also
 * URI-encoded both ways, and the encoding checked: only unreserved bytes,
 * '/' (when kept) and %XX escapes come out.
 */
#include "fuzz.h"

#include "rap/buf.h"
#include "rap/err.h"
#include "rap/hash.h"
#include "rap/sigv4.h"
#include "sigv4_internal.h"

#include <ctype.h>
#include <stdbool.h>

#define FIELDS 7
#define MAX_HEADERS 16

static void check_encoded(const char *s, bool keep_slash)
{
	struct rap_buf b;

	rap_buf_init(&b, 1 << 20);
	rap__sigv4_uri_encode(&b, s, keep_slash);
	for (size_t i = 0; i < b.len; i++) {
		unsigned char c = (unsigned char)b.data[i];

		if (c == '%') {
			FUZZ_CHECK(i + 2 < b.len + 1 && isxdigit((unsigned char)b.data[i + 1]) &&
				   isxdigit((unsigned char)b.data[i + 2]));
			i += 2;
			continue;
		}
		FUZZ_CHECK(isalnum(c) || strchr("-._~", c) || (keep_slash && c == '/'));
	}
	rap_buf_cleanup(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size), *p = text, sig[RAP_SHA256_HEXLEN], names[256];
	const char *f[FIELDS], *headers[MAX_HEADERS + 1];
	struct rap_sigv4_req r;
	unsigned nf = 0, nh = 0;

	while (p && nf < FIELDS + MAX_HEADERS) {
		char *nl = strchr(p, '\n');

		if (nl)
			*nl = '\0';
		if (nf < FIELDS)
			f[nf] = p;
		else
			headers[nh++] = p;
		nf++;
		check_encoded(p, true);
		check_encoded(p, false);
		p = nl ? nl + 1 : NULL;
	}
	headers[nh] = NULL;
	if (nf >= FIELDS && nh > 0) {
		memset(&r, 0, sizeof(r));
		r.method = f[0];
		r.path = f[1];
		r.query = f[2];
		r.payload_hash = f[3];
		r.amz_date = f[4];
		r.region = f[5];
		r.secret_key = f[6];
		r.host = "127.0.0.1:9000";
		r.service = "s3";
		r.headers = headers;
		if (rap_sigv4_sign(&r, sig, names, sizeof(names)) == RAP_OK) {
			FUZZ_CHECK(strlen(sig) == RAP_SHA256_HEXLEN - 1);
			FUZZ_CHECK(strlen(names) < sizeof(names));
		}
	}
	free(text);
	return 0;
}
