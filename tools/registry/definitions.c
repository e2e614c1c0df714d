/*
 * definitions.c: infra/rabbitmq/definitions.json, printed whole: the file
 * RabbitMQ loads at boot and every service re-declares at start.  The work
 * queues come from the registry (one per pool, jobs.work.<pool>, each with
 * exactly the arguments of registry_work_args, a binding from `jobs` per job
 * type); the rest of the topology is the platform's and is written here
 * once: the user, exchanges, dead letters, retry tiers.  Printed as
 * JSON.stringify(value, null, 2) would print it, so the file diffs cleanly.
 */
#include "registry.h"

#include "rap/jobtype.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

const struct registry_arg registry_work_args[] = {
	{ "x-queue-type", "quorum", 0 },
	{ "x-dead-letter-exchange", "jobs.dlx", 0 },
	/* A message that crashes workers again and again ends in the DLQ. */
	{ "x-delivery-limit", NULL, 5 },
	/* Dead-lettering itself cannot lose messages. */
	{ "x-dead-letter-strategy", "at-least-once", 0 },
	{ "x-overflow", "reject-publish", 0 },
};

const size_t registry_work_args_count = sizeof(registry_work_args) / sizeof(registry_work_args[0]);

/* The retry tiers in seconds: services/worker/lifecycle.c's
 * worker_retry_delay picks one of these. */
static const int retry_tiers[] = { 1, 2, 4, 8, 16, 32, 64, 128, 256 };

/* The password hash of the development user rap (password rap). */
#define RAP_PASSWORD_HASH "WjyeAabJsLbSrdfqGiJKhbn0UeFh12JbmYJR+xkvayTjVJdp"

static void put_str(struct json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, json_object_new_string(v));
}

static void put_bool(struct json_object *o, const char *key, int v)
{
	json_object_object_add(o, key, json_object_new_boolean(v));
}

static struct json_object *exchange(const char *name, const char *type)
{
	struct json_object *o = json_object_new_object();

	put_str(o, "name", name);
	put_str(o, "vhost", "/");
	put_str(o, "type", type);
	put_bool(o, "durable", 1);
	put_bool(o, "auto_delete", 0);
	put_bool(o, "internal", 0);
	json_object_object_add(o, "arguments", json_object_new_object());
	return o;
}

/* A durable queue; its arguments object is returned through args. */
static struct json_object *queue(const char *name, struct json_object **args)
{
	struct json_object *o = json_object_new_object();

	put_str(o, "name", name);
	put_str(o, "vhost", "/");
	put_bool(o, "durable", 1);
	put_bool(o, "auto_delete", 0);
	*args = json_object_new_object();
	put_str(*args, "x-queue-type", "quorum");
	json_object_object_add(o, "arguments", *args);
	return o;
}

static struct json_object *binding(const char *source, const char *dest, const char *key,
				   struct json_object *args)
{
	struct json_object *o = json_object_new_object();

	put_str(o, "source", source);
	put_str(o, "vhost", "/");
	put_str(o, "destination", dest);
	put_str(o, "destination_type", "queue");
	put_str(o, "routing_key", key);
	json_object_object_add(o, "arguments", args ? args : json_object_new_object());
	return o;
}

static void work_queues(struct json_object *queues, struct json_object *bindings)
{
	const char *pools[RAP_JOBTYPE_POOLS_MAX];
	size_t n = rap_jobtype_pools(pools, RAP_JOBTYPE_POOLS_MAX);
	char name[RAP_JOBTYPE_QUEUE_LEN];
	struct json_object *args;

	for (size_t i = 0; i < n; i++) {
		struct json_object *q;

		rap_jobtype_queue(pools[i], name, sizeof(name));
		q = queue(name, &args);
		/* queue() wrote x-queue-type, the first of them. */
		for (size_t k = 1; k < registry_work_args_count; k++) {
			const struct registry_arg *a = &registry_work_args[k];

			json_object_object_add(args, a->name,
					       a->text ? json_object_new_string(a->text)
						       : json_object_new_int64(a->num));
		}
		json_object_array_add(queues, q);
	}
	for (size_t i = 0; i < rap_jobtypes_count; i++) {
		rap_jobtype_queue(rap_jobtypes[i].pool, name, sizeof(name));
		json_object_array_add(bindings, binding("jobs", name, rap_jobtypes[i].name, NULL));
	}
}

/* The TTL queues of the retry tiers, and the headers bindings that route
 * a message with x-retry-delay-s = "N" to jobs.retry.Ns. */
