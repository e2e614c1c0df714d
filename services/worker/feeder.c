/*
 * feeder.c: a job's input from S3, streamed on a thread of its own while
 * the worker's main thread supervises the child.  Into a pipe (the child
 * reads as the bytes arrive; a full pipe blocks the GET, which is the
 * back-pressure: the worker never holds the file) or into a scratch file
 * capped at the type's input limit.  It ends when the object is through,
 * when S3 fails, when the child closes its input (EPIPE: it died or needs
 * no more), or when asked to stop; then done_fd becomes readable.
 */
#include "sandbox.h"

#include "rap/metrics.h"
#include "rap/s3.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

static int feed(void *ctx, const void *data, size_t len)
{
	struct feeder *f = ctx;
	const char *p = data;
	ssize_t w;

	if (atomic_load(&f->stop))
		return RAP_ECANCELED;
	if (f->cap > 0 && atomic_load(&f->fed) + (long long)len > f->cap)
		return RAP_ETOOBIG;
	while (len > 0) {
		w = write(f->fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EPIPE)
			return RAP_ECANCELED; /* the child closed its input */
		if (w <= 0)
			return RAP_EIO;
		p += w;
		len -= (size_t)w;
		atomic_fetch_add(&f->fed, (long long)w);
		rap_metric_inc(f->counter, (long long)w);
	}
	return atomic_load(&f->stop) ? RAP_ECANCELED : RAP_OK;
}

static void *feeder_main(void *arg)
{
	struct feeder *f = arg;
	uint64_t one = 1;

	f->result = rap_s3_get(f->s3, f->key, feed, f);
	if (f->result == RAP_ETOOBIG)
		snprintf(f->err, sizeof(f->err), "the input is over the type's limit of %lld MiB",
			 f->cap >> 20);
	else if (f->result == RAP_ENOENT)
		snprintf(f->err, sizeof(f->err), "%.200s: no such object", f->key);
	else if (f->result != RAP_OK && f->result != RAP_ECANCELED)
		snprintf(f->err, sizeof(f->err), "%.100s: %.140s", f->key, rap_s3_errmsg(f->s3));
	/* The child sees the end of its input (a file stays: the worker
	 * opens it for the child). */
	if (!f->to_file) {
		close(f->fd);
		f->fd = -1;
	}
	atomic_store(&f->done, true);
	if (write(f->done_fd, &one, sizeof(one)) < 0)
		(void)0; /* the flag alone still says it */
	return NULL;
}

int feeder_start(struct feeder *f)
{
	atomic_store(&f->fed, 0);
	atomic_store(&f->stop, false);
	atomic_store(&f->done, false);
	f->result = RAP_OK;
	f->err[0] = '\0';
	f->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (f->done_fd < 0)
		return RAP_EIO;
	if (pthread_create(&f->thread, NULL, feeder_main, f) != 0) {
		close(f->done_fd);
		f->done_fd = -1;
		return RAP_EIO;
	}
	f->started = true;
	return RAP_OK;
}

void feeder_join(struct feeder *f)
{
	if (!f->started)
		return;
	atomic_store(&f->stop, true);
	pthread_join(f->thread, NULL);
	f->started = false;
	close(f->done_fd);
	f->done_fd = -1;
}
