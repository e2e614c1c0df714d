/* Tests of services/worker/forksrv.c with the real fork server
 * (rap-processor --server, next to this test binary) and ClamAV on a
 * database the test writes: the engine is loaded once and shared by the
 * scans, EICAR, EICAR in a zip and a custom signature are found, a clean
 * file is clean, a dead server is reported and started again. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zip.h>

#include "sandbox.h"
#include "rap/err.h"
#include "rap/frame.h"

#define EICAR "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
#define CUSTOM_MARK "RAP_CUSTOM_SIG_1"

static char dir[512], db[600], processor[PATH_MAX];
static struct forksrv srv;

static void write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fwrite(data, 1, n, f), n);
	fclose(f);
}

static void hex(const char *s, char *out)
{
	for (; *s; s++, out += 2)
		sprintf(out, "%02x", (unsigned char)*s);
	*out = '\0';
}

/* A database of two signatures of our own: EICAR (libclamav 1.4 has no
 * built-in one) and a custom marker, as .ndb lines. */
static void setup(void)
{
	char self[PATH_MAX], line[512], h[256], path[700];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	cr_assert_gt(n, 0);
	self[n] = '\0';
	snprintf(processor, sizeof(processor), "%s/rap-processor", dirname(self));
	snprintf(dir, sizeof(dir), "/tmp/rap-forksrv-test.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/db", dir);
	cr_assert_eq(mkdir(db, 0700), 0);
	hex(EICAR, h);
	snprintf(line, sizeof(line), "Eicar-Test-Signature:0:*:%s\n", h);
	snprintf(path, sizeof(path), "%s/eicar.ndb", db);
	write_file(path, line, strlen(line));
	hex(CUSTOM_MARK, h);
	snprintf(line, sizeof(line), "Rap.Test.Custom:0:*:%s\n", h);
	snprintf(path, sizeof(path), "%s/custom.ndb", db);
	write_file(path, line, strlen(line));
	/* The scan children become this process's, as they become the
	 * worker's. */
	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
	forksrv_init(&srv, processor, "virus.scan", db, dir);
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];

	forksrv_stop(&srv);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

struct ending {
	struct json_object *result;
	char fail[64];
};

static int on_frame(void *ctx, enum rap_frame_type t, const unsigned char *p, uint32_t len)
{
	struct ending *e = ctx;
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = json_tokener_parse_ex(tok, (const char *)p, (int)len), *v;

	json_tokener_free(tok);

	if (t == RAP_FRAME_RESULT) {
		e->result = o;
		return RAP_OK;
	}
	if (t == RAP_FRAME_FAIL && json_object_object_get_ex(o, "code", &v))
		snprintf(e->fail, sizeof(e->fail), "%s", json_object_get_string(v));
	json_object_put(o);
	return RAP_OK;
}

/* One scan of data through the server, as sandbox.c runs it: START, the
 * frames to their end, the child reaped (it is this process's). */
static struct json_object *scan(const void *data, size_t n, int *status)
{
	char path[PATH_MAX + 16], err[RAP_ERRLEN], start[256], buf[4096];
	struct rap_frame_decoder d;
	struct ending e = { 0 };
	struct child ch;
	ssize_t got;
	int fd;

	snprintf(path, sizeof(path), "%s/input", dir);
	write_file(path, data, n);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	unlink(path);
	cr_assert_eq(forksrv_spawn(&srv, fd, 512, 10, &ch, err), RAP_OK, "%s", err);
	close(fd);
	snprintf(start, sizeof(start),
		 "{\"type\":\"virus.scan\",\"job_id\":\"00000000-0000-4000-8000-000000000001\","
		 "\"params\":{},\"input_size\":%zu}",
		 n);
	cr_assert_eq(rap_frame_write(ch.start_fd, RAP_FRAME_START, start, (uint32_t)strlen(start)),
		     RAP_OK);
	close(ch.start_fd);
	rap_frame_decoder_init(&d);
	while ((got = read(ch.out_fd, buf, sizeof(buf))) > 0)
		cr_assert_eq(rap_frame_feed(&d, buf, (size_t)got, on_frame, &e), RAP_OK);
	rap_frame_decoder_cleanup(&d);
	while ((got = read(ch.err_fd, buf, sizeof(buf) - 1)) > 0) {
		buf[got] = '\0';
		cr_log_info("child: %s", buf);
	}
	cr_assert_eq(waitpid(ch.pid, status, 0), ch.pid, "the child is this process's");
	close(ch.out_fd);
	close(ch.err_fd);
	cr_assert_str_empty(e.fail, "FAIL %s", e.fail);
	return e.result;
}

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) && v ? json_object_get_string(v) : NULL;
}

static long long engine_num(struct json_object *o, const char *k)
{
	struct json_object *eng, *v;

	cr_assert(json_object_object_get_ex(o, "engine", &eng));
	cr_assert(json_object_object_get_ex(eng, k, &v), "engine.%s", k);
	return json_object_get_int64(v);
}

static void assert_verdict(struct json_object *r, const char *verdict, const char *sig)
{
	cr_assert_not_null(r);
	cr_assert_str_eq(jstr(r, "verdict"), verdict);
	if (sig)
		cr_assert_str_eq(jstr(r, "signature"), sig);
	else
		cr_assert_null(jstr(r, "signature"));
}

