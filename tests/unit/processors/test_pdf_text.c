/* Tests of pdf.text (services/worker/processors/pdf.c) on PDFs written
 * here byte by byte: the text of each page, the metadata, the page range,
 * and the hostile ones (encrypted, truncated, a page tree that points to
 * itself, arrays nested 200,000 deep, not a PDF). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_proc.h"
#include "procs.h"
#include "rap/err.h"

/* A PDF of the n objects (object i + 1 is objs[i]; 1 is the catalog) with
 * a correct cross-reference table and trailer (extra: more of the
 * trailer's entries), into out (malloc'd); its length returned. */
static size_t make_pdf(const char *const *objs, size_t n, const char *extra, char **out)
{
	size_t cap = 65536, len = 0, offs[32];
	char *b;

	cr_assert(n < 32);
	for (size_t i = 0; i < n; i++)
		cap += strlen(objs[i]);
	b = malloc(cap);
	len += (size_t)snprintf(b + len, cap - len, "%%PDF-1.4\n");
	for (size_t i = 0; i < n; i++) {
		offs[i] = len;
		len += (size_t)snprintf(b + len, cap - len, "%zu 0 obj\n%s\nendobj\n", i + 1,
					objs[i]);
	}
	size_t xref = len;
	len += (size_t)snprintf(b + len, cap - len, "xref\n0 %zu\n0000000000 65535 f \n", n + 1);
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(b + len, cap - len, "%010zu 00000 n \n", offs[i]);
	len += (size_t)snprintf(b + len, cap - len,
				"trailer\n<</Size %zu /Root 1 0 R %s>>\nstartxref\n%zu\n%%%%EOF\n",
				n + 1, extra ? extra : "", xref);
	cr_assert_lt(len, cap);
	*out = b;
	return len;
}

/* Three pages whose text is "Page one alpha", "Page two beta", "Page three
 * gamma", with a title and an author. */
static size_t three_pages(char **out)
{
	static char s1[128], s2[128], s3[128];
	const char *t[3] = { "Page one alpha", "Page two beta", "Page three gamma" };
	char *streams[3] = { s1, s2, s3 };

	for (int i = 0; i < 3; i++) {
		char body[80];
		int n = snprintf(body, sizeof(body), "BT /F1 12 Tf 72 720 Td (%s) Tj ET", t[i]);
		snprintf(streams[i], 128, "<</Length %d>>\nstream\n%s\nendstream", n, body);
	}
	const char *objs[] = {
		"<</Type/Catalog/Pages 2 0 R>>",
		"<</Type/Pages/Kids[3 0 R 4 0 R 5 0 R]/Count 3>>",
		"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 6 0 R"
		"/Resources<</Font<</F1 9 0 R>>>>>>",
		"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 7 0 R"
		"/Resources<</Font<</F1 9 0 R>>>>>>",
		"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 8 0 R"
		"/Resources<</Font<</F1 9 0 R>>>>>>",
		s1,
		s2,
		s3,
		"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
		"<</Title(Known Title)/Author(Ann Author)/Producer(rap tests)"
		"/CreationDate(D:20240102030405Z)>>",
	};
	return make_pdf(objs, 10, "/Info 10 0 R", out);
}

static struct proc_ctx *run_bytes(const char *bytes, size_t len, const char *params)
{
	char path[] = "/tmp/rap-pdf-XXXXXX";
	int fd = mkstemp(path);
	struct proc_ctx *c = fake_proc_new(NULL, 0, 0, params);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, bytes, len), (ssize_t)len);
	lseek(fd, 0, SEEK_SET);
	unlink(path);
	cr_assert_eq(proc_pdf_text.prepare(), RAP_OK);
	c->input_fd = fd;
	c->len = len;
	cr_assert_eq(proc_pdf_text.run(c), RAP_OK);
	cr_assert(c->result || c->fail_code, "one outcome");
	close(fd);
	return c;
}

static struct json_object *field(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	cr_assert(json_object_object_get_ex(o, key, &v), "%s", key);
	return v;
}

