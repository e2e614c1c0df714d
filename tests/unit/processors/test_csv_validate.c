/* Tests of csv.validate (services/worker/processors/csv.c and table.c)
 * through the fake processor runtime. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_proc.h"
#include "validate.h"
#include "rap/err.h"

static struct proc_ctx *run_csv(const char *input, size_t chunk, const char *params)
{
	int result;
	struct proc_ctx *c =
		fake_proc_run(&proc_csv_validate, input, strlen(input), chunk, params, &result);

	cr_assert_eq(result, RAP_OK);
	return c;
}

static const char *output(struct proc_ctx *c)
{
	return c->output.data ? c->output.data : "";
}

Test(csv_validate, a_clean_file_passes_whole_and_is_written_as_rfc4180)
{
	struct proc_ctx *c =
		run_csv("id;name\r\n1;\"Smith, J\"\r\n2;\"say \"\"hi\"\"\"\r\n", 0, NULL);

	cr_assert_null(c->fail_code);
	cr_assert_eq(fake_proc_result_int(c, "rows_processed"), 2);
	cr_assert_eq(fake_proc_result_int(c, "rows_valid"), 2);
	cr_assert_eq(fake_proc_result_int(c, "rows_failed"), 0);
	cr_assert_eq(fake_proc_result_int(c, "errors"), 0);
	cr_assert_eq(fake_proc_result_int(c, "columns"), 2);
	cr_assert_str_eq(fake_proc_result_str(c, "delimiter"), ";");
	cr_assert_str_eq(fake_proc_result_str(c, "encoding"), "UTF-8");
	cr_assert_str_eq(fake_proc_result_str(c, "output"), "valid.csv");
	cr_assert_str_eq(c->output_name, "valid.csv");
	cr_assert_eq(c->outputs_ended, 1);
	cr_assert_str_eq(output(c), "id,name\r\n1,\"Smith, J\"\r\n2,\"say \"\"hi\"\"\"\r\n");
	fake_proc_free(c);
}

Test(csv_validate, every_delimiter_is_detected)
{
	const char *files[] = { "a,b\n1,2\n", "a;b\n1;2\n", "a\tb\n1\t2\n", "a|b\n1|2\n" };
	const char *want[] = { ",", ";", "\t", "|" };
	size_t i;

	for (i = 0; i < 4; i++) {
		struct proc_ctx *c = run_csv(files[i], 0, NULL);

		cr_assert_str_eq(fake_proc_result_str(c, "delimiter"), want[i]);
		cr_assert_eq(fake_proc_result_int(c, "columns"), 2);
		cr_assert_str_eq(output(c), "a,b\r\n1,2\r\n");
		fake_proc_free(c);
	}
}

Test(csv_validate, a_given_delimiter_wins)
{
	struct proc_ctx *c = run_csv("a;b,c\n1;2,3\n", 0, "{\"delimiter\":\",\"}");

	cr_assert_str_eq(fake_proc_result_str(c, "delimiter"), ",");
	cr_assert_eq(fake_proc_result_int(c, "columns"), 2);
	fake_proc_free(c);
}

Test(csv_validate, structural_errors_are_row_errors_and_the_job_goes_on)
{
	const char *in = "a,b\n"
			 "1,2\n"
			 "3\n"          /* row 3: ragged */
			 "4,\xFF\xFE\n" /* row 4: invalid UTF-8 */
			 "x\"y,5\n"     /* row 5: bad quote */
			 "\"long"
			 "0123456789012345678901234567890123456789012345678901234567890123456789"
			 "\",6\n" /* row 6: too long for 64 bytes */
			 "7,8\n"
			 "\"9,10\n"; /* row 8: unterminated */
	struct proc_ctx *c = run_csv(in, 5, "{\"max_row_bytes\":64}");
	const struct fake_error *e;

	cr_assert_null(c->fail_code);
	cr_assert_eq(fake_proc_result_int(c, "rows_processed"), 7);
	cr_assert_eq(fake_proc_result_int(c, "rows_valid"), 2);
	cr_assert_eq(fake_proc_result_int(c, "rows_failed"), 5);
	cr_assert_not_null(e = fake_proc_error(c, "ragged_row", 3));
	cr_assert_null(e->column);
	cr_assert(strstr(e->message, "1 fields where 2"), "%s", e->message);
	cr_assert_not_null(e = fake_proc_error(c, "invalid_utf8", 4));
	cr_assert_str_eq(e->column, "b");
	cr_assert_str_eq(e->value, "\xEF\xBF\xBD\xEF\xBF\xBD", "the excerpt is made UTF-8");
	cr_assert_not_null(fake_proc_error(c, "bad_quote", 5));
	cr_assert_not_null(fake_proc_error(c, "row_too_long", 6));
	cr_assert_not_null(fake_proc_error(c, "unterminated_quote", 8));
	cr_assert_eq(c->n_errors, 5);
	cr_assert_str_eq(output(c), "a,b\r\n1,2\r\n7,8\r\n");
	fake_proc_free(c);
}

