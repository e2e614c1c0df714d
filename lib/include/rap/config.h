#ifndef RAP_CONFIG_H
#define RAP_CONFIG_H

#include <stddef.h>
#include <stdio.h>

/*
 * Configuration is a table (Redis's static_configs[], nginx's commands):
 * each row names an environment variable, its type, bounds, default and
 * help, and where the parsed value goes in the caller's struct.  The same
 * table prints --help and docs/configuration.md.
 */
enum rap_cfg_type {
	RAP_CFG_STR,  /* const char * (points into the environment or default) */
	RAP_CFG_INT,  /* long long within [min, max] */
	RAP_CFG_BOOL  /* int: 1 for true/yes/on/1, 0 for false/no/off/0 */
};

struct rap_cfg_opt {
	const char *env;
	enum rap_cfg_type type;
	long long min;
	long long max;
	const char *def;
	const char *help;
	size_t offset;
};

/** Looks a variable up; returns NULL when unset (getenv has this shape). */
typedef const char *(*rap_cfg_lookup)(void *ctx, const char *name);

/**
 * Fills cfg from the table, reading each variable through lookup.  On a bad
 * value returns RAP_EINVAL or RAP_ERANGE and writes which variable and why
 * into err (RAP_ERRLEN bytes).  Unset variables take their default.
 */
int rap_config_load(const struct rap_cfg_opt *opts, size_t n, void *cfg,
		    rap_cfg_lookup lookup, void *ctx, char *err);

/** Prints one line per option: variable, default and help. */
void rap_config_usage(FILE *out, const struct rap_cfg_opt *opts, size_t n);

/** Prints the table as a Markdown table (for docs/configuration.md). */
void rap_config_markdown(FILE *out, const struct rap_cfg_opt *opts, size_t n);

#endif
