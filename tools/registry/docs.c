/*
 * docs.c: docs/job-types.md, the page of the job types: each type, its
 * pool, input, content allow-list, limits, attempts and params (the params
 * flattened from its JSON Schema, one row per field), with how the
 * settings change them.  Everything on the page comes from the registry
 * and its schemas; the prose around the tables is written here.
 */
#include "registry.h"

#include "rap/job.h"
#include "rap/jobtype.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

/* Writes s for a Markdown table cell: a '|' would end the cell. */
static void cell(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", out);
		else if (*s == '\n')
			fputc(' ', out);
		else
			fputc(*s, out);
	}
}

/* A JSON value as the docs show it: strings in backticks (escaped as JSON
 * when they hold odd characters), anything else as JSON text. */
static void code_value(FILE *out, struct json_object *v)
{
	const char *text = json_object_to_json_string_ext(
		v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	fputc('`', out);
	if (json_object_is_type(v, json_type_string) &&
	    strcspn(json_object_get_string(v), "\t\n\"\\`") == strlen(json_object_get_string(v)))
		cell(out, json_object_get_string(v));
	else
		cell(out, text);
	fputc('`', out);
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* "string", "string or integer". */
static void type_text(FILE *out, struct json_object *schema)
{
	struct json_object *t = get(schema, "type");

	if (!t) {
		fputs("any", out);
	} else if (json_object_is_type(t, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(t); i++)
			fprintf(out, "%s%s", i ? " or " : "",
				json_object_get_string(json_object_array_get_idx(t, i)));
	} else {
		fputs(json_object_get_string(t), out);
	}
}

/* "at least 1 item", "at most 3 items": a count of a schema keyword. */
static void count_text(FILE *out, const char *sep, const char *bound, struct json_object *v,
		       const char *unit)
{
	long long n = json_object_get_int64(v);

	fprintf(out, "%s%s %lld %s%s", sep, bound, n, unit, n == 1 ? "" : "s");
}

/* The checks of a schema in words: "one of ...; 1 to 256 characters". */
static void constraints(FILE *out, struct json_object *schema, bool required)
{
	struct json_object *v, *items;
	const char *sep = "";

	if (required) {
		fputs("required", out);
		sep = "; ";
	}
	if ((v = get(schema, "enum"))) {
		fprintf(out, "%sone of ", sep);
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			fputs(i ? ", " : "", out);
			code_value(out, json_object_array_get_idx(v, i));
		}
		sep = "; ";
	}
	if ((v = get(schema, "const"))) {
		fprintf(out, "%sexactly ", sep);
		code_value(out, v);
		sep = "; ";
	}
	if ((v = get(schema, "minimum"))) {
		fprintf(out, "%sat least %s", sep, json_object_to_json_string(v));
		sep = "; ";
	}
	if ((v = get(schema, "maximum"))) {
		fprintf(out, "%sat most %s", sep, json_object_to_json_string(v));
		sep = "; ";
	}
	if ((v = get(schema, "minLength"))) {
		count_text(out, sep, "at least", v, "character");
		sep = "; ";
	}
	if ((v = get(schema, "maxLength"))) {
		count_text(out, sep, "at most", v, "character");
		sep = "; ";
	}
	if ((v = get(schema, "minItems"))) {
		count_text(out, sep, "at least", v, "item");
		sep = "; ";
	}
	if ((v = get(schema, "maxItems"))) {
		count_text(out, sep, "at most", v, "item");
		sep = "; ";
	}
	items = get(schema, "items");
	if (items && !get(items, "properties")) {
		fprintf(out, "%seach item: ", sep);
		type_text(out, items);
		if (get(items, "enum") || get(items, "maxLength") || get(items, "minLength")) {
			fputs(", ", out);
			constraints(out, items, false);
		}
	}
}

static bool is_required(struct json_object *object_schema, const char *name)
{
	struct json_object *req = get(object_schema, "required");

	for (size_t i = 0; req && i < json_object_array_length(req); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(req, i)), name) == 0)
			return true;
	return false;
}

/* One row per property of an object schema, and of the objects in its
 * arrays (their fields as name[].field). */
