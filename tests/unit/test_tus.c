/* Tests of lib/tus.c (the tus header grammar) and of the resumable SHA-256
 * and client-chosen digests of lib/hash.c. */
#include <criterion/criterion.h>
#include <string.h>

#include "rap/err.h"
#include "rap/hash.h"
#include "rap/tus.h"
#include "rap/util.h"

Test(base64, round_trips_every_length_and_refuses_garbage)
{
	unsigned char in[64], out[64];
	char enc[100];
	size_t i, n;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 37 + 11);
	for (i = 0; i <= sizeof(in); i++) {
		rap_base64_encode(in, i, enc);
		cr_assert_eq(strlen(enc), 4 * ((i + 2) / 3));
		cr_assert_eq(rap_base64_decode(enc, strlen(enc), out, sizeof(out), &n), RAP_OK);
		cr_assert_eq(n, i);
		cr_assert_eq(memcmp(in, out, n), 0);
	}
	cr_assert_eq(rap_base64_decode("aGVsbG8", 7, out, sizeof(out), &n), RAP_OK,
		     "padding may be left out");
	cr_assert_eq(n, 5);
	cr_assert_eq(rap_base64_decode("aGV$bG8=", 8, out, sizeof(out), &n), RAP_EINVAL);
	cr_assert_eq(rap_base64_decode("a", 1, out, sizeof(out), &n), RAP_EINVAL);
	cr_assert_eq(rap_base64_decode("aGVsbG8=", 8, out, 4, &n), RAP_ETOOBIG);
}

Test(tus_metadata, finds_values_and_checks_the_grammar)
{
	char v[64], err[RAP_ERRLEN];

	/* filename "world.txt", filetype "text/plain", a key without value */
	const char *m = "filename d29ybGQudHh0,filetype dGV4dC9wbGFpbg==,is_confidential";

	cr_assert_eq(rap_tus_metadata_get(m, "filename", v, sizeof(v), err), RAP_OK);
	cr_assert_str_eq(v, "world.txt");
	cr_assert_eq(rap_tus_metadata_get(m, "filetype", v, sizeof(v), err), RAP_OK);
	cr_assert_str_eq(v, "text/plain");
	cr_assert_eq(rap_tus_metadata_get(m, "is_confidential", v, sizeof(v), err), RAP_OK);
	cr_assert_str_eq(v, "");
	cr_assert_eq(rap_tus_metadata_get(m, "absent", v, sizeof(v), err), RAP_OK);
	cr_assert_str_eq(v, "");
	cr_assert_eq(rap_tus_metadata_get("", "filename", v, sizeof(v), err), RAP_OK);
	cr_assert_eq(rap_tus_metadata_get("a !!!", "a", v, sizeof(v), err), RAP_EINVAL);
	cr_assert_eq(rap_tus_metadata_get("a YQ==,a Yg==", "a", v, sizeof(v), err), RAP_EINVAL,
		     "a repeated key is refused");
	cr_assert(strstr(err, "repeats"));
	cr_assert_eq(rap_tus_metadata_get("a YQ== b", "a", v, sizeof(v), err), RAP_EINVAL);
	cr_assert_eq(rap_tus_metadata_get("a AGI=", "a", v, sizeof(v), err), RAP_EINVAL,
		     "a value with a NUL byte is refused");
	cr_assert_eq(rap_tus_metadata_get("a YWJjZGVmZ2g=", "a", v, 4, err), RAP_EINVAL,
		     "a value longer than the buffer is refused");
}

Test(tus_checksum, splits_algorithm_and_digest)
{
	unsigned char d[RAP_DIGEST_MAX];
	char algo[16];
	size_t n;

	/* sha1 of "hello" */
	cr_assert_eq(rap_tus_checksum_parse("sha1 qvTGHdzF6KLavt4PO0gs2a6pQ00=", algo, d, &n), RAP_OK);
	cr_assert_str_eq(algo, "sha1");
	cr_assert_eq(n, 20);
	cr_assert_eq(d[0], 0xaa);
	cr_assert_eq(rap_tus_checksum_parse("sha1", algo, d, &n), RAP_EINVAL);
	cr_assert_eq(rap_tus_checksum_parse("sha1 ***", algo, d, &n), RAP_EINVAL);
	cr_assert_eq(rap_tus_checksum_parse(" qvTGHdzF6KLavt4PO0gs2a6pQ00=", algo, d, &n), RAP_EINVAL);
}

