/*
 * upload.c: `rap upload FILE --type T [--watch]`.
 *
 *   1. Take the file's lock and look for its state file (resume.c): when it
 *      names an upload of this file as it is now, HEAD it and go on from the
 *      server's offset; otherwise create a new upload and record it.
 *   2. Send the rest (tus_client.c), retrying through cuts and restarts.
 *   3. Compare the sha256 the server computed with ours (exit 3 if not).
 *   4. Create the job, with an Idempotency-Key made of the upload id and the
 *      type: a rerun after a crash right here gets the same job back.
 *   5. Only then remove the state file; print the job id; watch it.
 */
#include "cli.h"

#include "rap/err.h"
#include "rap/hash.h"
#include "rap/mem.h"
#include "rap/clock.h"
#include "rap/uuid.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_NEW_UPLOADS 3 /* uploads the server may forget in one run */

struct upload {
	const struct cli_opts *o;
	struct cli_http http;
	struct cli_progress progress;
	struct cli_tus tus;
	struct cli_retry retry;
	char dir[CLI_PATH_MAX];
	char name[128];      /* of the state file */
	struct cli_state st; /* this file as it is now, and its upload */
	int fd;
	int lock_fd;
	bool have_state; /* the state file names st.upload_url */
	bool integrity;  /* the failure is one of exit code 3 */
	char upload_id[RAP_UUID_STRLEN];
	char object_key[128];
	char job_id[RAP_UUID_STRLEN];
};

/* Opens the file and fills u->st with what identifies it. */
static int open_file(struct upload *u, char *err)
{
	const struct cli_opts *o = u->o;

	if (!realpath(o->arg, u->st.path)) {
		snprintf(err, RAP_ERRLEN, "%s: %s", o->arg, strerror(errno));
		return RAP_ENOENT;
	}
	u->fd = open(u->st.path, O_RDONLY | O_CLOEXEC);
	if (u->fd < 0) {
		snprintf(err, RAP_ERRLEN, "%s: %s", o->arg, strerror(errno));
		return RAP_EIO;
	}
	snprintf(u->st.url, sizeof(u->st.url), "%s", o->url);
	snprintf(u->st.type, sizeof(u->st.type), "%s", o->type);
	return RAP_OK;
}

/* Records u->tus.upload_url in the state file. */
static int save_state(struct upload *u, char *err)
{
	int result;

	snprintf(u->st.upload_url, sizeof(u->st.upload_url), "%s", u->tus.upload_url);
	result = cli_resume_save(u->dir, u->name, &u->st, err);
	u->have_state = result == RAP_OK;
	return result;
}

static int new_upload(struct upload *u, char *err)
{
	char path[CLI_PATH_MAX];
	int result;

	snprintf(path, sizeof(path), "%s", u->st.path);
	result = cli_tus_create(&u->tus, basename(path), &u->retry, err);
	if (result != RAP_OK)
		return result;
	return save_state(u, err);
}

/* The recorded upload, if any, that this run can go on with: RAP_OK with
 * u->tus at the server's offset, RAP_ENOENT when a new one is needed. */
static int find_previous(struct upload *u, char *err)
{
	struct cli_state prev;
	char why[RAP_ERRLEN];
	int result;

	if (u->o->no_resume)
		return RAP_ENOENT;
	result = cli_resume_load(u->dir, u->name, &prev, why);
	if (result == RAP_ENOENT)
		return result;
	if (result != RAP_OK) {
		cli_progress_note(&u->progress, "ignoring the state file: %s", why);
		return RAP_ENOENT;
	}
	if (!cli_resume_same_file(&prev, &u->st)) {
		cli_progress_note(&u->progress,
				  "%s changed since the upload %s began (size or "
				  "modification time): starting a new upload",
				  u->o->arg, prev.upload_url);
		return RAP_ENOENT;
	}
	snprintf(u->tus.upload_url, sizeof(u->tus.upload_url), "%s", prev.upload_url);
	u->have_state = true;
	u->tus.offset = -1; /* until HEAD tells */
	result = cli_tus_head(&u->tus, &u->retry, why);
	if (result == RAP_ENOENT || result == RAP_ECONFLICT) {
		cli_progress_note(&u->progress,
				  "the recorded upload %s cannot be resumed (%s): "
				  "starting a new upload",
				  prev.upload_url,
				  result == RAP_ENOENT ? "the server no longer has it" : why);
		return RAP_ENOENT;
	}
	if (result != RAP_OK) {
		snprintf(err, RAP_ERRLEN, "%s", why);
		return result;
	}
	cli_progress_note(&u->progress, "resuming %s at offset %lld (%lld%%)", u->tus.upload_url,
			  u->tus.offset, u->tus.size ? u->tus.offset * 100 / u->tus.size : 100);
	return RAP_OK;
}

