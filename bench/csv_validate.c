/*
 * rap-bench-csv: how fast csv.validate reads, on one core, and its peak
 * memory (issue 11 point 8's yardstick).  A processor runtime of its own
 * (processor.h): the input is a file read with read(2), outputs are
 * counted and dropped, row errors counted.
 *
 *   rap-bench-csv --generate ROWS > file.csv   a file of ROWS rows with
 *                                             quoting and a bad row in 1000
 *   rap-bench-csv file.csv [PARAMS_JSON]      runs csv.validate over it and
 *                                             prints MB/s, rows and max RSS
 */
#include "processor.h"
#include "validate.h"

#include "rap/err.h"

#include <fcntl.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

struct proc_ctx {
	int fd;
	struct json_object *params, *result;
	long long errors, out_bytes;
};

struct json_object *proc_params(struct proc_ctx *c)
{
	return c->params;
}

const char *proc_job_id(struct proc_ctx *c)
{
	return "bench";
}

long long proc_input_size(struct proc_ctx *c)
{
	return -1;
}

ssize_t proc_read(struct proc_ctx *c, void *buf, size_t n)
{
	ssize_t r = read(c->fd, buf, n);

	return r < 0 ? RAP_EIO : r;
}

int proc_input_fd(struct proc_ctx *c)
{
	return c->fd;
}

int proc_progress(struct proc_ctx *c, const char *stage, long long bytes, long long rows)
{
	return RAP_OK;
}

int proc_row_error(struct proc_ctx *c, long long row, const char *column, const char *code,
		   const char *message, const char *value, size_t value_len)
{
	c->errors++;
	return RAP_OK;
}

int proc_output_begin(struct proc_ctx *c, const char *name, const char *content_type)
{
	return RAP_OK;
}

int proc_output_write(struct proc_ctx *c, const void *data, size_t n)
{
	c->out_bytes += (long long)n;
	return RAP_OK;
}

int proc_output_end(struct proc_ctx *c)
{
	return RAP_OK;
}

int proc_succeed(struct proc_ctx *c, struct json_object *result)
{
	c->result = result;
	return RAP_OK;
}

int proc_fail(struct proc_ctx *c, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "failed (%s): ", code);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return RAP_OK;
}

static int generate(long long rows)
{
	long long i;

	printf("id,name,email,amount,day,active\n");
	for (i = 1; i <= rows; i++) {
		if (i % 1000 == 0) /* a bad row: not an integer, ragged */
			printf("x%lld,\"Name, %lld\",user%lld@example.com,%lld.%02lld\n", i, i, i,
			       i % 100000, i % 100);
		else
			printf("%lld,\"Name \"\"%lld\"\"\",user%lld@example.com,%lld.%02lld,"
			       "2024-%02lld-%02lld,%s\n",
			       i, i, i, i % 100000, i % 100, 1 + i % 12, 1 + i % 28,
			       i % 2 ? "true" : "false");
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct proc_ctx c = { .fd = -1 };
	struct timespec a, b;
	struct rusage ru;
	double secs, mb;
	off_t size;
	int fd;

	if (argc == 3 && strcmp(argv[1], "--generate") == 0)
		return generate(atoll(argv[2]));
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: rap-bench-csv FILE [PARAMS_JSON] | --generate ROWS\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	c.fd = fd;
	if (argc == 3)
		c.params = json_tokener_parse(argv[2]);
	size = lseek(c.fd, 0, SEEK_END);
	lseek(c.fd, 0, SEEK_SET);
	clock_gettime(CLOCK_MONOTONIC, &a);
	if (proc_csv_validate.run(&c) != RAP_OK || !c.result) {
		fprintf(stderr, "csv.validate did not succeed\n");
		json_object_put(c.params);
		close(c.fd);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	getrusage(RUSAGE_SELF, &ru);
	secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	mb = (double)size / (1024.0 * 1024.0);
	printf("%.1f MiB in %.3f s: %.1f MiB/s, max RSS %.1f MiB, errors %lld, output %.1f MiB\n",
	       mb, secs, mb / secs, (double)ru.ru_maxrss / 1024.0, c.errors,
	       (double)c.out_bytes / (1024.0 * 1024.0));
	printf("%s\n", json_object_to_json_string(c.result));
	json_object_put(c.result);
	json_object_put(c.params);
	close(c.fd);
	return 0;
}
