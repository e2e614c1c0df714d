/* Tests of lib/wire/tus_header.c: the tus 1.0 header grammar. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "rap/err.h"
#include "rap/hash.h"
#include "rap/tus_header.h"
#include "rap/uuid.h"

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

Test(tus_metadata, refuses_values_that_are_not_utf8_and_keys_that_are_not_ascii)
{
	char v[64], err[RAP_ERRLEN];

	/* "\xc3\xa9t\xc3\xa9" (été) is UTF-8 and passes. */
	cr_assert_eq(rap_tus_metadata_get("filename w6l0w6k=", "filename", v, sizeof(v), err),
		     RAP_OK);
	cr_assert_str_eq(v, "\xc3\xa9t\xc3\xa9");
	/* "a\xffb", an overlong "/" and a surrogate: refused in any value, the
	 * one asked for or another, naming the key. */
	cr_assert_eq(rap_tus_metadata_get("filename Yf9i", "filename", v, sizeof(v), err),
		     RAP_EINVAL);
	cr_assert(strstr(err, "'filename'") && strstr(err, "UTF-8"), "%s", err);
	cr_assert_eq(
		rap_tus_metadata_get("other wK8=,filename YQ==", "filename", v, sizeof(v), err),
		RAP_EINVAL);
	cr_assert(strstr(err, "'other'"), "%s", err);
	cr_assert_eq(rap_tus_metadata_get("x 7aCA", "x", v, sizeof(v), err), RAP_EINVAL);
	/* A key with a byte over 0x7e or a control character. */
	cr_assert_eq(rap_tus_metadata_get("k\xff YQ==", "filename", v, sizeof(v), err), RAP_EINVAL);
	cr_assert(strstr(err, "printable ASCII"), "%s", err);
	cr_assert_eq(rap_tus_metadata_get("k\x01 YQ==", "filename", v, sizeof(v), err), RAP_EINVAL);
}

Test(tus_checksum, splits_algorithm_and_digest)
{
	unsigned char d[RAP_DIGEST_MAX];
	char algo[RAP_TUS_ALGO_LEN];
	size_t n;

	/* sha1 of "hello" */
	cr_assert_eq(rap_tus_checksum_parse("sha1 qvTGHdzF6KLavt4PO0gs2a6pQ00=", algo, d, &n),
		     RAP_OK);
	cr_assert_str_eq(algo, "sha1");
	cr_assert_eq(n, 20);
	cr_assert_eq(d[0], 0xaa);
	cr_assert_eq(rap_tus_checksum_parse("sha1", algo, d, &n), RAP_EINVAL);
	cr_assert_eq(rap_tus_checksum_parse("sha1 ***", algo, d, &n), RAP_EINVAL);
	cr_assert_eq(rap_tus_checksum_parse(" qvTGHdzF6KLavt4PO0gs2a6pQ00=", algo, d, &n),
		     RAP_EINVAL);
}

Test(tus_concat, takes_the_last_path_segment_of_each_url)
{
	char ids[4][RAP_UUID_STRLEN], err[RAP_ERRLEN];
	unsigned n;

	cr_assert_eq(
		rap_tus_concat_parse("final;/api/files/0b7b1c1e-8a3d-4c55-9d7e-2f8f1f6b7a10 "
				     "http://h:8080/api/files/1c8c2d2f-9b4e-4d66-8e8f-3a9a2a7c8b21",
				     ids, 4, &n, err),
		RAP_OK);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(ids[0], "0b7b1c1e-8a3d-4c55-9d7e-2f8f1f6b7a10");
	cr_assert_str_eq(ids[1], "1c8c2d2f-9b4e-4d66-8e8f-3a9a2a7c8b21");
	cr_assert_eq(rap_tus_concat_parse("partial", ids, 4, &n, err), RAP_EINVAL);
	cr_assert_eq(rap_tus_concat_parse("final;", ids, 4, &n, err), RAP_EINVAL);
	cr_assert_eq(rap_tus_concat_parse("final;/api/files/nope", ids, 4, &n, err), RAP_EINVAL);
	cr_assert_eq(rap_tus_concat_parse("final;/a/0b7b1c1e-8a3d-4c55-9d7e-2f8f1f6b7a10 "
					  "/a/0b7b1c1e-8a3d-4c55-9d7e-2f8f1f6b7a10",
					  ids, 1, &n, err),
		     RAP_EINVAL, "more partial uploads than allowed");
}