/* Steps 1 and 2: the file's bytes all stored on the server. */
static int send_file(struct upload *u, char *err)
{
	int result = find_previous(u, err), fresh = 0;

	if (result == RAP_ENOENT)
		result = new_upload(u, err);
	while (result == RAP_OK) {
		result = cli_tus_send(&u->tus, &u->retry, err);
		if (result != RAP_ENOENT || !u->tus.gone || ++fresh >= MAX_NEW_UPLOADS)
			break;
		cli_progress_note(&u->progress,
				  "the server no longer has the upload %s: starting "
				  "a new upload",
				  u->tus.upload_url);
		result = new_upload(u, err);
	}
	/* The server refused our bytes' checksum again and again, or the
	 * file changed under us: what is sent is not the file. */
	u->integrity = result == RAP_ECONFLICT;
	return result;
}

/* The string member name of o ("" when absent). */
static const char *jstr(struct json_object *o, const char *name)
{
	const char *s = cli_json_string(o, name);

	return s ? s : "";
}

/* GETs url into *out (a JSON object; json_object_put it). */
static int get_json(struct upload *u, const char *url, struct json_object **out, char *err)
{
	struct cli_req req = { .method = "GET", .url = url };
	struct cli_resp resp;
	int result;

	cli_resp_init(&resp);
	result = cli_api_call(&u->http, &req, &u->retry, &u->progress, &resp, err);
	*out = result == RAP_OK ? json_tokener_parse(resp.body.data) : NULL;
	if (result == RAP_OK && !json_object_is_type(*out, json_type_object)) {
		snprintf(err, RAP_ERRLEN, "GET %.160s: the answer is not a JSON object", url);
		result = RAP_EPROTO;
	}
	cli_resp_cleanup(&resp);
	return result;
}

/* Step 3.  RAP_ECONFLICT when the server's sha256 or size is not ours. */
static int verify(struct upload *u, char *err)
{
	const char *id = strrchr(u->tus.upload_url, '/');
	struct json_object *up = NULL, *size;
	char url[CLI_URL_MAX];
	int result;

	if (!id || !rap_uuid_valid(id + 1)) {
		snprintf(err, RAP_ERRLEN, "the upload URL %.160s does not end in an upload id",
			 u->tus.upload_url);
		return RAP_EPROTO;
	}
	snprintf(u->upload_id, sizeof(u->upload_id), "%s", id + 1);
	snprintf(url, sizeof(url), "%s/api/uploads/%s", u->o->url, u->upload_id);
	result = get_json(u, url, &up, err);
	if (result != RAP_OK)
		goto out_put;
	snprintf(u->object_key, sizeof(u->object_key), "%s", jstr(up, "object_key"));
	if (strcmp(jstr(up, "state"), "COMPLETE") != 0 || !u->object_key[0]) {
		snprintf(err, RAP_ERRLEN, "the upload %s is %s, not COMPLETE", u->upload_id,
			 jstr(up, "state"));
		result = RAP_EPROTO;
	} else if (strcmp(jstr(up, "sha256"), u->tus.sha256) != 0 ||
		   !json_object_object_get_ex(up, "size", &size) ||
		   json_object_get_int64(size) != u->tus.size) {
		snprintf(err, RAP_ERRLEN,
			 "integrity check failed: the server stored sha256 %s, "
			 "%lld bytes; the file %s has sha256 %s, %lld bytes",
			 jstr(up, "sha256"), (long long)json_object_get_int64(size), u->o->arg,
			 u->tus.sha256, u->tus.size);
		result = RAP_ECONFLICT;
	}
out_put:
	json_object_put(up);
	return result;
}

