/* Tests of cli/event.c: job events read from JSON and printed. */
#include <criterion/criterion.h>
#include <json-c/json.h>

#include "cli.h"
#include "rap/err.h"

#define JOB "9b2e4c1a-7d3f-4e8b-a5c6-1f0e2d3c4b5a"

Test(cli_event, a_websocket_event_is_read_and_printed_with_its_detail)
{
	struct json_object *o = json_tokener_parse(
		"{\"v\":1,\"type\":\"job.status\",\"event_id\":42,\"job_id\":\"" JOB "\","
		"\"owner\":\"dev\",\"job_type\":\"file.inspect\",\"from\":\"QUEUED\","
		"\"to\":\"PROCESSING\",\"attempt\":1,\"at\":\"2024-01-01T00:00:00.000Z\","
		"\"detail\":\"claimed by worker-1\",\"replay\":true}");
	struct cli_event e;
	char line[700];

	cr_assert_eq(cli_event_parse(o, &e), RAP_OK);
	cr_assert_eq(e.event_id, 42);
	cli_event_format(JOB, &e, line, sizeof(line));
	cr_assert_str_eq(line, "job " JOB ": QUEUED -> PROCESSING (attempt 1): "
			       "claimed by worker-1");
	json_object_put(o);
}

Test(cli_event, the_creation_event_of_a_job_has_no_from_and_no_detail)
{
	struct json_object *o = json_tokener_parse(
		"{\"event_id\":1,\"from\":null,\"to\":\"CREATED\",\"at\":\"x\",\"attempt\":0,"
		"\"detail\":null}");
	struct cli_event e;
	char line[700];

	cr_assert_eq(cli_event_parse(o, &e), RAP_OK);
	cli_event_format(JOB, &e, line, sizeof(line));
	cr_assert_str_eq(line, "job " JOB ": new -> CREATED (attempt 0)");
	json_object_put(o);
}

Test(cli_event, events_without_their_fields_are_refused)
{
	static const char *const bad[] = {
		"{\"from\":null,\"to\":\"CREATED\",\"attempt\":0,\"detail\":null}",
		"{\"event_id\":0,\"from\":null,\"to\":\"CREATED\",\"attempt\":0,\"detail\":null}",
		"{\"event_id\":\"3\",\"from\":null,\"to\":\"CREATED\",\"attempt\":0,"
		"\"detail\":null}",
		"{\"event_id\":3,\"from\":null,\"attempt\":0,\"detail\":null}",
		"{\"event_id\":3,\"from\":null,\"to\":null,\"attempt\":0,\"detail\":null}",
		"{\"event_id\":3,\"to\":\"CREATED\",\"attempt\":0,\"detail\":null}",
		"{\"event_id\":3,\"from\":5,\"to\":\"CREATED\",\"attempt\":0,\"detail\":null}",
		"{\"event_id\":3,\"from\":null,\"to\":\"CREATED\",\"detail\":null}",
		"[1]",
	};
	struct cli_event e;

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct json_object *o = json_tokener_parse(bad[i]);

		cr_assert_eq(cli_event_parse(o, &e), RAP_EINVAL, "%s", bad[i]);
		json_object_put(o);
	}
}

Test(cli_event, terminal_states_map_to_their_exit_codes)
{
	cr_assert(cli_event_terminal("COMPLETED"));
	cr_assert(cli_event_terminal("FAILED"));
	cr_assert(cli_event_terminal("DEAD"));
	cr_assert(cli_event_terminal("CANCELLED"));
	cr_assert_not(cli_event_terminal("RETRYING"));
	cr_assert_not(cli_event_terminal("PROCESSING"));
	cr_assert_eq(cli_event_exit_code("COMPLETED"), 0);
	cr_assert_eq(cli_event_exit_code("FAILED"), 4);
	cr_assert_eq(cli_event_exit_code("DEAD"), 5);
	cr_assert_eq(cli_event_exit_code("CANCELLED"), 6);
	cr_assert_eq(cli_event_exit_code("QUEUED"), 1);
}

Test(cli_event_progress, a_progress_push_reads_as_stage_percentage_rows_and_time_left)
{
	struct json_object *o = json_tokener_parse(
		"{\"type\":\"job.progress\",\"progress\":0.456,\"stage\":\"validate\",\"rows\":1234,"
		"\"estimated_completion\":\"2026-12-05T12:01:20.000Z\"}");
	char line[256], stage[32];
	/* 2026-12-05T12:00:00Z */
	time_t now = 1796472000;

	cr_assert_eq(cli_event_progress_line("J", o, now, line, sizeof(line), stage), RAP_OK);
	cr_assert_str_eq(stage, "validate");
	cr_assert_str_eq(line, "job J: validate 45%, 1234 rows, done in about 1m20s");
	json_object_put(o);
}

Test(cli_event_progress, without_rows_or_an_estimate_the_line_says_less)
{
	struct json_object *o = json_tokener_parse(
		"{\"type\":\"job.progress\",\"progress\":0,\"stage\":null,\"rows\":null,"
		"\"estimated_completion\":null}");
	char line[256], stage[32];

	cr_assert_eq(cli_event_progress_line("J", o, 0, line, sizeof(line), stage), RAP_OK);
	cr_assert_str_eq(line, "job J: 0%");
	json_object_put(o);
	o = json_tokener_parse("{\"type\":\"job.progress\"}");
	cr_assert_eq(cli_event_progress_line("J", o, 0, line, sizeof(line), stage), RAP_EINVAL);
	json_object_put(o);
}
