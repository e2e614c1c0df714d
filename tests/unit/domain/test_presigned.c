/* Tests of lib/domain/presigned.c: the POST /uploads/presign body. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rap/err.h"
#include "rap/presigned.h"

static int presign(const char *s, struct rap_presigned_req *r, char *err)
{
	return rap_presigned_decode(s, strlen(s), r, err);
}

Test(presign, decodes_size_filename_and_type)
{
	struct rap_presigned_req r;
	char err[RAP_ERRLEN];

	cr_assert_eq(presign("{\"size\":10737418240,\"filename\":\"a.mp4\","
			     "\"content_type\":\"video/mp4\"}",
			     &r, err),
		     RAP_OK, "%s", err);
	cr_assert_eq(r.size, 10737418240ULL);
	cr_assert_str_eq(r.filename, "a.mp4");
	cr_assert_str_eq(r.content_type, "video/mp4");
	cr_assert_eq(presign("{\"size\":0}", &r, err), RAP_OK, "%s", err);
	cr_assert_str_eq(r.filename, "");
	cr_assert_str_eq(r.content_type, "");
}

Test(presign, refuses_a_missing_or_bad_size_unknown_fields_and_bad_types)
{
	struct rap_presigned_req r;
	char err[RAP_ERRLEN];

	cr_assert_eq(presign("{}", &r, err), RAP_EINVAL);
	cr_assert(strstr(err, "'size'") != NULL, "%s", err);
	cr_assert_eq(presign("{\"size\":-1}", &r, err), RAP_EINVAL);
	cr_assert_eq(presign("{\"size\":1.5}", &r, err), RAP_EINVAL);
	cr_assert_eq(presign("{\"size\":\"1\"}", &r, err), RAP_EINVAL);
	cr_assert_eq(presign("{\"size\":1,\"x\":1}", &r, err), RAP_EINVAL);
	cr_assert_eq(presign("{\"size\":1,\"content_type\":\"video\"}", &r, err), RAP_EINVAL);
	cr_assert_eq(presign("{\"size\":1,\"content_type\":\"a/b/c\"}", &r, err), RAP_EINVAL);
	cr_assert_eq(presign("{\"size\":1,\"content_type\":\"text/plain; x\"}", &r, err),
		     RAP_EINVAL);
	cr_assert_eq(presign("{\"size\":1,\"filename\":\"\"}", &r, err), RAP_EINVAL);
	cr_assert_eq(presign("[1]", &r, err), RAP_EINVAL);
}
