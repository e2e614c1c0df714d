/* Tests of lib/domain/jobtype.c: the registry of job types, its params
 * schemas, its content allow-lists against what libmagic detects, and the
 * settings that refine it. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rap/err.h"
#include "rap/jobtype.h"
#include "rap/jsonschema.h"
#include "rap/list.h"
#include "rap/settings.h"

#define FIXTURES RAP_SOURCE_DIR "/tests/fixtures/magic/"
#define DETECT_BYTES (64 * 1024) /* what upload-api hands libmagic */

static bool valid_name(const char *s, const char *extra)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || strchr(extra, *s)))
			return false;
	return true;
}

Test(jobtype, every_type_is_declared_whole)
{
	for (size_t i = 0; i < rap_jobtypes_count; i++) {
		const struct rap_jobtype *t = &rap_jobtypes[i];
		const struct rap_jobtype_limits *l = &t->limits;

		cr_assert(valid_name(t->name, "._-") && strlen(t->name) <= 64, "%s", t->name);
		cr_assert_eq(rap_jobtype_find(t->name), t, "%s is declared twice", t->name);
		cr_assert(t->summary && strlen(t->summary) > 10 && strlen(t->summary) < 240,
			  "%s: a one-line summary", t->name);
		cr_assert(valid_name(t->pool, "-") && strlen(t->pool) <= 32, "%s: pool", t->name);
		cr_assert(l->wall_s > 0 && l->cpu_s > 0 && l->memory_mb >= 16 && l->output_mb > 0,
			  "%s: limits", t->name);
		cr_assert_eq(l->input_mb == 0, t->input == RAP_INPUT_NONE,
			     "%s: an input limit exactly when it reads input", t->name);
		cr_assert(t->max_attempts >= 1 && t->max_attempts <= 100, "%s", t->name);
		cr_assert(!t->quick || t->runner == RAP_RUN_IN_WORKER,
			  "%s: quick types are claimed in batches by the worker itself", t->name);
		cr_assert(t->input == RAP_INPUT_NONE || t->runner == RAP_RUN_SANDBOX,
			  "%s: a type that reads input runs in the sandbox", t->name);
		cr_assert_eq(t->test_only, strncmp(t->name, "test.", 5) == 0, "%s", t->name);
		cr_assert(t->content, "%s: \"\" for any content, never NULL", t->name);
	}
	cr_assert_null(rap_jobtype_find("no.such"));
	cr_assert_null(rap_jobtype_find(""));
}

Test(jobtype, content_lists_pass_the_settings_check)
{
	for (size_t i = 0; i < rap_jobtypes_count; i++) {
		const struct rap_jobtype *t = &rap_jobtypes[i];
		char entry[1200], err[RAP_ERRLEN];
		struct rap_jobtype_settings s = { .content = entry };

		if (!t->content[0])
			continue;
		snprintf(entry, sizeof(entry), "%s=%s", t->name, t->content);
		cr_assert_eq(rap_jobtype_settings_check(&s, err), RAP_OK, "%s", err);
	}
}

Test(jobtype, the_default_types_are_every_type_but_the_test_and_opt_in_ones)
{
	struct rap_settings s;
	struct rap_cfg_table t[RAP_SETTINGS_GROUPS];
	struct rap_jobtype_settings js = { 0 };
	char err[RAP_ERRLEN];
	const char *def;

	cr_assert_eq(rap_settings_tables(RAP_SETTINGS_JOB_TYPES, &s, t), 1);
	def = t[0].opts[0].def;
	cr_assert_str_eq(t[0].opts[0].env, "RAP_JOB_TYPES");
	js.types = def;
	cr_assert_eq(rap_jobtype_settings_check(&js, err), RAP_OK, "%s", err);
	for (size_t i = 0; i < rap_jobtypes_count; i++)
		cr_assert_eq(rap_list_contains(def, rap_jobtypes[i].name),
			     !rap_jobtypes[i].test_only && !rap_jobtypes[i].opt_in, "%s",
			     rap_jobtypes[i].name);
}

Test(jobtype, a_pool_is_a_queue_of_its_own)
{
	const char *pools[RAP_JOBTYPE_POOLS_MAX];
	char q[RAP_JOBTYPE_QUEUE_LEN];
	size_t n = rap_jobtype_pools(pools, RAP_JOBTYPE_POOLS_MAX);

	cr_assert_eq(n, 7);
	cr_assert_str_eq(pools[0], "quick");
	cr_assert_str_eq(pools[1], "light");
	cr_assert_str_eq(pools[2], "data");
	cr_assert_str_eq(pools[3], "image");
	cr_assert_str_eq(pools[4], "pdf");
	cr_assert_str_eq(pools[5], "video");
	cr_assert_str_eq(pools[6], "virus");
	cr_assert_eq(rap_jobtype_pools(pools, 1), 1);
	rap_jobtype_queue("data", q, sizeof(q));
	cr_assert_str_eq(q, "jobs.work.data");
	cr_assert(rap_jobtype_pool_exists("light"));
	cr_assert_not(rap_jobtype_pool_exists("heavy"));
	cr_assert_str_eq(rap_jobtype_find("noop")->pool, "quick");
	cr_assert_str_eq(rap_jobtype_find("csv.validate")->pool, "data");
	cr_assert_str_eq(rap_jobtype_input_name(RAP_INPUT_FILE), "file");
	cr_assert_str_eq(rap_jobtype_input_name(rap_jobtype_find("csv.validate")->input), "stream");
}

