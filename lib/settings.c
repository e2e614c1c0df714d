/* settings.c: the platform's one configuration table. */
#include "rap/settings.h"
#include "rap/config.h"
#include "rap/err.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define S(field) offsetof(struct rap_settings, field)
#define GiB (1024LL * 1024 * 1024)
#define MiB (1024LL * 1024)

static const struct rap_cfg_opt settings_table[] = {
	{ "RAP_LOG_LEVEL", RAP_CFG_STR, 0, 0, "info",
	  "least level logged: debug, info, warn or error", S(log_level) },
	{ "RAP_BIND", RAP_CFG_STR, 0, 0, "127.0.0.1",
	  "address the HTTP/WebSocket listeners bind", S(bind) },
	{ "RAP_UPLOAD_PORT", RAP_CFG_INT, 1, 65535, "8101",
	  "upload-api HTTP port", S(upload_port) },
	{ "RAP_JOB_PORT", RAP_CFG_INT, 1, 65535, "8102",
	  "job-api HTTP port", S(job_port) },
	{ "RAP_NOTIFIER_PORT", RAP_CFG_INT, 1, 65535, "8103",
	  "notifier WebSocket and HTTP port", S(notifier_port) },
	{ "RAP_WORKER_PORT", RAP_CFG_INT, 0, 65535, "8104",
	  "worker health/metrics port (0: none, for extra local workers)",
	  S(worker_port) },
	{ "RAP_PG_URL", RAP_CFG_STR, 0, 0,
	  "postgresql://postgres@127.0.0.1:5439/rap",
	  "PostgreSQL connection URI", S(pg_url) },
	{ "RAP_AMQP_URL", RAP_CFG_STR, 0, 0, "amqp://rap:rap@127.0.0.1:5679/",
	  "RabbitMQ URL (amqp://user:pass@host:port/vhost)", S(amqp_url) },
	{ "RAP_AMQP_DEFINITIONS", RAP_CFG_STR, 0, 0,
	  RAP_SOURCE_DIR "/infra/rabbitmq/definitions.json",
	  "RabbitMQ definitions file whose topology services re-declare",
	  S(amqp_definitions) },
	{ "RAP_S3_ENDPOINT", RAP_CFG_STR, 0, 0, "http://127.0.0.1:9100",
	  "S3 endpoint URL (path-style addressing)", S(s3_endpoint) },
	{ "RAP_S3_PUBLIC_ENDPOINT", RAP_CFG_STR, 0, 0, "",
	  "S3 endpoint that clients reach, for presigned URLs (default: RAP_S3_ENDPOINT)",
	  S(s3_public_endpoint) },
	{ "RAP_PRESIGN_SECONDS", RAP_CFG_INT, 60, 604800, "3600",
	  "how long presigned upload and download URLs stay valid", S(presign_seconds) },
	{ "RAP_PRESIGN_GRACE_SECONDS", RAP_CFG_INT, 0, 86400, "300",
	  "how long after its URL expired an unused presigned upload is swept away",
	  S(presign_grace_seconds) },
	{ "RAP_UPLOAD_SWEEP_MS", RAP_CFG_INT, 100, 3600000, "60000",
	  "how often upload-api sweeps abandoned uploads", S(upload_sweep_ms) },
	{ "RAP_S3_REGION", RAP_CFG_STR, 0, 0, "us-east-1",
	  "S3 region used in Signature V4", S(s3_region) },
	{ "RAP_S3_BUCKET", RAP_CFG_STR, 0, 0, "rap-data",
	  "bucket for uploads and outputs", S(s3_bucket) },
	{ "RAP_S3_ACCESS_KEY", RAP_CFG_STR, 0, 0, "S3RVER",
	  "S3 access key id", S(s3_access_key) },
	{ "RAP_S3_SECRET_KEY", RAP_CFG_STR, 0, 0, "S3RVER",
	  "S3 secret access key", S(s3_secret_key) },
	{ "RAP_API_KEYS", RAP_CFG_STR, 0, 0, "dev-key=dev",
	  "API keys and their owners: key=owner[,key=owner...]", S(api_keys) },
	{ "RAP_JOB_TYPES", RAP_CFG_STR, 0, 0, "file.inspect,noop",
	  "job types accepted by job-api and run by workers (comma-separated)",
	  S(job_types) },
	{ "RAP_JOB_CONTENT_TYPES", RAP_CFG_STR, 0, 0, "",
	  "content allowed per job type, by the type libmagic detects: type=mime|mime|major/*[,...]; "
	  "other types take any content", S(job_content_types) },
	{ "RAP_JOB_MAX_ATTEMPTS", RAP_CFG_STR, 0, 0, "",
	  "attempts per job type, type=N[,type=N...]; other types get 5 (a job may set its own)",
	  S(job_max_attempts) },
	{ "RAP_JOB_RETENTION_DAYS", RAP_CFG_INT, 0, 36500, "0",
	  "days a finished job (COMPLETED, FAILED, CANCELLED) is kept after it ended, with its "
	  "events and output object; 0 keeps every job (DEAD jobs are always kept)",
	  S(job_retention_days) },
	{ "RAP_WEBHOOK_SECRET", RAP_CFG_STR, 0, 0, "",
	  "key of the HMAC-SHA256 signature of webhook bodies (X-Rap-Signature); empty: unsigned",
	  S(webhook_secret) },
	{ "RAP_WEBHOOK_ALLOWED_HOSTS", RAP_CFG_STR, 0, 0, "",
	  "hosts a job's webhook_url may name (comma-separated); empty: any", S(webhook_hosts) },
	{ "RAP_WEBHOOK_MAX_ATTEMPTS", RAP_CFG_INT, 1, 1000, "12",
	  "attempts at delivering one webhook before it is marked failed", S(webhook_max_attempts) },
	{ "RAP_WEBHOOK_BACKOFF_MS", RAP_CFG_INT, 10, 3600000, "2000",
	  "wait after a webhook's first failed attempt; it doubles each time, up to an hour",
	  S(webhook_backoff_ms) },
	{ "RAP_WEBHOOK_TIMEOUT_MS", RAP_CFG_INT, 100, 120000, "10000",
	  "how long one webhook POST may take, connection included", S(webhook_timeout_ms) },
	{ "RAP_UPLOAD_MAX_BYTES", RAP_CFG_INT, 1, 1024 * GiB, "10737418240",
	  "largest upload accepted, in bytes", S(upload_max_bytes) },
	{ "RAP_UPLOAD_PART_SIZE", RAP_CFG_INT, 5 * MiB, 512 * MiB, "8388608",
	  "S3 multipart part size, in bytes (S3's minimum is 5 MiB)",
	  S(upload_part_size) },
	{ "RAP_UPLOAD_PARTS_IN_FLIGHT", RAP_CFG_INT, 0, 16, "0",
	  "extra part buffers per upload, so the next part fills while earlier ones "
	  "finish (a part is on its way to S3 while it fills either way; memory per "
	  "upload: part size x (1 + this))", S(upload_parts_in_flight) },
	{ "RAP_UPLOAD_MAX_ACTIVE", RAP_CFG_INT, 1, 100000, "64",
	  "uploads and tus PATCHes an upload-api instance streams at once; one more gets "
	  "503 busy with Retry-After (upload-api's memory stays under about 16 MiB + this x "
	  "part size x (1 + RAP_UPLOAD_PARTS_IN_FLIGHT))", S(upload_max_active) },
	{ "RAP_TUS_EXPIRE_SECONDS", RAP_CFG_INT, 1, 30 * 86400, "86400",
	  "how long an unfinished tus upload lives after its last PATCH before the sweeper "
	  "aborts it", S(tus_expire_seconds) },
	{ "RAP_HTTP_THREADS", RAP_CFG_INT, 1, 256, "4",
	  "HTTP worker threads of job-api", S(http_threads) },
	{ "RAP_WORKER_PREFETCH", RAP_CFG_INT, 1, 1000, "1",
	  "unacknowledged messages a worker holds at once", S(worker_prefetch) },
	{ "RAP_WORKER_BATCH", RAP_CFG_INT, 1, 1000, "64",
	  "quick jobs (noop) a worker claims and completes per statement, up to the prefetch",
	  S(worker_batch) },
	{ "RAP_WORKER_ID", RAP_CFG_STR, 0, 0, "",
	  "worker identity used in leases (default: host-pid)", S(worker_id) },
	{ "RAP_LEASE_SECONDS", RAP_CFG_INT, 2, 3600, "15",
	  "how long a claim holds a job without a heartbeat (workers beat every second)",
	  S(lease_seconds) },
	{ "RAP_SWEEP_MS", RAP_CFG_INT, 100, 600000, "1000",
	  "how often job-api re-queues jobs whose lease expired", S(sweep_ms) },
	{ "RAP_STATS_MS", RAP_CFG_INT, 100, 600000, "5000",
	  "how often job-api counts open jobs and the outbox backlog for /metrics",
	  S(stats_ms) },
	{ "RAP_RELAY_BATCH", RAP_CFG_INT, 1, 10000, "500",
	  "outbox rows the relay publishes per confirmed batch", S(relay_batch) },
	{ "RAP_RELAY_POLL_MS", RAP_CFG_INT, 10, 60000, "1000",
	  "relay poll interval when no notification arrives", S(relay_poll_ms) },
	{ "RAP_WEB_ROOT", RAP_CFG_STR, 0, 0, RAP_SOURCE_DIR "/web",
	  "folder of the web UI (served by nginx; notifier serves it too)",
	  S(web_root) },
};

#define N_SETTINGS (sizeof(settings_table) / sizeof(settings_table[0]))

static const char *env_lookup(void *ctx, const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

int rap_settings_load(struct rap_settings *s, char *err)
{
	memset(s, 0, sizeof(*s));
	return rap_config_load(settings_table, N_SETTINGS, s, env_lookup, NULL,
			       err);
}

void rap_settings_usage(FILE *out, const char *prog)
{
	fprintf(out, "Environment variables (all optional):\n");
	rap_config_usage(out, settings_table, N_SETTINGS);
}

void rap_settings_markdown(FILE *out)
{
	rap_config_markdown(out, settings_table, N_SETTINGS);
}

int rap_settings_cli(int argc, char **argv, const char *prog, const char *about)
{
	if (argc < 2)
		return 0;
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		printf("Usage: %s [--help | --config-md]\n\n%s\n\n", prog, about);
		rap_settings_usage(stdout, prog);
		return 1;
	}
	if (strcmp(argv[1], "--config-md") == 0) {
		rap_settings_markdown(stdout);
		return 1;
	}
	fprintf(stderr, "%s: unknown argument '%s' (try --help)\n", prog, argv[1]);
	return -1;
}
