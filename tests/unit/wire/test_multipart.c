/* Tests of lib/wire/multipart.c: the streaming multipart/form-data parser. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rap/err.h"
#include "rap/mem.h"
#include "rap/multipart.h"
#include "rap/buf.h"

/* What the callbacks saw, as text: "[name|filename|type]data{end}". */
struct seen {
	struct rap_buf out;
	int stop_at_begin;
	unsigned long long bytes;
	unsigned long long sum;
	bool count_only;
};

static int on_begin(void *ctx, const char *name, const char *filename, const char *type)
{
	struct seen *s = ctx;

	if (s->stop_at_begin)
		return RAP_ECANCELED;
	rap_buf_appendf(&s->out, "[%s|%s|%s]", name, filename ? filename : "-", type ? type : "-");
	return RAP_OK;
}

static int on_data(void *ctx, const char *data, size_t len)
{
	struct seen *s = ctx;

	s->bytes += len;
	for (size_t i = 0; i < len; i++)
		s->sum = s->sum * 31 + (unsigned char)data[i];
	if (!s->count_only)
		rap_buf_append(&s->out, data, len);
	return RAP_OK;
}

static int on_end(void *ctx)
{
	struct seen *s = ctx;

	rap_buf_appends(&s->out, "{end}");
	return RAP_OK;
}

static const struct rap_multipart_cb cbs = { on_begin, on_data, on_end };

/* Parses body fed in pieces of `step` bytes; returns feed/finish result. */
static int parse(const char *boundary, const char *body, size_t len, size_t step, struct seen *s)
{
	struct rap_multipart *mp = rap_multipart_new(boundary, &cbs, s);
	int result = RAP_OK;

	rap_buf_init(&s->out, 1 << 20);
	for (size_t off = 0; off < len && result == RAP_OK; off += step)
		result = rap_multipart_feed(mp, body + off, len - off < step ? len - off : step);
	if (result == RAP_OK)
		result = rap_multipart_finish(mp);
	rap_multipart_free(mp);
	return result;
}

#define BODY2                                                                                      \
	"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nhello\r\n"                     \
	"--XyZ\r\ncontent-disposition: form-data; name=\"file\"; filename=\"x.bin\"\r\n"           \
	"Content-Type: application/octet-stream\r\n\r\n"                                           \
	"ab\r\n--XyNOT\r\n-- \r\ncd\r\r\n--XyZ--\r\n"
#define WANT2                                                                                      \
	"[a|-|-]hello{end}[file|x.bin|application/octet-stream]"                                   \
	"ab\r\n--XyNOT\r\n-- \r\ncd\r{end}"

Test(multipart, two_fields_with_near_boundary_bytes)
{
	struct seen s = { 0 };

	cr_assert_eq(parse("XyZ", BODY2, strlen(BODY2), 1 << 20, &s), RAP_OK);
	cr_assert_str_eq(s.out.data, WANT2);
	rap_buf_cleanup(&s.out);
}

Test(multipart, same_result_at_every_split_and_byte_by_byte)
{
	size_t len = strlen(BODY2);

	for (size_t step = 1; step <= len; step++) {
		struct seen s = { 0 };

		cr_assert_eq(parse("XyZ", BODY2, len, step, &s), RAP_OK, "step %zu", step);
		cr_assert_str_eq(s.out.data, WANT2, "step %zu", step);
		rap_buf_cleanup(&s.out);
	}
	/* Two pieces, split at every position. */
	for (size_t cut = 0; cut <= len; cut++) {
		struct seen s = { 0 };
		struct rap_multipart *mp = rap_multipart_new("XyZ", &cbs, &s);

		rap_buf_init(&s.out, 1 << 20);
		cr_assert_eq(rap_multipart_feed(mp, BODY2, cut), RAP_OK);
		cr_assert_eq(rap_multipart_feed(mp, BODY2 + cut, len - cut), RAP_OK);
		cr_assert_eq(rap_multipart_finish(mp), RAP_OK);
		cr_assert_str_eq(s.out.data, WANT2, "cut %zu", cut);
		rap_multipart_free(mp);
		rap_buf_cleanup(&s.out);
	}
}

