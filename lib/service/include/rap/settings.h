#ifndef RAP_SETTINGS_H
#define RAP_SETTINGS_H

#include <stddef.h>

#include "rap/config.h"

/*
 * The settings that several services share, in groups (lib/service/
 * settings.c); a service names the groups it reads, and declares the
 * settings that are its own next to its code (services/X/settings.c).
 * Defaults are the ports of the local stack started by scripts/up.
 */
enum rap_settings_group {
	RAP_SETTINGS_BASE = 1 << 0,        /* RAP_LOG_LEVEL, RAP_BIND: every service */
	RAP_SETTINGS_PG = 1 << 1,          /* RAP_PG_URL */
	RAP_SETTINGS_AMQP = 1 << 2,        /* RAP_AMQP_URL, RAP_AMQP_DEFINITIONS */
	RAP_SETTINGS_S3 = 1 << 3,          /* RAP_S3_ENDPOINT, region, bucket, keys */
	RAP_SETTINGS_PRESIGN = 1 << 4,     /* RAP_S3_PUBLIC_ENDPOINT, RAP_PRESIGN_SECONDS */
	RAP_SETTINGS_AUTH = 1 << 5,        /* RAP_API_KEYS */
	RAP_SETTINGS_JOB_TYPES = 1 << 6,   /* RAP_JOB_TYPES */
	RAP_SETTINGS_JOB_CONTENT = 1 << 7, /* RAP_JOB_CONTENT_TYPES */
	RAP_SETTINGS_JOB_LIMITS = 1 << 8,  /* RAP_JOB_LIMITS */
};

/** The number of groups: the most tables rap_settings_tables fills. */
#define RAP_SETTINGS_GROUPS 9

/** The shared settings; a group a service does not read keeps zeros. */
struct rap_settings {
	const char *log_level;
	const char *bind;
	const char *pg_url;
	const char *amqp_url;
	const char *amqp_definitions;
	const char *s3_endpoint;
	const char *s3_region;
	const char *s3_bucket;
	const char *s3_access_key;
	const char *s3_secret_key;
	const char *s3_public_endpoint;
	long long presign_seconds;
	const char *api_keys;
	const char *job_types;
	const char *job_content_types;
	const char *job_limits;
};

/**
 * Fills out (RAP_SETTINGS_GROUPS entries) with a table for each group in
 * groups, whose values go to s, in the order of the enum; returns how many.
 */
size_t rap_settings_tables(unsigned groups, struct rap_settings *s, struct rap_cfg_table *out);

/** Looks a variable up in the environment; an empty value counts as unset
 *  (fits rap_config_load). */
const char *rap_settings_env(void *ctx, const char *name);

#endif