/* The quick pool's window of 64 is safe only because its jobs end in
 * milliseconds: in-worker, batched, reading nothing.  A type that is not
 * must not land there. */
Test(jobtype, the_quick_pool_holds_only_quick_in_worker_types)
{
	size_t i, quick = 0;

	cr_assert_eq(rap_jobtype_pool_prefetch("quick"), 64);
	cr_assert_eq(rap_jobtype_pool_prefetch("light"), 8);
	cr_assert_eq(rap_jobtype_pool_prefetch("data"), 1);
	cr_assert_eq(rap_jobtype_pool_prefetch("image"), 4);
	cr_assert_eq(rap_jobtype_pool_prefetch("pdf"), 2);
	cr_assert_eq(rap_jobtype_pool_prefetch("video"), 1);
	cr_assert_eq(rap_jobtype_pool_prefetch("virus"), 2);
	for (i = 0; i < rap_jobtypes_count; i++) {
		const struct rap_jobtype *t = &rap_jobtypes[i];

		if (strcmp(t->pool, "quick") != 0) {
			cr_assert_not(t->quick, "%s is quick but not in the quick pool", t->name);
			continue;
		}
		quick++;
		cr_assert(t->quick, "%s", t->name);
		cr_assert_eq(t->runner, RAP_RUN_IN_WORKER, "%s", t->name);
		cr_assert_eq(t->input, RAP_INPUT_NONE, "%s", t->name);
	}
	cr_assert_gt(quick, 0);
}

/* ---- params schemas ---- */

static struct rap_jsonschema *compile(const struct rap_params_schema *ps)
{
	struct rap_jsonschema *s;
	char err[RAP_ERRLEN];

	cr_assert_eq(rap_jsonschema_new(ps->text, ps->len, &s, err), RAP_OK, "%s: %s", ps->name,
		     err);
	return s;
}

Test(jobtype, every_params_schema_in_proto_is_compiled_in_and_loads)
{
	DIR *d = opendir(RAP_SOURCE_DIR "/proto/schemas/params");
	struct dirent *e;
	size_t files = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);

		if (n < 5 || strcmp(e->d_name + n - 5, ".json") != 0)
			continue;
		cr_assert_not_null(rap_params_schema_find(e->d_name), "%s is not compiled in",
				   e->d_name);
		files++;
	}
	closedir(d);
	cr_assert_eq(files, rap_params_schemas_count);
	for (size_t i = 0; i < rap_params_schemas_count; i++) {
		bool used = false;

		rap_jsonschema_free(compile(&rap_params_schemas[i]));
		for (size_t k = 0; k < rap_jobtypes_count; k++)
			used |= rap_jobtypes[k].params_schema &&
				strcmp(rap_jobtypes[k].params_schema, rap_params_schemas[i].name) ==
					0;
		cr_assert(used, "no job type uses %s", rap_params_schemas[i].name);
	}
	for (size_t k = 0; k < rap_jobtypes_count; k++)
		cr_assert(!rap_jobtypes[k].params_schema ||
				  rap_params_schema_find(rap_jobtypes[k].params_schema),
			  "%s names a schema that is not there", rap_jobtypes[k].name);
}

/* Validates params against the schema of a type: RAP_OK or err. */
static int params(const char *type, const char *json, char *err)
{
	const struct rap_jobtype *t = rap_jobtype_find(type);
	struct rap_jsonschema *s = compile(rap_params_schema_find(t->params_schema));
	int result = rap_jsonschema_check(s, json, strlen(json), "params", err);

	rap_jsonschema_free(s);
	return result;
}

/* Issue 14: images run in a pool of their own, so that no data or other
 * heavy job ever delays a thumbnail; only image types run there. */
Test(jobtype, images_run_in_a_pool_of_their_own)
{
	const struct rap_jobtype *t = rap_jobtype_find("image.thumbnail");

	cr_assert_not_null(t);
	cr_assert_str_eq(t->pool, "image");
	cr_assert_eq(t->runner, RAP_RUN_SANDBOX);
	cr_assert_eq(t->input, RAP_INPUT_FILE);
	cr_assert_str_eq(t->content, "image/jpeg|image/png|image/webp");
	for (size_t i = 0; i < rap_jobtypes_count; i++)
		if (strcmp(rap_jobtypes[i].pool, "image") == 0)
			cr_assert_eq(strncmp(rap_jobtypes[i].name, "image.", 6), 0, "%s",
				     rap_jobtypes[i].name);
}

