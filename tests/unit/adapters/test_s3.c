/* Tests of lib/adapters/s3/sigv4.c and s3.c against AWS's published examples. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../lib/adapters/s3/s3_xml.h"
#include "../../../lib/adapters/s3/sigv4_internal.h"
#include "rap/err.h"
#include "rap/s3.h"
#include "rap/buf.h"
#include "rap/sigv4.h"
#include "rap/hash.h"

#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* aws-sig-v4-test-suite, case get-vanilla. */
Test(sigv4, get_vanilla_test_vector)
{
	const char *h[] = { "host:example.amazonaws.com", "x-amz-date:20150830T123600Z", NULL };
	struct rap_sigv4_req r = {
		.method = "GET",
		.host = "example.amazonaws.com",
		.path = "/",
		.query = "",
		.headers = h,
		.payload_hash = EMPTY_SHA,
		.amz_date = "20150830T123600Z",
		.region = "us-east-1",
		.service = "service",
		.secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	};
	char sig[RAP_SHA256_HEXLEN], names[128];

	cr_assert_eq(rap_sigv4_sign(&r, sig, names, sizeof(names)), RAP_OK);
	cr_assert_str_eq(names, "host;x-amz-date");
	cr_assert_str_eq(sig, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

/* Amazon S3 API reference, "Example: GET Object" (header signing). */
Test(sigv4, s3_get_object_example)
{
	const char *h[] = { "host:examplebucket.s3.amazonaws.com", "range:bytes=0-9",
			    "x-amz-content-sha256:" EMPTY_SHA, "x-amz-date:20130524T000000Z",
			    NULL };
	struct rap_sigv4_req r = {
		.method = "GET",
		.host = "examplebucket.s3.amazonaws.com",
		.path = "/test.txt",
		.query = "",
		.headers = h,
		.payload_hash = EMPTY_SHA,
		.amz_date = "20130524T000000Z",
		.region = "us-east-1",
		.service = "s3",
		.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	};
	char sig[RAP_SHA256_HEXLEN], names[128];

	cr_assert_eq(rap_sigv4_sign(&r, sig, names, sizeof(names)), RAP_OK);
	cr_assert_str_eq(names, "host;range;x-amz-content-sha256;x-amz-date");
	cr_assert_str_eq(sig, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

/* Amazon S3 API reference, presigned URL example (query-string signing). */
Test(sigv4, s3_presigned_url_example)
{
	const char *h[] = { "host:examplebucket.s3.amazonaws.com", NULL };
	struct rap_sigv4_req r = {
		.method = "GET",
		.host = "examplebucket.s3.amazonaws.com",
		.path = "/test.txt",
		.query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE"
			 "%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z"
			 "&X-Amz-Expires=86400&X-Amz-SignedHeaders=host",
		.headers = h,
		.payload_hash = "UNSIGNED-PAYLOAD",
		.amz_date = "20130524T000000Z",
		.region = "us-east-1",
		.service = "s3",
		.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	};
	char sig[RAP_SHA256_HEXLEN], names[128];

	cr_assert_eq(rap_sigv4_sign(&r, sig, names, sizeof(names)), RAP_OK);
	cr_assert_str_eq(sig, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

Test(sigv4, malformed_date_is_refused)
{
	const char *h[] = { "host:x", NULL };
	struct rap_sigv4_req r = { .method = "GET",
				   .path = "/",
				   .query = "",
				   .headers = h,
				   .payload_hash = EMPTY_SHA,
				   .amz_date = "2013",
				   .region = "r",
				   .service = "s3",
				   .secret_key = "k" };
	char sig[RAP_SHA256_HEXLEN], names[16];

	cr_assert_eq(rap_sigv4_sign(&r, sig, names, sizeof(names)), RAP_EINVAL);
}

Test(s3, uri_encoding_keeps_unreserved_and_slashes_in_keys)
{
	struct rap_buf b;

	rap_buf_init(&b, 1024);
	rap__sigv4_uri_encode(&b, "uploads/a b+c~d_e.f-g/ü?", true);
	cr_assert_str_eq(b.data, "uploads/a%20b%2Bc~d_e.f-g/%C3%BC%3F");
	rap_buf_reset(&b);
	rap__sigv4_uri_encode(&b, "AK/2013/us-east-1", false);
	cr_assert_str_eq(b.data, "AK%2F2013%2Fus-east-1");
	rap_buf_cleanup(&b);
}

Test(s3, presign_builds_a_path_style_url_that_verifies)
{
	struct rap_s3_cfg cfg = { "http://127.0.0.1:9100/", "us-east-1", "rap-data",
				  "AKIAIOSFODNN7EXAMPLE",
				  "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };
	struct rap_s3 *s3 = rap_s3_new(&cfg);
	char *url = rap_s3_presign(s3, "GET", "processed/j 1/result.json", 900, 1369353600);
	const char *h[] = { "host:127.0.0.1:9100", NULL };
	char sig[RAP_SHA256_HEXLEN], names[16], expect[200];
	struct rap_sigv4_req r = {
		.method = "GET",
		.host = "127.0.0.1:9100",
		.path = "/rap-data/processed/j%201/result.json",
		.query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE"
			 "%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z"
			 "&X-Amz-Expires=900&X-Amz-SignedHeaders=host",
		.headers = h,
		.payload_hash = "UNSIGNED-PAYLOAD",
		.amz_date = "20130524T000000Z",
		.region = "us-east-1",
		.service = "s3",
		.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	};

	cr_assert_not_null(url);
	cr_assert(strncmp(url, "http://127.0.0.1:9100/rap-data/processed/j%201/result.json?", 59) ==
			  0,
		  "%s", url);
	cr_assert(strstr(url, "X-Amz-Expires=900&"), "%s", url);
	cr_assert_eq(rap_sigv4_sign(&r, sig, names, sizeof(names)), RAP_OK);
	snprintf(expect, sizeof(expect), "&X-Amz-Signature=%s", sig);
	cr_assert(strstr(url, expect), "%s lacks %s", url, expect);
	free(url);
	rap_s3_free(s3);
}

/* Issue 15: a part number outside S3's 1..10000 is refused before any
 * request (part 0 once reached etags[-1]); the endpoint is a loopback port
 * nothing listens on, never reached. */
Test(s3, part_numbers_outside_one_to_ten_thousand_are_refused_before_any_request)
{
	struct rap_s3_cfg cfg = { .endpoint = "http://127.0.0.1:9",
				  .region = "us-east-1",
				  .bucket = "b",
				  .access_key = "k",
				  .secret_key = "s" };
	struct rap_s3 *s3 = rap_s3_new(&cfg);
	struct rap_s3_mpu *mpu = rap_s3_mpu_resume("key", "upload-id");
	char etag[RAP_S3_ETAG_LEN];

	cr_assert_eq(rap_s3_mpu_upload(s3, mpu, 0, "x", 1, etag), RAP_EINVAL);
	cr_assert_str_eq(rap_s3_errmsg(s3), "UploadPart: part number 0 is outside 1..10000");
	cr_assert_eq(rap_s3_mpu_upload(s3, mpu, 10001, "x", 1, etag), RAP_EINVAL);
	cr_assert_str_eq(rap_s3_errmsg(s3), "UploadPart: part number 10001 is outside 1..10000");
	cr_assert_null(rap_s3_mpu_etag(mpu, 0));
	rap_s3_mpu_set_etag(mpu, 10000, "\"e\"");
	cr_assert_str_eq(rap_s3_mpu_etag(mpu, 10000), "\"e\"");
	rap_s3_mpu_free(mpu);
	rap_s3_free(s3);
}

/* Recording an ETag for part 0 (once etags[-1]) or past 10000 is a broken
 * invariant: an abort with its place, never a write out of bounds. */
Test(s3, recording_an_etag_for_part_zero_aborts, .signal = SIGABRT)
{
	struct rap_s3_mpu *mpu = rap_s3_mpu_resume("key", "upload-id");

	rap_s3_mpu_set_etag(mpu, 0, "\"e\"");
}

Test(s3, recording_an_etag_past_part_ten_thousand_aborts, .signal = SIGABRT)
{
	struct rap_s3_mpu *mpu = rap_s3_mpu_resume("key", "upload-id");

	rap_s3_mpu_set_etag(mpu, 10001, "\"e\"");
}

/* The XML readers (s3_xml.c, fuzzed by fuzz/fuzz_s3_xml.c) take any bytes
 * a server sends: an element cut short, none at all, no body. */
Test(s3, xml_readers_take_what_a_server_sends)
{
	char out[RAP_ERRLEN], *v;

	v = rap__s3_xml_value("<R><UploadId>abc</UploadId></R>", "UploadId");
	cr_assert_str_eq(v, "abc");
	free(v);
	v = rap__s3_xml_value("<UploadId>cut short", "UploadId");
	cr_assert_str_eq(v, "cut short");
	free(v);
	cr_assert_null(rap__s3_xml_value("<Other/>", "UploadId"));
	cr_assert_null(rap__s3_xml_value(NULL, "UploadId"));
	rap__s3_xml_error("<Error><Code>SlowDown</Code><Message>Reduce your rate</Message></Error>",
			  "PUT", "k", 503, out, sizeof(out));
	cr_assert_str_eq(out, "PUT k: HTTP 503 SlowDown Reduce your rate");
	rap__s3_xml_error("<Code>NoSuchKey", "GET", "k", 404, out, sizeof(out));
	cr_assert_str_eq(out, "GET k: HTTP 404 NoSuchKey ");
	rap__s3_xml_error(NULL, "GET", "b", 500, out, 12);
	cr_assert_str_eq(out, "GET b: HTTP");
}
