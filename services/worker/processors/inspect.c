/*
 * inspect.c: the file.inspect processor: the input's size, SHA-256 and
 * the type libmagic detects in its first 64 KiB.  libmagic's database is
 * loaded in prepare, before the sandbox closes; reading it later would
 * need open(2).  The worker stores the result as processed/<job>/result.json
 * and names it output_key, as it always did.
 */
#include "procs.h"

#include "rap/err.h"
#include "rap/hash.h"

#include <json-c/json.h>
#include <magic.h>
#include <string.h>

#define MAGIC_HEAD (64 * 1024) /* libmagic looks at the first bytes only */
#define READ_CHUNK (64 * 1024)

static magic_t magic;

static int inspect_prepare(void)
{
	struct rap_sha256 warm;
	char hex[RAP_SHA256_HEXLEN];

	magic = magic_open(MAGIC_MIME_TYPE);
	if (!magic || magic_load(magic, NULL) != 0)
		return RAP_EIO;
	/* Anything OpenSSL sets up on first use happens before the sandbox. */
	rap_sha256_init(&warm);
	rap_sha256_final_hex(&warm, hex);
	return RAP_OK;
}

static int inspect_run(struct proc_ctx *c)
{
	static unsigned char head[MAGIC_HEAD], buf[READ_CHUNK];
	struct rap_sha256 sha;
	char hex[RAP_SHA256_HEXLEN];
	struct json_object *result;
	size_t head_len = 0, take;
	long long size = 0;
	const char *mime;
	ssize_t n;

	rap_sha256_init(&sha);
	proc_progress(c, "read", 0, -1);
	while ((n = proc_read(c, buf, sizeof(buf))) > 0) {
		rap_sha256_update(&sha, buf, (size_t)n);
		if (head_len < MAGIC_HEAD) {
			take = MAGIC_HEAD - head_len < (size_t)n ? MAGIC_HEAD - head_len
								 : (size_t)n;
			memcpy(head + head_len, buf, take);
			head_len += take;
		}
		size += n;
		if (proc_progress(c, "read", size, -1) != RAP_OK)
			break;
	}
	if (n < 0) {
		rap_sha256_cleanup(&sha);
		return RAP_EIO; /* the input broke off: the worker knows why */
	}
	rap_sha256_final_hex(&sha, hex);
	mime = magic_buffer(magic, head, head_len);
	result = json_object_new_object();
	json_object_object_add(result, "size", json_object_new_int64(size));
	json_object_object_add(result, "sha256", json_object_new_string(hex));
	json_object_object_add(result, "mime_type",
			       json_object_new_string(mime ? mime : "application/octet-stream"));
	return proc_succeed(c, result);
}

const struct processor proc_file_inspect = {
	.type = "file.inspect",
	.prepare = inspect_prepare,
	.run = inspect_run,
};