Test(jobtype, the_thumbnail_schema_bounds_sizes_format_and_quality)
{
	char err[RAP_ERRLEN];

	cr_assert_eq(params("image.thumbnail", "{}", err), RAP_OK, "%s", err);
	cr_assert_eq(params("image.thumbnail",
			    "{\"sizes\":[{\"width\":64,\"height\":64},{\"width\":4096,"
			    "\"height\":1}],\"format\":\"webp\",\"quality\":100,\"strip\":false}",
			    err),
		     RAP_OK, "%s", err);
	cr_assert_eq(params("image.thumbnail", "{\"sizes\":[{\"width\":0,\"height\":10}]}", err),
		     RAP_EINVAL);
	cr_assert(strstr(err, "params.sizes[0].width"), "%s", err);
	cr_assert_eq(params("image.thumbnail", "{\"sizes\":[{\"width\":4097,\"height\":10}]}", err),
		     RAP_EINVAL);
	cr_assert_eq(params("image.thumbnail", "{\"sizes\":[{\"width\":10}]}", err), RAP_EINVAL);
	cr_assert_eq(params("image.thumbnail", "{\"sizes\":[]}", err), RAP_EINVAL);
	cr_assert_eq(params("image.thumbnail", "{\"format\":\"gif\"}", err), RAP_EINVAL);
	cr_assert(strstr(err, "params.format"), "%s", err);
	cr_assert_eq(params("image.thumbnail", "{\"quality\":0}", err), RAP_EINVAL);
	cr_assert_eq(params("image.thumbnail", "{\"quality\":101}", err), RAP_EINVAL);
	cr_assert_eq(params("image.thumbnail", "{\"resize\":true}", err), RAP_EINVAL);
	cr_assert_eq(params("image.thumbnail",
			    "{\"sizes\":[{\"width\":1,\"height\":1},{\"width\":2,\"height\":2},"
			    "{\"width\":3,\"height\":3},{\"width\":4,\"height\":4},{\"width\":5,"
			    "\"height\":5},{\"width\":6,\"height\":6},{\"width\":7,\"height\":7},"
			    "{\"width\":8,\"height\":8},{\"width\":9,\"height\":9}]}",
			    err),
		     RAP_EINVAL, "at most 8 sizes");
}

Test(jobtype, the_csv_schema_checks_what_the_csv_processor_reads)
{
	char err[RAP_ERRLEN];

	cr_assert_eq(
		params("csv.validate",
		       "{\"delimiter\":\";\",\"header\":false,\"columns\":[{\"name\":\"id\","
		       "\"type\":\"integer\",\"required\":true,\"unique\":true},{\"name\":\"s\","
		       "\"type\":\"enum\",\"values\":[\"a\",\"b\"]}],\"max_row_bytes\":4096}",
		       err),
		RAP_OK, "%s", err);
	cr_assert_eq(params("csv.validate",
			    "{\"columns\":[{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":\"c\","
			    "\"type\":\"float\"}]}",
			    err),
		     RAP_EINVAL);
	cr_assert_str_eq(err, "params.columns[2].type: must be one of string, integer, decimal, "
			      "boolean, date, datetime, email, enum");
	cr_assert_eq(params("csv.validate", "{\"columns\":[{\"type\":\"date\"}]}", err),
		     RAP_EINVAL);
	cr_assert_str_eq(err, "params.columns[0].name: is required");
	cr_assert_eq(params("csv.validate", "{\"max_row_bytes\":10}", err), RAP_EINVAL);
	cr_assert_str_eq(err, "params.max_row_bytes: must be at least 64");
	cr_assert_eq(params("xls.validate", "{\"sheet\":\"Data\"}", err), RAP_OK, "%s", err);
	cr_assert_eq(params("xlsx.validate", "{\"sheet\":0}", err), RAP_EINVAL);
	cr_assert_str_eq(err, "params.sheet: must be at least 1");
}

Test(jobtype, the_test_schemas_take_the_modes_of_their_processors)
{
	static const char *const fault[] = { "succeed", "transient", "permanent",     "crash",
					     "hang",    "sleep",     "until_replayed" };
	char json[128], err[RAP_ERRLEN];

	for (size_t i = 0; i < sizeof(fault) / sizeof(fault[0]); i++) {
		snprintf(json, sizeof(json), "{\"mode\":\"%s\",\"failures\":2,\"seconds\":5}",
			 fault[i]);
		cr_assert_eq(params("test.fault", json, err), RAP_OK, "%s", err);
	}
	cr_assert_eq(params("test.fault", "{}", err), RAP_OK, "%s", err);
	cr_assert_eq(params("test.fault", "{\"mode\":\"explode\"}", err), RAP_EINVAL);
	cr_assert_eq(params("test.fault", "{\"mode\":\"crash\",\"times\":1}", err), RAP_EINVAL);
	cr_assert_str_eq(err,
			 "params.times: is not a known field (known: mode, failures, seconds)");
	cr_assert_eq(params("test.sandbox", "{\"mode\":\"alloc\",\"mb\":512}", err), RAP_OK, "%s",
		     err);
	cr_assert_eq(params("test.sandbox", "{\"mode\":\"output\",\"count\":-1}", err), RAP_EINVAL);
	cr_assert_str_eq(err, "params.count: must be at least 0");
}