static void param_rows(FILE *out, struct json_object *object_schema, const char *prefix)
{
	struct json_object *props = get(object_schema, "properties");

	if (!props)
		return;
	json_object_object_foreach(props, name, schema) {
		struct json_object *items = get(schema, "items"), *def = get(schema, "default");
		struct json_object *desc = get(schema, "description");
		char path[256];

		snprintf(path, sizeof(path), "%s%s", prefix, name);
		fprintf(out, "| `%s` | ", path);
		type_text(out, schema);
		fputs(" | ", out);
		constraints(out, schema, is_required(object_schema, name));
		fputs(" | ", out);
		if (def)
			code_value(out, def);
		fputs(" | ", out);
		cell(out, desc ? json_object_get_string(desc) : "");
		fputs(" |\n", out);
		if (items && get(items, "properties")) {
			char sub[260];

			snprintf(sub, sizeof(sub), "%s[].", path);
			param_rows(out, items, sub);
		}
	}
}

static void params_section(FILE *out, const struct rap_jobtype *t)
{
	const struct rap_params_schema *ps =
		t->params_schema ? rap_params_schema_find(t->params_schema) : NULL;
	struct json_object *schema, *desc;

	if (!ps) {
		fputs("Params: none (`params` must be absent or `{}`).\n", out);
		return;
	}
	schema = json_tokener_parse(ps->text);
	desc = get(schema, "description");
	fprintf(out, "Params ([`proto/schemas/params/%s`](../proto/schemas/params/%s)): ", ps->name,
		ps->name);
	fprintf(out, "%s%s\n\n", desc ? json_object_get_string(desc) : "",
		get(schema, "additionalProperties") &&
				!json_object_get_boolean(get(schema, "additionalProperties"))
			? " Other fields are refused."
			: "");
	fputs("| field | type | checks | default | meaning |\n|---|---|---|---|---|\n", out);
	param_rows(out, schema, "");
	json_object_put(schema);
}

static const char *runner_name(enum rap_jobtype_runner r)
{
	return r == RAP_RUN_SANDBOX ? "sandbox" : "worker";
}

static void content_text(FILE *out, const char *content)
{
	char list[1024], *p, *save = NULL;

	if (!content[0]) {
		fputs("any", out);
		return;
	}
	snprintf(list, sizeof(list), "%s", content);
	for (p = strtok_r(list, "|", &save); p; p = strtok_r(NULL, "|", &save))
		fprintf(out, "%s`%s`", p == list ? "" : ", ", p);
}

/* 21600 -> "6 h", 90 -> "90 s", 1800 -> "30 min". */
static void seconds_text(FILE *out, long long s)
{
	if (s >= 3600 && s % 3600 == 0)
		fprintf(out, "%lld h", s / 3600);
	else if (s >= 60 && s % 60 == 0)
		fprintf(out, "%lld min", s / 60);
	else
		fprintf(out, "%lld s", s);
}

/* 20480 -> "20 GiB", 128 -> "128 MiB", 0 -> "none". */
static void mib_text(FILE *out, long long mb)
{
	if (mb == 0)
		fputs("none", out);
	else if (mb >= 1024 && mb % 1024 == 0)
		fprintf(out, "%lld GiB", mb / 1024);
	else
		fprintf(out, "%lld MiB", mb);
}

/* The anchor GitHub gives a heading: lower case, punctuation dropped. */
static void anchor(const char *heading, char *out, size_t len)
{
	size_t n = 0;

	for (; *heading && n + 1 < len; heading++) {
		char c = *heading;

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')
			out[n++] = c;
		else if (c >= 'A' && c <= 'Z')
			out[n++] = (char)(c - 'A' + 'a');
		else if (c == ' ')
			out[n++] = '-';
	}
	out[n] = '\0';
}

