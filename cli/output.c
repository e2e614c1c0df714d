/*
 * output.c: `rap output JOB_ID [--name NAME] [-o FILE]`.
 *
 *   1. Ask the API for a presigned GET URL of the output
 *      (GET /api/jobs/{id}/output[?name=NAME]); its answer names the file.
 *   2. Refuse to overwrite FILE unless --force; open FILE.part, whose bytes
 *      (from an interrupted run) are kept and resumed.
 *   3. Read the size the job's result lists for that output, if any.
 *   4. Download into FILE.part (download.c: Range resumes, retries, fresh
 *      URLs), check the size (exit 3 if not), then rename it to FILE.
 * With -o - the bytes go to stdout, and no .part exists.
 */
#include "cli.h"

#include "rap/err.h"
#include "rap/frame.h"
#include "rap/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define NAME_MAX_LEN 255

struct output {
	const struct cli_opts *o;
	struct cli_http http;
	struct cli_retry retry;
	struct cli_progress progress;
	struct cli_download dl;
	char name[NAME_MAX_LEN + 1]; /* the output's, as the API names it */
	char file[CLI_PATH_MAX];
	char part[CLI_PATH_MAX + 8];
	long long expected; /* bytes the job's result lists, -1 when it does not */
	bool to_stdout;
	bool part_open; /* dl.fd is FILE.part's */
	int code;       /* the exit code of a failure */
};

/* Step 1, also download.c's refresh: the output's URL into url, its name
 * into out->name. */
static int fetch_url(void *ctx, char *url, size_t len, char *err)
{
	struct output *out = ctx;
	char api[CLI_URL_MAX], *esc = NULL;
	struct cli_req req = { .method = "GET", .url = api };
	struct json_object *ans = NULL;
	const char *u, *name;
	struct cli_resp resp;
	int result;

	if (out->o->output_name)
		esc = curl_easy_escape(out->http.curl, out->o->output_name, 0);
	snprintf(api, sizeof(api), "%s/api/jobs/%s/output%s%s", out->o->url, out->o->arg,
		 esc ? "?name=" : "", esc ? esc : "");
	curl_free(esc);
	cli_resp_init(&resp);
	result = cli_api_call(&out->http, &req, &out->retry, &out->progress, &resp, err);
	if (result != RAP_OK)
		goto out_free_resp;
	ans = json_tokener_parse(resp.body.data);
	u = cli_json_string(ans, "url");
	name = cli_json_string(ans, "name");
	if (!u || !name || strlen(u) >= len || strlen(name) >= sizeof(out->name)) {
		snprintf(err, RAP_ERRLEN, "GET %.160s: no url and name in the answer", api);
		result = RAP_EPROTO;
		goto out_put;
	}
	snprintf(url, len, "%s", u);
	snprintf(out->name, sizeof(out->name), "%s", name);
out_put:
	json_object_put(ans);
out_free_resp:
	cli_resp_cleanup(&resp);
	return result;
}

/* Step 3: the bytes result.outputs lists for out->name, -1 when absent. */
static int expected_size(struct output *out, char *err)
{
	struct json_object *job, *result, *outputs, *item, *bytes;
	int rc = cli_api_get_job(&out->http, out->o->arg, &out->retry, &job, err);

	out->expected = -1;
	if (rc != RAP_OK)
		return rc;
	if (json_object_object_get_ex(job, "result", &result) &&
	    json_object_object_get_ex(result, "outputs", &outputs) &&
	    json_object_is_type(outputs, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(outputs); i++) {
			const char *name;

			item = json_object_array_get_idx(outputs, i);
			name = cli_json_string(item, "name");
			if (name && strcmp(name, out->name) == 0 &&
			    json_object_object_get_ex(item, "bytes", &bytes)) {
				out->expected = json_object_get_int64(bytes);
				break;
			}
		}
	}
	json_object_put(job);
	return RAP_OK;
}

/* Step 2: FILE chosen and checked, FILE.part opened (and locked) at its
 * end.  A usage failure sets out->code to CLI_EXIT_USAGE. */