Test(csv_validate, any_chunking_gives_the_same_answer)
{
	const char *in = "\xEF\xBB\xBFid,v\r\n1,\"a\r\nb\"\r\n2,\"\"\"q\"\r\n3\r\n";
	size_t chunk;

	for (chunk = 1; chunk <= strlen(in); chunk++) {
		struct proc_ctx *c = run_csv(in, chunk, NULL);

		cr_assert_eq(fake_proc_result_int(c, "rows_valid"), 2, "chunk %zu", chunk);
		cr_assert_not_null(fake_proc_error(c, "ragged_row", 4));
		cr_assert_str_eq(output(c), "id,v\r\n1,\"a\r\nb\"\r\n2,\"\"\"q\"\r\n");
		cr_assert_eq(fake_proc_result_int(c, "bom"), 1);
		fake_proc_free(c);
	}
}

Test(csv_validate, the_schema_checks_columns_by_header_name)
{
	const char *params = "{\"columns\":["
			     "{\"name\":\"age\",\"type\":\"integer\",\"min\":0,\"max\":150},"
			     "{\"name\":\"email\",\"type\":\"email\",\"required\":true},"
			     "{\"name\":\"id\",\"unique\":true,\"pattern\":\"[0-9]+\"},"
			     "{\"name\":\"when\",\"type\":\"date\"}]}";
	const char *in = "id,email,age,when,extra\n"
			 "1,a@b.co,30,2024-02-29,x\n"
			 "2,,200,2023-02-29,x\n" /* row 3: required, too_large, invalid_date */
			 "1,c@d.co,ab,,x\n"      /* row 4: duplicate, invalid_integer */
			 "x3,e@f.co,1,,x\n";     /* row 5: pattern_mismatch */
	struct proc_ctx *c = run_csv(in, 0, params);
	const struct fake_error *e;

	cr_assert_eq(fake_proc_result_int(c, "rows_valid"), 1);
	cr_assert_eq(fake_proc_result_int(c, "rows_failed"), 3);
	cr_assert_not_null(e = fake_proc_error(c, "required", 3));
	cr_assert_str_eq(e->column, "email");
	cr_assert_not_null(e = fake_proc_error(c, "too_large", 3));
	cr_assert_str_eq(e->column, "age");
	cr_assert_str_eq(e->value, "200");
	cr_assert_not_null(fake_proc_error(c, "invalid_date", 3));
	cr_assert_not_null(e = fake_proc_error(c, "duplicate", 4));
	cr_assert_str_eq(e->column, "id");
	cr_assert_not_null(fake_proc_error(c, "invalid_integer", 4));
	cr_assert_not_null(fake_proc_error(c, "pattern_mismatch", 5));
	cr_assert_eq(fake_proc_result_int(c, "errors"), 6);
	cr_assert_str_eq(output(c), "id,email,age,when,extra\r\n1,a@b.co,30,2024-02-29,x\r\n");
	fake_proc_free(c);
}