TestSuite(worker_forksrv, .init = setup, .fini = teardown, .timeout = 60);

Test(worker_forksrv, the_engine_is_loaded_once_and_shared_by_the_scans)
{
	char err[RAP_ERRLEN];
	struct json_object *a, *b;
	int status;

	cr_assert_eq(forksrv_start(&srv, err), RAP_OK, "%s", err);
	cr_assert_eq(srv.signatures, 2);
	a = scan(EICAR, strlen(EICAR), &status);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
	assert_verdict(a, "infected", "Eicar-Test-Signature.UNOFFICIAL");
	b = scan("nothing to see\n", 15, &status);
	assert_verdict(b, "clean", NULL);
	cr_assert_eq(engine_num(b, "signatures"), 2);
	/* One engine: the server that loaded it, at one time. */
	cr_assert_eq(engine_num(a, "generation"), srv.pid);
	cr_assert_eq(engine_num(b, "generation"), srv.pid);
	cr_assert_eq(json_object_get_int64(json_object_object_get(b, "scanned_bytes")), 15);
	json_object_put(a);
	json_object_put(b);
}

Test(worker_forksrv, eicar_inside_a_zip_is_found)
{
	char err[RAP_ERRLEN], path[PATH_MAX + 16], *data;
	struct json_object *r;
	zip_source_t *src;
	struct stat st;
	zip_t *z;
	int fd, status;

	snprintf(path, sizeof(path), "%s/e.zip", dir);
	z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, NULL);
	cr_assert_not_null(z);
	src = zip_source_buffer(z, EICAR, strlen(EICAR), 0);
	cr_assert_geq(zip_file_add(z, "docs/readme.com", src, 0), 0);
	cr_assert_eq(zip_close(z), 0);
	fd = open(path, O_RDONLY);
	cr_assert_eq(fstat(fd, &st), 0);
	data = malloc((size_t)st.st_size);
	cr_assert_eq(read(fd, data, (size_t)st.st_size), st.st_size);
	close(fd);
	cr_assert_eq(forksrv_start(&srv, err), RAP_OK, "%s", err);
	r = scan(data, (size_t)st.st_size, &status);
	assert_verdict(r, "infected", "Eicar-Test-Signature.UNOFFICIAL");
	json_object_put(r);
	free(data);
}

Test(worker_forksrv, a_custom_signature_names_itself)
{
	static const char text[] = "a report\nwith " CUSTOM_MARK " inside\n";
	char err[RAP_ERRLEN];
	struct json_object *r;
	int status;

	cr_assert_eq(forksrv_start(&srv, err), RAP_OK, "%s", err);
	r = scan(text, sizeof(text) - 1, &status);
	assert_verdict(r, "infected", "Rap.Test.Custom.UNOFFICIAL");
	json_object_put(r);
}

Test(worker_forksrv, a_dead_server_is_reported_then_started_again)
{
	char err[RAP_ERRLEN];
	struct json_object *r;
	struct child ch;
	pid_t first;
	int status, fd = open("/dev/null", O_RDONLY);

	cr_assert_eq(forksrv_start(&srv, err), RAP_OK, "%s", err);
	first = srv.pid;
	cr_assert_eq(kill(first, SIGKILL), 0);
	/* The request finds it dead: the job would be retried. */
	cr_assert_eq(forksrv_spawn(&srv, fd, 512, 10, &ch, err), RAP_EIO);
	cr_assert(strstr(err, "fork server failed"), "%s", err);
	cr_assert_eq(srv.sock, -1);
	close(fd);
	/* The next one starts a new server, which loads the engine again. */
	r = scan(EICAR, strlen(EICAR), &status);
	assert_verdict(r, "infected", "Eicar-Test-Signature.UNOFFICIAL");
	cr_assert_neq(srv.pid, first);
	cr_assert_eq(engine_num(r, "generation"), srv.pid);
	json_object_put(r);
}

Test(worker_forksrv, a_missing_or_empty_database_stops_the_start_with_its_reason)
{
	char err[RAP_ERRLEN], empty[PATH_MAX + 16];

	snprintf(empty, sizeof(empty), "%s/empty", dir);
	cr_assert_eq(mkdir(empty, 0700), 0);
	srv.db = empty;
	cr_assert_eq(forksrv_start(&srv, err), RAP_EIO);
	cr_assert(strstr(err, "cannot be loaded"), "%s", err);
	cr_assert_eq(srv.sock, -1);
	srv.db = "/nonexistent/clamav";
	cr_assert_eq(forksrv_start(&srv, err), RAP_EIO);
	cr_assert(strstr(err, "/nonexistent/clamav"), "%s", err);
}

Test(worker_forksrv, the_server_is_confined_before_it_serves)
{
	char err[RAP_ERRLEN], path[64], line[256];
	bool nnp = false, filter = false;
	FILE *f;

	cr_assert_eq(forksrv_start(&srv, err), RAP_OK, "%s", err);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)srv.pid);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		nnp = nnp || strcmp(line, "NoNewPrivs:\t1\n") == 0;
		filter = filter || strcmp(line, "Seccomp:\t2\n") == 0;
	}
	fclose(f);
	cr_assert(nnp, "no new privileges");
	cr_assert(filter, "its deny-list filter is loaded");
}
