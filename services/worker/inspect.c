/* inspect.c: the file.inspect processor: size, SHA-256 and detected type. */
#include "worker.h"

#include "rap/err.h"
#include "rap/hash.h"
#include "rap/metrics.h"
#include "rap/mem.h"
#include "rap/s3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC_HEAD (64 * 1024) /* libmagic looks at the first bytes only */

struct inspect {
	struct job_run *run;
	struct rap_sha256 sha;
	unsigned char head[MAGIC_HEAD];
	size_t head_len;
};

static int inspect_sink(void *ctx, const void *data, size_t len)
{
	struct inspect *in = ctx;
	size_t take;

	rap_sha256_update(&in->sha, data, len);
	if (in->head_len < MAGIC_HEAD) {
		take = MAGIC_HEAD - in->head_len < len ? MAGIC_HEAD - in->head_len : len;
		memcpy(in->head + in->head_len, data, take);
		in->head_len += take;
	}
	in->run->done += len;
	rap_metric_inc(in->run->w->bytes_read, (long long)len);
	return worker_heartbeat(in->run);
}

int worker_inspect_run(struct job_run *run, char **result_json, char *err)
{
	struct inspect *in = rap_calloc(1, sizeof(*in));
	struct rap_s3 *s3 = run->w->s3;
	char sha[RAP_SHA256_HEXLEN], key[128], *json;
	const char *mime;
	int result;

	in->run = run;
	/* The size makes progress reports meaningful; a failure is harmless. */
	rap_s3_head(s3, run->msg->object_key, &run->size);
	rap_sha256_init(&in->sha);
	result = rap_s3_get(s3, run->msg->object_key, inspect_sink, in);
	if (result != RAP_OK) {
		snprintf(err, RAP_ERRLEN, "reading %.100s: %.120s", run->msg->object_key,
			 result == RAP_ECANCELED ? "cancelled" : rap_s3_errmsg(s3));
		rap_sha256_cleanup(&in->sha);
		goto out_free;
	}
	rap_sha256_final_hex(&in->sha, sha);
	mime = magic_buffer(run->w->magic, in->head, in->head_len);
	snprintf(key, sizeof(key), "processed/%s/result.json", run->msg->job_id);
	json = rap_asprintf("{\"size\":%llu,\"sha256\":\"%s\",\"mime_type\":\"%s\","
			    "\"output_key\":\"%s\"}",
			    (unsigned long long)run->done, sha,
			    mime ? mime : "application/octet-stream", key);
	/* A deterministic key: a duplicate run writes the same bytes again. */
	result = rap_s3_put(s3, key, json, strlen(json), "application/json");
	if (result != RAP_OK) {
		snprintf(err, RAP_ERRLEN, "writing %s: %s", key, rap_s3_errmsg(s3));
		free(json);
		goto out_free;
	}
	*result_json = json;
out_free:
	free(in);
	return result;
}
