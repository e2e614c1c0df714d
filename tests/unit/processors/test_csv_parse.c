/* Tests of services/worker/processors/csv_parse.c: the streaming RFC 4180
 * reader, fed in every chunk size from 1 byte to the whole input. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv_parse.h"
#include "rap/buf.h"
#include "rap/err.h"

/* Records as text: "no:flags:[f1|f2]" one per line, fields with '|'. */
static int collect(void *ctx, const struct csv_row *row)
{
	struct rap_buf *b = ctx;
	const char *f;
	size_t n;
	unsigned i;

	rap_buf_appendf(b, "%lld:%u:[", row->no, row->flags);
	for (i = 0; i < row->n; i++) {
		f = csv_field(row, i, &n);
		rap_buf_appendf(b, "%s%.*s", i ? "|" : "", (int)n, f);
	}
	rap_buf_appends(b, "]\n");
	return RAP_OK;
}

/* Parses s in chunks of `chunk` bytes; the records as text (caller frees). */
static char *parse_chunked(const char *s, size_t len, char delim, size_t max_row, size_t chunk,
			   long long *blank, bool *bom)
{
	struct csv_parser p;
	struct rap_buf out;
	size_t at;

	rap_buf_init(&out, 1 << 24);
	rap_buf_appends(&out, "");
	csv_parse_init(&p, delim, max_row);
	for (at = 0; at < len; at += chunk) {
		size_t n = len - at < chunk ? len - at : chunk;

		cr_assert_eq(csv_parse_feed(&p, s + at, n, collect, &out), RAP_OK);
	}
	cr_assert_eq(csv_parse_finish(&p, collect, &out), RAP_OK);
	if (blank)
		*blank = p.blank;
	if (bom)
		*bom = p.bom;
	csv_parse_cleanup(&p);
	return rap_buf_take(&out);
}

/* Parses s whole and in every chunk size up to its length: all must agree. */
static void expect(const char *s, char delim, size_t max_row, const char *want)
{
	size_t len = strlen(s), chunk;
	char *whole = parse_chunked(s, len, delim, max_row, len ? len : 1, NULL, NULL);

	cr_assert_str_eq(whole, want, "input <%s>", s);
	for (chunk = 1; chunk < len; chunk++) {
		char *got = parse_chunked(s, len, delim, max_row, chunk, NULL, NULL);

		cr_assert_str_eq(got, want, "input <%s> in chunks of %zu", s, chunk);
		free(got);
	}
	free(whole);
}

Test(csv_parse, plain_records_with_lf_crlf_and_cr_endings)
{
	expect("a,b\n1,2\n", ',', 1024, "1:0:[a|b]\n2:0:[1|2]\n");
	expect("a,b\r\n1,2\r\n", ',', 1024, "1:0:[a|b]\n2:0:[1|2]\n");
	expect("a,b\r1,2\r", ',', 1024, "1:0:[a|b]\n2:0:[1|2]\n");
	expect("a,b\r\n1,2", ',', 1024, "1:0:[a|b]\n2:0:[1|2]\n");
}

Test(csv_parse, empty_fields_and_a_trailing_delimiter)
{
	expect(",\n,,x\n", ',', 1024, "1:0:[|]\n2:0:[||x]\n");
	expect("a,", ',', 1024, "1:0:[a|]\n");
}

Test(csv_parse, quoted_fields_with_delimiters_doubled_quotes_and_newlines)
{
	expect("\"a,b\",\"say \"\"hi\"\"\"\n", ',', 1024, "1:0:[a,b|say \"hi\"]\n");
	expect("\"line1\nline2\",x\r\ny,z\r\n", ',', 1024, "1:0:[line1\nline2|x]\n2:0:[y|z]\n");
	expect("\"\",\"\"\"\"\n", ',', 1024, "1:0:[|\"]\n");
	expect("\"crlf\r\ninside\"\r\n", ',', 1024, "1:0:[crlf\r\ninside]\n");
}

