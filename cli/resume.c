/*
 * resume.c: the state file that lets a rerun of `rap upload` continue an
 * upload that a Ctrl-C, a kill or a crash stopped.  One file per (absolute
 * path, gateway URL, job type) in the state folder, named by a hash of the
 * three; it records the file's size and mtime (a changed file starts a new
 * upload) and the tus upload URL.  It is written atomically (a temporary
 * file renamed over it), so a kill at any moment leaves the old record or
 * the new one, never half of one.  The text is line-based, "key value":
 *
 *     # rap upload state (docs/cli.md); delete it to forget the upload
 *     version 1
 *     path /home/me/video.mp4
 *     size 10737418240
 *     mtime 1718000000.123456789
 *     url http://127.0.0.1:8080
 *     type file.inspect
 *     upload_url http://127.0.0.1:8080/api/files/5f0c7a7e-...
 */
#include "cli.h"

#include "rap/err.h"
#include "rap/io.h"
#include "rap/hash.h"
#include "rap/buf.h"
#include "rap/str.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE_VERSION "1"
#define STATE_MAX 16384 /* bytes of a state file read */

int cli_resume_dir(const char *dir, char *out, size_t len)
{
	const char *env = getenv("RAP_CLI_STATE_DIR");
	const char *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	int n;

	if (dir && *dir)
		n = snprintf(out, len, "%s", dir);
	else if (env && *env)
		n = snprintf(out, len, "%s", env);
	else if (xdg && *xdg == '/')
		n = snprintf(out, len, "%s/rap", xdg);
	else if (home && *home)
		n = snprintf(out, len, "%s/.local/state/rap", home);
	else
		return RAP_ENOENT;
	return n < 0 || (size_t)n >= len ? RAP_ETOOBIG : RAP_OK;
}

void cli_resume_name(const char *path, const char *url, const char *type, char *out, size_t len)
{
	struct rap_sha256 h;
	char hex[RAP_SHA256_HEXLEN];

	/* NUL separators: no two different triples hash the same text. */
	rap_sha256_init(&h);
	rap_sha256_update(&h, path, strlen(path) + 1);
	rap_sha256_update(&h, url, strlen(url) + 1);
	rap_sha256_update(&h, type, strlen(type) + 1);
	rap_sha256_final_hex(&h, hex);
	snprintf(out, len, "upload-%.32s.state", hex);
}

/* A value goes on one line: no line breaks in it. */
static bool one_line(const char *s)
{
	return strpbrk(s, "\r\n") == NULL;
}

int cli_resume_format(const struct cli_state *s, struct rap_buf *out)
{
	if (!one_line(s->path) || !one_line(s->url) || !one_line(s->type) ||
	    !one_line(s->upload_url))
		return RAP_EINVAL;
	return rap_buf_appendf(
		out,
		"# rap upload state (docs/cli.md); delete it to forget the upload\n"
		"version " STATE_VERSION "\n"
		"path %s\nsize %lld\nmtime %lld.%09ld\nurl %s\ntype %s\nupload_url %s\n",
		s->path, s->size, s->mtime_s, s->mtime_ns, s->url, s->type, s->upload_url);
}

/* Copies a value into a field of len bytes; false when it does not fit. */
static bool copy_value(char *dst, size_t len, const char *v, size_t vlen)
{
	if (vlen >= len)
		return false;
	memcpy(dst, v, vlen);
	dst[vlen] = '\0';
	return true;
}

/* "SECONDS.NANOSECONDS" (nine digits). */
static int parse_mtime(const char *v, size_t vlen, struct cli_state *s)
{
	char buf[40], *dot;
	long long ns;

	if (!copy_value(buf, sizeof(buf), v, vlen))
		return RAP_EINVAL;
	dot = strchr(buf, '.');
	if (!dot || strlen(dot + 1) != 9)
		return RAP_EINVAL;
	*dot = '\0';
	if (rap_strtonum(buf, LLONG_MIN, LLONG_MAX, &s->mtime_s) != RAP_OK ||
	    rap_strtonum(dot + 1, 0, 999999999, &ns) != RAP_OK)
		return RAP_EINVAL;
	s->mtime_ns = (long)ns;
	return RAP_OK;
}

