/* Tests of lib/domain/jobmsg.c: the work message. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rap/err.h"
#include "rap/jobmsg.h"

#define ID "0b0c6f1e-8a52-4c4e-9a43-3d2f1b7c9e10"

static int msg(const char *s, struct rap_jobmsg *m, char *err)
{
	return rap_jobmsg_decode(s, strlen(s), m, err);
}

Test(jobmsg, decodes_a_valid_message)
{
	struct rap_jobmsg m;
	char err[RAP_ERRLEN];

	cr_assert_eq(msg("{\"v\":1,\"job_id\":\"" ID "\",\"type\":\"file.inspect\","
			 "\"object_key\":\"uploads/x\",\"owner\":\"dev\"}",
			 &m, err),
		     RAP_OK, "%s", err);
	cr_assert_str_eq(m.job_id, ID);
	cr_assert_str_eq(m.type, "file.inspect");
	cr_assert_str_eq(m.object_key, "uploads/x");
	cr_assert_str_eq(m.owner, "dev");
}

Test(jobmsg, refuses_malformed_json_and_non_objects)
{
	struct rap_jobmsg m;
	char err[RAP_ERRLEN];

	cr_assert_eq(msg("{\"v\":1,", &m, err), RAP_EINVAL);
	cr_assert_eq(msg("[1,2]", &m, err), RAP_EINVAL);
	cr_assert_eq(msg("", &m, err), RAP_EINVAL);
	cr_assert_eq(msg("{\"v\":1} trailing", &m, err), RAP_EINVAL);
	cr_assert_eq(msg("\xff\xfe", &m, err), RAP_EINVAL);
}

Test(jobmsg, unknown_schema_version_is_unsupported)
{
	struct rap_jobmsg m;
	char err[RAP_ERRLEN];

	cr_assert_eq(
		msg("{\"v\":2,\"job_id\":\"" ID "\",\"type\":\"a\",\"object_key\":\"k\"}", &m, err),
		RAP_EUNSUPPORTED);
	cr_assert(strstr(err, "version 2") != NULL, "%s", err);
	cr_assert_str_eq(m.job_id, ID, "the job can still be marked DEAD");
	cr_assert_eq(msg("{\"job_id\":\"" ID "\"}", &m, err), RAP_EINVAL);
}

Test(jobmsg, job_id_must_be_a_uuid_and_fields_are_required)
{
	struct rap_jobmsg m;
	char err[RAP_ERRLEN];

	cr_assert_eq(
		msg("{\"v\":1,\"job_id\":\"nope\",\"type\":\"a\",\"object_key\":\"k\"}", &m, err),
		RAP_EINVAL);
	cr_assert_str_eq(m.job_id, "");
	cr_assert_eq(msg("{\"v\":1,\"job_id\":\"" ID "\",\"object_key\":\"k\"}", &m, err),
		     RAP_EINVAL);
	cr_assert(strstr(err, "'type'") != NULL, "%s", err);
	cr_assert_eq(
		msg("{\"v\":1,\"job_id\":\"" ID "\",\"type\":5,\"object_key\":\"k\"}", &m, err),
		RAP_EINVAL);
	cr_assert_eq(
		msg("{\"v\":1,\"job_id\":\"" ID "\",\"type\":\"a\",\"object_key\":\"\"}", &m, err),
		RAP_EINVAL);
}

/* Found by fuzz/fuzz_job_message and fuzz_job_request: a byte that is not
 * UTF-8 outside any string, or trailing after the object, was refused with
 * an empty reason (the second reading, to name the field, did not parse). */
Test(jobmsg, a_bad_byte_outside_any_string_is_refused_with_a_reason)
{
	static const char outside[] = "[\xcf,2,3]";
	static const char trailing[] = "{\"v\":1,\"params\":{\"a\":{\"a\":1}}}\xa2";
	struct rap_jobmsg m;
	char err[RAP_ERRLEN];

	err[0] = '\0';
	cr_assert_eq(rap_jobmsg_decode(outside, sizeof(outside) - 1, &m, err), RAP_EINVAL);
	cr_assert_str_eq(err, "the body is not valid UTF-8");
	err[0] = '\0';
	cr_assert_eq(rap_jobmsg_decode(trailing, sizeof(trailing) - 1, &m, err), RAP_EINVAL);
	cr_assert_str_eq(err, "the body is not valid UTF-8");
}