Test(pdf_text, three_pages_their_text_separated_by_form_feeds_and_the_metadata)
{
	char *pdf;
	size_t len = three_pages(&pdf);
	struct proc_ctx *c = run_bytes(pdf, len, NULL);
	struct json_object *m, *pages;

	cr_assert_null(c->fail_code, "%s", c->fail_message);
	cr_assert_eq(fake_proc_result_int(c, "page_count"), 3);
	cr_assert_eq(fake_proc_result_int(c, "first_page"), 1);
	cr_assert_eq(fake_proc_result_int(c, "last_page"), 3);
	cr_assert_str_eq(c->output_name, "text.txt");
	cr_assert_eq(c->outputs_ended, 1);
	cr_assert_eq(c->output.len, strlen("Page one alpha\fPage two beta\fPage three gamma"));
	cr_assert_eq(memcmp(c->output.data, "Page one alpha\fPage two beta\fPage three gamma",
			    c->output.len),
		     0, "%.*s", (int)c->output.len, (char *)c->output.data);
	pages = field(c->result, "pages");
	cr_assert_eq(json_object_array_length(pages), 3);
	cr_assert_eq(json_object_get_int(field(json_object_array_get_idx(pages, 1), "chars")), 13);
	m = field(c->result, "metadata");
	cr_assert_str_eq(json_object_get_string(field(m, "title")), "Known Title");
	cr_assert_str_eq(json_object_get_string(field(m, "author")), "Ann Author");
	cr_assert_str_eq(json_object_get_string(field(m, "producer")), "rap tests");
	cr_assert_str_eq(json_object_get_string(field(m, "creation_date")), "2024-01-02T03:04:05Z");
	cr_assert_not(json_object_get_boolean(field(m, "encrypted")));
	cr_assert_geq(c->progress_calls, 3);
	cr_assert_eq(c->progress_rows[2], 3);
	free(pdf);
	fake_proc_free(c);
}

Test(pdf_text, per_page_and_a_range_store_each_page_asked_for)
{
	char *pdf;
	size_t len = three_pages(&pdf);
	struct proc_ctx *c =
		run_bytes(pdf, len, "{\"per_page\":true,\"first_page\":2,\"max_pages\":1}");
	const char *want = "Page two betaPage two beta"; /* text.txt, then page-00002.txt */

	cr_assert_null(c->fail_code, "%s", c->fail_message);
	cr_assert_eq(fake_proc_result_int(c, "page_count"), 3);
	cr_assert_eq(fake_proc_result_int(c, "first_page"), 2);
	cr_assert_eq(fake_proc_result_int(c, "last_page"), 2);
	cr_assert_eq(c->outputs_ended, 2);
	cr_assert_str_eq(c->output_name, "page-00002.txt");
	cr_assert_eq(c->output.len, strlen(want));
	cr_assert_eq(memcmp(c->output.data, want, c->output.len), 0);
	free(pdf);
	fake_proc_free(c);
}

Test(pdf_text, a_first_page_past_the_last_is_invalid_params)
{
	char *pdf;
	size_t len = three_pages(&pdf);
	struct proc_ctx *c = run_bytes(pdf, len, "{\"first_page\":4}");

	cr_assert_str_eq(c->fail_code, "invalid_params");
	cr_assert(strstr(c->fail_message, "3 pages"), "%s", c->fail_message);
	free(pdf);
	fake_proc_free(c);
}

Test(pdf_text, a_pdf_that_needs_a_password_fails_as_encrypted)
{
	/* A standard security handler whose O and U match no password. */
	const char *objs[] = {
		"<</Type/Catalog/Pages 2 0 R>>",
		"<</Type/Pages/Kids[3 0 R]/Count 1>>",
		"<</Type/Page/Parent 2 0 R/MediaBox[0 0 10 10]>>",
		"<</Filter/Standard/V 1/R 2/P -4"
		"/O<0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef>"
		"/U<fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210>>>",
	};
	char *pdf;
	size_t len = make_pdf(objs, 4,
			      "/Encrypt 4 0 R /ID[<00112233445566778899aabbccddeeff>"
			      "<00112233445566778899aabbccddeeff>]",
			      &pdf);
	struct proc_ctx *c = run_bytes(pdf, len, NULL);

	cr_assert_str_eq(c->fail_code, "invalid_input");
	cr_assert(strstr(c->fail_message, "encrypted"), "%s", c->fail_message);
	free(pdf);
	fake_proc_free(c);
}

