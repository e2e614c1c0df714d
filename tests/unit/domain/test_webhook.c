/* Tests of lib/domain/webhook.c: webhook URLs and signatures. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rap/webhook.h"
#include "rap/err.h"
#include "rap/job_create.h"
#include "rap/hash.h"

Test(webhook, url_validation_accepts_http_urls_with_a_host_only)
{
	cr_assert(rap_webhook_url_valid("http://example.com"));
	cr_assert(rap_webhook_url_valid("HTTPS://hooks.example.com:8443/rap?x=1#f"));
	cr_assert(rap_webhook_url_valid("http://[::1]:9000/h"));
	cr_assert(rap_webhook_url_valid("http://example.com/a@b"),
		  "an @ in the path is no credential");
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
	cr_assert(rap_webhook_host_allowed("https://Hooks.Example.com:8443/x",
					   "a.b,hooks.example.com"));
	cr_assert(rap_webhook_host_allowed("http://[::1]:9/x", "[::1]"));
	cr_assert_not(
		rap_webhook_host_allowed("http://hooks.example.com.evil.io/", "hooks.example.com"));
	cr_assert_not(
		rap_webhook_host_allowed("http://169.254.169.254/latest", "hooks.example.com"));
}

Test(webhook, signature_is_hex_hmac_sha256_of_the_body)
{
	char sig[RAP_SHA256_HEXLEN];

	/* The RFC 4231-style example everyone checks against. */
	rap_webhook_sign("key", "The quick brown fox jumps over the lazy dog", sig);
	cr_assert_str_eq(sig, "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
}

Test(webhook, the_url_is_part_of_the_idempotency_hash)
{
	const char *a = "{\"object_key\":\"k\",\"type\":\"t\"}";
	const char *b = "{\"object_key\":\"k\",\"type\":\"t\",\"webhook_url\":\"http://h/\"}";
	struct rap_job_create x, y;
	char err[RAP_ERRLEN], hx[RAP_SHA256_HEXLEN], hy[RAP_SHA256_HEXLEN];

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