Test(tus_metadata, the_whole_header_is_checked_not_just_the_key_asked_for)
{
	char v[64], err[RAP_ERRLEN];

	cr_assert_eq(rap_tus_metadata_get("a YQ==,b !!!", "a", v, sizeof(v), err), RAP_EINVAL,
		     "another key's value that is not base64");
	cr_assert(strstr(err, "'b'"), "%s", err);
	cr_assert_eq(rap_tus_metadata_get(",a YQ==", "a", v, sizeof(v), err), RAP_EINVAL,
		     "an empty pair has no key");
	cr_assert_eq(rap_tus_metadata_get("  a YQ== , b Yg==  ", "b", v, sizeof(v), err), RAP_OK,
		     "spaces around a pair are trimmed");
	cr_assert_str_eq(v, "b");
}

Test(tus_metadata, a_header_past_its_limits_is_refused)
{
	char big[RAP_TUS_METADATA_MAX + 2], many[64 * 8 + 16], v[8], err[RAP_ERRLEN];
	size_t n = 0;

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert_eq(rap_tus_metadata_get(big, "a", v, sizeof(v), err), RAP_EINVAL);
	cr_assert(strstr(err, "longer than"), "%s", err);
	for (int i = 0; i < 65; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "%sk%d", i ? "," : "", i);
	cr_assert_eq(rap_tus_metadata_get(many, "k1", v, sizeof(v), err), RAP_EINVAL,
		     "65 pairs: more than 64");
	many[strlen(many) - strlen(",k64")] = '\0';
	cr_assert_eq(rap_tus_metadata_get(many, "k1", v, sizeof(v), err), RAP_OK, "64 pairs");
}

Test(tus_checksum, refuses_a_long_algorithm_name_and_an_empty_digest)
{
	unsigned char d[RAP_DIGEST_MAX];
	char algo[RAP_TUS_ALGO_LEN];
	size_t n;

	cr_assert_eq(rap_tus_checksum_parse(
			     "sha1234567890abcdef qvTGHdzF6KLavt4PO0gs2a6pQ00=", algo, d, &n),
		     RAP_EINVAL);
	cr_assert_eq(rap_tus_checksum_parse("sha1 ", algo, d, &n), RAP_EINVAL);
	cr_assert_eq(rap_tus_checksum_parse("md5  XUFAKrxLKna5cZ2REBfFkg==", algo, d, &n), RAP_OK,
		     "spaces before the digest are skipped");
	cr_assert_str_eq(algo, "md5");
	cr_assert_eq(n, 16);
}

Test(tus_concat, extra_spaces_between_urls_are_skipped)
{
	char ids[4][RAP_UUID_STRLEN], err[RAP_ERRLEN];
	unsigned n;

	cr_assert_eq(rap_tus_concat_parse("final;  0b7b1c1e-8a3d-4c55-9d7e-2f8f1f6b7a10   "
					  "/files/1c8c2d2f-9b4e-4d66-8e8f-3a9a2a7c8b21 ",
					  ids, 4, &n, err),
		     RAP_OK, "%s", err);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(ids[1], "1c8c2d2f-9b4e-4d66-8e8f-3a9a2a7c8b21");
	cr_assert_eq(rap_tus_concat_parse("final;   ", ids, 4, &n, err), RAP_EINVAL);
	cr_assert_eq(rap_tus_concat_parse("final;/files/0b7b1c1e-8a3d-4c55-9d7e-2f8f1f6b7a1g", ids,
					  4, &n, err),
		     RAP_EINVAL, "not a UUID");
	cr_assert_eq(rap_tus_concat_parse("final;http://h\xff/files/"
					  "0b7b1c1e-8a3d-4c55-9d7e-2f8f1f6b7a10",
					  ids, 4, &n, err),
		     RAP_EINVAL, "not ASCII: the header is stored as it came");
	cr_assert(strstr(err, "printable ASCII"), "%s", err);
}
