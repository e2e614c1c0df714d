/*
 * settings.c: the settings that several services share, as tables by
 * group (rap/settings.h).  A service's own settings live with its code.
 */
#include "rap/settings.h"

#include <stdlib.h>

#define S(field) offsetof(struct rap_settings, field)

static const struct rap_cfg_opt base[] = {
	{ "RAP_LOG_LEVEL", RAP_CFG_STR, 0, 0, "info",
	  "least level logged: debug, info, warn or error", S(log_level) },
	{ "RAP_BIND", RAP_CFG_STR, 0, 0, "127.0.0.1", "address the HTTP/WebSocket listeners bind",
	  S(bind) },
};

static const struct rap_cfg_opt pg[] = {
	{ "RAP_PG_URL", RAP_CFG_STR, 0, 0, "postgresql://postgres@127.0.0.1:5439/rap",
	  "PostgreSQL connection URI", S(pg_url) },
};

static const struct rap_cfg_opt amqp[] = {
	{ "RAP_AMQP_URL", RAP_CFG_STR, 0, 0, "amqp://rap:rap@127.0.0.1:5679/",
	  "RabbitMQ URL (amqp://user:pass@host:port/vhost)", S(amqp_url) },
	{ "RAP_AMQP_DEFINITIONS", RAP_CFG_STR, 0, 0,
	  RAP_SOURCE_DIR "/infra/rabbitmq/definitions.json",
	  "RabbitMQ definitions file whose topology services re-declare", S(amqp_definitions) },
};

static const struct rap_cfg_opt s3[] = {
	{ "RAP_S3_ENDPOINT", RAP_CFG_STR, 0, 0, "http://127.0.0.1:9100",
	  "S3 endpoint URL (path-style addressing)", S(s3_endpoint) },
	{ "RAP_S3_REGION", RAP_CFG_STR, 0, 0, "us-east-1", "S3 region used in Signature V4",
	  S(s3_region) },
	{ "RAP_S3_BUCKET", RAP_CFG_STR, 0, 0, "rap-data", "bucket for uploads and outputs",
	  S(s3_bucket) },
	{ "RAP_S3_ACCESS_KEY", RAP_CFG_STR, 0, 0, "S3RVER", "S3 access key id", S(s3_access_key) },
	{ "RAP_S3_SECRET_KEY", RAP_CFG_STR, 0, 0, "S3RVER", "S3 secret access key",
	  S(s3_secret_key) },
};

static const struct rap_cfg_opt presign[] = {
	{ "RAP_S3_PUBLIC_ENDPOINT", RAP_CFG_STR, 0, 0, "",
	  "S3 endpoint that clients reach, for presigned URLs (default: RAP_S3_ENDPOINT)",
	  S(s3_public_endpoint) },
	{ "RAP_PRESIGN_SECONDS", RAP_CFG_INT, 60, 604800, "3600",
	  "how long presigned upload and download URLs stay valid", S(presign_seconds) },
};

static const struct rap_cfg_opt auth[] = {
	{ "RAP_API_KEYS", RAP_CFG_STR, 0, 0, "dev-key=dev",
	  "API keys and their owners: key=owner[,key=owner...]; key=owner:admin makes an "
	  "admin's key (lists and replays every owner's DEAD jobs), key=owner:user is the same "
	  "as key=owner",
	  S(api_keys) },
};

static const struct rap_cfg_opt job_types[] = {
	{ "RAP_JOB_TYPES", RAP_CFG_STR, 0, 0,
	  "file.inspect,noop,csv.validate,xlsx.validate,xls.validate,image.thumbnail,pdf.text,"
	  "video.probe",
	  "job types accepted by job-api and run by workers (comma-separated), each a type of the "
	  "registry (docs/job-types.md); a name that is not stops the service at start",
	  S(job_types) },
};

static const struct rap_cfg_opt job_content[] = {
	{ "RAP_JOB_CONTENT_TYPES", RAP_CFG_STR, 0, 0, "",
	  "content a job type takes, by the type libmagic detects, replacing the registry's "
	  "allow-list (docs/job-types.md): type=mime|mime|major/*[,...], or type=* for any content",
	  S(job_content_types) },
};

static const struct rap_cfg_opt job_limits[] = {
	{ "RAP_JOB_LIMITS", RAP_CFG_STR, 0, 0, "",
	  "limits of job types, replacing the registry's (docs/job-types.md): "
	  "type=key:value[;key:value...][,...], keys wall and cpu (seconds, or with s, m or h), "
	  "memory, output and input (MiB, or with M or G); e.g. csv.validate=wall:3h;memory:256",
	  S(job_limits) },
};

#define ROWS(t) (sizeof(t) / sizeof((t)[0]))

static const struct {
	unsigned group;
	const struct rap_cfg_opt *opts;
	size_t n;
} by_group[RAP_SETTINGS_GROUPS] = {
	{ RAP_SETTINGS_BASE, base, ROWS(base) },
	{ RAP_SETTINGS_PG, pg, ROWS(pg) },
	{ RAP_SETTINGS_AMQP, amqp, ROWS(amqp) },
	{ RAP_SETTINGS_S3, s3, ROWS(s3) },
	{ RAP_SETTINGS_PRESIGN, presign, ROWS(presign) },
	{ RAP_SETTINGS_AUTH, auth, ROWS(auth) },
	{ RAP_SETTINGS_JOB_TYPES, job_types, ROWS(job_types) },
	{ RAP_SETTINGS_JOB_CONTENT, job_content, ROWS(job_content) },
	{ RAP_SETTINGS_JOB_LIMITS, job_limits, ROWS(job_limits) },
};

size_t rap_settings_tables(unsigned groups, struct rap_settings *s, struct rap_cfg_table *out)
{
	size_t n = 0;

	for (size_t i = 0; i < RAP_SETTINGS_GROUPS; i++)
		if (groups & by_group[i].group)
			out[n++] = (struct rap_cfg_table){ by_group[i].opts, by_group[i].n, s };
	return n;
}

const char *rap_settings_env(void *ctx, const char *name)
{
	const char *v = getenv(name);

	(void)ctx;
	return v && *v ? v : NULL;
}
