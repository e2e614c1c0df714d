/* Tests of xlsx.validate (services/worker/processors/xlsx.c, xlsx_book.c)
 * on workbooks that libxlsxwriter writes at test time, and on hostile
 * ones made from them with libzip (tests/fixtures/xlsx/): a zip bomb,
 * billion laughs, a million empty columns, a truncated zip. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_proc.h"
#include "xlsx_fixtures.h"
#include "validate.h"
#include "xlsx_book.h"
#include "rap/err.h"

#define MAIN_NS RAP_FX_MAIN_NS

static void tmp_path(char path[64])
{
	int fd;

	snprintf(path, 64, "/tmp/rap-xlsx-XXXXXX.xlsx");
	fd = mkstemps(path, 5);
	cr_assert_geq(fd, 0);
	close(fd);
}

/* Runs xlsx.validate over the file at path, then removes it. */
static struct proc_ctx *run_file(const char *path, const char *params)
{
	struct proc_ctx *c = fake_proc_new(NULL, 0, 0, params);

	c->input_fd = open(path, O_RDONLY);
	cr_assert_geq(c->input_fd, 0);
	cr_assert_eq(proc_xlsx_validate.run(c), RAP_OK);
	cr_assert(c->result || c->fail_code, "one outcome");
	close(c->input_fd);
	unlink(path);
	return c;
}

static void write_people(const char *path, bool constant_memory)
{
	cr_assert_eq(rap_fx_people(path, constant_memory), 0);
}

static const char *people_params = "{\"sheet\":\"People\",\"columns\":["
				   "{\"name\":\"id\",\"type\":\"integer\",\"unique\":true},"
				   "{\"name\":\"name\",\"required\":true},"
				   "{\"name\":\"born\",\"type\":\"date\"},"
				   "{\"name\":\"active\",\"type\":\"boolean\"},"
				   "{\"name\":\"seen\",\"type\":\"datetime\"}]}";

static void check_people(struct proc_ctx *c)
{
	const struct fake_error *e;

	cr_assert_null(c->fail_code, "%s", c->fail_message ? c->fail_message : "");
	cr_assert_str_eq(fake_proc_result_str(c, "sheet"), "People");
	cr_assert_eq(fake_proc_result_int(c, "sheet_index"), 2);
	cr_assert_eq(fake_proc_result_int(c, "rows_processed"), 4);
	cr_assert_eq(fake_proc_result_int(c, "rows_valid"), 1);
	cr_assert_eq(fake_proc_result_int(c, "rows_blank"), 0, "absent rows are not elements");
	cr_assert_eq(fake_proc_result_int(c, "columns"), 5);
	cr_assert_not_null(e = fake_proc_error(c, "invalid_integer", 3));
	cr_assert_str_eq(e->value, "2.5");
	cr_assert_not_null(e = fake_proc_error(c, "required", 5));
	cr_assert_str_eq(e->column, "name");
	cr_assert_not_null(fake_proc_error(c, "duplicate", 6));
	cr_assert_null(fake_proc_error(c, "ragged_row", 0), "short rows are padded");
	cr_assert_eq(c->n_errors, 3);
	cr_assert_str_eq(
		c->output.data,
		"id,name,born,active,seen\r\n"
		"1,\"Ada, \"\"the first\"\"\",2024-02-29,true,2024-05-01T13:45:30.500\r\n");
}

Test(xlsx_validate, a_sheet_by_name_with_shared_strings_dates_and_row_errors)
{
	char path[64];

	tmp_path(path);
	write_people(path, false);
	struct proc_ctx *c = run_file(path, people_params);

	check_people(c);
	cr_assert_gt(fake_proc_result_int(c, "shared_strings"), 0);
	fake_proc_free(c);
}

Test(xlsx_validate, inline_strings_read_alike)
{
	char path[64];

	tmp_path(path);
	write_people(path, true);
	struct proc_ctx *c = run_file(path, people_params);

	check_people(c);
	cr_assert_eq(fake_proc_result_int(c, "shared_strings"), 0);
	fake_proc_free(c);
}

Test(xlsx_validate, a_sheet_by_position_and_a_missing_sheet)
{
	char path[64];
	struct proc_ctx *c;

	tmp_path(path);
	write_people(path, false);
	c = run_file(path, "{\"sheet\":1,\"header\":false}");
	cr_assert_str_eq(fake_proc_result_str(c, "sheet"), "Notes");
	cr_assert_str_eq(c->output.data, "nothing here\r\n");
	fake_proc_free(c);

	tmp_path(path);
	write_people(path, false);
	c = run_file(path, "{\"sheet\":\"Nope\"}");
	cr_assert_str_eq(c->fail_code, "invalid_input");
	cr_assert(strstr(c->fail_message, "'Notes', 'People'"), "%s", c->fail_message);
	fake_proc_free(c);

	tmp_path(path);
	write_people(path, false);
	c = run_file(path, "{\"sheet\":3}");
	cr_assert_str_eq(c->fail_code, "invalid_input");
	fake_proc_free(c);
}