static void retry_queues(struct json_object *queues, struct json_object *bindings)
{
	struct json_object *args, *match;
	char name[32], delay[12];

	for (size_t i = 0; i < sizeof(retry_tiers) / sizeof(retry_tiers[0]); i++) {
		snprintf(name, sizeof(name), "jobs.retry.%ds", retry_tiers[i]);
		json_object_array_add(queues, queue(name, &args));
		json_object_object_add(args, "x-message-ttl",
				       json_object_new_int(retry_tiers[i] * 1000));
		put_str(args, "x-dead-letter-exchange", "jobs");
		put_str(args, "x-dead-letter-strategy", "at-least-once");
		put_str(args, "x-overflow", "reject-publish");
	}
	for (size_t i = 0; i < sizeof(retry_tiers) / sizeof(retry_tiers[0]); i++) {
		snprintf(name, sizeof(name), "jobs.retry.%ds", retry_tiers[i]);
		snprintf(delay, sizeof(delay), "%d", retry_tiers[i]);
		match = json_object_new_object();
		put_str(match, "x-match", "all");
		put_str(match, "x-retry-delay-s", delay);
		json_object_array_add(bindings, binding("jobs.retry", name, "", match));
	}
}

static struct json_object *build(void)
{
	struct json_object *d = json_object_new_object(), *a, *o, *queues, *bindings, *args;

	put_str(d, "rabbit_version", "3.10.8");
	a = json_object_new_array();
	o = json_object_new_object();
	put_str(o, "name", "rap");
	put_str(o, "password_hash", RAP_PASSWORD_HASH);
	put_str(o, "hashing_algorithm", "rabbit_password_hashing_sha256");
	json_object_object_add(o, "tags", json_object_new_array());
	json_object_array_add(json_object_object_get(o, "tags"),
			      json_object_new_string("administrator"));
	json_object_array_add(a, o);
	json_object_object_add(d, "users", a);
	a = json_object_new_array();
	o = json_object_new_object();
	put_str(o, "name", "/");
	json_object_array_add(a, o);
	json_object_object_add(d, "vhosts", a);
	a = json_object_new_array();
	o = json_object_new_object();
	put_str(o, "user", "rap");
	put_str(o, "vhost", "/");
	put_str(o, "configure", ".*");
	put_str(o, "write", ".*");
	put_str(o, "read", ".*");
	json_object_array_add(a, o);
	json_object_object_add(d, "permissions", a);

	a = json_object_new_array();
	json_object_array_add(a, exchange("jobs", "direct"));
	json_object_array_add(a, exchange("jobs.retry", "headers"));
	json_object_array_add(a, exchange("jobs.dlx", "fanout"));
	json_object_array_add(a, exchange("jobs.status", "topic"));
	json_object_object_add(d, "exchanges", a);

	queues = json_object_new_array();
	bindings = json_object_new_array();
	work_queues(queues, bindings);
	json_object_array_add(queues, queue("jobs.dlq", &args));
	json_object_array_add(bindings, binding("jobs.dlx", "jobs.dlq", "", NULL));
	retry_queues(queues, bindings);
	json_object_array_add(queues, queue("jobs.dead-letters", &args));
	json_object_array_add(bindings, binding("jobs.dlx", "jobs.dead-letters", "", NULL));
	json_object_object_add(d, "queues", queues);
	json_object_object_add(d, "bindings", bindings);
	json_object_object_add(d, "policies", json_object_new_array());
	json_object_object_add(d, "parameters", json_object_new_array());
	json_object_object_add(d, "global_parameters", json_object_new_array());
	json_object_object_add(d, "topic_permissions", json_object_new_array());
	return d;
}

static void indent(FILE *out, int depth)
{
	for (int i = 0; i < depth; i++)
		fputs("  ", out);
}

/* A string as JSON.stringify writes it. */
static void print_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

/* Prints v as JSON.stringify(v, null, 2) does. */
static void print_value(FILE *out, struct json_object *v, int depth)
{
	size_t i, n;

	switch (json_object_get_type(v)) {
	case json_type_object:
		if (json_object_object_length(v) == 0) {
			fputs("{}", out);
			return;
		}
		fputs("{\n", out);
		i = 0;
		json_object_object_foreach(v, key, val) {
			indent(out, depth + 1);
			print_string(out, key);
			fputs(": ", out);
			print_value(out, val, depth + 1);
			fputs(++i < (size_t)json_object_object_length(v) ? ",\n" : "\n", out);
		}
		indent(out, depth);
		fputc('}', out);
		return;
	case json_type_array:
		n = json_object_array_length(v);
		if (n == 0) {
			fputs("[]", out);
			return;
		}
		fputs("[\n", out);
		for (i = 0; i < n; i++) {
			indent(out, depth + 1);
			print_value(out, json_object_array_get_idx(v, i), depth + 1);
			fputs(i + 1 < n ? ",\n" : "\n", out);
		}
		indent(out, depth);
		fputc(']', out);
		return;
	case json_type_string:
		print_string(out, json_object_get_string(v));
		return;
	default:
		fputs(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), out);
		return;
	}
}

void registry_definitions(FILE *out)
{
	struct json_object *d = build();

	print_value(out, d, 0);
	fputc('\n', out);
	json_object_put(d);
}
