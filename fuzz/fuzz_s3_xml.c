/*
 * fuzz_s3_xml.c: the readers of S3's XML answers
 * (lib/adapters/s3/s3_xml.c), fed what a server might answer.
 */
#include "fuzz.h"

#include "rap/err.h"
#include "s3_xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *xml = fuzz_cstr(data, size), *id, out[RAP_ERRLEN];

	id = rap__s3_xml_value(xml, "UploadId");
	FUZZ_CHECK(!id || (strlen(id) <= size && !strchr(id, '<')));
	free(id);
	rap__s3_xml_error(xml, "PUT", "bucket/key", 503, out, sizeof(out));
	FUZZ_CHECK(strlen(out) < sizeof(out));
	rap__s3_xml_error(size ? xml : NULL, "GET", "bucket", 404, out, 16);
	FUZZ_CHECK(strlen(out) < 16);
	free(xml);
	return 0;
}