Test(multipart, binary_data_with_nuls_and_crs_passes_unchanged)
{
	static const char head[] =
		"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"z\"\r\n\r\n";
	static const char tail[] = "\r\n--b--";
	char body[512], data[256];
	struct seen s = { 0 };
	size_t n = 0;

	for (int i = 0; i < 256; i++)
		data[i] = (char)(i % 3 == 0 ? '\r' : i);
	memcpy(body, head, sizeof(head) - 1);
	n += sizeof(head) - 1;
	memcpy(body + n, data, sizeof(data));
	n += sizeof(data);
	memcpy(body + n, tail, sizeof(tail) - 1);
	n += sizeof(tail) - 1;
	for (size_t step = 1; step < 40; step += 3) {
		cr_assert_eq(parse("b", body, n, step, &s), RAP_OK);
		cr_assert_eq(s.out.len, strlen("[file|z|-]") + sizeof(data) + strlen("{end}"));
		cr_assert(memcmp(s.out.data + strlen("[file|z|-]"), data, sizeof(data)) == 0);
		rap_buf_cleanup(&s.out);
	}
}

Test(multipart, preamble_epilogue_and_padding_are_ignored)
{
	const char *body =
		"This is a preamble\r\n--B  \t\r\nContent-Disposition: form-data; name=x\r\n\r\n"
		"1\r\n--B--\r\nepilogue --B\r\n";
	struct seen s = { 0 };

	cr_assert_eq(parse("B", body, strlen(body), 7, &s), RAP_OK);
	cr_assert_str_eq(s.out.data, "[x|-|-]1{end}");
	rap_buf_cleanup(&s.out);
}

Test(multipart, quoted_filename_with_escapes_and_path)
{
	const char *body =
		"--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\\\"b;c.txt\"\r\n\r\n"
		"\r\n--B--";
	struct seen s = { 0 };

	cr_assert_eq(parse("B", body, strlen(body), 3, &s), RAP_OK);
	cr_assert_str_eq(s.out.data, "[f|a\"b;c.txt|-]{end}");
	rap_buf_cleanup(&s.out);
}

/* Parses one part whose Content-Disposition is disp; what was seen in out. */
static int parse_disposition(const char *disp, struct seen *s, char *err, size_t errlen)
{
	char body[2048];
	struct rap_multipart *mp = rap_multipart_new("B", &cbs, s);
	int result;

	snprintf(body, sizeof(body), "--B\r\nContent-Disposition: %s\r\n\r\nx\r\n--B--", disp);
	rap_buf_init(&s->out, 4096);
	result = rap_multipart_feed(mp, body, strlen(body));
	if (result == RAP_OK)
		result = rap_multipart_finish(mp);
	snprintf(err, errlen, "%s", rap_multipart_errmsg(mp));
	rap_multipart_free(mp);
	return result;
}

/* Issue 15, point 6: a ';' or "name=" inside a quoted filename is not a
 * parameter (RFC 7578 4.2, RFC 2183); this part is the field "other", as
 * browsers and the common server parsers read it, not the upload "file". */
Test(multipart, rfc7578_semicolon_and_name_inside_quotes_are_not_parameters)
{
	struct seen s = { 0 };
	char err[RAP_ERRLEN];

	cr_assert_eq(parse_disposition("form-data; filename=\"a;name=file;\"; name=\"other\"", &s,
				       err, sizeof(err)),
		     RAP_OK);
	cr_assert_str_eq(s.out.data, "[other|a;name=file;|-]x{end}");
	rap_buf_cleanup(&s.out);
	cr_assert_eq(parse_disposition("form-data; name=\"f\"; filename=\"x\\\"; name=file\"", &s,
				       err, sizeof(err)),
		     RAP_OK);
	cr_assert_str_eq(s.out.data, "[f|x\"; name=file|-]x{end}");
	rap_buf_cleanup(&s.out);
}

