/*
 * virus.c: virus.scan, a file scanned with libclamav 1.4 (docs/sandbox.md,
 * "virus.scan and the fork server").
 *
 * The engine (the signatures, compiled) is loaded once, by the fork server
 * (server.c) before it serves, and every scan runs in a child forked from
 * it, which inherits the engine copy-on-write: no scan ever loads it.  A
 * rap-processor started the usual way (exec) has no engine, and its
 * prepare fails (the worker retries the job: it is a set-up fault).
 *
 * A scan: cl_scandesc over fd 0 (the scratch copy: libclamav maps and
 * seeks it), every parser on (archives, documents, executables), no
 * heuristic alerts.  Archive members are unpacked into temporary files
 * under the child's own folder, which the server made and the sandbox
 * (Landlock) confines the child's file access to.  The verdict is the
 * result; a file libclamav cannot scan fails scan_error.
 */
#include "virus.h"

#include "processor.h"

#include "rap/clock.h"
#include "rap/err.h"
#include "rap/log.h"

#include <clamav.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The server's engine, shared (copy-on-write) by every child it forks. */
static struct cl_engine *engine;
static unsigned engine_sigs;
static char engine_loaded_at[RAP_ISO_TIME_LEN];
static long long engine_generation;

/* Limits of one scan (libclamav's defaults, said out loud): what it
 * unpacks of an archive and how deep, so that a zip bomb stops there. */
static const struct {
	enum cl_engine_field field;
	long long value;
} scan_limits[] = {
	{ CL_ENGINE_MAX_SCANSIZE, 400LL << 20 }, /* data scanned, members included */
	{ CL_ENGINE_MAX_FILESIZE, 100LL << 20 }, /* one member unpacked */
	{ CL_ENGINE_MAX_RECURSION, 17 },         /* archives in archives */
	{ CL_ENGINE_MAX_FILES, 10000 },          /* members of one archive */
};

/* The process that loads the engine (the server). */
static pid_t loader;

/* libclamav's own messages: in the server, a line of the worker's JSON
 * log; in a scan child, a plain line on fd 2, which the worker relays
 * with the job's id. */
static void on_message(enum cl_msg severity, const char *fullmsg, const char *msg, void *ctx)
{
	size_t n = strlen(msg);

	(void)fullmsg;
	(void)ctx;
	if (severity < CL_MSG_WARN)
		return;
	if (getpid() == loader) {
		rap_log(RAP_LOG_WARN, NULL, "libclamav: %.*s",
			(int)(n && msg[n - 1] == '\n' ? n - 1 : n), msg);
		return;
	}
	fprintf(stderr, "libclamav: %.*s\n", (int)(n && msg[n - 1] == '\n' ? n - 1 : n), msg);
}

int virus_engine_load(const char *db_dir, char *err)
{
	struct cl_engine *e;
	unsigned sigs = 0;
	int rc;

	loader = getpid();
	cl_set_clcb_msg(on_message);
	rc = cl_init(CL_INIT_DEFAULT);
	if (rc != CL_SUCCESS) {
		snprintf(err, RAP_ERRLEN, "cl_init: %s", cl_strerror(rc));
		return RAP_EIO;
	}
	e = cl_engine_new();
	if (!e) {
		snprintf(err, RAP_ERRLEN, "cl_engine_new failed");
		return RAP_EIO;
	}
	rc = cl_load(db_dir, e, &sigs, CL_DB_STDOPT);
	if (rc == CL_SUCCESS && sigs == 0)
		rc = CL_EMALFDB;
	if (rc != CL_SUCCESS) {
		snprintf(err, RAP_ERRLEN, "the signature database %s cannot be loaded: %s%s",
			 db_dir, cl_strerror(rc),
			 sigs == 0 ? " (no signature: run freshclam, or mount the volume it fills)"
				   : "");
		goto out_free;
	}
	for (size_t i = 0; i < sizeof(scan_limits) / sizeof(scan_limits[0]); i++)
		cl_engine_set_num(e, scan_limits[i].field, scan_limits[i].value);
	rc = cl_engine_compile(e);
	if (rc != CL_SUCCESS) {
		snprintf(err, RAP_ERRLEN, "cl_engine_compile: %s", cl_strerror(rc));
		goto out_free;
	}
	engine = e;
	engine_sigs = sigs;
	engine_generation = (long long)getpid();
	rap_iso_time(engine_loaded_at);
	return RAP_OK;

out_free:
	cl_engine_free(e);
	return RAP_EIO;
}

