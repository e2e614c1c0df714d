/*
 * job.c: one job in this process (job.h): the START frame, the
 * processor's prepare, the sandbox, the run.  Order matters: START and
 * prepare come first (they may need the file system); then the sandbox
 * closes (confine.c) and only then does the processor see its input.
 * Both an exec'd rap-processor (child.c) and a child of the fork server
 * (server.c) run it.
 */
#include "job.h"

#include "confine.h"
#include "processor.h"
#include "runtime.h"

#include "rap/err.h"
#include "rap/frame.h"

#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define START_FD 3

/* The START frame, as it arrives on START_FD. */
struct start {
	struct json_object *o;
	int frames;
};

static int on_start(void *ctx, enum rap_frame_type t, const unsigned char *payload, uint32_t len)
{
	struct start *s = ctx;
	struct json_tokener *tok;

	if (t != RAP_FRAME_START || s->frames++)
		return RAP_EPROTO;
	tok = json_tokener_new();
	s->o = json_tokener_parse_ex(tok, (const char *)payload, (int)len);
	json_tokener_free(tok);
	return s->o && json_object_is_type(s->o, json_type_object) ? RAP_OK : RAP_EPROTO;
}

/* Reads the START frame to its end; the object (caller puts) or NULL. */
static struct json_object *read_start(void)
{
	struct rap_frame_decoder d;
	struct start s = { 0 };
	char buf[16384];
	ssize_t n;
	int result = RAP_OK;

	rap_frame_decoder_init(&d);
	for (;;) {
		n = read(START_FD, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		result = rap_frame_feed(&d, buf, (size_t)n, on_start, &s);
		if (result != RAP_OK)
			break;
	}
	if (result != RAP_OK || n < 0 || !rap_frame_idle(&d) || s.frames != 1) {
		json_object_put(s.o);
		s.o = NULL;
	}
	rap_frame_decoder_cleanup(&d);
	close(START_FD);
	return s.o;
}

static const struct processor *find(const char *type)
{
	for (size_t i = 0; i < proc_registry_count; i++)
		if (strcmp(proc_registry[i]->type, type) == 0)
			return proc_registry[i];
	return NULL;
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

/* A child forked by the fork server: once START has come (the worker
 * sends it only after the server reaped the intermediate process, so the
 * child is the worker's by then), it dies with the worker too. */
static bool adopted_by_worker(const struct child_job *j)
{
	if (j->worker <= 0)
		return true;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || getppid() != j->worker) {
		fprintf(stderr, "rap-processor: the worker %d is not this child's parent\n",
			(int)j->worker);
		return false;
	}
	return true;
}

/* The sandbox: Landlock for a processor with a scratch folder, the
 * rlimits, then the filter. */
static int confine(const struct processor *p, const struct child_job *j, char *err)
{
	struct confine_limits lim = { .memory_mb = j->memory_mb,
				      .cpu_s = j->cpu_s,
				      .threads = p->threads,
				      .scratch = p->scratch };

	if (p->scratch &&
	    (!j->scratch || confine_landlock(j->scratch, j->scratch_base, err) != RAP_OK)) {
		if (!j->scratch)
			snprintf(err, RAP_ERRLEN, "%s needs a scratch folder (the fork server's)",
				 p->type);
		return RAP_EIO;
	}
	if (confine_rlimits(&lim, err) != RAP_OK ||
	    confine_seccomp_opts(p->threads, p->scratch, err) != RAP_OK)
		return RAP_EIO;
	return RAP_OK;
}

int child_job_run(const struct child_job *j)
{
	const struct processor *p = find(j->type);
	struct json_object *start = read_start(), *params = NULL, *v;
	const char *type = start ? jstr(start, "type") : NULL,
		   *job = start ? jstr(start, "job_id") : NULL;
	struct proc_ctx c;
	char err[RAP_ERRLEN];
	int status;

	if (!p || !type || !job || strcmp(type, j->type) != 0) {
		fprintf(stderr, "rap-processor: no START frame for a known type '%s'\n", j->type);
		json_object_put(start);
		return RAP_CHILD_EXIT_USAGE;
	}
	if (!adopted_by_worker(j)) {
		json_object_put(start);
		return RAP_CHILD_EXIT_WORKER;
	}
	if (json_object_object_get_ex(start, "params", &v) &&
	    json_object_is_type(v, json_type_object))
		params = json_object_get(v);
	runtime_init(&c, STDIN_FILENO, STDOUT_FILENO, job, params,
		     json_object_object_get_ex(start, "input_size", &v) ? json_object_get_int64(v)
									: -1);
	json_object_put(start);
	/* Local time is UTC, settled now: glibc would otherwise read
	 * /etc/localtime at the first localtime() (libzip's entry times),
	 * after the sandbox closed. */
	setenv("TZ", "UTC0", 1);
	tzset();
	if (p->prepare && p->prepare() != RAP_OK) {
		fprintf(stderr, "rap-processor: %s could not prepare\n", p->type);
		status = RAP_CHILD_EXIT_PREPARE;
		goto out_cleanup;
	}
	confine_oom_report(STDOUT_FILENO, j->memory_mb);
	if (confine(p, j, err) != RAP_OK) {
		fprintf(stderr, "rap-processor: sandbox: %s\n", err);
		status = RAP_CHILD_EXIT_PREPARE;
		goto out_cleanup;
	}
	if (c.state == PROC_RUNNING)
		p->run(&c);
	status = runtime_finish(&c);
out_cleanup:
	runtime_cleanup(&c);
	/* Empty now (libclamav removes what it unpacked); a child killed
	 * mid-scan leaves it to the server's sweep. */
	if (j->scratch)
		rmdir(j->scratch);
	return status;
}