/* The Idempotency-Key: rap-cli-<upload>-<type>, plus a digest of the
 * params and max_attempts when given (another request is another job). */
static void idempotency_key(const struct upload *u, const char *extra, char *out, size_t len)
{
	char hex[RAP_SHA256_HEXLEN];

	if (!extra) {
		snprintf(out, len, "Idempotency-Key: rap-cli-%s-%s", u->upload_id, u->o->type);
		return;
	}
	rap_sha256_hex(extra, strlen(extra), hex);
	snprintf(out, len, "Idempotency-Key: rap-cli-%s-%s-%.16s", u->upload_id, u->o->type, hex);
}

/* Step 4. */
static int create_job(struct upload *u, char *err)
{
	struct json_object *body = json_object_new_object(), *ans = NULL;
	char url[CLI_URL_MAX], key[256], *extra = NULL;
	struct cli_req req = { .method = "POST", .url = url };
	struct cli_resp resp;
	int result;

	json_object_object_add(body, "object_key", json_object_new_string(u->object_key));
	json_object_object_add(body, "type", json_object_new_string(u->o->type));
	if (u->o->params)
		json_object_object_add(body, "params", json_tokener_parse(u->o->params));
	if (u->o->max_attempts)
		json_object_object_add(body, "max_attempts",
				       json_object_new_int64(u->o->max_attempts));
	if (u->o->params || u->o->max_attempts)
		extra = rap_asprintf("%s|%lld", u->o->params ? u->o->params : "",
				     u->o->max_attempts);
	idempotency_key(u, extra, key, sizeof(key));
	snprintf(url, sizeof(url), "%s/api/jobs", u->o->url);
	req.body = json_object_to_json_string_ext(body, CLI_JSON_FLAGS);
	req.body_len = strlen(req.body);
	req.headers = curl_slist_append(NULL, "Content-Type: application/json");
	req.headers = curl_slist_append(req.headers, key);
	cli_resp_init(&resp);
	result = cli_api_call(&u->http, &req, &u->retry, &u->progress, &resp, err);
	if (result == RAP_OK) {
		ans = json_tokener_parse(resp.body.data);
		if (!rap_uuid_valid(jstr(ans, "job_id"))) {
			snprintf(err, RAP_ERRLEN, "POST %.160s: no job_id in the answer", url);
			result = RAP_EPROTO;
		} else {
			snprintf(u->job_id, sizeof(u->job_id), "%s", jstr(ans, "job_id"));
		}
	}
	json_object_put(ans);
	cli_resp_cleanup(&resp);
	curl_slist_free_all(req.headers);
	free(extra);
	json_object_put(body);
	return result;
}

/* The --json answer: what was uploaded, the job, and how it ended. */
static void print_json(const struct upload *u, struct json_object *job)
{
	struct json_object *o = json_object_new_object(), *v;

	json_object_object_add(o, "upload_id", json_object_new_string(u->upload_id));
	json_object_object_add(o, "upload_url", json_object_new_string(u->tus.upload_url));
	json_object_object_add(o, "object_key", json_object_new_string(u->object_key));
	json_object_object_add(o, "size", json_object_new_int64(u->tus.size));
	json_object_object_add(o, "sha256", json_object_new_string(u->tus.sha256));
	json_object_object_add(o, "job_id", json_object_new_string(u->job_id));
	if (job) {
		json_object_object_add(o, "status", json_object_new_string(jstr(job, "status")));
		if (json_object_object_get_ex(job, "result", &v))
			json_object_object_add(o, "result", json_object_get(v));
		if (json_object_object_get_ex(job, "error", &v))
			json_object_object_add(o, "error", json_object_get(v));
	}
	printf("%s\n", json_object_to_json_string_ext(o, CLI_JSON_FLAGS));
	fflush(stdout);
	json_object_put(o);
}

/* Steps 3 to 5, once the bytes are all on the server; *code is the exit
 * code when it returns RAP_OK. */
