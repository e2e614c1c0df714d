/*
 * fuzz_tus_header.c: the tus header parsers (lib/wire/tus_header.c and
 * rap_strtonum, which reads Upload-Offset and Upload-Length).  The input,
 * as one header value, goes to each of them; a value accepted must be
 * what the grammar says.
 */
#include "fuzz.h"

#include "rap/err.h"
#include "rap/str.h"
#include "rap/tus_header.h"
#include "rap/uuid.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *h = fuzz_cstr(data, size), err[RAP_ERRLEN], out[256], algo[RAP_TUS_ALGO_LEN];
	char ids[RAP_TUS_CONCAT_MAX][RAP_UUID_STRLEN];
	unsigned char digest[RAP_DIGEST_MAX];
	long long num;
	unsigned n;
	size_t dn;

	if (rap_strtonum(h, 0, INT64_MAX, &num) == RAP_OK)
		FUZZ_CHECK(num >= 0);
	if (rap_tus_metadata_get(h, "filename", out, sizeof(out), err) == RAP_OK)
		FUZZ_CHECK(strlen(out) < sizeof(out));
	else
		FUZZ_CHECK(err[0] != '\0');
	if (rap_tus_metadata_get(h, "filetype", out, 8, err) == RAP_OK)
		FUZZ_CHECK(strlen(out) < 8);
	if (rap_tus_checksum_parse(h, algo, digest, &dn) == RAP_OK)
		FUZZ_CHECK(strlen(algo) > 0 && dn > 0 && dn <= RAP_DIGEST_MAX);
	if (rap_tus_concat_parse(h, ids, RAP_TUS_CONCAT_MAX, &n, err) == RAP_OK) {
		FUZZ_CHECK(n >= 1 && n <= RAP_TUS_CONCAT_MAX);
		for (unsigned i = 0; i < n; i++)
			FUZZ_CHECK(rap_uuid_valid(ids[i]));
	}
	if (rap_tus_concat_parse(h, ids, 2, &n, err) == RAP_OK)
		FUZZ_CHECK(n >= 1 && n <= 2);
	free(h);
	return 0;
}