/* One "key value" line into s; *seen gets a bit per key. */
static int parse_line(const char *line, size_t n, struct cli_state *s, unsigned *seen)
{
	const char *sp = memchr(line, ' ', n);
	size_t klen, vlen;
	const char *v;
	char num[24];
	bool ok = true;

	if (!sp)
		return RAP_EINVAL;
	klen = (size_t)(sp - line);
	v = sp + 1;
	vlen = n - klen - 1;
#define KEY(k) (klen == sizeof(k) - 1 && memcmp(line, k, klen) == 0)
	if (KEY("version")) {
		ok = vlen == 1 && *v == STATE_VERSION[0];
		*seen |= 1;
	} else if (KEY("path")) {
		ok = copy_value(s->path, sizeof(s->path), v, vlen) && v[0] == '/';
		*seen |= 2;
	} else if (KEY("size")) {
		ok = copy_value(num, sizeof(num), v, vlen) &&
		     rap_strtonum(num, 0, LLONG_MAX, &s->size) == RAP_OK;
		*seen |= 4;
	} else if (KEY("mtime")) {
		ok = parse_mtime(v, vlen, s) == RAP_OK;
		*seen |= 8;
	} else if (KEY("url")) {
		ok = copy_value(s->url, sizeof(s->url), v, vlen);
		*seen |= 16;
	} else if (KEY("type")) {
		ok = copy_value(s->type, sizeof(s->type), v, vlen);
		*seen |= 32;
	} else if (KEY("upload_url")) {
		ok = copy_value(s->upload_url, sizeof(s->upload_url), v, vlen) &&
		     (strncmp(s->upload_url, "http://", 7) == 0 ||
		      strncmp(s->upload_url, "https://", 8) == 0);
		*seen |= 64;
	}
#undef KEY
	/* Unknown keys are skipped: a newer rap may add some. */
	return ok ? RAP_OK : RAP_EINVAL;
}

int cli_resume_parse(const char *text, struct cli_state *s, char *err)
{
	static const char *const names[] = { "version", "path", "size",      "mtime",
					     "url",     "type", "upload_url" };
	const char *p = text;
	unsigned seen = 0;
	int lineno = 0;

	memset(s, 0, sizeof(*s));
	while (*p) {
		size_t n = strcspn(p, "\n");

		lineno++;
		if (n > 0 && p[0] != '#' && parse_line(p, n, s, &seen) != RAP_OK) {
			snprintf(err, RAP_ERRLEN, "line %d is not valid: %.*s", lineno,
				 (int)(n > 80 ? 80 : n), p);
			return RAP_EINVAL;
		}
		p += n;
		if (*p == '\n')
			p++;
	}
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(seen & (1u << i))) {
			snprintf(err, RAP_ERRLEN, "'%s' is missing", names[i]);
			return RAP_EINVAL;
		}
	}
	return RAP_OK;
}

bool cli_resume_same_file(const struct cli_state *a, const struct cli_state *b)
{
	return a->size == b->size && a->mtime_s == b->mtime_s && a->mtime_ns == b->mtime_ns &&
	       strcmp(a->path, b->path) == 0 && strcmp(a->url, b->url) == 0 &&
	       strcmp(a->type, b->type) == 0;
}

/* dir/name into out; RAP_ETOOBIG when it does not fit. */
static int join(const char *dir, const char *name, const char *suffix, char *out, size_t len)
{
	int n = snprintf(out, len, "%s/%s%s", dir, name, suffix);

	return n < 0 || (size_t)n >= len ? RAP_ETOOBIG : RAP_OK;
}

int cli_resume_load(const char *dir, const char *name, struct cli_state *s, char *err)
{
	char path[CLI_PATH_MAX], text[STATE_MAX];
	ssize_t n;
	size_t len = 0;
	int fd, result;

	result = join(dir, name, "", path, sizeof(path));
	if (result != RAP_OK) {
		snprintf(err, RAP_ERRLEN, "the state folder's path is too long");
		return result;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return RAP_ENOENT;
		snprintf(err, RAP_ERRLEN, "cannot read %.160s: %.60s", path, strerror(errno));
		return RAP_EIO;
	}
	while (len < sizeof(text) - 1) {
		n = read(fd, text + len, sizeof(text) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	text[len] = '\0';
	result = cli_resume_parse(text, s, err);
	if (result != RAP_OK) {
		char why[RAP_ERRLEN];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, RAP_ERRLEN, "%.120s is not a state file (%.100s)", path, why);
	}
	return result;
}

/* mkdir -p with mode 0700 for what it creates. */
static int make_dirs(const char *dir, char *err)
{
	char buf[CLI_PATH_MAX];
	size_t n = strlen(dir);

	if (n >= sizeof(buf))
		return RAP_ETOOBIG;
	memcpy(buf, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
			snprintf(err, RAP_ERRLEN, "cannot create %.160s: %.60s", buf,
				 strerror(errno));
			return RAP_EIO;
		}
		buf[i] = dir[i];
	}
	return RAP_OK;
}

