/* Tests of lib/domain/job_create.c: the POST /jobs and /jobs/batch bodies. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rap/err.h"
#include "rap/job.h"
#include "rap/job_create.h"
#include "rap/hash.h"

static int create(const char *s, struct rap_job_create *c, char *err)
{
	return rap_job_create_decode(s, strlen(s), c, err);
}

static int batch(const char *s, struct rap_job_create **reqs, int *n, char *err)
{
	return rap_job_create_batch_decode(s, strlen(s), reqs, n, err);
}

Test(job_create, decodes_type_key_params_and_attempts)
{
	struct rap_job_create c;
	char err[RAP_ERRLEN];

	cr_assert_eq(create("{\"object_key\":\"uploads/a\",\"type\":\"file.inspect\","
			    "\"params\":{\"x\":1},\"max_attempts\":3}",
			    &c, err),
		     RAP_OK, "%s", err);
	cr_assert_str_eq(c.object_key, "uploads/a");
	cr_assert_str_eq(c.type, "file.inspect");
	cr_assert_str_eq(c.params, "{\"x\":1}");
	cr_assert_eq(c.max_attempts, 3);
	rap_job_create_cleanup(&c);
	cr_assert_eq(create("{\"object_key\":\"k\",\"type\":\"t\"}", &c, err), RAP_OK);
	cr_assert_str_eq(c.params, "{}");
	cr_assert_eq(c.max_attempts, 0);
	rap_job_create_cleanup(&c);
}

Test(job_create, refuses_bad_bodies_with_a_reason)
{
	struct rap_job_create c;
	char err[RAP_ERRLEN];

	cr_assert_eq(create("not json", &c, err), RAP_EINVAL);
	cr_assert(strstr(err, "malformed JSON") != NULL, "%s", err);
	cr_assert_eq(create("{\"type\":\"t\"}", &c, err), RAP_EINVAL);
	cr_assert(strstr(err, "object_key") != NULL, "%s", err);
	cr_assert_eq(create("{\"object_key\":\"k\",\"type\":\"t\",\"evil\":1}", &c, err),
		     RAP_EINVAL);
	cr_assert(strstr(err, "unknown field 'evil'") != NULL, "%s", err);
	cr_assert_eq(create("{\"object_key\":\"k\",\"type\":\"T Y\"}", &c, err), RAP_EINVAL);
	cr_assert_eq(create("{\"object_key\":\"k\",\"type\":\"t\",\"max_attempts\":0}", &c, err),
		     RAP_EINVAL);
	cr_assert_eq(
		create("{\"object_key\":\"k\",\"type\":\"t\",\"max_attempts\":\"3\"}", &c, err),
		RAP_EINVAL);
	cr_assert_eq(create("{\"object_key\":\"k\",\"type\":\"t\",\"params\":[1]}", &c, err),
		     RAP_EINVAL);
	cr_assert_eq(create("{\"object_key\":\"k\\u0000x\",\"type\":\"t\"}", &c, err), RAP_EINVAL);
}

Test(job_create, object_key_longer_than_the_limit_is_refused)
{
	static char body[RAP_MAX_OBJECT_KEY + 100];
	struct rap_job_create c;
	char err[RAP_ERRLEN];
	size_t n;

	n = (size_t)snprintf(body, sizeof(body), "{\"type\":\"t\",\"object_key\":\"");
	memset(body + n, 'a', RAP_MAX_OBJECT_KEY + 1);
	strcpy(body + n + RAP_MAX_OBJECT_KEY + 1, "\"}");
	cr_assert_eq(create(body, &c, err), RAP_EINVAL);
}

Test(job_create, equal_requests_hash_equal_whatever_the_layout)
{
	struct rap_job_create a, b, c;
	char err[RAP_ERRLEN], ha[RAP_SHA256_HEXLEN], hb[RAP_SHA256_HEXLEN], hc[RAP_SHA256_HEXLEN];

	cr_assert_eq(
		create("{\"type\":\"t\",\"object_key\":\"k\",\"params\":{\"b\":[1,{\"y\":2,\"x\":1}],\"a\":\"s\"}}",
		       &a, err),
		RAP_OK, "%s", err);
	cr_assert_eq(
		create("{ \"object_key\" : \"k\", \"params\" : { \"a\" : \"s\", \"b\" : [ 1, { \"x\": 1, \"y\": 2 } ] }, \"type\": \"t\" }",
		       &b, err),
		RAP_OK, "%s", err);
	cr_assert_eq(
		create("{\"type\":\"t\",\"object_key\":\"k\",\"params\":{\"a\":\"s\",\"b\":[1,{\"x\":2}]}}",
		       &c, err),
		RAP_OK, "%s", err);
	cr_assert_str_eq(a.params, "{\"a\":\"s\",\"b\":[1,{\"x\":1,\"y\":2}]}");
	rap_job_create_hash(&a, ha);
	rap_job_create_hash(&b, hb);
	rap_job_create_hash(&c, hc);
	cr_assert_str_eq(ha, hb);
	cr_assert_str_neq(ha, hc);
	rap_job_create_cleanup(&a);
	rap_job_create_cleanup(&b);
	rap_job_create_cleanup(&c);
}

Test(job_batch, decodes_every_request_in_order)
{
	struct rap_job_create *reqs;
	char err[RAP_ERRLEN];
	int n;

	cr_assert_eq(
		batch("{\"jobs\":[{\"object_key\":\"a\",\"type\":\"noop\"},"
		      "{\"object_key\":\"b\",\"type\":\"file.inspect\",\"params\":{\"y\":1,\"x\":2},"
		      "\"max_attempts\":3}]}",
		      &reqs, &n, err),
		RAP_OK, "%s", err);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(reqs[0].object_key, "a");
	cr_assert_str_eq(reqs[0].params, "{}");
	cr_assert_str_eq(reqs[1].type, "file.inspect");
	cr_assert_str_eq(reqs[1].params, "{\"x\":2,\"y\":1}");
	cr_assert_eq(reqs[1].max_attempts, 3);
	rap_job_create_batch_cleanup(reqs, n);
}

Test(job_batch, names_the_first_bad_request_and_keeps_nothing)
{
	struct rap_job_create *reqs = (void *)1;
	char err[RAP_ERRLEN];
	int n = 7;

	cr_assert_eq(batch("{\"jobs\":[{\"object_key\":\"a\",\"type\":\"noop\"},"
			   "{\"object_key\":\"b\",\"type\":\"noop\",\"params\":{}},"
			   "{\"object_key\":\"c\"}]}",
			   &reqs, &n, err),
		     RAP_EINVAL);
	cr_assert_null(reqs);
	cr_assert_eq(n, 0);
	cr_assert(strstr(err, "jobs[2]") != NULL, "%s", err);
	cr_assert(strstr(err, "'type' is required") != NULL, "%s", err);
}

Test(job_batch, refuses_empty_oversized_and_malformed_batches)
{
	struct rap_job_create *reqs;
	char err[RAP_ERRLEN], *big;
	size_t len = 0;
	int n, i;

	cr_assert_eq(batch("{\"jobs\":[]}", &reqs, &n, err), RAP_EINVAL);
	cr_assert(strstr(err, "1 to 1000") != NULL, "%s", err);
	cr_assert_eq(batch("{\"jobs\":{}}", &reqs, &n, err), RAP_EINVAL);
	cr_assert_eq(batch("{\"jobs\":[],\"extra\":1}", &reqs, &n, err), RAP_EINVAL);
	cr_assert_eq(batch("[{\"object_key\":\"a\",\"type\":\"noop\"}]", &reqs, &n, err),
		     RAP_EINVAL);
	cr_assert_eq(batch("{\"jobs\":[1]}", &reqs, &n, err), RAP_EINVAL);
	cr_assert_eq(batch("", &reqs, &n, err), RAP_EINVAL);
	big = malloc(1001 * 40 + 32);
	len += (size_t)sprintf(big, "{\"jobs\":[");
	for (i = 0; i < 1001; i++)
		len += (size_t)sprintf(big + len, "%s{\"object_key\":\"a\",\"type\":\"noop\"}",
				       i ? "," : "");
	sprintf(big + len, "]}");
	cr_assert_eq(batch(big, &reqs, &n, err), RAP_EINVAL);
	free(big);
}

/* Expects create(s) to be refused with a message naming field. */
static void refused_naming(const char *s, const char *field)
{
	struct rap_job_create c;
	char err[RAP_ERRLEN];

	cr_assert_eq(create(s, &c, err), RAP_EINVAL, "accepted: %s", s);
	cr_assert(strstr(err, field), "'%s' not named in: %s", field, err);
}

