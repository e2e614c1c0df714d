/*
 * args.c: rap's command line.  One table names every option, the commands
 * it applies to, where its value goes in struct cli_opts with its bounds,
 * and its help; getopt_long's options, the checks and --help are all made
 * from it, so the help cannot forget an option.
 */
#include "cli.h"

#include "rap/err.h"
#include "rap/str.h"
#include "rap/uuid.h"

#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
	CMD_UPLOAD = 1,
	CMD_WATCH = 2,
	CMD_STATUS = 4,
	CMD_OUTPUT = 8,
	CMD_ALL = 15
};

enum opt_id {
	OPT_URL,
	OPT_API_KEY,
	OPT_CACERT,
	OPT_TYPE,
	OPT_WATCH,
	OPT_PARAMS,
	OPT_MAX_ATTEMPTS,
	OPT_CHUNK_SIZE,
	OPT_STATE_DIR,
	OPT_NO_RESUME,
	OPT_NAME,
	OPT_OUTPUT,
	OPT_FORCE,
	OPT_RETRY_TIMEOUT,
	OPT_STALL_TIMEOUT,
	OPT_QUIET,
	OPT_JSON,
	OPT_HELP,
	OPT_VERSION,
	OPT_COUNT
};

enum opt_kind {
	KIND_FLAG, /* bool */
	KIND_TEXT, /* const char *, pointing into argv */
	KIND_INT,  /* long long in [min, max] */
	KIND_SIZE  /* long long in [min, max], K/M/G suffixes */
};

#define NO_FIELD ((size_t)-1) /* --help, --version: no value kept */

struct opt {
	const char *name;
	char short_name; /* 0: none */
	const char *arg; /* NULL: a flag */
	int cmds;
	enum opt_kind kind;
	size_t field; /* offsetof(struct cli_opts, ...) */
	long long min, max;
	const char *help;
};

#define FIELD(f) offsetof(struct cli_opts, f)

