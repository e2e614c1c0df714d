/* stats.c: GET /jobs/stats, the caller's numbers over a window of hours, or
 * (an admin's ?owner=NAME or ?all=true, job_api_scope) another owner's or
 * every owner's. */
#include "job_api.h"

#include "rap/err.h"
#include "rap/jobstore.h"
#include "rap/pg.h"
#include "rap/str.h"

#include <stdlib.h>

#define STATS_DEFAULT_HOURS 24
#define STATS_MAX_HOURS 720 /* 30 days: the owner's rows of a window stay few */

void job_api_stats(void *svc, struct rap_http_req *req)
{
	struct job_api *api = svc;
	const char *arg = rap_http_get_arg(req, "hours");
	long long hours = STATS_DEFAULT_HOURS;
	char err[RAP_ERRLEN], *json = NULL;
	const char *owner;
	bool foreign;
	PGconn *db;
	int result;

	if (arg && rap_strtonum(arg, 1, STATS_MAX_HOURS, &hours) != RAP_OK) {
		rap_http_error(req, 400, "bad_request", "hours must be a whole number from 1 to %d",
			       STATS_MAX_HOURS);
		return;
	}
	if (!job_api_scope(req, &owner, &foreign))
		return;
	db = job_api_db_get(api, req);
	if (!db)
		return;
	result = rap_job_stats_json(db, owner, (int)hours, &json, err);
	rap_pg_pool_put(api->pool, db);
	if (result != RAP_OK)
		job_api_store_error(req, result, err);
	else
		rap_http_reply(req, 200, json);
	free(json);
}
