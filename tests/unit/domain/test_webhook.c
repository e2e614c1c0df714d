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

Test(webhook, url_validation_uses_curls_parser_and_refuses_zone_ids_and_options)
{
	cr_assert_not(rap_webhook_url_valid("http://[fe80::1%25eth0]/"), "a zone id");
	cr_assert_not(rap_webhook_url_valid("http:/hooks.invalid/"), "one slash");
	cr_assert_not(rap_webhook_url_valid("http://hooks.invalid:99999/"), "a bad port");
	cr_assert_not(rap_webhook_url_valid("http://[::1/"), "an unclosed bracket");
	cr_assert(rap_webhook_url_valid("https://hooks.invalid:8443/p?q=1"));
}

Test(webhook, url_host_is_what_curl_connects_to_in_canonical_form)
{
	static const char *loopback[] = {
		"http://127.0.0.1/",       "http://127.1:9/",    "http://2130706433/",
		"http://0x7f000001/",      "http://0177.0.0.1/", "http://0x7f.1/",
		"http://%31%32%37.0.0.1/",
	};
	char host[RAP_WEBHOOK_HOSTLEN];

	for (size_t i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++) {
		cr_assert_eq(rap_webhook_url_host(loopback[i], host), RAP_OK, "%s", loopback[i]);
		cr_assert_str_eq(host, "127.0.0.1", "%s", loopback[i]);
	}
	cr_assert_eq(rap_webhook_url_host("http://[0:0::1]:9/x", host), RAP_OK);
	cr_assert_str_eq(host, "::1");
	cr_assert_eq(rap_webhook_url_host("http://[::FFFF:127.0.0.1]/", host), RAP_OK);
	cr_assert_str_eq(host, "::ffff:127.0.0.1");
	cr_assert_eq(rap_webhook_url_host("HTTP://LocalHost./", host), RAP_OK);
	cr_assert_str_eq(host, "localhost");
	cr_assert_eq(rap_webhook_url_host("ftp://localhost/", host), RAP_EINVAL);
}

Test(webhook, loopback_in_every_form_is_refused_at_creation_unless_allowed)
{
	/* Loopback only (the unspecified and IPv4-compatible forms are
	 * covered by test_netaddr.c's numeric addresses). */
	static const char *refused[] = {
		"http://127.0.0.1:8102/jobs", "http://127.1/",          "http://2130706433/",
		"http://0x7f000001/",         "http://0177.0.0.1/",     "http://[::1]:8101/metrics",
		"http://[::ffff:127.0.0.1]/", "http://localhost/",      "http://LOCALHOST./",
		"http://a.localhost:9/",      "https://x.y.localhost/",
	};
	char err[RAP_ERRLEN];

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		err[0] = '\0';
		cr_assert_eq(rap_webhook_url_check(refused[i], "", err), RAP_EINVAL, "%s",
			     refused[i]);
		cr_assert(strstr(err, "'webhook_url'"), "%s: %s", refused[i], err);
		cr_assert_eq(
			rap_webhook_url_check(refused[i], "hooks.invalid,localhost.invalid", err),
			RAP_EINVAL, "%s: listing other hosts opens nothing", refused[i]);
	}
	rap_webhook_url_check("http://2130706433/", "", err);
	cr_assert(strstr(err, "loopback"), "%s", err);
	/* A name is checked when it connects (its addresses, any of them). */
	cr_assert_eq(rap_webhook_url_check("https://hooks.invalid/x", "", err), RAP_OK);
	cr_assert_eq(rap_webhook_url_check("http://localhost.invalid/", "", err), RAP_OK);
	cr_assert_eq(rap_webhook_url_check("ftp://hooks.invalid/", "", err), RAP_EINVAL);
}

Test(webhook, the_allow_list_opens_exactly_the_hosts_it_names)
{
	char err[RAP_ERRLEN];

	cr_assert_eq(rap_webhook_url_check("http://localhost:9/h", "localhost", err), RAP_OK);
	cr_assert_eq(rap_webhook_url_check("http://LocalHost.:9/h", " localhost", err), RAP_OK);
	cr_assert_eq(rap_webhook_url_check("http://a.localhost:9/h", "localhost", err), RAP_EINVAL,
		     "a name under an allowed one is not allowed");
	cr_assert_eq(rap_webhook_url_check("http://127.0.0.1:9/h", "localhost", err), RAP_EINVAL);
	cr_assert_eq(rap_webhook_url_check("http://127.1:9/h", "127.0.0.1", err), RAP_OK);
	cr_assert_eq(rap_webhook_url_check("http://2130706433/h", "a.invalid,127.0.0.1", err),
		     RAP_OK);
	cr_assert_eq(rap_webhook_url_check("http://[::1]:9/h", "[::1]", err), RAP_OK);
	cr_assert_eq(rap_webhook_url_check("http://[0::1]:9/h", "::1", err), RAP_OK);
	cr_assert(rap_webhook_host_listed("hooks.invalid", "a.invalid,Hooks.Invalid."));
	cr_assert_not(rap_webhook_host_listed("hooks.invalid.evil.invalid", "hooks.invalid"));
	cr_assert_not(rap_webhook_host_listed("hooks.invalid", ""));
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
