/*
 * types.c: the job types as job-api serves them: the registry
 * (lib/domain/jobtype.c) with the settings applied, read once at start.
 * Holds each enabled type's compiled params schema, which every job
 * creation is checked against, and the answers of GET /job-types and
 * GET /job-types/{name}, which never change while the process runs.
 */
#include "job_api.h"

#include "rap/err.h"
#include "rap/http.h"
#include "rap/jobtype.h"
#include "rap/jsonschema.h"
#include "rap/list.h"
#include "rap/mem.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The schema of a type that takes no params: an empty object. */
#define NO_PARAMS "{\"type\":\"object\",\"additionalProperties\":false}"

struct job_api_type {
	const struct rap_jobtype *t;
	bool enabled;
	struct rap_jsonschema *schema; /* its params', or NO_PARAMS */
	char *json;                    /* its GET /job-types/{name} answer */
};

/* The content allow-list as an array of detected types, null for any. */
static struct json_object *content_json(const struct rap_jobtype *t, const char *overrides)
{
	struct json_object *a;
	char list[1024], *p, *save = NULL;

	rap_jobtype_effective_content(t, overrides, list, sizeof(list));
	if (!list[0])
		return NULL;
	a = json_object_new_array();
	for (p = strtok_r(list, "|", &save); p; p = strtok_r(NULL, "|", &save))
		json_object_array_add(a, json_object_new_string(p));
	return a;
}

static struct json_object *limits_json(const struct rap_jobtype_limits *l)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "wall_s", json_object_new_int64(l->wall_s));
	json_object_object_add(o, "cpu_s", json_object_new_int64(l->cpu_s));
	json_object_object_add(o, "memory_mb", json_object_new_int64(l->memory_mb));
	json_object_object_add(o, "output_mb", json_object_new_int64(l->output_mb));
	json_object_object_add(o, "input_mb", json_object_new_int64(l->input_mb));
	return o;
}

/* A type as GET /job-types shows it (proto/schemas/job-type.json). */
static struct json_object *type_json(const struct job_api *api, const struct rap_jobtype *t)
{
	const struct rap_settings *cfg = &api->svc.cfg;
	const struct rap_params_schema *ps =
		t->params_schema ? rap_params_schema_find(t->params_schema) : NULL;
	struct json_object *o = json_object_new_object();
	struct rap_jobtype_limits lim;
	char queue[RAP_JOBTYPE_QUEUE_LEN];

	rap_jobtype_effective_limits(t, cfg->job_limits, &lim);
	rap_jobtype_queue(t->pool, queue, sizeof(queue));
	json_object_object_add(o, "name", json_object_new_string(t->name));
	json_object_object_add(o, "summary", json_object_new_string(t->summary));
	json_object_object_add(o, "pool", json_object_new_string(t->pool));
	json_object_object_add(o, "queue", json_object_new_string(queue));
	json_object_object_add(o, "input",
			       json_object_new_string(rap_jobtype_input_name(t->input)));
	json_object_object_add(o, "content", content_json(t, cfg->job_content_types));
	json_object_object_add(o, "params", ps ? json_tokener_parse(ps->text) : NULL);
	json_object_object_add(o, "limits", limits_json(&lim));
	json_object_object_add(
		o, "max_attempts",
		json_object_new_int(rap_jobtype_effective_attempts(t, api->cfg.job_max_attempts)));
	return o;
}

static const char *to_text(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							 JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* Compiles the schema of t into *out (a type without one: NO_PARAMS). */
static int compile_schema(const struct rap_jobtype *t, struct rap_jsonschema **out, char *err)
{
	const struct rap_params_schema *ps =
		t->params_schema ? rap_params_schema_find(t->params_schema) : NULL;
	char why[RAP_ERRLEN];

	if (t->params_schema && !ps) {
		snprintf(err, RAP_ERRLEN, "job type %s: its schema %s is not compiled in", t->name,
			 t->params_schema);
		return RAP_EINVAL;
	}
	if (rap_jsonschema_new(ps ? ps->text : NO_PARAMS, ps ? ps->len : strlen(NO_PARAMS), out,
			       why) != RAP_OK) {
		snprintf(err, RAP_ERRLEN, "job type %.64s: %.150s", t->name, why);
		return RAP_EINVAL;
	}
	return RAP_OK;
}

int job_api_types_init(struct job_api *api, char *err)
{
	const struct rap_settings *cfg = &api->svc.cfg;
	struct rap_jobtype_settings s = { .types = cfg->job_types,
					  .content = cfg->job_content_types,
					  .limits = cfg->job_limits,
					  .attempts = api->cfg.job_max_attempts };
	struct json_object *list, *all;
	int result;

	result = rap_jobtype_settings_check(&s, err);
	if (result != RAP_OK)
		return result;
	api->types = rap_calloc(rap_jobtypes_count, sizeof(*api->types));
	api->content_list = rap_jobtype_content_list(cfg->job_content_types);
	list = json_object_new_array();
	for (size_t i = 0; i < rap_jobtypes_count && result == RAP_OK; i++) {
		struct job_api_type *jt = &api->types[i];
		struct json_object *o;

		jt->t = &rap_jobtypes[i];
		jt->enabled = rap_list_contains(cfg->job_types, jt->t->name);
		if (!jt->enabled)
			continue;
		result = compile_schema(jt->t, &jt->schema, err);
		o = type_json(api, jt->t);
		jt->json = rap_strdup(to_text(o));
		json_object_array_add(list, o);
	}
	all = json_object_new_object();
	json_object_object_add(all, "job_types", list);
	api->types_json = rap_strdup(to_text(all));
	json_object_put(all);
	return result;
}

void job_api_types_cleanup(struct job_api *api)
{
	if (api->types)
		for (size_t i = 0; i < rap_jobtypes_count; i++) {
			rap_jsonschema_free(api->types[i].schema);
			free(api->types[i].json);
		}
	free(api->types);
	api->types = NULL;
	free(api->content_list);
	api->content_list = NULL;
	free(api->types_json);
	api->types_json = NULL;
}

/* The enabled type of that name, or NULL. */
static const struct job_api_type *enabled(const struct job_api *api, const char *name)
{
	const struct rap_jobtype *t = rap_jobtype_find(name);
	const struct job_api_type *jt = t ? &api->types[t - rap_jobtypes] : NULL;

	return jt && jt->enabled ? jt : NULL;
}

bool job_api_type_enabled(const struct job_api *api, const char *name)
{
	return enabled(api, name) != NULL;
}

int job_api_params_check(const struct job_api *api, const char *type, const char *params,
			 const char *root, char *err)
{
	const struct job_api_type *jt = enabled(api, type);

	if (!jt) {
		snprintf(err, RAP_ERRLEN, "job type '%.64s' is not enabled", type);
		return RAP_EINVAL;
	}
	return rap_jsonschema_check(jt->schema, params, strlen(params), root, err);
}

void job_api_types_list(void *svc, struct rap_http_req *req)
{
	struct job_api *api = svc;

	rap_http_reply(req, 200, api->types_json);
}

void job_api_type_get(void *svc, struct rap_http_req *req)
{
	struct job_api *api = svc;
	const char *name = rap_http_param(req, "name");
	const struct job_api_type *jt = enabled(api, name);

	if (!jt) {
		rap_http_error(req, 404, "not_found", "no job type '%.64s' here (enabled: %.150s)",
			       name, api->svc.cfg.job_types);
		return;
	}
	rap_http_reply(req, 200, jt->json);
}
