/* Tests of lib/core/config.c. */
#include <criterion/criterion.h>
#include <stddef.h>
#include <string.h>

#include "rap/config.h"
#include "rap/err.h"

struct cfg {
	const char *name;
	long long port;
	int flag;
};

static const struct rap_cfg_opt opts[] = {
	{ "T_NAME", RAP_CFG_STR, 0, 0, "def", "a name", offsetof(struct cfg, name) },
	{ "T_PORT", RAP_CFG_INT, 1, 65535, "8080", "a port", offsetof(struct cfg, port) },
	{ "T_FLAG", RAP_CFG_BOOL, 0, 0, "false", "a flag", offsetof(struct cfg, flag) },
};

/* The environment of a test: "NAME=value" strings. */
static const char *const *test_env;

static const char *lookup(void *ctx, const char *name)
{
	size_t n = strlen(name);

	for (const char *const *e = test_env; e && *e; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

static int load(struct cfg *c, char *err, const char *const *env)
{
	test_env = env;
	memset(c, 0, sizeof(*c));
	return rap_config_load(opts, 3, c, lookup, NULL, err);
}

Test(config, unset_variables_take_their_defaults)
{
	struct cfg c;
	char err[RAP_ERRLEN];

	cr_assert_eq(load(&c, err, (const char *const[]){ NULL }), RAP_OK);
	cr_assert_str_eq(c.name, "def");
	cr_assert_eq(c.port, 8080);
	cr_assert_eq(c.flag, 0);
}

Test(config, values_are_parsed_by_type)
{
	struct cfg c;
	char err[RAP_ERRLEN];

	cr_assert_eq(
		load(&c, err, (const char *const[]){ "T_NAME=x", "T_PORT=1", "T_FLAG=yes", NULL }),
		RAP_OK);
	cr_assert_str_eq(c.name, "x");
	cr_assert_eq(c.port, 1);
	cr_assert_eq(c.flag, 1);
	cr_assert_eq(load(&c, err, (const char *const[]){ "T_FLAG=OFF", NULL }), RAP_OK);
	cr_assert_eq(c.flag, 0);
}

Test(config, out_of_range_number_names_the_variable_and_bounds)
{
	struct cfg c;
	char err[RAP_ERRLEN];

	cr_assert_eq(load(&c, err, (const char *const[]){ "T_PORT=70000", NULL }), RAP_ERANGE);
	cr_assert(strstr(err, "T_PORT") && strstr(err, "1 to 65535"), "%s", err);
}

Test(config, garbage_numbers_and_booleans_are_refused)
{
	struct cfg c;
	char err[RAP_ERRLEN];

	cr_assert_eq(load(&c, err, (const char *const[]){ "T_PORT=80x", NULL }), RAP_EINVAL);
	cr_assert_eq(load(&c, err, (const char *const[]){ "T_PORT= 80", NULL }), RAP_EINVAL);
	cr_assert_eq(load(&c, err, (const char *const[]){ "T_PORT=", NULL }), RAP_EINVAL);
	cr_assert_eq(load(&c, err, (const char *const[]){ "T_FLAG=maybe", NULL }), RAP_EINVAL);
	cr_assert(strstr(err, "T_FLAG"), "%s", err);
}
