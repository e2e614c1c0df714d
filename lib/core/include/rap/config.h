#ifndef RAP_CONFIG_H
#define RAP_CONFIG_H

#include <stddef.h>
#include <stdio.h>

/*
 * Configuration is a table (Redis's static_configs[], nginx's commands):
 * each row names an environment variable, its type, bounds, default and
 * help, and where the parsed value goes in the caller's struct.  The same
 * tables print --help and docs/configuration.md.  A process reads several
 * tables (the settings it shares with other services, and its own), each
 * into its own struct: struct rap_cfg_table pairs them.
 */
enum rap_cfg_type {
	RAP_CFG_STR, /* const char * (points into the environment or default) */
	RAP_CFG_INT, /* long long within [min, max] */
	RAP_CFG_BOOL /* int: 1 for true/yes/on/1, 0 for false/no/off/0 */
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

/** A table of options and the struct their values go to. */
struct rap_cfg_table {
	const struct rap_cfg_opt *opts;
	size_t n;
	void *cfg;
};

/** Looks a variable up; returns NULL when unset (getenv has this shape). */
typedef const char *(*rap_cfg_lookup)(void *ctx, const char *name);

/**
 * Fills cfg from the table, reading each variable through lookup.  On a bad
 * value returns RAP_EINVAL or RAP_ERANGE and writes which variable and why
 * into err (RAP_ERRLEN bytes).  Unset variables take their default.
 */
int rap_config_load(const struct rap_cfg_opt *opts, size_t n, void *cfg, rap_cfg_lookup lookup,
		    void *ctx, char *err);

/** Prints one line per option of every table: variable, default and help. */
void rap_config_usage(FILE *out, const struct rap_cfg_table *tables, size_t n);

/** Prints the options of every table as one Markdown table (for
 *  docs/configuration.md). */
void rap_config_markdown(FILE *out, const struct rap_cfg_table *tables, size_t n);

/**
 * The command line every service shares: --help prints prog's usage, about
 * and the tables; --config-md prints the Markdown table.  Returns 1 when
 * the process should exit 0 now, 0 to go on, -1 on a bad argument (a
 * message printed).
 */
int rap_config_cli(int argc, char **argv, const char *prog, const char *about,
		   const struct rap_cfg_table *tables, size_t n);

#endif
