/* Tests of services/job-api/types.c: the job types as job-api serves them
 * (the registry with the settings applied), and the params check of job
 * creation. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <string.h>

#include "job_api.h"
#include "rap/err.h"

static struct job_api api;

static void setup(void)
{
	char err[RAP_ERRLEN];

	memset(&api, 0, sizeof(api));
	api.svc.cfg.job_types = "file.inspect,noop,csv.validate,test.fault";
	api.svc.cfg.job_content_types = "test.fault=text/plain";
	api.svc.cfg.job_limits = "csv.validate=wall:3600;memory:256M";
	api.cfg.job_max_attempts = "test.fault=4";
	cr_assert_eq(job_api_types_init(&api, err), RAP_OK, "%s", err);
}

static void teardown(void)
{
	job_api_types_cleanup(&api);
}

/* The entry of GET /job-types for name, or NULL (the caller puts all). */
static struct json_object *listed(struct json_object *all, const char *name)
{
	struct json_object *types, *name_v;

	cr_assert(json_object_object_get_ex(all, "job_types", &types));
	for (size_t i = 0; i < json_object_array_length(types); i++) {
		struct json_object *t = json_object_array_get_idx(types, i);

		json_object_object_get_ex(t, "name", &name_v);
		if (strcmp(json_object_get_string(name_v), name) == 0)
			return t;
	}
	return NULL;
}

static struct json_object *field(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	cr_assert(json_object_object_get_ex(o, key, &v), "no %s", key);
	return v;
}

Test(job_api_types, lists_the_enabled_types_in_registry_order, .init = setup, .fini = teardown)
{
	struct json_object *all = json_tokener_parse(api.types_json), *types;
	static const char *const order[] = { "noop", "file.inspect", "csv.validate", "test.fault" };

	cr_assert_not_null(all);
	types = field(all, "job_types");
	cr_assert_eq(json_object_array_length(types), 4);
	for (size_t i = 0; i < 4; i++)
		cr_assert_str_eq(
			json_object_get_string(field(json_object_array_get_idx(types, i), "name")),
			order[i]);
	cr_assert_null(listed(all, "xls.validate"), "not in RAP_JOB_TYPES");
	cr_assert_null(listed(all, "test.sandbox"));
	json_object_put(all);
}

Test(job_api_types, shows_the_effective_content_limits_and_attempts, .init = setup,
     .fini = teardown)
{
	struct json_object *all = json_tokener_parse(api.types_json);
	struct json_object *csv = listed(all, "csv.validate"), *noop = listed(all, "noop");
	struct json_object *fault = listed(all, "test.fault"), *lim, *content, *params;

	cr_assert_str_eq(json_object_get_string(field(csv, "pool")), "data");
	cr_assert_str_eq(json_object_get_string(field(csv, "queue")), "jobs.work.data");
	cr_assert_str_eq(json_object_get_string(field(csv, "input")), "stream");
	content = field(csv, "content");
	cr_assert_eq(json_object_array_length(content), 2);
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(content, 0)), "text/csv");
	lim = field(csv, "limits");
	cr_assert_eq(json_object_get_int64(field(lim, "wall_s")), 3600);
	cr_assert_eq(json_object_get_int64(field(lim, "memory_mb")), 256);
	cr_assert_eq(json_object_get_int64(field(lim, "cpu_s")), 6 * 3600);
	cr_assert_eq(json_object_get_int(field(csv, "max_attempts")), 3);
	params = field(csv, "params");
	cr_assert_str_eq(json_object_get_string(field(params, "$id")),
			 "https://rap.invalid/proto/schemas/params/csv.validate.json");
	cr_assert(json_object_object_get_ex(field(params, "properties"), "columns", NULL));

	cr_assert_null(field(noop, "params"), "a type without params shows null");
	cr_assert_null(field(noop, "content"), "any content is null");
	cr_assert_eq(json_object_get_int64(field(field(noop, "limits"), "input_mb")), 0);
	cr_assert_str_eq(json_object_get_string(field(noop, "input")), "none");

	content = field(fault, "content");
	cr_assert_eq(json_object_array_length(content), 1, "RAP_JOB_CONTENT_TYPES replaces it");
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(content, 0)),
			 "text/plain");
	cr_assert_eq(json_object_get_int(field(fault, "max_attempts")), 4);
	json_object_put(all);
}