static const struct opt opts[OPT_COUNT] = {
	[OPT_URL] = { "url", 0, "URL", CMD_ALL, KIND_TEXT, FIELD(url), 0, 0,
		      "The platform's gateway (env RAP_URL; default http://127.0.0.1:8080, the "
		      "local stack). The WebSocket is ws(s)://<host>/ws under it." },
	[OPT_API_KEY] = { "api-key", 0, "KEY", CMD_ALL, KIND_TEXT, FIELD(api_key), 0, 0,
			  "API key, sent as 'Authorization: Bearer KEY' (env RAP_API_KEY; default "
			  "dev-key, the local stack's development key)." },
	[OPT_CACERT] = { "cacert", 0, "FILE", CMD_ALL, KIND_TEXT, FIELD(cacert), 0, 0,
			 "For an https:// URL: trust the certificate authorities in this PEM file "
			 "(env RAP_CACERT; default: the system's), e.g. a company's or a test "
			 "cluster's own CA. The server's name is checked either way." },
	[OPT_TYPE] = { "type", 't', "TYPE", CMD_UPLOAD, KIND_TEXT, FIELD(type), 0, 0,
		       "The job type to create for the file, e.g. file.inspect (required). The "
		       "server checks it when the upload begins (422 if unknown)." },
	[OPT_WATCH] = { "watch", 'w', NULL, CMD_UPLOAD, KIND_FLAG, FIELD(watch), 0, 0,
			"After creating the job, follow it until it ends, as 'rap watch' does; the "
			"exit code is then the job's (0 COMPLETED, 4 FAILED, 5 DEAD, 6 CANCELLED)." },
	[OPT_PARAMS] = { "params", 0, "JSON", CMD_UPLOAD, KIND_TEXT, FIELD(params), 0, 0,
			 "The job's params, a JSON object, e.g. '{\"mode\":\"permanent\"}' (default: "
			 "none)." },
	[OPT_MAX_ATTEMPTS] = { "max-attempts", 0, "N", CMD_UPLOAD, KIND_INT, FIELD(max_attempts), 1,
			       100,
			       "Attempts the job may take, 1 to 100 (default: the platform's, 5)." },
	[OPT_CHUNK_SIZE] = { "chunk-size", 0, "SIZE", CMD_UPLOAD, KIND_SIZE, FIELD(chunk_size),
			     64 * 1024, 4LL << 30,
			     "Bytes per PATCH: a number with an optional K, M or G (binary: 1K = 1024), "
			     "64K to 4G (default 64M). Each PATCH carries its sha256 and is stored whole "
			     "or not at all; a PATCH cut midway halves the size of the next ones, down "
			     "to 1M, on that link." },
	[OPT_STATE_DIR] = { "state-dir", 0, "DIR", CMD_UPLOAD, KIND_TEXT, FIELD(state_dir), 0, 0,
			    "Where unfinished uploads are recorded, so that a rerun resumes them (env "
			    "RAP_CLI_STATE_DIR; default $XDG_STATE_HOME/rap, else ~/.local/state/rap)." },
	[OPT_NO_RESUME] = { "no-resume", 0, NULL, CMD_UPLOAD, KIND_FLAG, FIELD(no_resume), 0, 0,
			    "Ignore a recorded unfinished upload of this file: start a new upload (the "
			    "record is overwritten)." },
	[OPT_NAME] = { "name", 0, "NAME", CMD_OUTPUT, KIND_TEXT, FIELD(output_name), 0, 0,
		       "Which output of the job, by the name its result lists in outputs[] "
		       "(e.g. page-00001.txt of a pdf.text per_page job; default: the main "
		       "output)." },
	[OPT_OUTPUT] = { "output", 'o', "FILE", CMD_OUTPUT, KIND_TEXT, FIELD(output_file), 0, 0,
			 "Write to FILE instead of the output's name in the current folder; '-' "
			 "writes to stdout (no progress then, and nothing is kept to resume)." },
	[OPT_FORCE] = { "force", 'f', NULL, CMD_OUTPUT, KIND_FLAG, FIELD(force), 0, 0,
			"Overwrite FILE when it exists (without it: exit 2). An unfinished "
			"FILE.part is resumed either way." },
	[OPT_RETRY_TIMEOUT] = { "retry-timeout", 0, "SECONDS", CMD_ALL, KIND_INT,
				FIELD(retry_timeout_s), 1, 604800,
				"Give up after this long without progress, that is without a byte newly "
				"stored or, when watching, without a connection (default 600; 1 to "
				"604800). Until then network cuts, refused connections, 5xx, 409 and 423 "
				"are retried: 0.5 s doubling to 10 s, with jitter." },
	[OPT_STALL_TIMEOUT] = { "stall-timeout", 0, "SECONDS", CMD_ALL, KIND_INT,
				FIELD(stall_timeout_s), 1, 3600,
				"A transfer that moves less than 1 byte/s for this long is cut and "
				"retried (default 30; 1 to 3600). libcurl averages the speed over the last "
				"few seconds, so a dead link shows a few seconds after that." },
	[OPT_QUIET] = { "quiet", 'q', NULL, CMD_ALL, KIND_FLAG, FIELD(quiet), 0, 0,
			"No progress display." },
	[OPT_JSON] = { "json", 0, NULL, CMD_ALL, KIND_FLAG, FIELD(json), 0, 0,
		       "Print one JSON object on stdout instead of lines; transitions go to "
		       "stderr." },
	[OPT_HELP] = { "help", 'h', NULL, CMD_ALL, KIND_FLAG, NO_FIELD, 0, 0,
		       "This help; 'rap COMMAND --help' for one command's." },
	[OPT_VERSION] = { "version", 'V', NULL, CMD_ALL, KIND_FLAG, NO_FIELD, 0, 0,
			  "Print the version." },
};