static void write_with_sheet(const char *path, const char *sheet_xml, size_t len)
{
	cr_assert_eq(rap_fx_with_sheet(path, sheet_xml, len), 0);
}

Test(xlsx_validate, a_zip_bomb_is_refused_before_it_inflates)
{
	char path[64];
	struct proc_ctx *c;

	tmp_path(path);
	cr_assert_eq(rap_fx_zip_bomb(path), 0);
	c = run_file(path, NULL);
	cr_assert_str_eq(c->fail_code, "too_large");
	cr_assert(strstr(c->fail_message, "zip bomb"), "%s", c->fail_message);
	cr_assert_eq(c->n_errors, 0);
	fake_proc_free(c);
}

Test(xlsx_validate, billion_laughs_in_the_shared_strings_is_refused)
{
	char path[64];
	struct proc_ctx *c;

	tmp_path(path);
	cr_assert_eq(rap_fx_laughs(path), 0);
	c = run_file(path, NULL);
	cr_assert_str_eq(c->fail_code, "invalid_input");
	cr_assert(strstr(c->fail_message, "DOCTYPE"), "%s", c->fail_message);
	fake_proc_free(c);
}

static void expect_columns_refused(const char *cells)
{
	char *xml = NULL, path[64];
	struct proc_ctx *c;
	size_t len;

	len = (size_t)asprintf(&xml,
			       "<worksheet xmlns=\"" MAIN_NS "\"><sheetData><row r=\"1\">"
			       "<c t=\"inlineStr\"><is><t>a</t></is></c>%s</row></sheetData>"
			       "</worksheet>",
			       cells);
	tmp_path(path);
	write_with_sheet(path, xml, len);
	free(xml);
	c = run_file(path, NULL);
	cr_assert_str_eq(c->fail_code, "invalid_input");
	cr_assert(strstr(c->fail_message, "past column XFD"), "%s", c->fail_message);
	fake_proc_free(c);
}

Test(xlsx_validate, a_million_empty_columns_are_refused_within_the_limits)
{
	char path[64];
	struct proc_ctx *c;

	tmp_path(path);
	cr_assert_eq(rap_fx_wide(path), 0);
	c = run_file(path, NULL);
	cr_assert_str_eq(c->fail_code, "invalid_input");
	cr_assert(strstr(c->fail_message, "past column XFD"), "%s", c->fail_message);
	fake_proc_free(c);
	/* One reference past the last column. */
	expect_columns_refused("<c r=\"XFE1\"/>");
	expect_columns_refused("<c r=\"AAAAA1\"/>");
}

Test(xlsx_validate, a_truncated_zip_is_not_an_xlsx)
{
	char path[64];
	struct proc_ctx *c;
	FILE *f;
	long size;

	tmp_path(path);
	write_people(path, false);
	f = fopen(path, "r+");
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	cr_assert_eq(ftruncate(fileno(f), size / 2), 0);
	fclose(f);
	c = run_file(path, NULL);
	cr_assert_str_eq(c->fail_code, "invalid_input");
	cr_assert(strstr(c->fail_message, "not an xlsx"), "%s", c->fail_message);
	fake_proc_free(c);
}

Test(xlsx_validate, a_csv_is_not_an_xlsx)
{
	char path[64];
	struct proc_ctx *c;
	FILE *f;

	tmp_path(path);
	f = fopen(path, "w");
	fputs("a,b\n1,2\n", f);
	fclose(f);
	c = run_file(path, NULL);
	cr_assert_str_eq(c->fail_code, "invalid_input");
	fake_proc_free(c);
}

Test(xlsx_validate, rows_and_cells_out_of_order_are_malformed)
{
	const char *rows = "<worksheet xmlns=\"" MAIN_NS
			   "\"><sheetData><row r=\"2\"/><row r=\"1\"/>"
			   "</sheetData></worksheet>";
	const char *cells = "<worksheet xmlns=\"" MAIN_NS "\"><sheetData><row r=\"1\">"
			    "<c r=\"B1\"><v>1</v></c><c r=\"A1\"><v>2</v></c></row></sheetData>"
			    "</worksheet>";
	char path[64];
	struct proc_ctx *c;

	tmp_path(path);
	write_with_sheet(path, rows, strlen(rows));
	c = run_file(path, NULL);
	cr_assert_str_eq(c->fail_code, "invalid_input");
	fake_proc_free(c);
	tmp_path(path);
	write_with_sheet(path, cells, strlen(cells));
	c = run_file(path, NULL);
	cr_assert_str_eq(c->fail_code, "invalid_input");
	fake_proc_free(c);
}

