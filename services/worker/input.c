/* input.c: a sandboxed job's input, as the child's fd 0: a pipe that the
 * feeder fills from S3 as the child reads (RAP_INPUT_STREAM), a pipe that
 * ends at once (RAP_INPUT_NONE), or a scratch copy downloaded first and
 * capped at the type's input limit (RAP_INPUT_FILE: processors that seek),
 * unnamed so that nothing is left behind whatever happens. */
#include "sandbox.h"

#include "rap/clock.h"
#include "rap/stop.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Waits for a file type's download, heartbeating; RAP_OK when it is
 * whole, else the outcome is set (cancel, shutdown, wall time). */
static int wait_download(struct sbx *s)
{
	struct pollfd p[2];

	while (!atomic_load(&s->feed.done)) {
		p[0] = (struct pollfd){ .fd = s->feed.done_fd, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = rap_stop_fd(), .events = POLLIN };
		poll(p, 2, SBX_TICK_MS);
		s->run->done = (uint64_t)atomic_load(&s->feed.fed);
		if (worker_heartbeat(s->run) == RAP_ECANCELED)
			s->kill = rap_stopping() ? KILL_STOP : KILL_CANCEL;
		else if (rap_now_ms() > s->deadline_ms)
			s->kill = KILL_WALL;
		if (s->kill != KILL_NONE)
			return RAP_ECANCELED;
	}
	return s->feed.result == RAP_OK ? RAP_OK : RAP_EIO;
}

/* A scratch file for a file type's input: unnamed (O_TMPFILE), or named
 * and removed at once, so nothing is left behind whatever happens. */
static int scratch_file(const char *dir, char *err)
{
	char path[PATH_MAX];
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd >= 0)
		return fd;
	snprintf(path, sizeof(path), "%s/rap-input-XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, RAP_ERRLEN, "scratch file in %.100s: %s", dir, strerror(errno));
		return -1;
	}
	unlink(path);
	return fd;
}

/* The child's fd 0 for the type's input; *feeding says whether the feeder
 * must start once the child runs (a pipe).  RAP_EINVAL: the input is
 * over the type's limit (err); else RAP_EIO / RAP_ECANCELED. */
int sbx_input(struct sbx *s, int *in_fd, bool *feeding, char *err)
{
	const struct rap_jobtype *t = s->run->type;
	char path[64];
	int p[2], fd, result;

	*feeding = false;
	s->feed = (struct feeder){ .s3 = s->w->s3_in,
				   .key = s->run->msg->object_key,
				   .counter = s->w->bytes_read,
				   .fd = -1,
				   .done_fd = -1 };
	if (t->input != RAP_INPUT_FILE) {
		if (pipe2(p, O_CLOEXEC) != 0) {
			snprintf(err, RAP_ERRLEN, "pipe: %s", strerror(errno));
			return RAP_EIO;
		}
		*in_fd = p[0];
		if (t->input == RAP_INPUT_NONE)
			close(p[1]); /* an input that ends at once */
		else
			s->feed.fd = p[1];
		*feeding = t->input == RAP_INPUT_STREAM;
		return RAP_OK;
	}
	if (s->lim->input_mb > 0 && s->input_size > s->lim->input_mb << 20) {
		snprintf(err, RAP_ERRLEN,
			 "too_large: the input is %lld bytes, over the type's limit of %lld MiB",
			 s->input_size, s->lim->input_mb);
		return RAP_EINVAL;
	}
	fd = scratch_file(s->w->cfg.scratch_dir, err);
	if (fd < 0)
		return RAP_EIO;
	s->feed.fd = fd;
	s->feed.to_file = true;
	s->feed.cap = s->lim->input_mb << 20;
	worker_progress(s->run, "download", -1);
	result = feeder_start(&s->feed);
	if (result == RAP_OK)
		result = wait_download(s);
	feeder_join(&s->feed);
	if (result == RAP_OK) {
		/* The child's own read-only descriptor, with its own offset. */
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		*in_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (*in_fd < 0) {
			snprintf(err, RAP_ERRLEN, "reopening the scratch file: %s",
				 strerror(errno));
			result = RAP_EIO;
		}
	}
	close(fd);
	s->feed.fd = -1;
	if (result == RAP_EIO && s->feed.result == RAP_ETOOBIG) {
		snprintf(err, RAP_ERRLEN, "too_large: %.200s", s->feed.err);
		return RAP_EINVAL;
	}
	if (result == RAP_EIO && s->feed.result == RAP_ENOENT) {
		snprintf(err, RAP_ERRLEN, "input_missing: %.200s", s->feed.err);
		return RAP_EINVAL;
	}
	if (result == RAP_EIO && !err[0])
		snprintf(err, RAP_ERRLEN, "reading the input: %.200s", s->feed.err);
	return result;
}