struct command {
	const char *name;
	int bit;
	const char *usage;
	const char *about;
};

static const struct command commands[] = {
	{ "upload", CMD_UPLOAD, "rap upload FILE --type TYPE [--watch] [options]",
	  "Sends FILE over tus 1.0 (resumable) in PATCHes of --chunk-size bytes, each "
	  "with its sha256, checks that the server stored bytes with the file's sha256, "
	  "and creates a job of TYPE for it: stdout gets 'job_id <id>'. A cut network, a "
	  "stalled link or a restarting server is waited out and the upload goes on "
	  "from the offset the server stored. After a Ctrl-C, a kill or a crash, run "
	  "the same command again: it resumes (the upload URL is recorded in the state "
	  "folder; a changed file starts a new upload). A progress bar shows on a "
	  "terminal; otherwise lines 'progress SENT/TOTAL P% RATE eta T'." },
	{ "watch", CMD_WATCH, "rap watch JOB_ID [options]",
	  "Follows a job over the WebSocket until it ends: one line per transition, "
	  "'job <id>: QUEUED -> PROCESSING (attempt 1)', then 'result <json>' when it "
	  "COMPLETED or 'job <id> ended <STATE>: <error>'. A lost connection is "
	  "reconnected with backoff and nothing is missed." },
	{ "status", CMD_STATUS, "rap status JOB_ID [options]",
	  "Prints a job once: its state, attempts, result or error, and every "
	  "transition; --json prints the platform's JSON of it. Exit code 0 whatever "
	  "the state." },
	{ "output", CMD_OUTPUT, "rap output JOB_ID [--name NAME] [-o FILE] [options]",
	  "Downloads a COMPLETED job's output (the main one, or --name NAME) from the "
	  "presigned URL the platform gives, into the current folder under its name "
	  "(or -o FILE). The bytes go to FILE.part, renamed to FILE once complete and "
	  "of the size the job's result lists (exit 3 if not). A cut or stalled "
	  "link, 5xx and 429 are retried and resumed with a Range request; an expired "
	  "URL is replaced by a fresh one; after a Ctrl-C the same command resumes "
	  "the FILE.part. --json prints {job_id, name, file, bytes}." },
};

static const char exit_codes[] =
	"Exit codes:\n"
	"  0    success: uploaded and the job created; with --watch or watch: the job\n"
	"       COMPLETED; status: the job was read; output: the file is complete\n"
	"  1    error talking to the platform: refused (the platform's message is shown),\n"
	"       gave up after --retry-timeout, or an unexpected answer\n"
	"  2    usage error: a bad option or argument, FILE cannot be read, or (output)\n"
	"       FILE exists without --force\n"
	"  3    integrity error: the server's sha256 of the upload is not the file's;\n"
	"       output: the downloaded size is not the one the job's result lists\n"
	"  4    the job FAILED (its input is bad; retrying cannot help)\n"
	"  5    the job is DEAD (attempts used up, or dead-lettered)\n"
	"  6    the job was CANCELLED\n"
	"  130  interrupted by SIGINT or SIGTERM (an upload or an output resumes when\n"
	"       run again)\n";

static const char example[] =
	"Example (a 10 GiB file, Ctrl-C, then the same command again):\n"
	"  $ rap upload video.mp4 --type file.inspect --watch\n"
	"  [##########--------------]  42%  4.2 GiB / 10.0 GiB  38.1 MiB/s  eta 2m36s\n"
	"  ^Cinterrupted: 4496293888 of 10737418240 bytes are stored at\n"
	"  http://127.0.0.1:8080/api/files/5f0c7a7e-...; run the same command again to resume\n"
	"  $ rap upload video.mp4 --type file.inspect --watch\n"
	"  resuming http://127.0.0.1:8080/api/files/5f0c7a7e-... at offset 4496293888 (41%)\n"
	"  [########################] 100%  10.0 GiB / 10.0 GiB  39.0 MiB/s  eta 0s\n"
	"  job_id 9b2e4c1a-7d3f-4e8b-a5c6-1f0e2d3c4b5a\n"
	"  job 9b2e4c1a-...: new -> CREATED (attempt 0)\n"
	"  job 9b2e4c1a-...: CREATED -> QUEUED (attempt 0)\n"
	"  job 9b2e4c1a-...: QUEUED -> PROCESSING (attempt 1): claimed by worker-1\n"
	"  job 9b2e4c1a-...: PROCESSING -> COMPLETED (attempt 1)\n"
	"  result {\"size\":10737418240,\"sha256\":\"...\",\"mime_type\":\"video/mp4\",...}\n"
	"  $ rap status 9b2e4c1a-7d3f-4e8b-a5c6-1f0e2d3c4b5a\n";