static void overview(FILE *out)
{
	const char *pools[RAP_JOBTYPE_POOLS_MAX];
	size_t n = rap_jobtype_pools(pools, RAP_JOBTYPE_POOLS_MAX);
	char queue[RAP_JOBTYPE_QUEUE_LEN];

	fputs("| type | pool | input | runs in | attempts | enabled by default | summary |\n"
	      "|---|---|---|---|---|---|---|\n",
	      out);
	for (size_t i = 0; i < rap_jobtypes_count; i++) {
		const struct rap_jobtype *t = &rap_jobtypes[i];
		char a[RAP_MAX_JOB_TYPE + 1];

		anchor(t->name, a, sizeof(a));
		fprintf(out, "| [`%s`](#%s) | %s | %s | %s | %d | %s | ", t->name, a, t->pool,
			rap_jobtype_input_name(t->input), runner_name(t->runner), t->max_attempts,
			t->test_only ? "no (a test type)"
			: t->opt_in  ? "no (opt-in)"
				     : "yes");
		cell(out, t->summary);
		fputs(" |\n", out);
	}
	fputs("\n## Pools\n\n"
	      "A pool is a work queue of its own, so that heavy and light work scale apart:\n"
	      "each type's routing key is bound from exchange `jobs` to its pool's queue, a\n"
	      "quorum queue with the arguments of every work queue (`x-dead-letter-exchange\n"
	      "jobs.dlx`, `x-delivery-limit 5`, at-least-once dead-lettering,\n"
	      "`x-overflow reject-publish`). A worker consumes the queues of the pools in\n"
	      "`RAP_WORKER_POOLS` (default: every pool), each on a slot of its own (a\n"
	      "thread with its own connections, one job or one batch of quick jobs at a\n"
	      "time), so a long job of one pool never holds up another pool's jobs. A\n"
	      "slot holds at most its pool's prefetch of deliveries (below;\n"
	      "`RAP_WORKER_PREFETCH` replaces it for every pool). The retry tiers\n"
	      "dead-letter a message back into `jobs` with its routing key, so a retried\n"
	      "job returns to its pool.\n\n"
	      "| pool | queue | prefetch | why | job types |\n|---|---|---|---|---|\n",
	      out);
	for (size_t p = 0; p < n; p++) {
		const char *sep = "";

		rap_jobtype_queue(pools[p], queue, sizeof(queue));
		fprintf(out, "| `%s` | `%s` | %d | ", pools[p], queue,
			rap_jobtype_pool_prefetch(pools[p]));
		for (size_t k = 0; k < rap_jobpools_count; k++)
			if (strcmp(rap_jobpools[k].name, pools[p]) == 0)
				cell(out, rap_jobpools[k].why);
		fputs(" | ", out);
		for (size_t i = 0; i < rap_jobtypes_count; i++)
			if (strcmp(rap_jobtypes[i].pool, pools[p]) == 0) {
				fprintf(out, "%s`%s`", sep, rap_jobtypes[i].name);
				sep = ", ";
			}
		fputs(" |\n", out);
	}
}

static void limits_table(FILE *out)
{
	fputs("\n## Limits\n\n"
	      "What one attempt of a job may use: its wall time, the CPU seconds and the\n"
	      "memory (address space) of its sandboxed child, the bytes of all its outputs\n"
	      "together, and the largest input it takes. The worker's sandbox holds each\n"
	      "child to them; a type that runs in the worker itself is not held to its\n"
	      "limits, which only describe it. Stream types\n"
	      "read the object front to back and may take an object as large as an upload\n"
	      "(`RAP_UPLOAD_MAX_BYTES`, 10 GiB by default); file types need a seekable\n"
	      "scratch copy on the worker's disk, so theirs is smaller.\n\n"
	      "| type | wall time | CPU | memory | output | input |\n|---|---|---|---|---|---|\n",
	      out);
	for (size_t i = 0; i < rap_jobtypes_count; i++) {
		const struct rap_jobtype_limits *l = &rap_jobtypes[i].limits;

		fprintf(out, "| `%s` | ", rap_jobtypes[i].name);
		seconds_text(out, l->wall_s);
		fputs(" | ", out);
		seconds_text(out, l->cpu_s);
		fputs(" | ", out);
		mib_text(out, l->memory_mb);
		fputs(" | ", out);
		mib_text(out, l->output_mb);
		fputs(" | ", out);
		mib_text(out, l->input_mb);
		fputs(" |\n", out);
	}
	fputs("\n`RAP_JOB_LIMITS` replaces limits of named types, for job-api (which shows\n"
	      "them) and the worker (which applies them): entries `type=key:value[;key:value...]`\n"
	      "separated by commas, keys `wall` and `cpu` (seconds, or a number with `s`, `m`\n"
	      "or `h`), `memory`, `output` and `input` (MiB, or a number with `M` or `G`). For\n"
	      "example `RAP_JOB_LIMITS=csv.validate=wall:3h;memory:256,file.inspect=cpu:60`.\n"
	      "It is checked whole at start: an unknown type or key, a unit that does not fit\n"
	      "the key, a value out of bounds (wall and CPU 1 s to 30 days, memory 16 MiB to\n"
	      "1 TiB, output 1 MiB to 4 TiB, input 1 MiB to 5 TiB) or a name given twice\n"
	      "stops the service with a message that names the entry.\n",
	      out);
}

