#ifndef RAP_SETTINGS_H
#define RAP_SETTINGS_H

#include <stdio.h>

/*
 * Every setting of the platform, in one table (lib/settings.c), read from
 * the environment once at start.  Each service uses the ones it needs; the
 * defaults are the ports of the local stack started by scripts/up.
 */
struct rap_settings {
	const char *log_level;
	const char *bind;
	long long upload_port;
	long long job_port;
	long long notifier_port;
	long long worker_port;
	const char *pg_url;
	const char *amqp_url;
	const char *amqp_definitions;
	const char *s3_endpoint;
	const char *s3_public_endpoint;
	long long presign_seconds;
	long long presign_grace_seconds;
	long long upload_sweep_ms;
	const char *s3_region;
	const char *s3_bucket;
	const char *s3_access_key;
	const char *s3_secret_key;
	const char *api_keys;
	const char *job_types;
	const char *job_max_attempts;
	const char *job_content_types;
	long long job_retention_days;
	const char *webhook_secret;
	const char *webhook_hosts;
	long long webhook_max_attempts;
	long long webhook_backoff_ms;
	long long webhook_timeout_ms;
	long long upload_max_bytes;
	long long upload_part_size;
	long long upload_parts_in_flight;
	long long upload_max_active;
	long long tus_expire_seconds;
	long long http_threads;
	long long worker_prefetch;
	long long worker_batch;
	const char *worker_id;
	long long lease_seconds;
	long long sweep_ms;
	long long stats_ms;
	long long relay_batch;
	long long relay_poll_ms;
	const char *web_root;
};

/** Loads the settings from the environment; err gets a message on failure. */
int rap_settings_load(struct rap_settings *s, char *err);

/** Prints --help text for every setting. */
void rap_settings_usage(FILE *out, const char *prog);

/** Prints the settings table in Markdown. */
void rap_settings_markdown(FILE *out);

/**
 * Handles the common command line of every service (--help, --config-md).
 * Returns 1 if the process should exit 0 now, 0 to continue, -1 on a bad
 * argument (message printed).
 */
int rap_settings_cli(int argc, char **argv, const char *prog, const char *about);

#endif
