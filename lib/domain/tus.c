/* tus.c: the tus 1.0 header grammar and the upload state in PostgreSQL. */
#include "rap/tus.h"
#include "rap/err.h"
#include "rap/mem.h"
#include "rap/pg.h"
#include "rap/buf.h"
#include "rap/str.h"
#include "rap/uuid.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- upload state in PostgreSQL ---- */

int rap_tus_create(PGconn *db, const struct rap_tus_new *n, char *err)
{
	char len[24], part[24], ex[12];
	const char *p[10] = { n->id,       n->owner,        n->object_key,
			      n->filename, n->content_type, n->length < 0 ? NULL : len,
			      part,        n->metadata,     n->concat,
			      ex };

	snprintf(len, sizeof(len), "%lld", n->length);
	snprintf(part, sizeof(part), "%lld", n->part_size);
	snprintf(ex, sizeof(ex), "%d", n->expire_s);
	return rap_pg_exec(
		db,
		"WITH u AS (INSERT INTO uploads (id, owner, object_key, filename, content_type,"
		" size, state) VALUES ($1, $2, $3, $4, $5, 0, 'UPLOADING') RETURNING id)"
		" INSERT INTO tus_uploads (upload_id, length, part_size, metadata, concat,"
		" expires_at) SELECT id, $6::bigint, $7::bigint, $8, $9,"
		" now() + make_interval(secs => $10::int) FROM u",
		10, p, NULL, err);
}

static char *dup_or_null(PGresult *res, int col)
{
	return PQgetisnull(res, 0, col) ? NULL : rap_strdup(PQgetvalue(res, 0, col));
}

static void load_etags(struct rap_tus *t, const char *s)
{
	while (*s) {
		size_t n = strcspn(s, "\n");
		char *e = rap_strndup(s, n);

		rap_tus_add_part(t, e);
		free(e);
		s += n;
		if (*s == '\n')
			s++;
	}
}

static void load_hash(struct rap_tus *t, const char *hex)
{
	size_t i, n = strlen(hex);

	t->has_hash = false;
	if (n != 2 + 2 * RAP_SHA256_STATE_LEN || strncmp(hex, "\\x", 2) != 0)
		return;
	for (i = 0; i < RAP_SHA256_STATE_LEN; i++) {
		unsigned v;

		if (sscanf(hex + 2 + 2 * i, "%2x", &v) != 1)
			return;
		t->hash[i] = (unsigned char)v;
	}
	t->has_hash = true;
}

int rap_tus_load(PGconn *db, const char *owner, const char *id, struct rap_tus *t, char *err)
{
	const char *p[2] = { id, owner };
	PGresult *res;
	long long v;
	int result;

	memset(t, 0, sizeof(*t));
	result = rap_pg_one(
		db,
		"SELECT u.object_key, u.state, t.upload_id IS NULL, coalesce(t.length, -1),"
		" t.\"offset\", t.part_size, t.tail_len, t.s3_upload_id, t.etags, t.hash_state,"
		" t.metadata, t.concat, u.content_type, u.detected_type,"
		" CASE WHEN t.expires_at = 'infinity' THEN 0"
		"  ELSE extract(epoch FROM t.expires_at)::bigint END, t.expires_at < now()"
		" FROM uploads u LEFT JOIN tus_uploads t ON t.upload_id = u.id"
		" WHERE u.id = $1 AND ($2::text IS NULL OR u.owner = $2)",
		2, p, &res, err);
	if (result != RAP_OK)
		return result;
	if (strcmp(PQgetvalue(res, 0, 2), "t") == 0) {
		/* Terminated uploads keep their row, ABORTED; others are not tus. */
		result = strcmp(PQgetvalue(res, 0, 1), "ABORTED") == 0 ? RAP_ECANCELED : RAP_ENOENT;
		PQclear(res);
		return result;
	}
	snprintf(t->id, sizeof(t->id), "%s", id);
	snprintf(t->object_key, sizeof(t->object_key), "%s", PQgetvalue(res, 0, 0));
	snprintf(t->state, sizeof(t->state), "%s", PQgetvalue(res, 0, 1));
	rap_strtonum(PQgetvalue(res, 0, 3), -1, INT64_MAX, &t->length);
	rap_strtonum(PQgetvalue(res, 0, 4), 0, INT64_MAX, &t->offset);
	rap_strtonum(PQgetvalue(res, 0, 5), 1, INT64_MAX, &t->part_size);
	rap_strtonum(PQgetvalue(res, 0, 6), 0, INT64_MAX, &t->tail_len);
	t->s3_upload_id = dup_or_null(res, 7);
	load_etags(t, PQgetvalue(res, 0, 8));
	load_hash(t, PQgetvalue(res, 0, 9));
	t->metadata = rap_strdup(PQgetvalue(res, 0, 10));
	t->concat = dup_or_null(res, 11);
	t->content_type = dup_or_null(res, 12);
	t->detected_type = dup_or_null(res, 13);
	v = 0;
	rap_strtonum(PQgetvalue(res, 0, 14), 0, INT64_MAX, &v);
	t->expires_at = (time_t)v;
	t->expired = strcmp(PQgetvalue(res, 0, 15), "t") == 0;
	PQclear(res);
	return RAP_OK;
}

void rap_tus_cleanup(struct rap_tus *t)
{
	unsigned i;

	for (i = 0; i < t->parts; i++)
		free(t->etags[i]);
	free(t->etags);
	free(t->s3_upload_id);
	free(t->metadata);
	free(t->concat);
	free(t->content_type);
	free(t->detected_type);
	memset(t, 0, sizeof(*t));
}

