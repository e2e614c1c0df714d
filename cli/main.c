/*
 * main.c: `rap`, the command-line client of the platform (docs/cli.md).
 * Parses the command line (args.c) and runs the command.
 */
#include "cli.h"

#include "rap/err.h"
#include "rap/stop.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	char err[RAP_ERRLEN];
	enum cli_action action;
	struct cli_opts o;
	int code;

	if (cli_args_parse(argc, argv, &o, &action, err) != RAP_OK) {
		fprintf(stderr, "rap: %s\nTry 'rap --help'.\n", err);
		return CLI_EXIT_USAGE;
	}
	if (action == CLI_ACTION_HELP) {
		cli_args_help(stdout, o.command);
		return CLI_EXIT_OK;
	}
	if (action == CLI_ACTION_VERSION) {
		printf("rap %s (resilient-async-platform)\n", CLI_VERSION);
		return CLI_EXIT_OK;
	}
	rap_stop_install(true);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (strcmp(o.command, "upload") == 0)
		code = cli_upload_run(&o);
	else if (strcmp(o.command, "watch") == 0)
		code = cli_watch_run(&o);
	else if (strcmp(o.command, "output") == 0)
		code = cli_output_run(&o);
	else
		code = cli_status_run(&o);
	curl_global_cleanup();
	return code;
}