Test(multipart, rfc7578_parameter_names_are_case_insensitive_and_spaced_freely)
{
	const char *cases[][2] = {
		{ "Form-Data; NAME=\"n\"; FileName=\"f.txt\"", "[n|f.txt|-]x{end}" },
		{ "form-data ;name = \"a\" ; filename= b.bin ;", "[a|b.bin|-]x{end}" },
		{ "form-data;\tname=token-1;filename=\"\"", "[token-1||-]x{end}" },
		/* filename* (RFC 5987) is another parameter, not filename */
		{ "form-data; name=\"f\"; filename*=UTF-8''x.txt", "[f|-|-]x{end}" },
		{ "form-data; size=3; name=\"f\"; creation-date=\"Wed, 12 Feb 1997\"",
		  "[f|-|-]x{end}" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct seen s = { 0 };
		char err[RAP_ERRLEN];

		cr_assert_eq(parse_disposition(cases[i][0], &s, err, sizeof(err)), RAP_OK,
			     "case %zu: %s", i, err);
		cr_assert_str_eq(s.out.data, cases[i][1], "case %zu", i);
		rap_buf_cleanup(&s.out);
	}
}

/* A backslash escapes a tspecial ('"', '\\', ';' ...); before anything else
 * it is a byte of the name, as browsers send Windows paths unescaped. */
Test(multipart, rfc7578_backslashes_as_browsers_send_them)
{
	const char *cases[][2] = {
		{ "form-data; name=f; filename=\"C:\\dir\\a.txt\"", "[f|C:\\dir\\a.txt|-]x{end}" },
		{ "form-data; name=f; filename=\"a\\\\b\"", "[f|a\\b|-]x{end}" },
		{ "form-data; name=f; filename=\"q\\\"x\"", "[f|q\"x|-]x{end}" },
		{ "form-data; name=f; filename=\"end\\\\\"", "[f|end\\|-]x{end}" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct seen s = { 0 };
		char err[RAP_ERRLEN];

		cr_assert_eq(parse_disposition(cases[i][0], &s, err, sizeof(err)), RAP_OK,
			     "case %zu: %s", i, err);
		cr_assert_str_eq(s.out.data, cases[i][1], "case %zu", i);
		rap_buf_cleanup(&s.out);
	}
}

/* A parameter given twice is refused, not resolved first- or last-wins:
 * parsers that disagree on which one counts would see different fields. */
Test(multipart, rfc7578_repeated_parameters_and_dispositions_are_refused)
{
	const char *cases[] = {
		"form-data; name=\"a\"; name=\"b\"",
		"form-data; name=a; filename=x; FILENAME=y",
		"form-data; NAME=file; name=file",
	};
	const char *two = "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n"
			  "Content-Disposition: form-data; name=\"file\"\r\n\r\nx\r\n--B--";
	struct rap_multipart *mp;
	struct seen s = { 0 };
	char err[RAP_ERRLEN];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(parse_disposition(cases[i], &s, err, sizeof(err)), RAP_EPROTO,
			     "case %zu", i);
		cr_assert(strstr(err, "repeats a parameter"), "case %zu: %s", i, err);
		cr_assert_str_empty(s.out.data ? s.out.data : "", "case %zu: no part begun", i);
		rap_buf_cleanup(&s.out);
	}
	mp = rap_multipart_new("B", &cbs, &s);
	rap_buf_init(&s.out, 4096);
	cr_assert_eq(rap_multipart_feed(mp, two, strlen(two)), RAP_EPROTO);
	cr_assert_str_eq(rap_multipart_errmsg(mp), "a part has two Content-Disposition headers");
	rap_multipart_free(mp);
	rap_buf_cleanup(&s.out);
}

Test(multipart, rfc7578_malformed_parameters_are_refused)
{
	char long_name[400];
	const char *cases[] = {
		"form-data; name=\"unterminated",
		"form-data; name=a b",
		"form-data; name=",
		"form-data; =x; name=a",
		"form-data; name",
		"form-data; name=\"a\"junk",
		"form-data; name=\"a\rb\"",
		"form-data name=a",
		long_name,
	};

	snprintf(long_name, sizeof(long_name), "form-data; name=\"%0300d\"", 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct seen s = { 0 };
		char err[RAP_ERRLEN];

		cr_assert_eq(parse_disposition(cases[i], &s, err, sizeof(err)), RAP_EPROTO,
			     "case %zu", i);
		cr_assert_neq(err[0], '\0', "case %zu", i);
		rap_buf_cleanup(&s.out);
	}
}

Test(multipart, a_nul_in_part_headers_is_refused)
{
	const char body[] = "--B\r\nContent-Disposition: form-data; name=\"a\"\0; name=\"file\"\r\n"
			    "\r\nx\r\n--B--";
	struct seen s = { 0 };

	cr_assert_eq(parse("B", body, sizeof(body) - 1, 4, &s), RAP_EPROTO);
	rap_buf_cleanup(&s.out);
}

Test(multipart, boundary_parameter_forms)
{
	char b[80];

	cr_assert_eq(rap_multipart_boundary("multipart/form-data; boundary=abc", b, sizeof(b)),
		     RAP_OK);
	cr_assert_str_eq(b, "abc");
	cr_assert_eq(rap_multipart_boundary(
			     "Multipart/Form-Data; charset=utf-8; BOUNDARY=\"a b'()+_,-./:=?\"", b,
			     sizeof(b)),
		     RAP_OK);
	cr_assert_str_eq(b, "a b'()+_,-./:=?");
	cr_assert_eq(rap_multipart_boundary(
			     "multipart/form-data;boundary=----WebKitFormBoundary7MA4YWxk", b,
			     sizeof(b)),
		     RAP_OK);
	cr_assert_str_eq(b, "----WebKitFormBoundary7MA4YWxk");
}

Test(multipart, bad_content_types_are_refused)
{
	char b[80], long_b[200];

	cr_assert_eq(rap_multipart_boundary("application/json", b, sizeof(b)), RAP_EINVAL);
	cr_assert_eq(rap_multipart_boundary("multipart/form-data", b, sizeof(b)), RAP_EINVAL);
	cr_assert_eq(rap_multipart_boundary("multipart/form-data; charset=x", b, sizeof(b)),
		     RAP_EINVAL);
	cr_assert_eq(rap_multipart_boundary("multipart/mixed; boundary=a", b, sizeof(b)),
		     RAP_EINVAL);
	cr_assert_eq(rap_multipart_boundary("multipart/form-data; boundary=", b, sizeof(b)),
		     RAP_EINVAL);
	cr_assert_eq(rap_multipart_boundary("multipart/form-data; boundary=\"a", b, sizeof(b)),
		     RAP_EINVAL);
	cr_assert_eq(rap_multipart_boundary("multipart/form-data; boundary=a{b", b, sizeof(b)),
		     RAP_EINVAL);
	snprintf(long_b, sizeof(long_b), "multipart/form-data; boundary=%0*d", 71, 0);
	cr_assert_eq(rap_multipart_boundary(long_b, b, sizeof(b)), RAP_EINVAL);
}

Test(multipart, truncated_and_unterminated_bodies_fail_at_finish)
{
	struct seen s = { 0 };
	const char *cut = "--B\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nhalf";
	const char *nohdr = "--B\r\nContent-Disposition: form-data; name=\"f\"";

	cr_assert_eq(parse("B", cut, strlen(cut), 5, &s), RAP_EPROTO);
	rap_buf_cleanup(&s.out);
	cr_assert_eq(parse("B", nohdr, strlen(nohdr), 5, &s), RAP_EPROTO);
	rap_buf_cleanup(&s.out);
	cr_assert_eq(parse("B", "", 0, 5, &s), RAP_EPROTO);
	rap_buf_cleanup(&s.out);
	cr_assert_eq(parse("B", "no boundary here", 16, 5, &s), RAP_EPROTO);
	rap_buf_cleanup(&s.out);
}

Test(multipart, malformed_parts_are_protocol_errors_with_messages)
{
	const char *cases[] = {
		"--B\r\nContent-Type: text/plain\r\n\r\nx\r\n--B--", /* no disposition */
		"--B\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--B--", /* not form-data */
		"--B\r\nContent-Disposition: form-data\r\n\r\nx\r\n--B--",          /* no name */
		"--B\r\nBroken header\r\n\r\nx\r\n--B--",                           /* no colon */
		"--Bjunk\r\n", /* bad boundary line */
		"--B-x",       /* bad close */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct seen s = { 0 };
		struct rap_multipart *mp = rap_multipart_new("B", &cbs, &s);

		rap_buf_init(&s.out, 4096);
		cr_assert_eq(rap_multipart_feed(mp, cases[i], strlen(cases[i])), RAP_EPROTO,
			     "case %zu", i);
		cr_assert_neq(rap_multipart_errmsg(mp)[0], '\0');
		cr_assert_eq(rap_multipart_feed(mp, "x", 1), RAP_EPROTO, "errors stick");
		rap_multipart_free(mp);
		rap_buf_cleanup(&s.out);
	}
}

Test(multipart, oversized_headers_are_refused)
{
	struct rap_buf b;
	struct seen s = { 0 };
	struct rap_multipart *mp = rap_multipart_new("B", &cbs, &s);

	rap_buf_init(&b, 1 << 20);
	rap_buf_appends(&b, "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n");
	for (int i = 0; i < 200; i++)
		rap_buf_appendf(&b, "X-Pad-%d: %060d\r\n", i, 0);
	rap_buf_init(&s.out, 4096);
	cr_assert_eq(rap_multipart_feed(mp, b.data, b.len), RAP_EPROTO);
	cr_assert(strstr(rap_multipart_errmsg(mp), "8 KiB"));
	rap_multipart_free(mp);
	rap_buf_cleanup(&b);
	rap_buf_cleanup(&s.out);
}

Test(multipart, callback_error_stops_the_parser)
{
	struct seen s = { .stop_at_begin = 1 };

	cr_assert_eq(parse("XyZ", BODY2, strlen(BODY2), 10, &s), RAP_ECANCELED);
	rap_buf_cleanup(&s.out);
}

Test(multipart, fifty_mib_streams_in_chunks_with_constant_memory)
{
	static const char head[] =
		"--0123456789abcdef\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big\"\r\n\r\n";
	static const char tail[] = "\r\n--0123456789abcdef--\r\n";
	const size_t total = 50u << 20, chunk = 64 << 10;
	struct seen s = { .count_only = true };
	struct rap_multipart *mp = rap_multipart_new("0123456789abcdef", &cbs, &s);
	char *buf = rap_malloc(chunk);
	unsigned long long want_sum = 0;
	unsigned x = 12345;

	rap_buf_init(&s.out, 4096);
	cr_assert_eq(rap_multipart_feed(mp, head, sizeof(head) - 1), RAP_OK);
	for (size_t done = 0; done < total; done += chunk) {
		for (size_t i = 0; i < chunk; i++) {
			x = x * 1103515245u + 12345u;
			buf[i] = (char)(x >> 16);
			want_sum = want_sum * 31 + (unsigned char)buf[i];
		}
		cr_assert_eq(rap_multipart_feed(mp, buf, chunk), RAP_OK);
	}
	cr_assert_eq(rap_multipart_feed(mp, tail, sizeof(tail) - 1), RAP_OK);
	cr_assert_eq(rap_multipart_finish(mp), RAP_OK);
	cr_assert_eq(s.bytes, total);
	cr_assert_eq(s.sum, want_sum);
	rap_multipart_free(mp);
	rap_buf_cleanup(&s.out);
	free(buf);
}