Test(tus_concat, takes_the_last_path_segment_of_each_url)
{
	char ids[4][37], err[RAP_ERRLEN];
	unsigned n;

	cr_assert_eq(rap_tus_concat_parse("final;/api/files/0b7b1c1e-8a3d-4c55-9d7e-2f8f1f6b7a10 "
		"http://h:8080/api/files/1c8c2d2f-9b4e-4d66-8e8f-3a9a2a7c8b21", ids, 4, &n, err),
		RAP_OK);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(ids[0], "0b7b1c1e-8a3d-4c55-9d7e-2f8f1f6b7a10");
	cr_assert_str_eq(ids[1], "1c8c2d2f-9b4e-4d66-8e8f-3a9a2a7c8b21");
	cr_assert_eq(rap_tus_concat_parse("partial", ids, 4, &n, err), RAP_EINVAL);
	cr_assert_eq(rap_tus_concat_parse("final;", ids, 4, &n, err), RAP_EINVAL);
	cr_assert_eq(rap_tus_concat_parse("final;/api/files/nope", ids, 4, &n, err), RAP_EINVAL);
	cr_assert_eq(rap_tus_concat_parse("final;/a/0b7b1c1e-8a3d-4c55-9d7e-2f8f1f6b7a10 "
		"/a/0b7b1c1e-8a3d-4c55-9d7e-2f8f1f6b7a10", ids, 1, &n, err), RAP_EINVAL,
		"more partial uploads than allowed");
}

Test(tus, http_date_is_imf_fixdate)
{
	char d[32];

	rap_http_date(784111777, d);
	cr_assert_str_eq(d, "Sun, 06 Nov 1994 08:49:37 GMT");
}

Test(sha256, a_saved_state_goes_on_to_the_same_digest)
{
	static unsigned char data[300000];
	unsigned char state[RAP_SHA256_STATE_LEN];
	char whole[65], resumed[65];
	struct rap_sha256 a, b;
	size_t i, cut;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 7 + (i >> 8));
	rap_sha256_hex(data, sizeof(data), whole);
	/* Cut at block boundaries and inside blocks. */
	for (cut = 0; cut < sizeof(data); cut += 65537) {
		rap_sha256_init(&a);
		rap_sha256_update(&a, data, cut);
		rap_sha256_save(&a, state);
		rap_sha256_cleanup(&a);
		cr_assert_eq(rap_sha256_restore(&b, state, sizeof(state)), RAP_OK);
		rap_sha256_update(&b, data + cut, sizeof(data) - cut);
		rap_sha256_final_hex(&b, resumed);
		cr_assert_str_eq(resumed, whole, "cut at %zu", cut);
	}
	state[0] ^= 1;
	cr_assert_eq(rap_sha256_restore(&b, state, sizeof(state)), RAP_EINVAL);
	cr_assert_eq(rap_sha256_restore(&b, state, 10), RAP_EINVAL);
}

Test(digest, client_checksums_match_known_values)
{
	unsigned char out[RAP_DIGEST_MAX];
	struct rap_digest d;
	char hex[2 * RAP_DIGEST_MAX + 1];
	size_t n;

	cr_assert_eq(rap_digest_init(&d, "SHA1"), RAP_OK);
	rap_digest_update(&d, "hello", 5);
	n = rap_digest_final(&d, out);
	rap_hex(out, n, hex);
	cr_assert_str_eq(hex, "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d");
	cr_assert_eq(rap_digest_init(&d, "md5"), RAP_OK);
	n = rap_digest_final(&d, out);
	rap_hex(out, n, hex);
	cr_assert_str_eq(hex, "d41d8cd98f00b204e9800998ecf8427e");
	cr_assert_eq(rap_digest_init(&d, "crc32"), RAP_EUNSUPPORTED);
}
