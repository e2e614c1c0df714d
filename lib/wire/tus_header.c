/* tus_header.c: the tus 1.0 header grammar (Upload-Metadata,
 * Upload-Checksum, Upload-Concat), pure functions over header text. */
#include "rap/tus_header.h"
#include "rap/base64.h"
#include "rap/err.h"
#include "rap/str.h"
#include "rap/uuid.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* One "key value" pair of Upload-Metadata, spaces around it trimmed. */
struct meta_pair {
	const char *key, *value;
	size_t key_len, value_len;
};

static int meta_split(const char *p, size_t len, struct meta_pair *m)
{
	const char *end = p + len, *sp;

	while (p < end && *p == ' ')
		p++;
	while (end > p && end[-1] == ' ')
		end--;
	sp = memchr(p, ' ', (size_t)(end - p));
	m->key = p;
	m->key_len = sp ? (size_t)(sp - p) : (size_t)(end - p);
	m->value = sp ? sp + 1 : end;
	m->value_len = (size_t)(end - m->value);
	if (m->key_len == 0 || memchr(m->value, ' ', m->value_len))
		return RAP_EINVAL;
	return RAP_OK;
}

/* Whether a key is printable ASCII (it goes into logs and JSON as it is);
 * spaces and commas never reach here. */
static bool key_valid(const struct meta_pair *m)
{
	size_t i;

	for (i = 0; i < m->key_len; i++)
		if ((unsigned char)m->key[i] < 0x21 || (unsigned char)m->key[i] > 0x7e)
			return false;
	return true;
}

int rap_tus_metadata_get(const char *meta, const char *key, char *out, size_t len, char *err)
{
	struct meta_pair pairs[64];
	unsigned count = 0, i, j;
	const char *p = meta;
	unsigned char val[RAP_TUS_METADATA_MAX];
	size_t n;

	out[0] = '\0';
	if (strlen(meta) > RAP_TUS_METADATA_MAX) {
		snprintf(err, RAP_ERRLEN, "Upload-Metadata is longer than %d bytes",
			 RAP_TUS_METADATA_MAX);
		return RAP_EINVAL;
	}
	while (*meta && *p) {
		size_t seg = strcspn(p, ",");

		if (count == 64 || meta_split(p, seg, &pairs[count]) != RAP_OK) {
			snprintf(err, RAP_ERRLEN,
				 "Upload-Metadata must be comma-separated "
				 "'key base64value' pairs (at most 64)");
			return RAP_EINVAL;
		}
		count++;
		p += seg;
		if (*p == ',')
			p++;
	}
	for (i = 0; i < count; i++) {
		for (j = 0; j < i; j++)
			if (pairs[j].key_len == pairs[i].key_len &&
			    memcmp(pairs[j].key, pairs[i].key, pairs[i].key_len) == 0) {
				snprintf(err, RAP_ERRLEN, "Upload-Metadata repeats the key '%.*s'",
					 (int)pairs[i].key_len, pairs[i].key);
				return RAP_EINVAL;
			}
		if (!key_valid(&pairs[i])) {
			snprintf(err, RAP_ERRLEN,
				 "Upload-Metadata keys must be printable ASCII (the key '%.*s' "
				 "is not)",
				 (int)pairs[i].key_len, pairs[i].key);
			return RAP_EINVAL;
		}
		if (rap_base64_decode(pairs[i].value, pairs[i].value_len, val, sizeof(val), &n) !=
		    RAP_OK) {
			snprintf(err, RAP_ERRLEN,
				 "the Upload-Metadata value of '%.*s' is not base64",
				 (int)pairs[i].key_len, pairs[i].key);
			return RAP_EINVAL;
		}
		/* Every value, used here or not, is stored and shown again. */
		if (!rap_utf8_valid((const char *)val, n)) {
			snprintf(err, RAP_ERRLEN,
				 "the Upload-Metadata value of '%.*s' must be valid UTF-8 "
				 "without NUL characters",
				 (int)pairs[i].key_len, pairs[i].key);
			return RAP_EINVAL;
		}
		if (strlen(key) != pairs[i].key_len ||
		    memcmp(key, pairs[i].key, pairs[i].key_len) != 0)
			continue;
		if (n >= len) {
			snprintf(err, RAP_ERRLEN, "the Upload-Metadata value of '%s' is too long",
				 key);
			return RAP_EINVAL;
		}
		memcpy(out, val, n);
		out[n] = '\0';
	}
	return RAP_OK;
}

int rap_tus_checksum_parse(const char *h, char algo[RAP_TUS_ALGO_LEN],
			   unsigned char digest[RAP_DIGEST_MAX], size_t *n)
{
	const char *sp = strchr(h, ' ');
	size_t alen = sp ? (size_t)(sp - h) : 0;

	if (!sp || alen == 0 || alen >= 16)
		return RAP_EINVAL;
	memcpy(algo, h, alen);
	algo[alen] = '\0';
	while (*sp == ' ')
		sp++;
	if (rap_base64_decode(sp, strlen(sp), digest, RAP_DIGEST_MAX, n) != RAP_OK || *n == 0)
		return RAP_EINVAL;
	return RAP_OK;
}

int rap_tus_concat_parse(const char *h, char (*ids)[RAP_UUID_STRLEN], unsigned max, unsigned *n,
			 char *err)
{
	const char *p;

	*n = 0;
	if (strncmp(h, "final;", 6) != 0) {
		snprintf(err, RAP_ERRLEN, "Upload-Concat must be 'partial' or 'final;<urls>'");
		return RAP_EINVAL;
	}
	/* The header is stored as it came: URLs are ASCII. */
	for (p = h; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e) {
			snprintf(err, RAP_ERRLEN, "Upload-Concat must be printable ASCII");
			return RAP_EINVAL;
		}
	for (p = h + 6; *p;) {
		size_t len = strcspn(p, " "), i;
		const char *seg = p;

		if (len == 0) {
			p++;
			continue;
		}
		for (i = 0; i < len; i++)
			if (p[i] == '/')
				seg = p + i + 1;
		if (*n == max) {
			snprintf(err, RAP_ERRLEN, "a final upload joins at most %u partial uploads",
				 max);
			return RAP_EINVAL;
		}
		if ((size_t)(p + len - seg) != 36) {
			snprintf(err, RAP_ERRLEN, "'%.*s' is not the URL of an upload",
				 (int)(len > 200 ? 200 : len), p);
			return RAP_EINVAL;
		}
		memcpy(ids[*n], seg, 36);
		ids[*n][RAP_UUID_STRLEN - 1] = '\0';
		if (!rap_uuid_valid(ids[*n])) {
			snprintf(err, RAP_ERRLEN, "'%.*s' is not the URL of an upload",
				 (int)(len > 200 ? 200 : len), p);
			return RAP_EINVAL;
		}
		(*n)++;
		p += len;
	}
	if (*n == 0) {
		snprintf(err, RAP_ERRLEN, "Upload-Concat: final names no partial uploads");
		return RAP_EINVAL;
	}
	return RAP_OK;
}