Test(csv_parse, blank_lines_count_in_numbering_but_are_not_records)
{
	long long blank;
	char *got = parse_chunked("a\n\n\r\nb\n", 7, ',', 64, 3, &blank, NULL);

	cr_assert_str_eq(got, "1:0:[a]\n4:0:[b]\n");
	cr_assert_eq(blank, 2);
	free(got);
}

Test(csv_parse, a_utf8_bom_is_skipped_even_when_split)
{
	const char *s = "\xEF\xBB\xBFh1,h2\nv1,v2\n";
	size_t chunk;
	bool bom;

	for (chunk = 1; chunk <= strlen(s); chunk++) {
		char *got = parse_chunked(s, strlen(s), ',', 64, chunk, NULL, &bom);

		cr_assert_str_eq(got, "1:0:[h1|h2]\n2:0:[v1|v2]\n");
		cr_assert(bom);
		free(got);
	}
	/* The start of a BOM that is not one is data. */
	expect("\xEF\xBBx\n", ',', 64, "1:0:[\xEF\xBBx]\n");
}

Test(csv_parse, every_delimiter)
{
	expect("a;b\n", ';', 64, "1:0:[a|b]\n");
	expect("a\tb\n", '\t', 64, "1:0:[a|b]\n");
	expect("a|b\n", '|', 64, "1:0:[a|b]\n");
	expect("a,b\n", '|', 64, "1:0:[a,b]\n");
}

Test(csv_parse, stray_quotes_are_kept_and_flagged)
{
	char want[64];

	snprintf(want, sizeof(want), "1:%d:[ab\"c|d]\n", CSV_ROW_BAD_QUOTE);
	expect("ab\"c,d\n", ',', 64, want);
	snprintf(want, sizeof(want), "1:%d:[abc|d]\n", CSV_ROW_BAD_QUOTE);
	expect("\"ab\"c,d\n", ',', 64, want);
}

Test(csv_parse, an_unterminated_quote_runs_to_the_end_and_is_flagged)
{
	char want[64];

	snprintf(want, sizeof(want), "1:0:[a]\n2:%d:[x\ny,z\n]\n", CSV_ROW_UNTERMINATED);
	expect("a\n\"x\ny,z\n", ',', 64, want);
}

Test(csv_parse, a_row_too_long_is_cut_flagged_and_the_next_row_is_whole)
{
	char want[128];

	/* The quoted newline does not end the long row. */
	snprintf(want, sizeof(want), "1:%d:[0123456789|]\n2:0:[ok]\n", CSV_ROW_TOO_LONG);
	expect("\"0123456789ab\ncdef\",ghi\nok\n", ',', 10, want);
}

Test(csv_parse, an_endless_quoted_field_stays_within_max_row)
{
	struct csv_parser p;
	struct rap_buf out;
	char chunk[4096];
	int i;

	memset(chunk, 'x', sizeof(chunk));
	rap_buf_init(&out, 1 << 20);
	csv_parse_init(&p, ',', 1000);
	cr_assert_eq(csv_parse_feed(&p, "\"", 1, collect, &out), RAP_OK);
	for (i = 0; i < 4096; i++) /* 16 MiB of one field */
		cr_assert_eq(csv_parse_feed(&p, chunk, sizeof(chunk), collect, &out), RAP_OK);
	cr_assert_leq(p.cap, 1000, "the record buffer stays at max_row");
	cr_assert_eq(csv_parse_finish(&p, collect, &out), RAP_OK);
	cr_assert(strstr(out.data, "1:9:[") == out.data, "%.20s", out.data);
	csv_parse_cleanup(&p);
	rap_buf_cleanup(&out);
}