Test(csv_validate, a_schema_column_the_header_lacks_is_one_error)
{
	struct proc_ctx *c = run_csv("a,b\n1,2\n", 0,
				     "{\"columns\":[{\"name\":\"a\"},{\"name\":\"zz\","
				     "\"required\":true}]}");
	const struct fake_error *e = fake_proc_error(c, "missing_column", 1);

	cr_assert_not_null(e);
	cr_assert_str_eq(e->column, "zz");
	cr_assert_eq(c->n_errors, 1);
	cr_assert_eq(fake_proc_result_int(c, "rows_valid"), 1);
	fake_proc_free(c);
}

Test(csv_validate, without_a_header_columns_are_positions)
{
	struct proc_ctx *c = run_csv("1,x\nq,y\n", 0,
				     "{\"header\":false,\"columns\":[{\"name\":\"n\","
				     "\"type\":\"integer\"},{\"name\":\"s\"}]}");
	const struct fake_error *e = fake_proc_error(c, "invalid_integer", 2);

	cr_assert_not_null(e);
	cr_assert_str_eq(e->column, "n");
	cr_assert_eq(fake_proc_result_int(c, "rows_processed"), 2);
	cr_assert_eq(fake_proc_result_int(c, "has_header"), 0);
	cr_assert_str_eq(output(c), "1,x\r\n");
	fake_proc_free(c);
}

Test(csv_validate, without_a_header_a_field_is_named_by_its_position)
{
	struct proc_ctx *c = run_csv("a,b\n\xC3,b\n", 0, "{\"header\":false}");
	const struct fake_error *e = fake_proc_error(c, "invalid_utf8", 2);

	cr_assert_not_null(e);
	cr_assert_str_eq(e->column, "1");
	fake_proc_free(c);
}

Test(csv_validate, stored_errors_stop_at_max_errors_and_the_rest_are_counted)
{
	struct proc_ctx *c = run_csv("a,b\n1\n2\n3\n4\n5\n", 0, "{\"max_errors\":2}");

	cr_assert_eq(c->n_errors, 2);
	cr_assert_eq(fake_proc_result_int(c, "errors"), 5);
	cr_assert_eq(fake_proc_result_int(c, "errors_reported"), 2);
	cr_assert_eq(fake_proc_result_int(c, "rows_failed"), 5);
	fake_proc_free(c);
}

Test(csv_validate, output_false_writes_nothing)
{
	struct proc_ctx *c = run_csv("a\n1\n", 0, "{\"output\":false}");

	cr_assert_null(c->output_name);
	cr_assert_null(fake_proc_result_str(c, "output"));
	fake_proc_free(c);
}

Test(csv_validate, an_empty_file_is_zero_rows_with_an_empty_output)
{
	struct proc_ctx *c = run_csv("", 0, NULL);

	cr_assert_null(c->fail_code);
	cr_assert_eq(fake_proc_result_int(c, "rows_processed"), 0);
	cr_assert_eq(fake_proc_result_int(c, "columns"), 0);
	cr_assert_eq(c->outputs_ended, 1);
	fake_proc_free(c);
}

Test(csv_validate, utf16_is_refused_whole)
{
	struct proc_ctx *c = run_csv("\xFF\xFE"
				     "a\0,\0b\0",
				     0, NULL);

	cr_assert_str_eq(c->fail_code, "unsupported");
	cr_assert(strstr(c->fail_message, "UTF-16"));
	fake_proc_free(c);
}

Test(csv_validate, columns_that_do_not_compile_fail_the_job)
{
	struct proc_ctx *c =
		run_csv("a\n", 0, "{\"columns\":[{\"name\":\"a\",\"pattern\":\"(\"}]}");

	cr_assert_str_eq(c->fail_code, "invalid_params");
	cr_assert(strstr(c->fail_message, "pattern"), "%s", c->fail_message);
	fake_proc_free(c);
}