/* ---- content: what libmagic detects in real files ---- */

/* The type libmagic detects in the first 64 KiB of a fixture, as
 * upload-api does (MAGIC_MIME_TYPE). */
static void detect(magic_t m, const char *file, char *out, size_t len)
{
	char path[512], *buf = malloc(DETECT_BYTES);
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), FIXTURES "%s", file);
	f = fopen(path, "rb");
	cr_assert_not_null(f, "%s", path);
	n = fread(buf, 1, DETECT_BYTES, f);
	fclose(f);
	snprintf(out, len, "%s", magic_buffer(m, buf, n));
	free(buf);
}

Test(jobtype, each_allow_list_takes_what_libmagic_detects_in_such_files)
{
	static const struct {
		const char *file, *type, *detected;
	} cases[] = {
		{ "comma.csv", "csv.validate", "text/csv" },
		{ "bom.csv", "csv.validate", "text/csv" },
		{ "quoted.csv", "csv.validate", "text/csv" },
		{ "latin1-crlf.csv", "csv.validate", "text/csv" },
		{ "semicolon.csv", "csv.validate", "text/plain" },
		{ "two-lines.csv", "csv.validate", "text/plain" },
		{ "sheet.xlsx", "xlsx.validate",
		  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" },
		{ "docprops-first.xlsx", "xlsx.validate", "application/zip" },
		{ "sheet.xls", "xls.validate", "application/vnd.ms-excel" },
		{ "large-head.xls", "xls.validate", "application/x-ole-storage" },
	};
	magic_t m = magic_open(MAGIC_MIME_TYPE);
	char *list = rap_jobtype_content_list(NULL), got[128];

	cr_assert(m && magic_load(m, NULL) == 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		detect(m, cases[i].file, got, sizeof(got));
		cr_assert_str_eq(got, cases[i].detected, "%s", cases[i].file);
		cr_assert(rap_list_allows(list, cases[i].type, got), "%s refuses %s (%s)",
			  cases[i].type, cases[i].file, got);
		/* And the spreadsheet types refuse what is not theirs. */
		if (strcmp(cases[i].type, "csv.validate") == 0) {
			cr_assert_not(rap_list_allows(list, "xlsx.validate", got));
			cr_assert_not(rap_list_allows(list, "xls.validate", got));
		}
	}
	cr_assert_not(rap_list_allows(list, "csv.validate", "image/png"));
	cr_assert(rap_list_allows(list, "file.inspect", "image/png"), "any content");
	free(list);
	magic_close(m);
}

/* ---- settings ---- */

static void settings_ok(const char *types, const char *content, const char *limits,
			const char *attempts)
{
	struct rap_jobtype_settings s = { types, content, limits, attempts, NULL };
	char err[RAP_ERRLEN];

	cr_assert_eq(rap_jobtype_settings_check(&s, err), RAP_OK, "%s", err);
}

static void settings_bad(const char *types, const char *content, const char *limits,
			 const char *attempts, const char *message)
{
	struct rap_jobtype_settings s = { types, content, limits, attempts, NULL };
	char err[RAP_ERRLEN];

	cr_assert_eq(rap_jobtype_settings_check(&s, err), RAP_EINVAL, "should fail: %s", message);
	cr_assert_str_eq(err, message);
}

Test(jobtype, unset_settings_pass)
{
	settings_ok(NULL, NULL, NULL, NULL);
	settings_ok("", "", "", "");
}

Test(jobtype, job_types_must_be_types_of_the_registry)
{
	settings_ok("file.inspect,noop,test.fault", NULL, NULL, NULL);
	settings_bad(
		"file.inspect,image.resize", NULL, NULL, NULL,
		"RAP_JOB_TYPES: \"image.resize\": not a job type (known: noop, file.inspect, "
		"csv.validate, xlsx.validate, xls.validate, image.thumbnail, pdf.text, video.probe, "
		"virus.scan, test.fault, test.sandbox)");
	settings_bad(
		"noop,,file.inspect", NULL, NULL, NULL,
		"RAP_JOB_TYPES: \"\": not a job type (known: noop, file.inspect, "
		"csv.validate, xlsx.validate, xls.validate, image.thumbnail, pdf.text, video.probe, "
		"virus.scan, test.fault, test.sandbox)");
	settings_bad("noop,noop", NULL, NULL, NULL, "RAP_JOB_TYPES: \"noop\": named twice");
}

Test(jobtype, content_types_are_mime_lists_of_known_types)
{
	settings_ok(NULL, "test.fault=text/plain,csv.validate=text/*|application/csv", NULL, NULL);
	settings_ok(NULL, "xls.validate=*", NULL, NULL);
	settings_bad(
		NULL, "vid.x=video/*", NULL, NULL,
		"RAP_JOB_CONTENT_TYPES: \"vid.x=video/*\": 'vid.x' is not a job type "
		"(known: noop, file.inspect, csv.validate, xlsx.validate, xls.validate, "
		"image.thumbnail, pdf.text, video.probe, virus.scan, test.fault, test.sandbox)");
	settings_bad(NULL, "noop", NULL, NULL,
		     "RAP_JOB_CONTENT_TYPES: \"noop\": expected type=...");
	settings_bad(NULL, "noop=", NULL, NULL,
		     "RAP_JOB_CONTENT_TYPES: \"noop=\": give the detected types it takes, "
		     "a|b|major/*, or * for any");
	for (int i = 0; i < 4; i++) {
		static const char *const bad[] = { "noop=text", "noop=text/plain|*", "noop=*/csv",
						   "noop=text/pl ain" };
		struct rap_jobtype_settings s = { .content = bad[i] };
		char err[RAP_ERRLEN];

		cr_assert_eq(rap_jobtype_settings_check(&s, err), RAP_EINVAL, "%s", bad[i]);
		cr_assert(strstr(err, "each alternative is a MIME type"), "%s", err);
	}
	settings_bad(NULL, "noop=text/plain,noop=*", NULL, NULL,
		     "RAP_JOB_CONTENT_TYPES: \"noop=*\": the type has an entry already");
}

Test(jobtype, limits_name_known_keys_with_units_within_bounds)
{
	settings_ok(NULL, NULL, "csv.validate=wall:3600;memory:256,file.inspect=cpu:60", NULL);
	settings_ok(NULL, NULL, "csv.validate=wall:3h;cpu:90m;output:2G;input:10G", NULL);
	settings_bad(NULL, NULL, "csv.validate=wal:3600", NULL,
		     "RAP_JOB_LIMITS: \"csv.validate=wal:3600\": unknown limit 'wal' (wall, cpu, "
		     "memory, output or input)");
	settings_bad(NULL, NULL, "csv.validate=wall:3600;wall:60", NULL,
		     "RAP_JOB_LIMITS: \"csv.validate=wall:3600;wall:60\": a limit is named twice");
	settings_bad(NULL, NULL, "csv.validate=wall:0", NULL,
		     "RAP_JOB_LIMITS: \"csv.validate=wall:0\": wall must be from 1 to 2592000 "
		     "seconds");
	settings_bad(NULL, NULL, "csv.validate=memory:8", NULL,
		     "RAP_JOB_LIMITS: \"csv.validate=memory:8\": memory must be from 16 to 1048576 "
		     "MiB");
	settings_bad(NULL, NULL, "csv.validate=memory:1h", NULL,
		     "RAP_JOB_LIMITS: \"csv.validate=memory:1h\": memory takes the units M or G "
		     "(MiB, GiB)");
	settings_bad(NULL, NULL, "csv.validate=cpu:1G", NULL,
		     "RAP_JOB_LIMITS: \"csv.validate=cpu:1G\": cpu takes the units s, m or h");
	settings_bad(NULL, NULL, "csv.validate=cpu:", NULL,
		     "RAP_JOB_LIMITS: \"csv.validate=cpu:\": cpu takes a whole number of seconds "
		     "(or with s, m or h)");
	settings_bad(NULL, NULL, "csv.validate=cpu:-5", NULL,
		     "RAP_JOB_LIMITS: \"csv.validate=cpu:-5\": cpu takes a whole number of seconds "
		     "(or with s, m or h)");
	settings_bad(NULL, NULL, "csv.validate=cpu:99999999999999999999999", NULL,
		     "RAP_JOB_LIMITS: \"csv.validate=cpu:99999999999999999999999\": cpu must be "
		     "from 1 to 2592000 seconds");
	settings_bad(NULL, NULL, "csv.validate=wall", NULL,
		     "RAP_JOB_LIMITS: \"csv.validate=wall\": each limit is key:value");
	settings_bad(NULL, NULL, "csv.validate=", NULL,
		     "RAP_JOB_LIMITS: \"csv.validate=\": give key:value[;key:value...]");
	settings_bad(NULL, NULL, "csv.validate=wall:60,csv.validate=cpu:5", NULL,
		     "RAP_JOB_LIMITS: \"csv.validate=cpu:5\": the type has an entry already");
	settings_bad(NULL, NULL, "csv.validate=wall:60,", NULL,
		     "RAP_JOB_LIMITS: \"\": expected type=...");
}

Test(jobtype, max_attempts_are_one_to_a_hundred_per_known_type)
{
	settings_ok(NULL, NULL, NULL, "test.fault=4,csv.validate=1");
	settings_bad(NULL, NULL, NULL, "test.fault=0",
		     "RAP_JOB_MAX_ATTEMPTS: \"test.fault=0\": attempts are a whole number from 1 "
		     "to 100");
	settings_bad(NULL, NULL, NULL, "test.fault=x",
		     "RAP_JOB_MAX_ATTEMPTS: \"test.fault=x\": attempts are a whole number from 1 "
		     "to 100");
	settings_bad(NULL, NULL, NULL, "fault=4",
		     "RAP_JOB_MAX_ATTEMPTS: \"fault=4\": 'fault' is not a job type (known: noop, "
		     "file.inspect, csv.validate, xlsx.validate, xls.validate, image.thumbnail, "
		     "pdf.text, video.probe, virus.scan, test.fault, test.sandbox)");
}

Test(jobtype, effective_limits_replace_only_what_the_setting_names)
{
	const struct rap_jobtype *csv = rap_jobtype_find("csv.validate");
	const struct rap_jobtype *inspect = rap_jobtype_find("file.inspect");
	const char *o = "csv.validate=wall:3h;memory:256,file.inspect=cpu:60";
	struct rap_jobtype_limits l;

	cr_assert_eq(rap_jobtype_effective_limits(csv, o, &l), RAP_OK);
	cr_assert_eq(l.wall_s, 3 * 3600);
	cr_assert_eq(l.memory_mb, 256);
	cr_assert_eq(l.cpu_s, csv->limits.cpu_s);
	cr_assert_eq(l.output_mb, csv->limits.output_mb);
	cr_assert_eq(l.input_mb, csv->limits.input_mb);
	cr_assert_eq(rap_jobtype_effective_limits(inspect, o, &l), RAP_OK);
	cr_assert_eq(l.cpu_s, 60);
	cr_assert_eq(l.wall_s, inspect->limits.wall_s);
	cr_assert_eq(rap_jobtype_effective_limits(inspect, NULL, &l), RAP_OK);
	cr_assert_eq(memcmp(&l, &inspect->limits, sizeof(l)), 0);
	cr_assert_eq(rap_jobtype_effective_limits(csv, "csv.validate=output:1G;input:512", &l),
		     RAP_OK);
	cr_assert_eq(l.output_mb, 1024);
	cr_assert_eq(l.input_mb, 512);
	/* A malformed setting (the start-up check stops that first) changes nothing. */
	cr_assert_eq(rap_jobtype_effective_limits(csv, "csv.validate=wall:5;bogus:1", &l),
		     RAP_EINVAL);
	cr_assert_eq(memcmp(&l, &csv->limits, sizeof(l)), 0);
}

Test(jobtype, effective_content_is_the_setting_else_the_registry)
{
	const struct rap_jobtype *csv = rap_jobtype_find("csv.validate");
	const struct rap_jobtype *fault = rap_jobtype_find("test.fault");
	char out[1024], *list;

	rap_jobtype_effective_content(csv, NULL, out, sizeof(out));
	cr_assert_str_eq(out, "text/csv|text/plain");
	rap_jobtype_effective_content(csv, "test.fault=text/plain", out, sizeof(out));
	cr_assert_str_eq(out, "text/csv|text/plain");
	rap_jobtype_effective_content(fault, "test.fault=text/plain", out, sizeof(out));
	cr_assert_str_eq(out, "text/plain");
	rap_jobtype_effective_content(csv, "csv.validate=*", out, sizeof(out));
	cr_assert_str_eq(out, "");

	list = rap_jobtype_content_list("test.fault=text/plain,csv.validate=*");
	cr_assert(rap_list_allows(list, "test.fault", "text/plain"));
	cr_assert_not(rap_list_allows(list, "test.fault", "image/png"));
	cr_assert(rap_list_allows(list, "csv.validate", "image/png"), "csv.validate=* takes all");
	cr_assert_not(rap_list_allows(list, "xls.validate", "text/plain"));
	cr_assert_not(rap_list_has(list, "noop"));
	free(list);
}

Test(jobtype, effective_attempts_are_the_setting_else_the_registry)
{
	const struct rap_jobtype *fault = rap_jobtype_find("test.fault");
	const struct rap_jobtype *csv = rap_jobtype_find("csv.validate");

	cr_assert_eq(rap_jobtype_effective_attempts(fault, "test.fault=4"), 4);
	cr_assert_eq(rap_jobtype_effective_attempts(csv, "test.fault=4"), csv->max_attempts);
	cr_assert_eq(rap_jobtype_effective_attempts(csv, NULL), 3);
}

Test(jobtype, a_worker_serves_every_pool_or_the_ones_it_names)
{
	const char *pools[RAP_JOBTYPE_POOLS_MAX];
	char err[RAP_ERRLEN];
	size_t n;

	cr_assert_eq(rap_jobtype_pools_select(NULL, pools, RAP_JOBTYPE_POOLS_MAX, &n, err), RAP_OK);
	cr_assert_eq(n, 7);
	cr_assert_eq(rap_jobtype_pools_select("", pools, RAP_JOBTYPE_POOLS_MAX, &n, err), RAP_OK);
	cr_assert_eq(n, 7);
	cr_assert_eq(rap_jobtype_pools_select("data", pools, RAP_JOBTYPE_POOLS_MAX, &n, err),
		     RAP_OK);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(pools[0], "data");
	cr_assert_eq(rap_jobtype_pools_select("data,light", pools, RAP_JOBTYPE_POOLS_MAX, &n, err),
		     RAP_OK);
	cr_assert_eq(n, 2);
	cr_assert_eq(rap_jobtype_pools_select("light,heavy", pools, RAP_JOBTYPE_POOLS_MAX, &n, err),
		     RAP_EINVAL);
	cr_assert_str_eq(err, "RAP_WORKER_POOLS: \"heavy\" is not a pool of the registry (pools: "
			      "quick, light, data, image, pdf, video, virus)");
	cr_assert_eq(rap_jobtype_pools_select("light,light", pools, RAP_JOBTYPE_POOLS_MAX, &n, err),
		     RAP_EINVAL);
	cr_assert_str_eq(err, "RAP_WORKER_POOLS: \"light\" is named twice");
	cr_assert_eq(rap_jobtype_pools_select("light,", pools, RAP_JOBTYPE_POOLS_MAX, &n, err),
		     RAP_EINVAL);
}

/* Every pool a type names has its defaults in the pool table, and no
 * entry of the table is a pool without types; light jobs are held many at
 * a time, data jobs one at a time (issue 12: nothing hoarded). */
Test(jobtype, every_pool_has_its_prefetch)
{
	const char *pools[RAP_JOBTYPE_POOLS_MAX];
	size_t n = rap_jobtype_pools(pools, RAP_JOBTYPE_POOLS_MAX), i, k;

	cr_assert_eq(n, rap_jobpools_count);
	for (i = 0; i < n; i++) {
		for (k = 0; k < rap_jobpools_count; k++)
			if (strcmp(rap_jobpools[k].name, pools[i]) == 0)
				break;
		cr_assert_lt(k, rap_jobpools_count, "pool %s has no entry in rap_jobpools",
			     pools[i]);
		cr_assert_gt(rap_jobpools[k].prefetch, 0);
	}
	cr_assert_eq(rap_jobtype_pool_prefetch("light"), 8);
	cr_assert_eq(rap_jobtype_pool_prefetch("data"), 1);
	cr_assert_eq(rap_jobtype_pool_prefetch("nope"), 1);
}

/* Issue 14: PDFs run in a pool of their own too; only PDF types there. */
Test(jobtype, pdfs_run_in_a_pool_of_their_own)
{
	const struct rap_jobtype *t = rap_jobtype_find("pdf.text");

	cr_assert_not_null(t);
	cr_assert_str_eq(t->pool, "pdf");
	cr_assert_eq(t->runner, RAP_RUN_SANDBOX);
	cr_assert_eq(t->input, RAP_INPUT_FILE);
	cr_assert_str_eq(t->content, "application/pdf");
	for (size_t i = 0; i < rap_jobtypes_count; i++)
		if (strcmp(rap_jobtypes[i].pool, "pdf") == 0)
			cr_assert_eq(strncmp(rap_jobtypes[i].name, "pdf.", 4), 0, "%s",
				     rap_jobtypes[i].name);
}

Test(jobtype, the_pdf_text_schema_bounds_the_pages)
{
	char err[RAP_ERRLEN];

	cr_assert_eq(params("pdf.text", "{}", err), RAP_OK, "%s", err);
	cr_assert_eq(
		params("pdf.text", "{\"per_page\":true,\"first_page\":2,\"max_pages\":10000}", err),
		RAP_OK, "%s", err);
	cr_assert_eq(params("pdf.text", "{\"first_page\":0}", err), RAP_EINVAL);
	cr_assert(strstr(err, "params.first_page"), "%s", err);
	cr_assert_eq(params("pdf.text", "{\"max_pages\":0}", err), RAP_EINVAL);
	cr_assert_eq(params("pdf.text", "{\"max_pages\":10001}", err), RAP_EINVAL);
	cr_assert_eq(params("pdf.text", "{\"per_page\":1}", err), RAP_EINVAL);
	cr_assert_eq(params("pdf.text", "{\"password\":\"x\"}", err), RAP_EINVAL);
}

/* Issue 14: videos run in a pool of their own, one at a time a worker;
 * only video types there. */
Test(jobtype, videos_run_in_a_pool_of_their_own)
{
	const struct rap_jobtype *t = rap_jobtype_find("video.probe");

	cr_assert_not_null(t);
	cr_assert_str_eq(t->pool, "video");
	cr_assert_eq(t->runner, RAP_RUN_SANDBOX);
	cr_assert_eq(t->input, RAP_INPUT_FILE);
	cr_assert_eq(rap_jobtype_pool_prefetch("video"), 1);
	cr_assert(strstr(t->content, "video/mp4"), "%s", t->content);
	cr_assert(strstr(t->content, "video/x-matroska"), "%s", t->content);
	cr_assert(strstr(t->content, "video/webm"), "%s", t->content);
	cr_assert_null(strstr(t->content, "audio/"), "%s", t->content);
	for (size_t i = 0; i < rap_jobtypes_count; i++)
		if (strcmp(rap_jobtypes[i].pool, "video") == 0)
			cr_assert_eq(strncmp(rap_jobtypes[i].name, "video.", 6), 0, "%s",
				     rap_jobtypes[i].name);
}

Test(jobtype, the_video_probe_schema_bounds_the_position_and_the_poster)
{
	char err[RAP_ERRLEN];

	cr_assert_eq(params("video.probe", "{}", err), RAP_OK, "%s", err);
	cr_assert_eq(params("video.probe", "{\"position\":0,\"poster\":true,\"poster_width\":4096}",
			    err),
		     RAP_OK, "%s", err);
	cr_assert_eq(params("video.probe", "{\"position\":100,\"poster_width\":16}", err), RAP_OK,
		     "%s", err);
	cr_assert_eq(params("video.probe", "{\"position_s\":2.5}", err), RAP_OK, "%s", err);
	cr_assert_eq(params("video.probe", "{\"poster\":false}", err), RAP_OK, "%s", err);
	cr_assert_eq(params("video.probe", "{\"position\":101}", err), RAP_EINVAL);
	cr_assert(strstr(err, "params.position"), "%s", err);
	cr_assert_eq(params("video.probe", "{\"position\":-1}", err), RAP_EINVAL);
	cr_assert_eq(params("video.probe", "{\"position_s\":-0.5}", err), RAP_EINVAL);
	cr_assert_eq(params("video.probe", "{\"poster_width\":15}", err), RAP_EINVAL);
	cr_assert_eq(params("video.probe", "{\"poster_width\":4097}", err), RAP_EINVAL);
	cr_assert_eq(params("video.probe", "{\"poster_width\":100.5}", err), RAP_EINVAL);
	cr_assert_eq(params("video.probe", "{\"poster\":1}", err), RAP_EINVAL);
	cr_assert_eq(params("video.probe", "{\"codec\":\"h264\"}", err), RAP_EINVAL);
}

/* Issue 14: virus scans on a pool of their own, each child forked from
 * the fork server that loaded ClamAV's engine once; any content. */
Test(jobtype, virus_scans_run_in_a_pool_of_their_own_from_a_fork_server)
{
	const struct rap_jobtype *t = rap_jobtype_find("virus.scan");
	char err[RAP_ERRLEN];

	cr_assert_not_null(t);
	cr_assert_str_eq(t->pool, "virus");
	cr_assert_eq(t->runner, RAP_RUN_SANDBOX);
	cr_assert(t->fork_server);
	cr_assert(t->opt_in, "on only where a signature database is given");
	cr_assert_eq(t->input, RAP_INPUT_FILE);
	cr_assert_str_eq(t->content, "");
	/* Over a real engine's 1.1-1.5 GiB, which RLIMIT_AS counts. */
	cr_assert_geq(t->limits.memory_mb, 2048);
	for (size_t i = 0; i < rap_jobtypes_count; i++) {
		cr_assert(!rap_jobtypes[i].fork_server ||
			  strcmp(rap_jobtypes[i].pool, "virus") == 0);
		if (strcmp(rap_jobtypes[i].pool, "virus") == 0)
			cr_assert_eq(strncmp(rap_jobtypes[i].name, "virus.", 6), 0, "%s",
				     rap_jobtypes[i].name);
	}
	cr_assert_eq(params("virus.scan", "{}", err), RAP_OK, "%s", err);
	cr_assert_eq(params("virus.scan", "{\"archives\":false}", err), RAP_EINVAL);
}

/* RAP_JOB_SCAN_FIRST: sandboxed types that read a file, each once; the
 * errors in the style of the other settings. */
static int scan_first(const char *list, char *err)
{
	struct rap_jobtype_settings s = { .scan_first = list };

	return rap_jobtype_settings_check(&s, err);
}

Test(jobtype, scan_first_names_sandboxed_types_that_read_a_file)
{
	char err[RAP_ERRLEN];

	cr_assert_eq(scan_first("", err), RAP_OK, "%s", err);
	cr_assert_eq(scan_first("file.inspect,csv.validate,pdf.text", err), RAP_OK, "%s", err);
	cr_assert_eq(scan_first("file.inspect,csv.inspect", err), RAP_EINVAL);
	cr_assert_str_eq(
		err,
		"RAP_JOB_SCAN_FIRST: \"csv.inspect\": not a job type (known: noop, "
		"file.inspect, csv.validate, xlsx.validate, xls.validate, "
		"image.thumbnail, pdf.text, video.probe, virus.scan, test.fault, test.sandbox)");
	cr_assert_eq(scan_first("pdf.text,pdf.text", err), RAP_EINVAL);
	cr_assert_str_eq(err, "RAP_JOB_SCAN_FIRST: \"pdf.text\": named twice");
	cr_assert_eq(scan_first("noop", err), RAP_EINVAL);
	cr_assert_str_eq(err, "RAP_JOB_SCAN_FIRST: \"noop\": it reads no file: there is nothing "
			      "to scan first");
	cr_assert_eq(scan_first("virus.scan", err), RAP_EINVAL);
	cr_assert_str_eq(err, "RAP_JOB_SCAN_FIRST: \"virus.scan\": it is the scan itself");
}
