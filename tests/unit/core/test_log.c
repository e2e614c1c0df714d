/* Tests of lib/core/log.c: every line is one valid JSON object, whatever
 * bytes the message and the context hold. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "rap/log.h"
#include "rap/str.h"

/* Logs through a pipe put on stderr and returns the line read back. */
static void log_line(const struct rap_log_ctx *ctx, const char *msg, char *out, size_t size)
{
	int fds[2], saved;
	ssize_t n;

	cr_assert_eq(pipe(fds), 0);
	saved = dup(STDERR_FILENO);
	dup2(fds[1], STDERR_FILENO);
	rap_log(RAP_LOG_ERROR, ctx, "got %s", msg);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fds[1]);
	n = read(fds[0], out, size - 1);
	close(fds[0]);
	cr_assert_gt(n, 0);
	out[n] = '\0';
}

/* Parses a line as json-c's strict, UTF-8 validating reader would. */
static struct json_object *parse_strict(const char *line)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, line, (int)strcspn(line, "\n"));
	json_tokener_free(tok);
	return o;
}

Test(log, a_line_is_valid_json_whatever_bytes_it_logs)
{
	struct rap_log_ctx ctx = { .request_id = "r\xff\"1", .action = "a\x01\x7f" };
	struct json_object *o, *v;
	char line[4096];

	rap_log_init("test", "info");
	log_line(&ctx, "\xc3\xa9 \xff\xfe \xed\xa0\x80 \xe2\x82 tab\there", line, sizeof(line));
	cr_assert(rap_utf8_valid(line, strlen(line)), "the line is UTF-8: %s", line);
	o = parse_strict(line);
	cr_assert_not_null(o, "not JSON: %s", line);
	cr_assert(json_object_object_get_ex(o, "msg", &v));
	cr_assert_str_eq(json_object_get_string(v),
			 "got \xc3\xa9 \\xff\\xfe \\xed\\xa0\\x80 \\xe2\\x82 tab\there");
	cr_assert(json_object_object_get_ex(o, "request_id", &v));
	cr_assert_str_eq(json_object_get_string(v), "r\\xff\"1");
	cr_assert(json_object_object_get_ex(o, "action", &v));
	cr_assert_str_eq(json_object_get_string(v), "a\x01\x7f");
	json_object_put(o);
}

Test(log, control_characters_never_break_the_line)
{
	char line[4096];

	rap_log_init("test", "info");
	log_line(NULL, "one\ntwo\r\nthree\x1b[31m", line, sizeof(line));
	cr_assert_eq(strchr(line, '\n'), line + strlen(line) - 1, "one line: %s", line);
	cr_assert_null(strchr(line, '\r'));
	cr_assert_null(strchr(line, '\x1b'));
	json_object_put(parse_strict(line));
}

Test(log, a_line_carries_the_thread_trace_until_it_is_cleared)
{
	struct rap_trace t;
	struct rap_log_ctx ctx = { .job_id = "j1" };
	struct json_object *o, *v;
	char line[4096];

	rap_log_init("test", "info");
	cr_assert(rap_trace_parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", &t));
	rap_log_set_trace(&t);
	log_line(&ctx, "traced", line, sizeof(line));
	rap_log_set_trace(NULL);
	o = parse_strict(line);
	cr_assert_not_null(o, "not JSON: %s", line);
	cr_assert(json_object_object_get_ex(o, "trace_id", &v), "%s", line);
	cr_assert_str_eq(json_object_get_string(v), "4bf92f3577b34da6a3ce929d0e0e4736");
	cr_assert(json_object_object_get_ex(o, "span_id", &v), "%s", line);
	cr_assert_str_eq(json_object_get_string(v), t.span_id);
	json_object_put(o);
	log_line(&ctx, "untraced", line, sizeof(line));
	cr_assert_null(strstr(line, "trace_id"), "cleared: %s", line);
	cr_assert_null(strstr(line, "span_id"), "cleared: %s", line);
}
