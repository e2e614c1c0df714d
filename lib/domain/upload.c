/* upload.c: finished uploads in PostgreSQL (the `uploads` table), which
 * jobs name by their object key. */
#include "rap/upload.h"
#include "rap/err.h"
#include "rap/pg.h"
#include "rap/str.h"

#include <stdint.h>
#include <stdio.h>

int rap_upload_record(PGconn *db, const char *upload_id, const char *owner, const char *object_key,
		      const char *filename, const char *content_type, unsigned long long size,
		      const char *sha256, const char *detected_type, char *err)
{
	char sz[24];
	const char *p[8] = { upload_id,    owner, object_key, filename,
			     content_type, sz,    sha256,     detected_type };

	snprintf(sz, sizeof(sz), "%llu", size);
	return rap_pg_exec(db,
			   "INSERT INTO uploads (id, owner, object_key, filename, content_type,"
			   " size, sha256, state, completed_at, detected_type)"
			   " VALUES ($1, $2, $3, $4, $5, $6, $7, 'COMPLETE', now(), $8)",
			   8, p, NULL, err);
}

int rap_upload_stored(PGconn *db, long long *objects, long long *bytes, char *err)
{
	PGresult *res;
	int result;

	result = rap_pg_one(db,
			    "SELECT count(*), coalesce(sum(size), 0) FROM uploads"
			    " WHERE state = 'COMPLETE'",
			    0, NULL, &res, err);
	if (result != RAP_OK)
		return result;
	*objects = *bytes = 0;
	rap_strtonum(PQgetvalue(res, 0, 0), 0, INT64_MAX, objects);
	rap_strtonum(PQgetvalue(res, 0, 1), 0, INT64_MAX, bytes);
	PQclear(res);
	return RAP_OK;
}

int rap_upload_detected_type(PGconn *db, const char *owner, const char *object_key, char *out,
			     size_t len, char *err)
{
	const char *p[2] = { object_key, owner };
	PGresult *res;
	int result;

	result = rap_pg_one(db,
			    "SELECT coalesce(detected_type, '') FROM uploads"
			    " WHERE object_key = $1 AND owner = $2",
			    2, p, &res, err);
	if (result != RAP_OK)
		return result;
	snprintf(out, len, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return RAP_OK;
}

int rap_upload_get(PGconn *db, const char *owner, const char *upload_id, char **json, char *err)
{
	const char *p[2] = { upload_id, owner };

	return rap_pg_one_text(
		db,
		"SELECT json_build_object('upload_id', id, 'object_key', object_key,"
		" 'size', size, 'sha256', sha256, 'filename', filename,"
		" 'content_type', content_type, 'detected_type', detected_type, 'state', state,"
		" 'created_at', rap_ts(created_at))::text"
		" FROM uploads WHERE id = $1 AND owner = $2",
		2, p, json, err);
}