Test(pdf_text, a_truncated_pdf_fails_as_such)
{
	char *pdf;
	size_t len = three_pages(&pdf);
	struct proc_ctx *c = run_bytes(pdf, len / 2, NULL);

	cr_assert_str_eq(c->fail_code, "invalid_input");
	cr_assert(strstr(c->fail_message, "truncated"), "%s", c->fail_message);
	free(pdf);
	fake_proc_free(c);
}

Test(pdf_text, a_page_tree_that_points_to_itself_fails)
{
	const char *objs[] = {
		"<</Type/Catalog/Pages 2 0 R>>",
		"<</Type/Pages/Kids[2 0 R 3 0 R]/Count 2>>",
		"<</Type/Pages/Parent 2 0 R/Kids[3 0 R 2 0 R]/Count 1>>",
	};
	char *pdf;
	size_t len = make_pdf(objs, 3, NULL, &pdf);
	struct proc_ctx *c = run_bytes(pdf, len, NULL);

	cr_assert_str_eq(c->fail_code, "invalid_input", "%s",
			 c->fail_code ? c->fail_message : "completed");
	cr_assert(strstr(c->fail_message, "does not lead to page 1 of the 2"), "%s",
		  c->fail_message);
	free(pdf);
	fake_proc_free(c);
}

/* n '[' then n ']' after prefix, then suffix (malloc'd). */
static char *nested(const char *prefix, size_t n, const char *suffix)
{
	size_t lp = strlen(prefix), ls = strlen(suffix);
	char *s = malloc(lp + 2 * n + ls + 1);

	memcpy(s, prefix, lp);
	memset(s + lp, '[', n);
	memset(s + lp + n, ']', n);
	memcpy(s + lp + 2 * n, suffix, ls + 1);
	return s;
}

static void assert_damaged(struct proc_ctx *c, const char *first)
{
	cr_assert_str_eq(c->fail_code, "invalid_input", "%s",
			 c->fail_code ? c->fail_message : "completed");
	cr_assert(strstr(c->fail_message, "damaged or hostile: poppler reported"), "%s",
		  c->fail_message);
	cr_assert(strstr(c->fail_message, first), "%s", c->fail_message);
}

/* Poppler stops at its own depth and goes on, one syntax error for each
 * bracket it cannot place: in a page's content stream... */
Test(pdf_text, arrays_nested_200000_deep_in_a_page_fail_as_damaged)
{
	char *body = nested("BT /F1 12 Tf 72 720 Td (deep) Tj ET ", 200000, "");
	char *stream = malloc(strlen(body) + 64);
	const char *objs[5] = {
		"<</Type/Catalog/Pages 2 0 R>>",
		"<</Type/Pages/Kids[3 0 R]/Count 1>>",
		"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 4 0 R"
		"/Resources<</Font<</F1 5 0 R>>>>>>",
		stream,
		"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
	};
	char *pdf;
	size_t len;
	struct proc_ctx *c;

	sprintf(stream, "<</Length %zu>>\nstream\n%s\nendstream", strlen(body), body);
	len = make_pdf(objs, 5, NULL, &pdf);
	c = run_bytes(pdf, len, NULL);
	assert_damaged(c, "Unknown operator ']'");
	free(body);
	free(stream);
	free(pdf);
	fake_proc_free(c);
}

/* ...and in the page's own dictionary, met when the page is looked up,
 * before any output. */
Test(pdf_text, arrays_nested_200000_deep_in_a_page_object_fail_before_any_output)
{
	char *page = nested("<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/X ", 200000, ">>");
	const char *objs[3] = {
		"<</Type/Catalog/Pages 2 0 R>>",
		"<</Type/Pages/Kids[3 0 R]/Count 1>>",
		page,
	};
	char *pdf;
	size_t len = make_pdf(objs, 3, NULL, &pdf);
	struct proc_ctx *c = run_bytes(pdf, len, NULL);

	assert_damaged(c, "Syntax error at position");
	cr_assert_null(c->output_name, "no output begun");
	free(page);
	free(pdf);
	fake_proc_free(c);
}

Test(pdf_text, what_is_not_a_pdf_fails_as_such)
{
	const char text[] = "just some text, not a PDF\n%%EOF\n";
	struct proc_ctx *c = run_bytes(text, sizeof(text) - 1, NULL);

	cr_assert_str_eq(c->fail_code, "invalid_input");
	cr_assert(strstr(c->fail_message, "not a PDF"), "%s", c->fail_message);
	fake_proc_free(c);
}
