/* config.c: table-driven configuration from environment variables. */
#include "rap/config.h"
#include "rap/err.h"
#include "rap/str.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int parse_bool(const char *v, int *out)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = 1;
			return RAP_OK;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = 0;
			return RAP_OK;
		}
	}
	return RAP_EINVAL;
}

/* Parses one option's text into its slot; err explains a failure. */
static int load_one(const struct rap_cfg_opt *o, const char *v, char *base, char *err)
{
	long long num;
	int b, result;

	switch (o->type) {
	case RAP_CFG_STR:
		*(const char **)(void *)(base + o->offset) = v;
		return RAP_OK;
	case RAP_CFG_INT:
		result = rap_strtonum(v, o->min, o->max, &num);
		if (result != RAP_OK) {
			snprintf(err, RAP_ERRLEN,
				 "%s=\"%s\": expected a whole number from %lld to %lld", o->env, v,
				 o->min, o->max);
			return result;
		}
		*(long long *)(void *)(base + o->offset) = num;
		return RAP_OK;
	case RAP_CFG_BOOL:
		result = parse_bool(v, &b);
		if (result != RAP_OK) {
			snprintf(err, RAP_ERRLEN, "%s=\"%s\": expected true or false", o->env, v);
			return result;
		}
		*(int *)(void *)(base + o->offset) = b;
		return RAP_OK;
	}
	return RAP_EINVAL;
}

int rap_config_load(const struct rap_cfg_opt *opts, size_t n, void *cfg, rap_cfg_lookup lookup,
		    void *ctx, char *err)
{
	size_t i;

	err[0] = '\0';
	for (i = 0; i < n; i++) {
		const char *v = lookup(ctx, opts[i].env);
		int result;

		if (!v)
			v = opts[i].def;
		result = load_one(&opts[i], v, cfg, err);
		if (result != RAP_OK)
			return result;
	}
	return RAP_OK;
}

void rap_config_usage(FILE *out, const struct rap_cfg_table *tables, size_t n)
{
	for (size_t t = 0; t < n; t++)
		for (size_t i = 0; i < tables[t].n; i++) {
			const struct rap_cfg_opt *o = &tables[t].opts[i];

			fprintf(out, "  %-26s %s (default: \"%s\")\n", o->env, o->help, o->def);
		}
}

void rap_config_markdown(FILE *out, const struct rap_cfg_table *tables, size_t n)
{
	fprintf(out, "| variable | default | meaning |\n|---|---|---|\n");
	for (size_t t = 0; t < n; t++)
		for (size_t i = 0; i < tables[t].n; i++) {
			const struct rap_cfg_opt *o = &tables[t].opts[i];

			fprintf(out, "| `%s` | `%s` | ", o->env, o->def);
			/* A | in the help would end the table cell. */
			for (const char *h = o->help; *h; h++)
				fputs(*h == '|' ? "\\|" : (char[]){ *h, 0 }, out);
			fputs(" |\n", out);
		}
}

int rap_config_cli(int argc, char **argv, const char *prog, const char *about,
		   const struct rap_cfg_table *tables, size_t n)
{
	if (argc < 2)
		return 0;
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		printf("Usage: %s [--help | --config-md]\n\n%s\n\n", prog, about);
		printf("Environment variables (all optional):\n");
		rap_config_usage(stdout, tables, n);
		return 1;
	}
	if (strcmp(argv[1], "--config-md") == 0) {
		rap_config_markdown(stdout, tables, n);
		return 1;
	}
	fprintf(stderr, "%s: unknown argument '%s' (try --help)\n", prog, argv[1]);
	return -1;
}
