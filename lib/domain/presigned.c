/* presigned.c: uploads that go straight to S3 through a presigned URL. */
#include "rap/presigned.h"
#include "json_decode.h"
#include "rap/err.h"
#include "rap/pg.h"
#include "rap/s3.h"
#include "rap/str.h"
#include "rap/uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rap_presigned_record(PGconn *db, const char *upload_id, const char *owner,
			 const char *object_key, const char *filename, const char *content_type,
			 unsigned long long size, int expires_s, char *err)
{
	char sz[24], ex[12];
	const char *p[7] = { upload_id, owner, object_key, filename, content_type, sz, ex };

	snprintf(sz, sizeof(sz), "%llu", size);
	snprintf(ex, sizeof(ex), "%d", expires_s);
	return rap_pg_exec(
		db,
		"INSERT INTO uploads (id, owner, object_key, filename, content_type, size,"
		" state, expected_size, presigned_until)"
		" VALUES ($1, $2, $3, $4, $5, 0, 'UPLOADING', $6::bigint,"
		" now() + make_interval(secs => $7::int))",
		7, p, NULL, err);
}

/* The id and declared size of the owner's pending presigned upload. */
static int find_pending(PGconn *db, const char *owner, const char *object_key,
			char id[RAP_UUID_STRLEN], unsigned long long *size, char *err)
{
	const char *p[2] = { object_key, owner };
	PGresult *res;
	long long v = 0;
	int result;

	result = rap_pg_one(
		db,
		"SELECT id, expected_size FROM uploads WHERE object_key = $1 AND owner = $2"
		" AND state = 'UPLOADING' AND expected_size IS NOT NULL",
		2, p, &res, err);
	if (result != RAP_OK)
		return result;
	snprintf(id, RAP_UUID_STRLEN, "%s", PQgetvalue(res, 0, 0));
	rap_strtonum(PQgetvalue(res, 0, 1), 0, 1LL << 62, &v);
	*size = (unsigned long long)v;
	PQclear(res);
	return RAP_OK;
}

int rap_presigned_verify(PGconn *db, struct rap_s3 *s3, const char *owner, const char *object_key,
			 char *err)
{
	unsigned long long want;
	uint64_t have = 0;
	char id[RAP_UUID_STRLEN], sz[24];
	int result;

	result = find_pending(db, owner, object_key, id, &want, err);
	if (result != RAP_OK)
		return result;
	result = rap_s3_head(s3, object_key, &have);
	if (result == RAP_ENOENT) {
		snprintf(err, RAP_ERRLEN,
			 "the presigned upload %s is not in S3 yet: PUT the file "
			 "to its URL first",
			 id);
		return RAP_EINVAL;
	}
	if (result != RAP_OK) {
		snprintf(err, RAP_ERRLEN, "S3: %.200s", rap_s3_errmsg(s3));
		return RAP_ES3;
	}
	if (have != want) {
		snprintf(err, RAP_ERRLEN,
			 "the object of presigned upload %s is %llu bytes, "
			 "not the %llu declared",
			 id, (unsigned long long)have, want);
		return RAP_EINVAL;
	}
	snprintf(sz, sizeof(sz), "%llu", want);
	/* A concurrent verification may have completed it: that is success too. */
	return rap_pg_exec(
		db,
		"UPDATE uploads SET state = 'COMPLETE', size = $2::bigint, completed_at = now()"
		" WHERE id = $1 AND state = 'UPLOADING'",
		2, (const char *const[]){ id, sz }, NULL, err);
}

int rap_presigned_sweep(PGconn *db, struct rap_s3 *s3, int grace_s, int limit, unsigned *aborted,
			char *err)
{
	char grace[12], lim[12];
	const char *p[2] = { grace, lim };
	PGresult *res;
	int result, i;

	*aborted = 0;
	snprintf(grace, sizeof(grace), "%d", grace_s);
	snprintf(lim, sizeof(lim), "%d", limit);
	result = rap_pg_begin(db, err);
	if (result != RAP_OK)
		return result;
	result = rap_pg_exec(db,
			     "SELECT id, object_key FROM uploads WHERE state = 'UPLOADING'"
			     " AND presigned_until < now() - make_interval(secs => $1::int)"
			     " ORDER BY presigned_until LIMIT $2::int FOR UPDATE SKIP LOCKED",
			     2, p, &res, err);
	if (result != RAP_OK)
		goto out_rollback;
	for (i = 0; i < PQntuples(res); i++) {
		/* An object PUT but never used goes too: no job may take it now. */
		if (rap_s3_delete(s3, PQgetvalue(res, i, 1)) != RAP_OK) {
			snprintf(err, RAP_ERRLEN, "S3: %.200s", rap_s3_errmsg(s3));
			result = RAP_ES3;
			break;
		}
		result = rap_pg_exec(db, "UPDATE uploads SET state = 'ABORTED' WHERE id = $1", 1,
				     (const char *const[]){ PQgetvalue(res, i, 0) }, NULL, err);
		if (result != RAP_OK)
			break;
		(*aborted)++;
	}
	PQclear(res);
	if (result == RAP_OK)
		result = rap_pg_commit(db, err);
	if (result == RAP_OK)
		return RAP_OK;
out_rollback:
	rap_pg_rollback(db);
	*aborted = 0;
	return result;
}

/* A MIME type: type/subtype of RFC 6838 restricted-name characters. */
static bool valid_mime(const char *s)
{
	const char *slash = strchr(s, '/');

	if (!slash || slash == s || !slash[1] || strchr(slash + 1, '/'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("/!#$&^_.+-", *s)))
			return false;
	return true;
}

int rap_presigned_decode(const char *body, size_t len, struct rap_presigned_req *out, char *err)
{
	struct json_object *o = rap__json_decode_object(body, len, err), *v;
	int result = RAP_EINVAL;

	memset(out, 0, sizeof(*out));
	if (!o)
		return RAP_EINVAL;
	json_object_object_foreach(o, key, val) {
		(void)val;
		if (strcmp(key, "size") != 0 && strcmp(key, "filename") != 0 &&
		    strcmp(key, "content_type") != 0) {
			snprintf(err, RAP_ERRLEN, "unknown field '%.64s'", key);
			goto out_put;
		}
	}
	if (!json_object_object_get_ex(o, "size", &v) || !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 0) {
		snprintf(err, RAP_ERRLEN,
			 "'size' is required: the file's size in bytes, an integer >= 0");
		goto out_put;
	}
	out->size = (unsigned long long)json_object_get_int64(v);
	if (rap__json_decode_string(o, "filename", out->filename, sizeof(out->filename) - 1, false,
				    err) != RAP_OK ||
	    rap__json_decode_string(o, "content_type", out->content_type,
				    sizeof(out->content_type) - 1, false, err) != RAP_OK)
		goto out_put;
	if (out->content_type[0] && !valid_mime(out->content_type)) {
		snprintf(err, RAP_ERRLEN, "'content_type' must be a MIME type such as video/mp4");
		goto out_put;
	}
	result = RAP_OK;
out_put:
	json_object_put(o);
	return result;
}
