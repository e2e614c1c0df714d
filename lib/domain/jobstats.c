/*
 * jobstats.c: an owner's numbers over a window, for GET /jobs/stats (the
 * few figures the web UI shows atop its table), or every owner's for an
 * admin (owner NULL).
 *
 * One statement: the owner's jobs created in the window, read once through
 * the jobs_owner index (owner, created_at DESC), grouped by state and by
 * type; the owner's finished uploads of the window through uploads_owner.
 * The cost grows with the owner's rows in the window, never with the table.
 * Every owner's window ($1 NULL) reads jobs_created and uploads_created
 * (migration 0018): PQexecParams plans with the value, so
 * "$1 IS NULL OR owner = $1" folds to one side or the other.
 */
#include "rap/jobstore.h"
#include "rap/err.h"
#include "rap/pg.h"

#include <stdio.h>

/* Seconds a finished job took from its first claim to its end. */
#define SECS "extract(epoch FROM w.finished_at - w.started_at)"
#define DONE "w.finished_at IS NOT NULL AND w.started_at IS NOT NULL"

static const char stats_sql[] =
	"WITH w AS (SELECT status, type, started_at, finished_at FROM jobs"
	"   WHERE ($1::text IS NULL OR owner = $1) AND created_at >= now() - make_interval(hours => $2::int)),"
	" s AS (SELECT status, count(*) AS n FROM w GROUP BY status),"
	" t AS (SELECT w.type, count(*) AS n, count(*) FILTER (WHERE " DONE ") AS done,"
	"   round(avg(" SECS ") FILTER (WHERE " DONE ")::numeric, 3) AS avg_s,"
	"   round((percentile_cont(0.95) WITHIN GROUP (ORDER BY " SECS ")"
	"     FILTER (WHERE " DONE "))::numeric, 3) AS p95_s"
	"   FROM w GROUP BY w.type),"
	" f AS (SELECT count(*) FILTER (WHERE status = 'COMPLETED') AS ok,"
	"   count(*) FILTER (WHERE status IN ('FAILED', 'DEAD')) AS bad FROM w),"
	" u AS (SELECT count(*) AS n, coalesce(sum(size), 0) AS bytes FROM uploads"
	"   WHERE ($1::text IS NULL OR owner = $1) AND state = 'COMPLETE'"
	"   AND created_at >= now() - make_interval(hours => $2::int))"
	" SELECT json_build_object('owner', $1::text, 'window_hours', $2::int,"
	"  'since', rap_ts(now() - make_interval(hours => $2::int)),"
	"  'jobs', (SELECT count(*) FROM w),"
	"  'by_state', (SELECT coalesce(json_object_agg(status, n ORDER BY status), '{}') FROM s),"
	"  'by_type', (SELECT coalesce(json_agg(json_build_object('type', type, 'count', n,"
	"     'finished', done, 'avg_seconds', avg_s, 'p95_seconds', p95_s) ORDER BY type), '[]')"
	"     FROM t),"
	"  'success_rate', (SELECT CASE WHEN ok + bad > 0"
	"     THEN round(ok::numeric / (ok + bad), 4) END FROM f),"
	"  'failure_rate', (SELECT CASE WHEN ok + bad > 0"
	"     THEN round(bad::numeric / (ok + bad), 4) END FROM f),"
	"  'uploads', (SELECT json_build_object('count', n, 'bytes', bytes) FROM u))::text";

int rap_job_stats_json(PGconn *db, const char *owner, int hours, char **json, char *err)
{
	char h[12];
	const char *p[2] = { owner, h };

	snprintf(h, sizeof(h), "%d", hours);
	return rap_pg_one_text(db, stats_sql, 2, p, json, err);
}