Test(csv_validate, params_of_the_wrong_shape_do_not_crash)
{
	const char *params[] = { "[]", "{\"header\":\"yes\",\"max_errors\":\"x\",\"columns\":5}",
				 "{\"delimiter\":\"ab\",\"max_row_bytes\":-1}", "42" };
	size_t i;

	for (i = 0; i < 4; i++) {
		struct proc_ctx *c = run_csv("a,b\n1,2\n", 0, params[i]);

		cr_assert_null(c->fail_code, "%s", params[i]);
		cr_assert_eq(fake_proc_result_int(c, "rows_valid"), 1, "%s", params[i]);
		fake_proc_free(c);
	}
}

Test(csv_validate, a_broken_input_is_an_error_not_a_result)
{
	struct proc_ctx *c = fake_proc_new("a\n1\n2\n", 6, 2, NULL);

	c->fail_reads_at = 4;
	cr_assert_eq(proc_csv_validate.run(c), RAP_EIO);
	cr_assert_null(c->result);
	fake_proc_free(c);
}

Test(csv_validate, one_endless_quoted_field_is_one_bounded_error)
{
	size_t n = 8 * 1024 * 1024;
	char *in = malloc(n + 1);
	struct proc_ctx *c;
	const struct fake_error *e;

	memset(in, 'q', n);
	in[0] = '"';
	in[n] = '\0';
	c = run_csv(in, 1 << 16, "{\"max_row_bytes\":4096}");
	cr_assert_not_null(e = fake_proc_error(c, "row_too_long", 1));
	cr_assert_leq(strlen(e->value), 200);
	cr_assert_eq(c->n_errors, 1);
	cr_assert_eq(fake_proc_result_int(c, "rows_valid"), 0);
	fake_proc_free(c);
	free(in);
}

Test(csv_validate, unique_over_many_rows_and_its_limit_in_the_result)
{
	size_t rows = 50000, i;
	char *in = malloc(rows * 12 + 16), *p = in;
	struct proc_ctx *c;
	struct json_object *v;

	p += sprintf(p, "id\n");
	for (i = 0; i < rows; i++)
		p += sprintf(p, "%zu\n", i % 40000);
	c = run_csv(in, 4096, "{\"columns\":[{\"name\":\"id\",\"unique\":true}]}");
	cr_assert_eq(fake_proc_result_int(c, "rows_failed"), 10000);
	cr_assert_not_null(fake_proc_error(c, "duplicate", 40002));
	cr_assert_not(json_object_object_get_ex(c->result, "unique_incomplete", &v));
	fake_proc_free(c);
	c = run_csv(in, 4096,
		    "{\"max_unique_values\":100,\"columns\":[{\"name\":\"id\",\"unique\":true}]}");
	cr_assert(json_object_object_get_ex(c->result, "unique_incomplete", &v));
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(v, 0)), "id");
	cr_assert_eq(fake_proc_result_int(c, "unique_limit"), 100);
	fake_proc_free(c);
	free(in);
}

Test(csv_validate, progress_within_a_chunk_counts_the_bytes_parsed_not_read)
{
	/* 1,000 rows of 6 bytes read in one go: the report after row 256 says
	 * how far the parser is, not that the whole file was read. */
	size_t rows = 1000, i, len = strlen("v\n");
	char *input = malloc(len + rows * 6 + 1);
	struct proc_ctx *c;
	long long k;
	bool seen = false;
	int result;

	strcpy(input, "v\n");
	for (i = 0; i < rows; i++)
		strcpy(input + len + i * 6, "aaaaa\n");
	c = fake_proc_run(&proc_csv_validate, input, strlen(input), 0, NULL, &result);
	cr_assert_eq(result, RAP_OK);
	for (k = 0; k < c->progress_calls && k < 16; k++)
		if (c->progress_rows[k] == 256) {
			cr_assert_eq(c->progress_bytes[k], (long long)(len + 256 * 6));
			seen = true;
		}
	cr_assert(seen, "no progress report at row 256");
	fake_proc_free(c);
	free(input);
}