Test(job_api_types, params_are_checked_against_the_type_schema, .init = setup, .fini = teardown)
{
	char err[RAP_ERRLEN];

	cr_assert_eq(job_api_params_check(&api, "csv.validate",
					  "{\"columns\":[{\"name\":\"a\",\"type\":\"integer\"}]}",
					  "params", err),
		     RAP_OK, "%s", err);
	cr_assert_eq(job_api_params_check(&api, "csv.validate",
					  "{\"columns\":[{\"name\":\"a\",\"type\":\"money\"}]}",
					  "jobs[1].params", err),
		     RAP_EINVAL);
	cr_assert_str_eq(err, "jobs[1].params.columns[0].type: must be one of string, integer, "
			      "decimal, boolean, date, datetime, email, enum");
	cr_assert_eq(job_api_params_check(&api, "test.fault", "{\"mode\":\"melt\"}", "params", err),
		     RAP_EINVAL);
	cr_assert_str_eq(err, "params.mode: must be one of succeed, transient, permanent, crash, "
			      "hang, sleep, until_replayed");
}

Test(job_api_types, a_type_without_a_schema_takes_no_params, .init = setup, .fini = teardown)
{
	char err[RAP_ERRLEN];

	cr_assert_eq(job_api_params_check(&api, "noop", "{}", "params", err), RAP_OK, "%s", err);
	cr_assert_eq(job_api_params_check(&api, "file.inspect", "{\"note\":\"x\"}", "params", err),
		     RAP_EINVAL);
	cr_assert_str_eq(err, "params.note: is not a known field (none are)");
}

Test(job_api_types, only_enabled_types_are_served, .init = setup, .fini = teardown)
{
	char err[RAP_ERRLEN];

	cr_assert(job_api_type_enabled(&api, "csv.validate"));
	cr_assert_not(job_api_type_enabled(&api, "xls.validate"));
	cr_assert_not(job_api_type_enabled(&api, "no.such"));
	cr_assert_eq(job_api_params_check(&api, "xls.validate", "{}", "params", err), RAP_EINVAL);
}

Test(job_api_types, max_attempts_default_to_the_registry, .init = setup, .fini = teardown)
{
	cr_assert_eq(job_api_max_attempts(&api, "test.fault"), 4, "RAP_JOB_MAX_ATTEMPTS");
	cr_assert_eq(job_api_max_attempts(&api, "csv.validate"), 3);
	cr_assert_eq(job_api_max_attempts(&api, "noop"), 5);
}

Test(job_api_types, the_effective_allow_lists_are_on_by_default, .init = setup, .fini = teardown)
{
	cr_assert_str_eq(api.content_list,
			 "csv.validate=text/csv|text/plain,"
			 "xlsx.validate=application/vnd.openxmlformats-officedocument."
			 "spreadsheetml.sheet|application/zip,"
			 "xls.validate=application/vnd.ms-excel|application/x-ole-storage,"
			 "image.thumbnail=image/jpeg|image/png|image/webp,"
			 "pdf.text=application/pdf,"
			 "video.probe=video/mp4|video/quicktime|video/x-matroska|video/webm|"
			 "video/x-msvideo|video/mpeg,"
			 "test.fault=text/plain");
}

Test(job_api_types, a_bad_setting_stops_the_start_naming_it)
{
	struct job_api a = { 0 };
	char err[RAP_ERRLEN];

	a.svc.cfg.job_types = "file.inspect,pdf.render";
	cr_assert_eq(job_api_types_init(&a, err), RAP_EINVAL);
	cr_assert(strstr(err, "RAP_JOB_TYPES: \"pdf.render\": not a job type"), "%s", err);
	job_api_types_cleanup(&a);
	a.svc.cfg.job_types = "noop";
	a.svc.cfg.job_limits = "noop=wall:forever";
	cr_assert_eq(job_api_types_init(&a, err), RAP_EINVAL);
	cr_assert(strstr(err, "RAP_JOB_LIMITS"), "%s", err);
	job_api_types_cleanup(&a);
	a.svc.cfg.job_limits = NULL;
	a.cfg.job_max_attempts = "nop=3";
	cr_assert_eq(job_api_types_init(&a, err), RAP_EINVAL);
	cr_assert(strstr(err, "RAP_JOB_MAX_ATTEMPTS: \"nop=3\""), "%s", err);
	job_api_types_cleanup(&a);
}