static int finish(struct upload *u, int *code, char *err)
{
	struct json_object *job = NULL;
	char ignored[RAP_ERRLEN];
	int result = verify(u, err);

	if (result == RAP_ECONFLICT) {
		/* That upload is of no use: a rerun starts over. */
		cli_resume_remove(u->dir, u->name, ignored);
		u->have_state = false;
		u->integrity = true;
	}
	if (result == RAP_OK)
		result = create_job(u, err);
	if (result != RAP_OK)
		return result;
	if (cli_resume_remove(u->dir, u->name, ignored) != RAP_OK)
		cli_progress_note(&u->progress, "warning: %s", ignored);
	u->have_state = false;
	if (!u->o->json) {
		printf("job_id %s\n", u->job_id);
		fflush(stdout);
	}
	*code = CLI_EXIT_OK;
	if (u->o->watch)
		*code = cli_watch_job(&u->http, u->o, u->job_id, u->o->json ? stderr : stdout,
				      &job);
	if (u->o->json)
		print_json(u, job);
	json_object_put(job);
	return RAP_OK;
}

/* What the user reads when the run stops early; returns the exit code. */
static int report(const struct upload *u, int result, const char *err)
{
	if (result == RAP_ECANCELED && u->have_state && u->tus.offset >= 0) {
		fprintf(stderr,
			"interrupted: %lld of %lld bytes are stored at %s; run the same "
			"command again to resume\n",
			u->tus.offset, u->tus.size, u->tus.upload_url);
		return CLI_EXIT_INTERRUPTED;
	}
	if (result == RAP_ECANCELED) {
		fprintf(stderr, "interrupted%s\n",
			u->have_state ? ": run the same command again "
					"to resume"
				      : "");
		return CLI_EXIT_INTERRUPTED;
	}
	fprintf(stderr, "error: %s\n", err);
	cli_api_hint(err);
	if (u->have_state)
		fprintf(stderr, "the upload is kept at %s: run the same command again to resume\n",
			u->tus.upload_url);
	return u->integrity ? CLI_EXIT_INTEGRITY : CLI_EXIT_ERROR;
}

int cli_upload_run(const struct cli_opts *o)
{
	struct upload u = { .o = o, .fd = -1, .lock_fd = -1 };
	char err[RAP_ERRLEN] = "";
	int result, code = CLI_EXIT_ERROR;

	cli_http_init(&u.http, o);
	cli_retry_init(&u.retry, o->retry_timeout_s * 1000);
	result = open_file(&u, err);
	if (result == RAP_OK)
		result = cli_tus_init(&u.tus, &u.http, &u.progress, u.fd, o->arg, err);
	if (result != RAP_OK) {
		/* FILE is a bad argument: a usage error. */
		fprintf(stderr, "rap: %s\n", err);
		code = CLI_EXIT_USAGE;
		goto out_close;
	}
	u.st.size = u.tus.size;
	u.st.mtime_s = u.tus.mtime_s;
	u.st.mtime_ns = u.tus.mtime_ns;
	cli_progress_init(&u.progress, stderr, isatty(STDERR_FILENO), o->quiet, u.tus.size,
			  rap_now_ms());
	result = cli_resume_dir(o->state_dir, u.dir, sizeof(u.dir));
	if (result != RAP_OK)
		snprintf(err, RAP_ERRLEN, "no state folder: give --state-dir or RAP_CLI_STATE_DIR");
	if (result == RAP_OK) {
		cli_resume_name(u.st.path, o->url, o->type, u.name, sizeof(u.name));
		result = cli_resume_lock(u.dir, u.name, &u.lock_fd, err);
	}
	if (result == RAP_OK)
		result = send_file(&u, err);
	if (result == RAP_OK)
		result = finish(&u, &code, err);
	if (result != RAP_OK)
		code = report(&u, result, err);
	cli_resume_unlock(u.dir, u.name, u.lock_fd);
out_close:
	cli_tus_cleanup(&u.tus);
	if (u.fd >= 0)
		close(u.fd);
	cli_http_cleanup(&u.http);
	return code;
}