Test(csv_parse, more_fields_than_the_limit_are_flagged)
{
	size_t n = CSV_MAX_FIELDS + 10, i;
	char *s = malloc(n * 2 + 1);
	struct csv_parser p;
	struct rap_buf out;

	for (i = 0; i < n; i++) {
		s[2 * i] = 'x';
		s[2 * i + 1] = ',';
	}
	s[2 * n - 1] = '\n';
	rap_buf_init(&out, 1 << 20);
	csv_parse_init(&p, ',', 1 << 20);
	cr_assert_eq(csv_parse_feed(&p, s, 2 * n, collect, &out), RAP_OK);
	cr_assert(strncmp(out.data, "1:2:[", 5) == 0);
	cr_assert_eq(p.ends_cap, CSV_MAX_FIELDS);
	csv_parse_cleanup(&p);
	rap_buf_cleanup(&out);
	free(s);
}

static int stop_at_second(void *ctx, const struct csv_row *row)
{
	return row->no == 2 ? RAP_ECANCELED : RAP_OK;
}

Test(csv_parse, an_error_of_the_callback_stops_the_parser)
{
	struct csv_parser p;

	csv_parse_init(&p, ',', 64);
	cr_assert_eq(csv_parse_feed(&p, "a\nb\nc\n", 6, stop_at_second, NULL), RAP_ECANCELED);
	csv_parse_cleanup(&p);
}

Test(csv_parse, record_offsets_and_sizes)
{
	struct csv_parser p;
	struct rap_buf out;

	rap_buf_init(&out, 1024);
	csv_parse_init(&p, ',', 64);
	cr_assert_eq(csv_parse_feed(&p, "ab\n\"c\nd\"\n", 9, collect, &out), RAP_OK);
	cr_assert_eq(p.offset, 9);
	cr_assert_eq(p.rows, 2);
	csv_parse_cleanup(&p);
	rap_buf_cleanup(&out);
}

Test(csv_parse, the_delimiter_is_detected_from_the_first_records)
{
	cr_assert_eq(csv_parse_detect("a,b,c\n1,2,3\n", 12, true), ',');
	cr_assert_eq(csv_parse_detect("a;b;c\n1;2,5;3\n", 14, true), ';');
	cr_assert_eq(csv_parse_detect("a\tb\n1\t2\n", 8, true), '\t');
	cr_assert_eq(csv_parse_detect("a|b\n1|2\n", 8, true), '|');
	/* Delimiters inside quotes do not count. */
	cr_assert_eq(csv_parse_detect("\"a;b\",c\n\"1;2\",3\n", 16, true), ',');
	/* One column: the default. */
	cr_assert_eq(csv_parse_detect("a\nb\n", 4, true), ',');
	/* Consistency beats count: ';' on every line, ',' on one. */
	cr_assert_eq(csv_parse_detect("a;b\n1,2,3,4;5\nx;y\n", 18, true), ';');
	/* An unfinished last line counts only at the end of input. */
	cr_assert_eq(csv_parse_detect("a\nb|c|d|e", 9, false), ',');
	cr_assert_eq(csv_parse_detect("a|b\nb|c", 7, true), '|');
}

Test(csv_parse, utf8_validation)
{
	cr_assert(csv_utf8_valid("plain ascii text, long enough", 29));
	cr_assert(csv_utf8_valid("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", 14));
	cr_assert_not(csv_utf8_valid("\xC3", 1), "truncated");
	cr_assert_not(csv_utf8_valid("\xC0\xAF", 2), "overlong");
	cr_assert_not(csv_utf8_valid("\xE0\x80\xAF", 3), "overlong");
	cr_assert_not(csv_utf8_valid("\xED\xA0\x80", 3), "surrogate");
	cr_assert_not(csv_utf8_valid("\xF4\x90\x80\x80", 4), "past U+10FFFF");
	cr_assert_not(csv_utf8_valid("abcdefgh\xFF", 9), "after an ASCII block");
	cr_assert_not(csv_utf8_valid("\x80", 1), "a lone continuation byte");
}
