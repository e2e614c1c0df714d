/* status.c: `rap status JOB_ID`, a job printed once from GET /api/jobs/{id}. */
#include "cli.h"

#include "rap/err.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

/* "name  value" when the member is present and not null. */
static void field(struct json_object *job, const char *name)
{
	struct json_object *v;

	if (!json_object_object_get_ex(job, name, &v) || !v)
		return;
	printf("%-12s%s\n", name,
	       json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : json_object_to_json_string_ext(v, CLI_JSON_FLAGS));
}

static void print_job(const char *job_id, struct json_object *job)
{
	struct json_object *events, *v;
	struct cli_event e;
	char line[700];

	field(job, "job_id");
	field(job, "type");
	field(job, "status");
	field(job, "attempt");
	field(job, "max_attempts");
	if (json_object_object_get_ex(job, "progress", &v) && v)
		printf("%-12s%.0f%%\n", "progress", json_object_get_double(v) * 100);
	field(job, "object_key");
	field(job, "created_at");
	field(job, "started_at");
	field(job, "finished_at");
	field(job, "result");
	field(job, "error");
	if (!json_object_object_get_ex(job, "events", &events) ||
	    !json_object_is_type(events, json_type_array))
		return;
	printf("events:\n");
	for (size_t i = 0; i < json_object_array_length(events); i++) {
		if (cli_event_parse(json_object_array_get_idx(events, i), &e) != RAP_OK)
			continue;
		cli_event_format(job_id, &e, line, sizeof(line));
		printf("  %s\n", line);
	}
}

int cli_status_run(const struct cli_opts *o)
{
	struct json_object *job = NULL;
	char err[RAP_ERRLEN];
	struct cli_retry r;
	struct cli_http h;
	int result, code = CLI_EXIT_OK;

	cli_http_init(&h, o);
	cli_retry_init(&r, o->retry_timeout_s * 1000);
	result = cli_api_get_job(&h, o->arg, &r, &job, err);
	if (result == RAP_OK && o->json)
		printf("%s\n", json_object_to_json_string_ext(job, CLI_JSON_FLAGS));
	else if (result == RAP_OK)
		print_job(o->arg, job);
	else if (result == RAP_ECANCELED)
		code = CLI_EXIT_INTERRUPTED;
	if (result != RAP_OK && result != RAP_ECANCELED) {
		fprintf(stderr, "error: %s\n", err);
		cli_api_hint(err);
		code = CLI_EXIT_ERROR;
	}
	json_object_put(job);
	cli_http_cleanup(&h);
	return code;
}
