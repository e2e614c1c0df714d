/*
 * rap-bench-s3: the yardstick of bench/upload.sh for multipart uploads.  It
 * sends FILE straight to S3 as a multipart upload with the platform's own
 * S3 client (lib/s3.c), one part after the other from a part buffer, the
 * way upload-api sends a body but without a client in front: so the gap
 * between it and upload-api is upload-api's own cost, and the gap between
 * it and a single PUT is what the multipart API costs on that S3 server.
 *
 * Usage: rap-bench-s3 FILE KEY [PART_SIZE]
 * S3 settings from RAP_S3_ENDPOINT, RAP_S3_BUCKET, RAP_S3_REGION,
 * RAP_S3_ACCESS_KEY, RAP_S3_SECRET_KEY (the services' defaults otherwise).
 * Prints one line: parts=N parts_s=S complete_s=S total_s=S.
 */
#include "rap/err.h"
#include "rap/mem.h"
#include "rap/s3.h"
#include "rap/clock.h"
#include "rap/str.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *env(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && v[0] ? v : def;
}

/* Reads up to len bytes (less only at the end of the file). */
static ssize_t read_full(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read(fd, buf + got, len - got);
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static int send_parts(struct rap_s3 *s3, struct rap_s3_mpu *mpu, int fd, char *buf, size_t part)
{
	ssize_t n;
	int result = RAP_OK;

	while (result == RAP_OK && (n = read_full(fd, buf, part)) > 0)
		result = rap_s3_mpu_part(s3, mpu, buf, (size_t)n);
	return n < 0 ? RAP_EIO : result;
}

int main(int argc, char **argv)
{
	struct rap_s3_cfg cfg = {
		.endpoint = env("RAP_S3_ENDPOINT", "http://127.0.0.1:9100"),
		.region = env("RAP_S3_REGION", "us-east-1"),
		.bucket = env("RAP_S3_BUCKET", "rap-data"),
		.access_key = env("RAP_S3_ACCESS_KEY", "S3RVER"),
		.secret_key = env("RAP_S3_SECRET_KEY", "S3RVER"),
	};
	long long part = 8 << 20;
	struct rap_s3_mpu *mpu = NULL;
	struct rap_s3 *s3;
	int64_t t0, t1, t2;
	int fd, result;
	char *buf;

	if (argc < 3 || argc > 4 ||
	    (argc == 4 && rap_strtonum(argv[3], 5 << 20, 512 << 20, &part) != RAP_OK)) {
		fprintf(stderr, "usage: rap-bench-s3 FILE KEY [PART_SIZE (5 MiB..512 MiB)]\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	rap_s3_global_init();
	s3 = rap_s3_new(&cfg);
	buf = rap_malloc((size_t)part);
	t0 = rap_now_ms();
	result = rap_s3_mpu_begin(s3, argv[2], "application/octet-stream", &mpu);
	if (result == RAP_OK)
		result = send_parts(s3, mpu, fd, buf, (size_t)part);
	t1 = rap_now_ms();
	if (result == RAP_OK)
		result = rap_s3_mpu_complete(s3, mpu);
	t2 = rap_now_ms();
	if (result != RAP_OK)
		fprintf(stderr, "rap-bench-s3: %s\n", rap_s3_errmsg(s3));
	else
		printf("parts=%u parts_s=%.2f complete_s=%.2f total_s=%.2f\n",
		       rap_s3_mpu_parts(mpu), (double)(t1 - t0) / 1000, (double)(t2 - t1) / 1000,
		       (double)(t2 - t0) / 1000);
	rap_s3_mpu_free(mpu);
	free(buf);
	rap_s3_free(s3);
	close(fd);
	return result == RAP_OK ? 0 : 1;
}
