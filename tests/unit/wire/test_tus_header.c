/* Tests of lib/wire/tus_header.c: the tus 1.0 header grammar. */
#include <criterion/criterion.h>
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

Test(tus_checksum, splits_algorithm_and_digest)
{
	unsigned char d[RAP_DIGEST_MAX];
	char algo[RAP_TUS_ALGO_LEN];
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
	char ids[4][RAP_UUID_STRLEN], err[RAP_ERRLEN];
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