Test(xlsx_validate, gaps_errors_booleans_and_rich_text)
{
	const char *xml =
		"<worksheet xmlns=\"" MAIN_NS "\"><dimension ref=\"A1:D3\"/><sheetData>"
		"<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><r><t>ri</t></r><r><t>ch</t></r>"
		"<rPh><t>skip</t></rPh></is></c><c r=\"C1\" t=\"b\"><v>0</v></c></row>"
		"<row r=\"3\"><c r=\"B3\" t=\"e\"><v>#N/A</v></c><c r=\"D3\" t=\"str\">"
		"<f>A1</f><v>x</v></c></row>"
		"<row r=\"4\"><c r=\"A4\"/></row>"
		"</sheetData></worksheet>";
	char path[64];
	struct proc_ctx *c;

	tmp_path(path);
	write_with_sheet(path, xml, strlen(xml));
	c = run_file(path, "{\"header\":false}");
	cr_assert_null(c->fail_code, "%s", c->fail_message);
	cr_assert_str_eq(c->output.data, "rich,,false,\r\n,#N/A,,x\r\n");
	cr_assert_eq(fake_proc_result_int(c, "rows_blank"), 1);
	cr_assert_eq(fake_proc_result_int(c, "columns"), 4);
	fake_proc_free(c);
}

Test(xlsx_validate, number_formats_that_show_dates)
{
	cr_assert_eq(xlsx_book_format_kind("yyyy-mm-dd"), XLSX_DATE);
	cr_assert_eq(xlsx_book_format_kind("d/m/yy"), XLSX_DATE);
	cr_assert_eq(xlsx_book_format_kind("mmm yyyy"), XLSX_DATE);
	cr_assert_eq(xlsx_book_format_kind("h:mm AM/PM"), XLSX_TIME);
	cr_assert_eq(xlsx_book_format_kind("[h]:mm:ss"), XLSX_TIME);
	cr_assert_eq(xlsx_book_format_kind("yyyy-mm-dd hh:mm"), XLSX_DATETIME);
	cr_assert_eq(xlsx_book_format_kind("0.00"), XLSX_NUMBER);
	cr_assert_eq(xlsx_book_format_kind("#,##0.00 \"days\""), XLSX_NUMBER);
	cr_assert_eq(xlsx_book_format_kind("[Red]0.00;[Blue]-0.00"), XLSX_NUMBER);
	cr_assert_eq(xlsx_book_format_kind("0.00E+00"), XLSX_NUMBER);
	cr_assert_eq(xlsx_book_format_kind("General"), XLSX_NUMBER);
}

Test(xlsx_validate, serial_numbers_to_iso_dates)
{
	struct xlsx_book b = { 0 };
	char out[32];

	xlsx_book_date(&b, "1", XLSX_DATE, out);
	cr_assert_str_eq(out, "1900-01-01");
	xlsx_book_date(&b, "59", XLSX_DATE, out);
	cr_assert_str_eq(out, "1900-02-28");
	xlsx_book_date(&b, "61", XLSX_DATE, out);
	cr_assert_str_eq(out, "1900-03-01");
	xlsx_book_date(&b, "45351", XLSX_DATE, out);
	cr_assert_str_eq(out, "2024-02-29");
	xlsx_book_date(&b, "45351.75", XLSX_DATETIME, out);
	cr_assert_str_eq(out, "2024-02-29T18:00:00");
	xlsx_book_date(&b, "0.5", XLSX_TIME, out);
	cr_assert_str_eq(out, "12:00:00");
	xlsx_book_date(&b, "-1", XLSX_DATE, out);
	cr_assert_str_eq(out, "-1");
	b.date1904 = true;
	xlsx_book_date(&b, "0", XLSX_DATE, out);
	cr_assert_str_eq(out, "1904-01-01");
}

Test(xlsx_validate, a_workbook_of_another_writer_without_styles_or_shared_strings)
{
	char path[64], cmd[512];
	struct proc_ctx *c;

	tmp_path(path);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s/tests/unit/processors/make_xlsx.py %s",
		 RAP_SOURCE_DIR, path);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	c = run_file(path, "{\"sheet\":\"People\",\"columns\":[{\"name\":\"id\","
			   "\"type\":\"integer\",\"unique\":true},{\"name\":\"name\","
			   "\"required\":true}]}");
	cr_assert_null(c->fail_code, "%s", c->fail_message);
	cr_assert_not_null(fake_proc_error(c, "invalid_integer", 3));
	cr_assert_not_null(fake_proc_error(c, "required", 5));
	cr_assert_not_null(fake_proc_error(c, "duplicate", 6));
	cr_assert_eq(c->n_errors, 3);
	cr_assert_str_eq(c->output.data, "id,name\r\n1,Ada\r\n");
	fake_proc_free(c);
}