static void content_section(FILE *out)
{
	fputs("\n## Content\n\n"
	      "A type takes only the content its allow-list names, by the type libmagic\n"
	      "detects in the first 64 KiB of the file, whatever the client claims: upload-api\n"
	      "checks it as the first bytes arrive when the upload names a `job_type`, and\n"
	      "job-api when the job is created (415 `unsupported_content`). The lists are\n"
	      "what libmagic 5.44 says of real files (`tests/fixtures/magic/`): a CSV is\n"
	      "`text/csv` only when its comma heuristic fires, else `text/plain`; an xlsx\n"
	      "whose zip does not start with `[Content_Types].xml` is `application/zip`; the\n"
	      "first 64 KiB of an xls larger than that are `application/x-ole-storage`.\n"
	      "`RAP_JOB_CONTENT_TYPES` replaces the list of named types:\n"
	      "`type=mime|major/*[,...]`, or `type=*` for any content.\n",
	      out);
}

static void type_section(FILE *out, const struct rap_jobtype *t)
{
	char queue[RAP_JOBTYPE_QUEUE_LEN];
	const struct rap_jobtype_limits *l = &t->limits;

	rap_jobtype_queue(t->pool, queue, sizeof(queue));
	fprintf(out, "\n### %s\n\n%s\n\n", t->name, t->summary);
	fprintf(out, "- pool `%s` (queue `%s`); input: %s; runs in the %s%s\n", t->pool, queue,
		rap_jobtype_input_name(t->input), runner_name(t->runner),
		t->quick ? "; quick: claimed and completed in batches" : "");
	fputs("- content: ", out);
	content_text(out, t->content);
	fprintf(out, "\n- attempts: %d; limits: wall ", t->max_attempts);
	seconds_text(out, l->wall_s);
	fputs(", CPU ", out);
	seconds_text(out, l->cpu_s);
	fputs(", memory ", out);
	mib_text(out, l->memory_mb);
	fputs(", output ", out);
	mib_text(out, l->output_mb);
	fputs(", input ", out);
	mib_text(out, l->input_mb);
	fprintf(out, "\n%s\n",
		t->test_only ? "- a test type: never in the default RAP_JOB_TYPES"
		: t->opt_in  ? "- opt-in: not in the default RAP_JOB_TYPES (it needs what the "
			       "operator provides: docs/deploy.md)"
			     : "- in the default RAP_JOB_TYPES");
	if (t->fork_server)
		fputs("- runs in a child forked from the worker's fork server, which loaded its "
		      "shared state once (docs/sandbox.md)\n",
		      out);
	fputc('\n', out);
	params_section(out, t);
}

void registry_docs(FILE *out)
{
	fputs("# Job types\n\n"
	      "<!-- Generated by `build/rap-registry docs` from the registry, "
	      "lib/domain/jobtype.c, and proto/schemas/params/: do not edit; run "
	      "scripts/gen-registry. -->\n\n"
	      "Every job type is declared once, in the registry (`lib/domain/jobtype.c`): its\n"
	      "name, the content it takes, its params (a JSON Schema in\n"
	      "`proto/schemas/params/`, checked when the job is created: 422\n"
	      "`invalid_params` naming the field), its limits, its attempts and its worker\n"
	      "pool. job-api accepts the types of `RAP_JOB_TYPES` (a name that is not in the\n"
	      "registry stops the service at start) and lists them, with the settings\n"
	      "applied, at `GET /api/job-types` and `GET /api/job-types/{name}`. The\n"
	      "RabbitMQ definitions, the work queues of `proto/asyncapi.yaml` and this page\n"
	      "are printed from the registry (`scripts/gen-registry`); a contract test fails\n"
	      "when they drift. The values below are the registry's; `RAP_JOB_CONTENT_TYPES`,\n"
	      "`RAP_JOB_LIMITS` and `RAP_JOB_MAX_ATTEMPTS` replace them per type\n"
	      "([configuration.md](configuration.md)).\n\n",
	      out);
	overview(out);
	limits_table(out);
	content_section(out);
	fputs("\n## The types\n", out);
	for (size_t i = 0; i < rap_jobtypes_count; i++)
		type_section(out, &rap_jobtypes[i]);
}
