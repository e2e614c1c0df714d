/* argv.h: rap's command line from a NULL-terminated list of words, for the
 * tests of cli/args.c and of each command's options. */
#ifndef RAP_TEST_CLI_ARGV_H
#define RAP_TEST_CLI_ARGV_H

#include <stdarg.h>
#include <stddef.h>

#include "cli.h"

/* Parses the words after err (up to NULL) as rap's argv. */
static inline int parse(struct cli_opts *o, enum cli_action *a, char *err, ...)
{
	char *argv[32] = { "rap" };
	int argc = 1;
	va_list ap;
	char *s;

	va_start(ap, err);
	while ((s = va_arg(ap, char *)) && argc < 31)
		argv[argc++] = s;
	va_end(ap);
	argv[argc] = NULL;
	return cli_args_parse(argc, argv, o, a, err);
}

#endif
