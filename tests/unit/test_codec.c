/* Tests of lib/codec.c: the work message and the POST /jobs body. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rap/codec.h"
#include "rap/webhook.h"
#include "rap/err.h"

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
			 "\"object_key\":\"uploads/x\",\"owner\":\"dev\"}", &m, err), RAP_OK, "%s", err);
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

	cr_assert_eq(msg("{\"v\":2,\"job_id\":\"" ID "\",\"type\":\"a\",\"object_key\":\"k\"}",
			 &m, err), RAP_EUNSUPPORTED);
	cr_assert(strstr(err, "version 2") != NULL, "%s", err);
	cr_assert_str_eq(m.job_id, ID, "the job can still be marked DEAD");
	cr_assert_eq(msg("{\"job_id\":\"" ID "\"}", &m, err), RAP_EINVAL);
}

Test(jobmsg, job_id_must_be_a_uuid_and_fields_are_required)
{
	struct rap_jobmsg m;
	char err[RAP_ERRLEN];

	cr_assert_eq(msg("{\"v\":1,\"job_id\":\"nope\",\"type\":\"a\",\"object_key\":\"k\"}",
			 &m, err), RAP_EINVAL);
	cr_assert_str_eq(m.job_id, "");
	cr_assert_eq(msg("{\"v\":1,\"job_id\":\"" ID "\",\"object_key\":\"k\"}", &m, err), RAP_EINVAL);
	cr_assert(strstr(err, "'type'") != NULL, "%s", err);
	cr_assert_eq(msg("{\"v\":1,\"job_id\":\"" ID "\",\"type\":5,\"object_key\":\"k\"}",
			 &m, err), RAP_EINVAL);
	cr_assert_eq(msg("{\"v\":1,\"job_id\":\"" ID "\",\"type\":\"a\",\"object_key\":\"\"}",
			 &m, err), RAP_EINVAL);
}

static int create(const char *s, struct rap_job_create *c, char *err)
{
	return rap_job_create_decode(s, strlen(s), c, err);
}

Test(job_create, decodes_type_key_params_and_attempts)
{
	struct rap_job_create c;
	char err[RAP_ERRLEN];

	cr_assert_eq(create("{\"object_key\":\"uploads/a\",\"type\":\"file.inspect\","
			    "\"params\":{\"x\":1},\"max_attempts\":3}", &c, err), RAP_OK, "%s", err);
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
	cr_assert_eq(create("{\"object_key\":\"k\",\"type\":\"t\",\"evil\":1}", &c, err), RAP_EINVAL);
	cr_assert(strstr(err, "unknown field 'evil'") != NULL, "%s", err);
	cr_assert_eq(create("{\"object_key\":\"k\",\"type\":\"T Y\"}", &c, err), RAP_EINVAL);
	cr_assert_eq(create("{\"object_key\":\"k\",\"type\":\"t\",\"max_attempts\":0}", &c, err), RAP_EINVAL);
	cr_assert_eq(create("{\"object_key\":\"k\",\"type\":\"t\",\"max_attempts\":\"3\"}", &c, err), RAP_EINVAL);
	cr_assert_eq(create("{\"object_key\":\"k\",\"type\":\"t\",\"params\":[1]}", &c, err), RAP_EINVAL);
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

Test(list, contains_matches_whole_names_only)
{
	cr_assert(rap_list_contains("file.inspect,test.fault", "test.fault"));
	cr_assert(rap_list_contains("file.inspect", "file.inspect"));
	cr_assert_not(rap_list_contains("file.inspect", "file"));
	cr_assert_not(rap_list_contains("file.inspect,x", "file.inspectx"));
	cr_assert_not(rap_list_contains("", "x"));
}

Test(list, number_finds_the_named_entry_and_falls_back_to_the_default)
{
	const char *l = "file.inspect=3,test.fault=7,bad=x,big=1000";

	cr_assert_eq(rap_list_number(l, "file.inspect", 1, 100, 5), 3);
	cr_assert_eq(rap_list_number(l, "test.fault", 1, 100, 5), 7);
	cr_assert_eq(rap_list_number(l, "noop", 1, 100, 5), 5);
	cr_assert_eq(rap_list_number(l, "bad", 1, 100, 5), 5);
	cr_assert_eq(rap_list_number(l, "big", 1, 100, 5), 5);
	cr_assert_eq(rap_list_number(l, "file", 1, 100, 5), 5);
	cr_assert_eq(rap_list_number("", "x", 1, 100, 5), 5);
}

Test(job_create, equal_requests_hash_equal_whatever_the_layout)
{
	struct rap_job_create a, b, c;
	char err[RAP_ERRLEN], ha[65], hb[65], hc[65];

	cr_assert_eq(create("{\"type\":\"t\",\"object_key\":\"k\",\"params\":{\"b\":[1,{\"y\":2,\"x\":1}],\"a\":\"s\"}}",
			    &a, err), RAP_OK, "%s", err);
	cr_assert_eq(create("{ \"object_key\" : \"k\", \"params\" : { \"a\" : \"s\", \"b\" : [ 1, { \"x\": 1, \"y\": 2 } ] }, \"type\": \"t\" }",
			    &b, err), RAP_OK, "%s", err);
	cr_assert_eq(create("{\"type\":\"t\",\"object_key\":\"k\",\"params\":{\"a\":\"s\",\"b\":[1,{\"x\":2}]}}",
			    &c, err), RAP_OK, "%s", err);
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

static int batch(const char *s, struct rap_job_create **reqs, int *n, char *err)
{
	return rap_job_batch_decode(s, strlen(s), reqs, n, err);
}

Test(job_batch, decodes_every_request_in_order)
{
	struct rap_job_create *reqs;
	char err[RAP_ERRLEN];
	int n;

	cr_assert_eq(batch("{\"jobs\":[{\"object_key\":\"a\",\"type\":\"noop\"},"
			   "{\"object_key\":\"b\",\"type\":\"file.inspect\",\"params\":{\"y\":1,\"x\":2},"
			   "\"max_attempts\":3}]}", &reqs, &n, err), RAP_OK, "%s", err);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(reqs[0].object_key, "a");
	cr_assert_str_eq(reqs[0].params, "{}");
	cr_assert_str_eq(reqs[1].type, "file.inspect");
	cr_assert_str_eq(reqs[1].params, "{\"x\":2,\"y\":1}");
	cr_assert_eq(reqs[1].max_attempts, 3);
	rap_job_batch_cleanup(reqs, n);
}

Test(job_batch, names_the_first_bad_request_and_keeps_nothing)
{
	struct rap_job_create *reqs = (void *)1;
	char err[RAP_ERRLEN];
	int n = 7;

	cr_assert_eq(batch("{\"jobs\":[{\"object_key\":\"a\",\"type\":\"noop\"},"
			   "{\"object_key\":\"b\",\"type\":\"noop\",\"params\":{}},"
			   "{\"object_key\":\"c\"}]}", &reqs, &n, err), RAP_EINVAL);
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
	cr_assert_eq(batch("[{\"object_key\":\"a\",\"type\":\"noop\"}]", &reqs, &n, err), RAP_EINVAL);
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

static int presign(const char *s, struct rap_presign_req *r, char *err)
{
	return rap_presign_decode(s, strlen(s), r, err);
}

Test(presign, decodes_size_filename_and_type)
{
	struct rap_presign_req r;
	char err[RAP_ERRLEN];

	cr_assert_eq(presign("{\"size\":10737418240,\"filename\":\"a.mp4\","
			     "\"content_type\":\"video/mp4\"}", &r, err), RAP_OK, "%s", err);
	cr_assert_eq(r.size, 10737418240ULL);
	cr_assert_str_eq(r.filename, "a.mp4");
	cr_assert_str_eq(r.content_type, "video/mp4");
	cr_assert_eq(presign("{\"size\":0}", &r, err), RAP_OK, "%s", err);
	cr_assert_str_eq(r.filename, "");
	cr_assert_str_eq(r.content_type, "");
}

Test(presign, refuses_a_missing_or_bad_size_unknown_fields_and_bad_types)
{
	struct rap_presign_req r;
	char err[RAP_ERRLEN];

	cr_assert_eq(presign("{}", &r, err), RAP_EINVAL);
	cr_assert(strstr(err, "'size'") != NULL, "%s", err);
	cr_assert_eq(presign("{\"size\":-1}", &r, err), RAP_EINVAL);
	cr_assert_eq(presign("{\"size\":1.5}", &r, err), RAP_EINVAL);
	cr_assert_eq(presign("{\"size\":\"1\"}", &r, err), RAP_EINVAL);
	cr_assert_eq(presign("{\"size\":1,\"x\":1}", &r, err), RAP_EINVAL);
	cr_assert_eq(presign("{\"size\":1,\"content_type\":\"video\"}", &r, err), RAP_EINVAL);
	cr_assert_eq(presign("{\"size\":1,\"content_type\":\"a/b/c\"}", &r, err), RAP_EINVAL);
	cr_assert_eq(presign("{\"size\":1,\"content_type\":\"text/plain; x\"}", &r, err), RAP_EINVAL);
	cr_assert_eq(presign("{\"size\":1,\"filename\":\"\"}", &r, err), RAP_EINVAL);
	cr_assert_eq(presign("[1]", &r, err), RAP_EINVAL);
}

Test(list, allows_listed_values_prefixes_and_unlisted_names)
{
	const char *l = "image.thumb=image/png|image/jpeg,video.cut=video/*,noop=3";

	cr_assert(rap_list_allows(l, "image.thumb", "image/png"));
	cr_assert(rap_list_allows(l, "image.thumb", "image/jpeg"));
	cr_assert_not(rap_list_allows(l, "image.thumb", "image/gif"));
	cr_assert_not(rap_list_allows(l, "image.thumb", ""));
	cr_assert(rap_list_allows(l, "video.cut", "video/mp4"));
	cr_assert_not(rap_list_allows(l, "video.cut", "videos/mp4"));
	cr_assert_not(rap_list_allows(l, "video.cut", "audio/mp4"));
	cr_assert(rap_list_allows(l, "file.inspect", "application/x-anything"));
	cr_assert(rap_list_has(l, "video.cut"));
	cr_assert_not(rap_list_has(l, "video"));
	cr_assert_not(rap_list_has("", "video.cut"));
}

Test(webhook, url_validation_accepts_http_urls_with_a_host_only)
{
	cr_assert(rap_webhook_url_valid("http://example.com"));
	cr_assert(rap_webhook_url_valid("HTTPS://hooks.example.com:8443/rap?x=1#f"));
	cr_assert(rap_webhook_url_valid("http://[::1]:9000/h"));
	cr_assert(rap_webhook_url_valid("http://example.com/a@b"), "an @ in the path is no credential");
	cr_assert_not(rap_webhook_url_valid("ftp://example.com/"));
	cr_assert_not(rap_webhook_url_valid("http://"));
	cr_assert_not(rap_webhook_url_valid("http:///path"));
	cr_assert_not(rap_webhook_url_valid("http://:80/"));
	cr_assert_not(rap_webhook_url_valid("http://user:pw@example.com/"));
	cr_assert_not(rap_webhook_url_valid("http://exa mple.com/"));
	cr_assert_not(rap_webhook_url_valid("http://example.com/\n"));
	cr_assert_not(rap_webhook_url_valid("example.com"));
}

Test(webhook, url_longer_than_the_limit_is_refused)
{
	char u[RAP_MAX_WEBHOOK_URL + 2];

	memset(u, 'a', sizeof(u) - 1);
	u[sizeof(u) - 1] = '\0';
	memcpy(u, "http://x/", 9);
	cr_assert_not(rap_webhook_url_valid(u));
	u[RAP_MAX_WEBHOOK_URL] = '\0';
	cr_assert(rap_webhook_url_valid(u));
}

Test(webhook, allowed_hosts_match_the_host_without_port_or_case)
{
	cr_assert(rap_webhook_host_allowed("http://anything.example/x", ""));
	cr_assert(rap_webhook_host_allowed("https://Hooks.Example.com:8443/x", "a.b,hooks.example.com"));
	cr_assert(rap_webhook_host_allowed("http://[::1]:9/x", "[::1]"));
	cr_assert_not(rap_webhook_host_allowed("http://hooks.example.com.evil.io/", "hooks.example.com"));
	cr_assert_not(rap_webhook_host_allowed("http://169.254.169.254/latest", "hooks.example.com"));
}

Test(webhook, signature_is_hex_hmac_sha256_of_the_body)
{
	char sig[65];

	/* The RFC 4231-style example everyone checks against. */
	rap_webhook_sign("key", "The quick brown fox jumps over the lazy dog", sig);
	cr_assert_str_eq(sig, "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
}

Test(webhook, the_url_is_part_of_the_idempotency_hash)
{
	const char *a = "{\"object_key\":\"k\",\"type\":\"t\"}";
	const char *b = "{\"object_key\":\"k\",\"type\":\"t\",\"webhook_url\":\"http://h/\"}";
	struct rap_job_create x, y;
	char err[RAP_ERRLEN], hx[65], hy[65];

	cr_assert_eq(rap_job_create_decode(a, strlen(a), &x, err), RAP_OK, "%s", err);
	cr_assert_eq(rap_job_create_decode(b, strlen(b), &y, err), RAP_OK, "%s", err);
	cr_assert_null(x.webhook_url);
	cr_assert_str_eq(y.webhook_url, "http://h/");
	rap_job_create_hash(&x, hx);
	rap_job_create_hash(&y, hy);
	cr_assert_str_neq(hx, hy);
	rap_job_create_cleanup(&x);
	rap_job_create_cleanup(&y);
}