unsigned virus_engine_signatures(void)
{
	return engine_sigs;
}

int virus_engine_tmpdir(const char *dir, char *err)
{
	int rc = engine ? cl_engine_set_str(engine, CL_ENGINE_TMPDIR, dir) : CL_ENULLARG;

	if (rc != CL_SUCCESS) {
		snprintf(err, RAP_ERRLEN, "cl_engine_set_str tmpdir: %s", cl_strerror(rc));
		return RAP_EIO;
	}
	return RAP_OK;
}

int virus_engine_warm_up(int fd, char *err)
{
	struct cl_scan_options o = { .parse = ~0U };
	const char *name = NULL;
	unsigned long scanned = 0;
	int rc;

	rc = cl_scandesc(fd, NULL, &name, &scanned, engine, &o);
	if (rc != CL_CLEAN && rc != CL_VIRUS) {
		snprintf(err, RAP_ERRLEN, "the first scan failed: %s", cl_strerror(rc));
		return RAP_EIO;
	}
	return RAP_OK;
}

const char *virus_engine_version(void)
{
	return cl_retver();
}

void virus_engine_free(void)
{
	if (engine)
		cl_engine_free(engine);
	engine = NULL;
}

/* Only in a child of the fork server: the engine is already there. */
static int prepare(void)
{
	if (engine)
		return RAP_OK;
	fprintf(stderr, "rap-processor: virus.scan runs only in a child of the fork server "
			"(rap-processor --server), which loads the signatures\n");
	return RAP_EIO;
}

static struct json_object *engine_info(void)
{
	struct json_object *o = json_object_new_object();
	long long db_version = (long long)cl_engine_get_num(engine, CL_ENGINE_DB_VERSION, NULL);

	json_object_object_add(o, "version", json_object_new_string(cl_retver()));
	json_object_object_add(o, "signatures", json_object_new_int64(engine_sigs));
	if (db_version > 0)
		json_object_object_add(o, "db_version", json_object_new_int64(db_version));
	json_object_object_add(o, "loaded_at", json_object_new_string(engine_loaded_at));
	json_object_object_add(o, "generation", json_object_new_int64(engine_generation));
	return o;
}

static int run(struct proc_ctx *c)
{
	struct cl_scan_options o = { .parse = ~0U };
	struct json_object *result;
	const char *name = NULL;
	unsigned long scanned = 0;
	int fd = proc_input_fd(c), rc;
	struct stat st;

	proc_progress(c, "scan", 0, -1);
	rc = cl_scandesc(fd, NULL, &name, &scanned, engine, &o);
	if (rc == CL_EMEM)
		return proc_fail(c, "memory_limit",
				 "libclamav ran out of memory scanning the file");
	if (rc != CL_CLEAN && rc != CL_VIRUS)
		return proc_fail(c, "scan_error", "libclamav cannot scan the file: %s",
				 cl_strerror(rc));
	result = json_object_new_object();
	json_object_object_add(result, "verdict",
			       json_object_new_string(rc == CL_VIRUS ? "infected" : "clean"));
	json_object_object_add(result, "signature",
			       rc == CL_VIRUS && name ? json_object_new_string(name) : NULL);
	json_object_object_add(
		result, "scanned_bytes",
		json_object_new_int64(fstat(fd, &st) == 0 ? (long long)st.st_size : 0));
	json_object_object_add(result, "engine", engine_info());
	proc_progress(c, "scan", fstat(fd, &st) == 0 ? (long long)st.st_size : -1, -1);
	return proc_succeed(c, result);
}

const struct processor proc_virus_scan = {
	.type = "virus.scan",
	.prepare = prepare,
	.run = run,
	.scratch = true,
};