int cli_resume_save(const char *dir, const char *name, const struct cli_state *s, char *err)
{
	char path[CLI_PATH_MAX], tmp[CLI_PATH_MAX], suffix[32];
	struct rap_buf text;
	int fd, result;

	rap_buf_init(&text, STATE_MAX - 1);
	result = cli_resume_format(s, &text);
	if (result != RAP_OK) {
		snprintf(err, RAP_ERRLEN, "the upload cannot be recorded (a line break in a name)");
		goto out_free_text;
	}
	snprintf(suffix, sizeof(suffix), ".tmp.%ld", (long)getpid());
	if (join(dir, name, "", path, sizeof(path)) != RAP_OK ||
	    join(dir, name, suffix, tmp, sizeof(tmp)) != RAP_OK) {
		snprintf(err, RAP_ERRLEN, "the state folder's path is too long");
		result = RAP_ETOOBIG;
		goto out_free_text;
	}
	result = make_dirs(dir, err);
	if (result != RAP_OK)
		goto out_free_text;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, RAP_ERRLEN, "cannot write %.160s: %.60s", tmp, strerror(errno));
		result = RAP_EIO;
		goto out_free_text;
	}
	result = rap_write_all(fd, text.data, text.len);
	if (result == RAP_OK && fsync(fd) != 0)
		result = RAP_EIO;
	if (close(fd) != 0)
		result = RAP_EIO;
	if (result == RAP_OK && rename(tmp, path) != 0)
		result = RAP_EIO;
	if (result != RAP_OK) {
		snprintf(err, RAP_ERRLEN, "cannot write %.160s: %.60s", path, strerror(errno));
		unlink(tmp);
	}
out_free_text:
	rap_buf_cleanup(&text);
	return result;
}

int cli_resume_remove(const char *dir, const char *name, char *err)
{
	char path[CLI_PATH_MAX];

	if (join(dir, name, "", path, sizeof(path)) != RAP_OK)
		return RAP_ETOOBIG;
	if (unlink(path) != 0 && errno != ENOENT) {
		snprintf(err, RAP_ERRLEN, "cannot remove %.160s: %.60s", path, strerror(errno));
		return RAP_EIO;
	}
	return RAP_OK;
}

int cli_resume_lock(const char *dir, const char *name, int *fd, char *err)
{
	char path[CLI_PATH_MAX];
	struct stat a, b;
	int result;

	if (join(dir, name, ".lock", path, sizeof(path)) != RAP_OK) {
		snprintf(err, RAP_ERRLEN, "the state folder's path is too long");
		return RAP_ETOOBIG;
	}
	result = make_dirs(dir, err);
	if (result != RAP_OK)
		return result;
	/* The holder removes the file when done: a lock taken on a file that
	 * was removed meanwhile is no lock, so check and take the new one. */
	for (;;) {
		*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (*fd < 0) {
			snprintf(err, RAP_ERRLEN, "cannot open %.160s: %.60s", path,
				 strerror(errno));
			return RAP_EIO;
		}
		if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
			result = errno == EWOULDBLOCK ? RAP_ECONFLICT : RAP_EIO;
			snprintf(
				err, RAP_ERRLEN,
				result == RAP_ECONFLICT
					? "another rap upload of this file is running (lock %.150s)"
					: "cannot lock %.200s",
				path);
			close(*fd);
			*fd = -1;
			return result;
		}
		if (fstat(*fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev)
			return RAP_OK;
		close(*fd);
	}
}

void cli_resume_unlock(const char *dir, const char *name, int fd)
{
	char path[CLI_PATH_MAX];

	if (fd < 0)
		return;
	if (join(dir, name, ".lock", path, sizeof(path)) == RAP_OK)
		unlink(path);
	close(fd);
}
