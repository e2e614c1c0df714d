/*
 * webhooks.c: job-api's webhook sender.  The deliveries are rows of
 * webhook_deliveries, written by a trigger in the transaction that finished
 * the job (migration 0010); this task (rap/task.h) leases the due ones, POSTs them and
 * records each attempt.  At least once: a crash between the POST and the
 * record sends the delivery again when its lease runs out, with the same
 * X-Rap-Delivery id, which receivers use to skip repeats.
 */
#include "job_api.h"

#include "rap/err.h"
#include "rap/log.h"
#include "rap/metrics.h"
#include "rap/pg.h"
#include "rap/webhook.h"
#include "rap/clock.h"
#include "rap/mem.h"
#include "rap/stop.h"
#include "rap/task.h"
#include "rap/hash.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WEBHOOK_BATCH 20
#define WEBHOOK_IDLE_MS 250 /* poll interval when nothing is due */

static const struct rap_log_ctx wh_ctx = { .action = "webhooks" };

/* The answer's body is read and thrown away. */
static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
	(void)p;
	(void)ctx;
	return size * n;
}

/*
 * POSTs the delivery's body to its URL as application/json with the
 * delivery's headers (X-Rap-Delivery, X-Rap-Event, and X-Rap-Signature:
 * sha256=... when a secret is set); never follows redirects.  RAP_OK on a
 * 2xx answer; otherwise why (RAP_ERRLEN) says what happened.
 */
static int post(const struct rap_webhook *w, const char *secret, long long timeout_ms, char *why)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char line[160], sig[RAP_SHA256_HEXLEN];
	long status = 0;
	CURLcode rc;

	if (!c) {
		snprintf(why, RAP_ERRLEN, "curl_easy_init failed");
		return RAP_ENOMEM;
	}
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "User-Agent: resilient-async-platform-webhooks/1");
	h = curl_slist_append(h, "X-Rap-Event: job.finished");
	snprintf(line, sizeof(line), "X-Rap-Delivery: %lld", w->id);
	h = curl_slist_append(h, line);
	if (secret[0]) {
		rap_webhook_sign(secret, w->body, sig);
		snprintf(line, sizeof(line), "X-Rap-Signature: sha256=%s", sig);
		h = curl_slist_append(h, line);
	}
	h = curl_slist_append(h, "Expect:"); /* small bodies: no 100-continue wait */
	curl_easy_setopt(c, CURLOPT_URL, w->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, w->body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(w->body));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		snprintf(why, RAP_ERRLEN, "%s", curl_easy_strerror(rc));
		return RAP_EIO;
	}
	if (status < 200 || status > 299) {
		snprintf(why, RAP_ERRLEN, "the receiver answered HTTP %ld", status);
		return RAP_EIO;
	}
	return RAP_OK;
}

/* Sends one leased delivery and records the outcome. */
static void deliver(struct job_api *api, PGconn *db, const struct rap_webhook *w)
{
	const struct job_api_settings *cfg = &api->cfg;
	struct rap_log_ctx ctx = { .job_id = w->job_id, .action = "webhooks" };
	char why[RAP_ERRLEN] = "", err[RAP_ERRLEN];
	bool ok, gave_up = false;

	ok = post(w, cfg->webhook_secret, cfg->webhook_timeout_ms, why) == RAP_OK;
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
		rap_log(RAP_LOG_WARN, &ctx, "webhook %lld to %s: %s; will retry", w->id, w->url,
			why);
	}
}

struct webhooks {
	struct rap_task task;
	struct job_api *api;
	PGconn *db;
};

static int wh_connect(void *ctx)
{
	struct webhooks *h = ctx;
	char err[RAP_ERRLEN];

	if (h->db && PQstatus(h->db) == CONNECTION_OK)
		return RAP_OK;
	PQfinish(h->db);
	h->db = NULL;
	if (rap_pg_connect(h->api->svc.cfg.pg_url, &h->db, err) != RAP_OK) {
		h->db = NULL;
		return RAP_EDB;
	}
	return RAP_OK;
}

/* Leases the due deliveries and sends them; waits a little when fewer than
 * a batch were due. */
static int wh_step(void *ctx)
{
	struct webhooks *h = ctx;
	/* Long enough for a whole batch of POSTs that all time out. */
	long long lease_ms = h->api->cfg.webhook_timeout_ms * (WEBHOOK_BATCH + 1) + 5000;
	struct rap_webhook *due;
	char err[RAP_ERRLEN];
	int n;

	if (rap_webhook_lease(h->db, WEBHOOK_BATCH, lease_ms, &due, &n, err) != RAP_OK) {
		rap_log(RAP_LOG_WARN, &wh_ctx, "leasing webhooks: %s", err);
		return RAP_EDB;
	}
	for (int i = 0; i < n && !rap_stopping(); i++)
		deliver(h->api, h->db, &due[i]);
	rap_webhook_free(due, n);
	if (n < WEBHOOK_BATCH)
		rap_sleep_ms(WEBHOOK_IDLE_MS);
	return RAP_OK;
}

static void wh_close(void *ctx)
{
	struct webhooks *h = ctx;

	PQfinish(h->db);
	h->db = NULL;
}

static const struct rap_task_ops wh_ops = {
	.connect = wh_connect,
	.step = wh_step,
	.close = wh_close,
};

struct rap_task *job_api_webhooks_new(struct job_api *api)
{
	struct webhooks *h = rap_calloc(1, sizeof(*h));

	h->api = api;
	h->task = (struct rap_task){ .name = "webhooks", .ops = &wh_ops, .ctx = h };
	return &h->task;
}

void job_api_webhooks_free(struct rap_task *t)
{
	if (t)
		free(t->ctx);
}