static int open_target(struct output *out, char *err)
{
	const char *file = out->o->output_file ? out->o->output_file : out->name;
	struct stat st;
	int fd;

	out->code = CLI_EXIT_USAGE;
	if (!out->o->output_file && !rap_output_name_ok(out->name)) {
		snprintf(err, RAP_ERRLEN,
			 "the output's name '%.100s' is not a safe file name here: "
			 "give -o FILE",
			 out->name);
		return RAP_EINVAL;
	}
	if ((size_t)snprintf(out->file, sizeof(out->file), "%s", file) >= sizeof(out->file)) {
		snprintf(err, RAP_ERRLEN, "the file name is too long");
		return RAP_ETOOBIG;
	}
	snprintf(out->part, sizeof(out->part), "%s.part", out->file);
	if (stat(out->file, &st) == 0 && !out->o->force) {
		snprintf(err, RAP_ERRLEN,
			 "%.150s exists: give --force to overwrite it, or -o another file",
			 out->file);
		return RAP_ECONFLICT;
	}
	fd = open(out->part, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || fstat(fd, &st) != 0 || lseek(fd, 0, SEEK_END) < 0) {
		snprintf(err, RAP_ERRLEN, "%.200s: %s", out->part, strerror(errno));
		if (fd >= 0)
			close(fd);
		return RAP_EIO;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		snprintf(err, RAP_ERRLEN, "%.200s: another rap is writing it", out->part);
		close(fd);
		return RAP_ECONFLICT;
	}
	out->dl.fd = fd;
	out->part_open = true;
	out->dl.offset = st.st_size;
	out->code = CLI_EXIT_ERROR;
	if (st.st_size > 0)
		cli_progress_note(&out->progress, "resuming %s at %lld bytes", out->part,
				  (long long)st.st_size);
	return RAP_OK;
}

/* Step 4's end: the size checked, the .part made FILE. */
static int finish(struct output *out, char *err)
{
	if (out->expected >= 0 && out->dl.offset != out->expected) {
		snprintf(err, RAP_ERRLEN,
			 "size check failed: %lld bytes were downloaded, the job's result "
			 "lists %lld; %.100s removed",
			 out->dl.offset, out->expected, out->to_stdout ? "nothing" : out->part);
		if (!out->to_stdout)
			unlink(out->part);
		out->code = CLI_EXIT_INTEGRITY;
		return RAP_ECONFLICT;
	}
	if (out->to_stdout)
		return fflush(stdout) == 0 ? RAP_OK : RAP_EIO;
	if (fsync(out->dl.fd) != 0 || rename(out->part, out->file) != 0) {
		snprintf(err, RAP_ERRLEN, "%.200s: %s", out->file, strerror(errno));
		return RAP_EIO;
	}
	return RAP_OK;
}

static void print_result(const struct output *out)
{
	struct json_object *j = json_object_new_object();

	if (!out->o->json) {
		if (!out->o->quiet && !out->to_stdout)
			fprintf(stderr, "wrote %s (%lld bytes)\n", out->file, out->dl.offset);
		return;
	}
	json_object_object_add(j, "job_id", json_object_new_string(out->o->arg));
	json_object_object_add(j, "name", json_object_new_string(out->name));
	json_object_object_add(j, "file", json_object_new_string(out->file));
	json_object_object_add(j, "bytes", json_object_new_int64(out->dl.offset));
	printf("%s\n", json_object_to_json_string_ext(j, CLI_JSON_FLAGS));
	json_object_put(j);
}

static int run(struct output *out, char *err)
{
	int result = fetch_url(out, out->dl.url, sizeof(out->dl.url), err);

	if (result != RAP_OK)
		return result;
	if (out->to_stdout) {
		snprintf(out->file, sizeof(out->file), "-");
		out->dl.fd = STDOUT_FILENO;
		out->dl.stream = true;
	} else {
		result = open_target(out, err);
	}
	if (result == RAP_OK)
		result = expected_size(out, err);
	if (result == RAP_OK) {
		out->progress.total = out->expected >= 0 ? out->expected : 0;
		result = cli_download_run(&out->dl, &out->retry, err);
	}
	if (result == RAP_OK)
		result = finish(out, err);
	return result;
}

int cli_output_run(const struct cli_opts *o)
{
	struct output out = { .o = o, .dl.fd = -1, .code = CLI_EXIT_ERROR };
	char err[RAP_ERRLEN] = "";
	int result;

	out.to_stdout = o->output_file && strcmp(o->output_file, "-") == 0;
	cli_http_init(&out.http, o);
	cli_retry_init(&out.retry, o->retry_timeout_s * 1000);
	cli_progress_init(&out.progress, stderr, isatty(STDERR_FILENO), o->quiet || out.to_stdout,
			  0, rap_now_ms());
	out.dl.http = &out.http;
	out.dl.progress = &out.progress;
	out.dl.refresh = fetch_url;
	out.dl.refresh_ctx = &out;
	result = run(&out, err);
	if (result == RAP_OK) {
		print_result(&out);
		out.code = CLI_EXIT_OK;
	} else if (result == RAP_ECANCELED) {
		if (out.part_open)
			fprintf(stderr,
				"interrupted: %lld bytes are in %s; run the same command again "
				"to resume\n",
				out.dl.offset, out.part);
		else
			fprintf(stderr, "interrupted\n");
		out.code = CLI_EXIT_INTERRUPTED;
	} else {
		fprintf(stderr, out.code == CLI_EXIT_USAGE ? "rap: %s\n" : "error: %s\n", err);
		cli_api_hint(err);
	}
	if (out.part_open)
		close(out.dl.fd);
	cli_http_cleanup(&out.http);
	return out.code;
}
