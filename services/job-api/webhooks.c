/*
 * webhooks.c: job-api's webhook sender.  The deliveries are rows of
 * webhook_deliveries, written by a trigger in the transaction that finished
 * the job (migration 0010); this thread leases the due ones, POSTs them and
 * records each attempt.  At least once: a crash between the POST and the
 * record sends the delivery again when its lease runs out, with the same
 * X-Rap-Delivery id, which receivers use to skip repeats.
 */
#include "job_api.h"

#include "rap/err.h"
#include "rap/log.h"
#include "rap/metrics.h"
#include "rap/pg.h"
#include "rap/util.h"
#include "rap/webhook.h"

#include <stdio.h>

#define WEBHOOK_BATCH 20
#define WEBHOOK_IDLE_MS 250  /* poll interval when nothing is due */

static const struct rap_log_ctx wh_ctx = { .action = "webhooks" };

/* Sends one leased delivery and records the outcome. */
static void deliver(struct job_api *api, PGconn *db, const struct rap_webhook *w)
{
	const struct rap_settings *cfg = &api->svc.cfg;
	struct rap_log_ctx ctx = { .job_id = w->job_id, .action = "webhooks" };
	char why[RAP_ERRLEN] = "", err[RAP_ERRLEN];
	bool ok, gave_up = false;

	ok = rap_webhook_post(w, cfg->webhook_secret, cfg->webhook_timeout_ms, why) == RAP_OK;
	if (rap_webhook_record(db, w, ok, why, cfg->webhook_max_attempts, cfg->webhook_backoff_ms,
			       &gave_up, err) != RAP_OK) {
		/* The lease runs out and the delivery is sent again: at least once. */
		rap_log(RAP_LOG_WARN, &ctx, "recording webhook %lld: %s", w->id, err);
		return;
	}
	if (ok) {
		rap_metric_inc(api->webhooks_delivered, 1);
		rap_log(RAP_LOG_INFO, &ctx, "webhook %lld delivered to %s", w->id, w->url);
	} else if (gave_up) {
		rap_metric_inc(api->webhooks_failed, 1);
		rap_log(RAP_LOG_ERROR, &ctx, "webhook %lld to %s failed %d times, given up: %s",
			w->id, w->url, w->attempts + 1, why);
	} else {
		rap_metric_inc(api->webhooks_retried, 1);
		rap_log(RAP_LOG_WARN, &ctx, "webhook %lld to %s: %s; will retry", w->id, w->url, why);
	}
}

void *job_api_webhooks_main(void *arg)
{
	struct job_api *api = arg;
	const struct rap_settings *cfg = &api->svc.cfg;
	/* Long enough for a whole batch of POSTs that all time out. */
	long long lease_ms = cfg->webhook_timeout_ms * (WEBHOOK_BATCH + 1) + 5000;
	struct rap_webhook *due;
	struct rap_backoff b;
	char err[RAP_ERRLEN];
	PGconn *db = NULL;
	int n;

	rap_backoff_init(&b, 200, 10000);
	while (!rap_stop) {
		if (!db || PQstatus(db) != CONNECTION_OK) {
			PQfinish(db);
			db = NULL;
			if (rap_pg_connect(cfg->pg_url, &db, err) != RAP_OK) {
				db = NULL;
				rap_sleep_ms(rap_backoff_next(&b), &rap_stop);
				continue;
			}
			rap_backoff_reset(&b);
		}
		if (rap_webhook_lease(db, WEBHOOK_BATCH, lease_ms, &due, &n, err) != RAP_OK) {
			rap_log(RAP_LOG_WARN, &wh_ctx, "leasing webhooks: %s", err);
			rap_sleep_ms(rap_backoff_next(&b), &rap_stop);
			continue;
		}
		for (int i = 0; i < n && !rap_stop; i++)
			deliver(api, db, &due[i]);
		rap_webhook_free(due, n);
		if (n < WEBHOOK_BATCH)
			rap_sleep_ms(WEBHOOK_IDLE_MS, &rap_stop);
	}
	PQfinish(db);
	return NULL;
}