Test(job_create, text_that_is_not_utf8_or_holds_nul_is_refused_naming_the_field)
{
	/* \u0000 escapes, in a top-level field, deep in params, in an array. */
	refused_naming("{\"object_key\":\"a\\u0000b\",\"type\":\"file.inspect\"}", "'object_key'");
	refused_naming("{\"object_key\":\"k\",\"type\":\"file.inspect\","
		       "\"params\":{\"x\":{\"y\":\"\\u0000\"}}}",
		       "'params.x.y'");
	refused_naming("{\"object_key\":\"k\",\"type\":\"file.inspect\","
		       "\"params\":{\"list\":[\"ok\",\"a\\u0000\"]}}",
		       "'params.list[1]'");
	refused_naming("{\"object_key\":\"k\",\"type\":\"file.inspect\","
		       "\"webhook_url\":\"http://127.0.0.1/\\u0000x\"}",
		       "'webhook_url'");
	/* Raw bytes json-c's own check finds (0xff) and those it lets pass:
	 * an overlong '/', a surrogate, a code point over U+10FFFF. */
	refused_naming("{\"object_key\":\"a\xff\",\"type\":\"file.inspect\"}", "'object_key'");
	refused_naming("{\"object_key\":\"k\",\"type\":\"file.inspect\","
		       "\"params\":{\"p\":\"\xc0\xaf\"}}",
		       "'params.p'");
	refused_naming("{\"object_key\":\"\xed\xa0\x80\",\"type\":\"file.inspect\"}",
		       "'object_key'");
	refused_naming("{\"object_key\":\"k\",\"type\":\"file.inspect\","
		       "\"params\":{\"p\":\"\xf4\x90\x80\x80\"}}",
		       "'params.p'");
	/* In a key: json-c would cut the key at the NUL, so the text is read. */
	refused_naming("{\"object_key\":\"k\",\"type\":\"file.inspect\","
		       "\"params\":{\"a\\u0000b\":1}}",
		       "key");
	refused_naming("{\"object_key\":\"k\",\"type\":\"file.inspect\","
		       "\"params\":{\"a\xff\":1}}",
		       "key");
}

Test(job_create, escaped_backslashes_and_valid_text_pass)
{
	struct rap_job_create c;
	char err[RAP_ERRLEN];

	/* "\\u0000" is a backslash and the text u0000, not a NUL; a valid
	 * surrogate pair escape is one character. */
	cr_assert_eq(create("{\"object_key\":\"k\",\"type\":\"file.inspect\","
			    "\"params\":{\"a\\\\u0000\":\"\\\\u0000 \xc3\xa9 \\ud83d\\ude00\"}}",
			    &c, err),
		     RAP_OK, "%s", err);
	rap_job_create_cleanup(&c);
}

Test(job_batch, names_the_job_and_field_whose_text_is_bad)
{
	struct rap_job_create *reqs;
	char err[RAP_ERRLEN];
	int n;

	cr_assert_eq(batch("{\"jobs\":[{\"object_key\":\"k\",\"type\":\"file.inspect\"},"
			   "{\"object_key\":\"k\",\"type\":\"file.inspect\","
			   "\"params\":{\"q\":\"\\u0000\"}}]}",
			   &reqs, &n, err),
		     RAP_EINVAL);
	cr_assert(strstr(err, "'jobs[1].params.q'"), "%s", err);
}