static const char output_example[] =
	"Example (a pdf.text job with per_page: its text, then page 1's, to stdout):\n"
	"  $ rap output 9b2e4c1a-7d3f-4e8b-a5c6-1f0e2d3c4b5a\n"
	"  wrote text.txt (18213 bytes)\n"
	"  $ rap output 9b2e4c1a-7d3f-4e8b-a5c6-1f0e2d3c4b5a --name page-00001.txt -o -\n";

/* Prints text from column indent, wrapped before column 80. */
static void wrap(FILE *out, int col, int indent, const char *text)
{
	const char *p = text;

	while (*p) {
		size_t word = strcspn(p, " ");

		if (col > indent && col + 1 + (int)word > 79) {
			fprintf(out, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', out);
			col++;
		}
		fprintf(out, "%.*s", (int)word, p);
		col += (int)word;
		p += word;
		while (*p == ' ')
			p++;
	}
	fputc('\n', out);
}

static void print_options(FILE *out, int cmds)
{
	char head[64];

	for (int i = 0; i < OPT_COUNT; i++) {
		const struct opt *op = &opts[i];
		int n;

		if (!(op->cmds & cmds))
			continue;
		if (op->short_name)
			n = snprintf(head, sizeof(head), "  -%c, --%s%s%s", op->short_name,
				     op->name, op->arg ? " " : "", op->arg ? op->arg : "");
		else
			n = snprintf(head, sizeof(head), "      --%s%s%s", op->name,
				     op->arg ? " " : "", op->arg ? op->arg : "");
		fputs(head, out);
		if (n >= 28) {
			fprintf(out, "\n%28s", "");
			n = 28;
		}
		fprintf(out, "%*s", 28 - n, "");
		wrap(out, 28, 28, op->help);
	}
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; name && i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

void cli_args_help(FILE *out, const char *command)
{
	const struct command *c = find_command(command);

	if (c) {
		fprintf(out, "Usage: %s\n\n", c->usage);
		wrap(out, 0, 0, c->about);
		fprintf(out, "\nOptions:\n");
		print_options(out, c->bit);
		fprintf(out, "\n%s\n%s\nMore: docs/cli.md\n", exit_codes,
			c->bit == CMD_OUTPUT                          ? output_example
			: c->bit == CMD_UPLOAD || c->bit == CMD_WATCH ? example
								      : "");
		return;
	}
	fprintf(out,
		"rap %s: the command-line client of resilient-async-platform.\n\n"
		"Usage:\n",
		CLI_VERSION);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %s\n", commands[i].usage);
	fprintf(out, "  rap help [COMMAND]    (or: rap COMMAND --help)\n  rap --version\n"
		     "\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		fprintf(out, "  %-8s", commands[i].name);
		wrap(out, 10, 10, commands[i].about);
	}
	fprintf(out, "\nOptions (the commands each takes are in 'rap COMMAND --help'):\n");
	print_options(out, CMD_ALL);
	fprintf(out, "\n%s\n%s\nMore: docs/cli.md\n", exit_codes, example);
}

/* Checks the value of option id against its bounds and stores it. */
static int set_value(struct cli_opts *o, int id, const char *v, char *err)
{
	const struct opt *op = &opts[id];
	char *field = (char *)o + op->field;
	long long n = 0;
	int result = RAP_OK;

	if (op->field == NO_FIELD)
		return RAP_OK;
	switch (op->kind) {
	case KIND_FLAG:
		*(bool *)field = true;
		break;
	case KIND_TEXT:
		*(const char **)field = v;
		break;
	case KIND_INT:
		result = rap_strtonum(v, op->min, op->max, &n);
		break;
	case KIND_SIZE:
		result = cli_units_parse_size(v, op->min, op->max, &n);
		break;
	}
	if (result != RAP_OK) {
		snprintf(err, RAP_ERRLEN, "--%s %s: not a valid value (see rap --help)", op->name,
			 v);
		return RAP_EINVAL;
	}
	if (op->kind == KIND_INT || op->kind == KIND_SIZE)
		*(long long *)field = n;
	return RAP_OK;
}

/* Checks what the command needs once every option is in. */
static int check(struct cli_opts *o, int cmd, const bool given[OPT_COUNT], char *err)
{
	struct json_object *p;
	size_t n = strlen(o->url);
	bool object;

	for (int i = 0; i < OPT_COUNT; i++) {
		if (given[i] && !(opts[i].cmds & cmd)) {
			snprintf(err, RAP_ERRLEN, "--%s is not an option of rap %s", opts[i].name,
				 o->command);
			return RAP_EINVAL;
		}
	}
	while (n > 0 && o->url[n - 1] == '/')
		n--;
	if ((strncmp(o->url, "http://", 7) != 0 && strncmp(o->url, "https://", 8) != 0) ||
	    n >= sizeof(o->url_buf) - 64) {
		snprintf(err, RAP_ERRLEN, "--url %s: give an http:// or https:// URL", o->url);
		return RAP_EINVAL;
	}
	snprintf(o->url_buf, sizeof(o->url_buf), "%.*s", (int)n, o->url);
	o->url = o->url_buf;
	if (!*o->api_key || strlen(o->api_key) > 256 || strpbrk(o->api_key, "\r\n ")) {
		snprintf(err, RAP_ERRLEN, "--api-key: give a key without spaces or line breaks");
		return RAP_EINVAL;
	}
	if (o->cacert && access(o->cacert, R_OK) != 0) {
		snprintf(err, RAP_ERRLEN, "--cacert %s: %s", o->cacert, strerror(errno));
		return RAP_EINVAL;
	}
	if (cmd != CMD_UPLOAD) {
		if (!rap_uuid_valid(o->arg)) {
			snprintf(err, RAP_ERRLEN,
				 "rap %s: JOB_ID must be a job id (a UUID), "
				 "not '%s'",
				 o->command, o->arg);
			return RAP_EINVAL;
		}
		if (o->json && o->output_file && strcmp(o->output_file, "-") == 0) {
			snprintf(err, RAP_ERRLEN, "--json and -o - would both write to stdout");
			return RAP_EINVAL;
		}
		if (o->output_file && !*o->output_file) {
			snprintf(err, RAP_ERRLEN, "-o needs a file name, or - for stdout");
			return RAP_EINVAL;
		}
		return RAP_OK;
	}
	if (!o->type || !*o->type || strlen(o->type) > 64 ||
	    strspn(o->type, "abcdefghijklmnopqrstuvwxyz0123456789._-") != strlen(o->type)) {
		snprintf(err, RAP_ERRLEN,
			 "rap upload needs --type TYPE (1 to 64 of a-z 0-9 . _ "
			 "-), e.g. --type file.inspect");
		return RAP_EINVAL;
	}
	if (o->params) {
		p = json_tokener_parse(o->params);
		object = p && json_object_is_type(p, json_type_object);
		json_object_put(p);
		if (!object) {
			snprintf(err, RAP_ERRLEN,
				 "--params must be a JSON object, "
				 "e.g. '{\"k\":1}'");
			return RAP_EINVAL;
		}
	}
	return RAP_OK;
}

/* The long options for getopt_long and the short ones, from the table. */
static void getopt_tables(struct option *longopts, char *shortopts, size_t slen)
{
	size_t k = 0;

	for (int i = 0; i < OPT_COUNT; i++) {
		longopts[i] = (struct option){ opts[i].name,
					       opts[i].arg ? required_argument : no_argument, NULL,
					       256 + i };
		if (opts[i].short_name && k + 3 < slen) {
			shortopts[k++] = opts[i].short_name;
			if (opts[i].arg)
				shortopts[k++] = ':';
		}
	}
	longopts[OPT_COUNT] = (struct option){ NULL, 0, NULL, 0 };
	shortopts[k] = '\0';
}

static int option_id(int c)
{
	if (c >= 256 && c < 256 + OPT_COUNT)
		return c - 256;
	for (int i = 0; i < OPT_COUNT; i++)
		if (opts[i].short_name && opts[i].short_name == c)
			return i;
	return -1;
}

static void defaults(struct cli_opts *o)
{
	const char *url = getenv("RAP_URL"), *key = getenv("RAP_API_KEY");
	const char *ca = getenv("RAP_CACERT");

	memset(o, 0, sizeof(*o));
	o->url = url && *url ? url : "http://127.0.0.1:8080";
	o->api_key = key && *key ? key : "dev-key";
	o->cacert = ca && *ca ? ca : NULL;
	o->chunk_size = 64LL * 1024 * 1024;
	o->retry_timeout_s = 600;
	o->stall_timeout_s = 30;
}

int cli_args_parse(int argc, char **argv, struct cli_opts *o, enum cli_action *action, char *err)
{
	struct option longopts[OPT_COUNT + 1];
	bool given[OPT_COUNT] = { false };
	const struct command *cmd;
	char shortopts[32];
	int c, id, nargs;

	defaults(o);
	*action = CLI_ACTION_RUN;
	getopt_tables(longopts, shortopts, sizeof(shortopts));
	opterr = 0;
	optind = 0; /* GNU: start over (the unit tests parse many times) */
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		id = option_id(c);
		if (id < 0) {
			snprintf(err, RAP_ERRLEN, "unknown option or missing value: %s",
				 argv[optind - 1]);
			return RAP_EINVAL;
		}
		given[id] = true;
		if (set_value(o, id, optarg, err) != RAP_OK)
			return RAP_EINVAL;
	}
	o->command = optind < argc ? argv[optind] : NULL;
	nargs = argc - optind - 1;
	if (o->command && strcmp(o->command, "help") == 0) {
		*action = CLI_ACTION_HELP;
		o->command = nargs > 0 ? argv[optind + 1] : NULL;
		if (!o->command || find_command(o->command))
			return RAP_OK;
		snprintf(err, RAP_ERRLEN, "no command '%s' (upload, watch, status, output)",
			 o->command);
		return RAP_EINVAL;
	}
	if (given[OPT_HELP] || given[OPT_VERSION]) {
		*action = given[OPT_HELP] ? CLI_ACTION_HELP : CLI_ACTION_VERSION;
		return RAP_OK;
	}
	cmd = find_command(o->command);
	if (!cmd && o->command) {
		snprintf(err, RAP_ERRLEN, "unknown command '%s' (upload, watch, status, output)",
			 o->command);
		return RAP_EINVAL;
	}
	if (!cmd) {
		snprintf(err, RAP_ERRLEN, "no command given (upload, watch, status, output)");
		return RAP_EINVAL;
	}
	if (nargs != 1) {
		snprintf(err, RAP_ERRLEN, "usage: %s", cmd->usage);
		return RAP_EINVAL;
	}
	o->arg = argv[optind + 1];
	return check(o, cmd->bit, given, err);
}
