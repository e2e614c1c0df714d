/* Tests of lib/core/hash.c: SHA-256 whole and resumable, and the digests
 * clients name. */
#include <criterion/criterion.h>
#include <string.h>
#include "rap/err.h"
#include "rap/hash.h"
#include "rap/str.h"

Test(sha256, a_saved_state_goes_on_to_the_same_digest)
{
	static unsigned char data[300000];
	unsigned char state[RAP_SHA256_STATE_LEN];
	char whole[RAP_SHA256_HEXLEN], resumed[RAP_SHA256_HEXLEN];
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

Test(hash, sha256_matches_known_digests_streamed_or_not)
{
	struct rap_sha256 h;
	char hex[RAP_SHA256_HEXLEN];

	rap_sha256_hex("abc", 3, hex);
	cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	rap_sha256_init(&h);
	rap_sha256_update(&h, "a", 1);
	rap_sha256_update(&h, "bc", 2);
	rap_sha256_final_hex(&h, hex);
	cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	rap_sha256_hex("", 0, hex);
	cr_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}