void rap_tus_add_part(struct rap_tus *t, const char *etag)
{
	t->etags = rap_realloc(t->etags, (t->parts + 1) * sizeof(*t->etags));
	t->etags[t->parts++] = rap_strdup(etag);
}

int rap_tus_save(PGconn *db, const struct rap_tus *t, int expire_s, char *err)
{
	char off[24], len[24], tail[24], ex[12], hash[2 + 2 * RAP_SHA256_STATE_LEN + 1];
	struct rap_buf etags;
	unsigned i;
	int result;

	snprintf(off, sizeof(off), "%lld", t->offset);
	snprintf(len, sizeof(len), "%lld", t->length);
	snprintf(tail, sizeof(tail), "%lld", t->tail_len);
	snprintf(ex, sizeof(ex), "%d", expire_s);
	hash[0] = '\\';
	hash[1] = 'x';
	rap_hex(t->hash, RAP_SHA256_STATE_LEN, hash + 2);
	rap_buf_init(&etags, 2 * 1024 * 1024); /* 10,000 ETags fit */
	for (i = 0; i < t->parts; i++)
		if (rap_buf_appendf(&etags, "%s%s", i ? "\n" : "", t->etags[i]) != RAP_OK) {
			snprintf(err, RAP_ERRLEN, "too many parts");
			rap_buf_cleanup(&etags);
			return RAP_ETOOBIG;
		}
	result = rap_pg_exec(
		db,
		"WITH u AS (UPDATE uploads SET size = $2::bigint,"
		" detected_type = coalesce($9, detected_type) WHERE id = $1)"
		" UPDATE tus_uploads SET \"offset\" = $2::bigint, length = $3::bigint,"
		" tail_len = $4::bigint, s3_upload_id = $5, etags = $6, hash_state = $7::bytea,"
		" expires_at = now() + make_interval(secs => $8::int) WHERE upload_id = $1",
		9,
		(const char *const[]){ t->id, off, t->length < 0 ? NULL : len, tail,
				       t->s3_upload_id, etags.data ? etags.data : "",
				       t->has_hash ? hash : NULL, ex, t->detected_type },
		NULL, err);
	rap_buf_cleanup(&etags);
	return result;
}

int rap_tus_complete(PGconn *db, const struct rap_tus *t, const char *sha256, char *err)
{
	char off[24];

	snprintf(off, sizeof(off), "%lld", t->offset);
	return rap_pg_exec(
		db,
		"WITH u AS (UPDATE uploads SET state = 'COMPLETE', size = $2::bigint,"
		" sha256 = $3, detected_type = coalesce($4, detected_type), completed_at = now()"
		" WHERE id = $1)"
		" UPDATE tus_uploads SET \"offset\" = $2::bigint, length = $2::bigint,"
		" tail_len = 0, s3_upload_id = NULL, etags = '', hash_state = NULL,"
		" expires_at = 'infinity' WHERE upload_id = $1",
		4, (const char *const[]){ t->id, off, sha256, t->detected_type }, NULL, err);
}

int rap_tus_end(PGconn *db, const char *id, bool drop, char *err)
{
	return rap_pg_exec(db,
			   drop ? "DELETE FROM uploads WHERE id = $1"
				: "WITH t AS (DELETE FROM tus_uploads WHERE upload_id = $1)"
				  " UPDATE uploads SET state = 'ABORTED' WHERE id = $1",
			   1, (const char *const[]){ id }, NULL, err);
}

/* One advisory-lock key space for uploads, apart from the migrations'. */
#define LOCK_KEY "hashtextextended('rap.tus:' || $1, 0)"

int rap_tus_lock(PGconn *db, const char *id, char *err)
{
	PGresult *res;
	int result;

	result = rap_pg_exec(db, "SELECT pg_try_advisory_lock(" LOCK_KEY ")", 1,
			     (const char *const[]){ id }, &res, err);
	if (result != RAP_OK)
		return result;
	result = strcmp(PQgetvalue(res, 0, 0), "t") == 0 ? RAP_OK : RAP_ECONFLICT;
	PQclear(res);
	return result;
}

void rap_tus_unlock(PGconn *db, const char *id)
{
	char err[RAP_ERRLEN];

	rap_pg_exec(db, "SELECT pg_advisory_unlock(" LOCK_KEY ")", 1, (const char *const[]){ id },
		    NULL, err);
}

void rap_tus_tail_key(const struct rap_tus *t, long long start, char *out, size_t len)
{
	snprintf(out, len, "tus/%s/tail-%lld", t->id, start);
}

int rap_tus_expired(PGconn *db, char (*ids)[RAP_UUID_STRLEN], unsigned max, unsigned *n, char *err)
{
	char lim[12];
	PGresult *res;
	int result, i;

	*n = 0;
	snprintf(lim, sizeof(lim), "%u", max);
	result = rap_pg_exec(db,
			     "SELECT upload_id FROM tus_uploads WHERE expires_at < now()"
			     " ORDER BY expires_at LIMIT $1::int",
			     1, (const char *const[]){ lim }, &res, err);
	if (result != RAP_OK)
		return result;
	for (i = 0; i < PQntuples(res) && *n < max; i++)
		snprintf(ids[(*n)++], RAP_UUID_STRLEN, "%s", PQgetvalue(res, i, 0));
	PQclear(res);
	return RAP_OK;
}
