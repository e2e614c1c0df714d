/*
 * webhooks.c: job-api's webhook sender.  The deliveries are rows of
 * webhook_deliveries, written by a trigger in the transaction that finished
 * the job (migration 0010); this task (rap/task.h) leases the due ones, POSTs them and
 * records each attempt.  At least once: a crash between the POST and the
 * record sends the delivery again when its lease runs out, with the same
 * X-Rap-Delivery id, which receivers use to skip repeats.
 *
 * Concurrent, with a share per owner (issue 15, point 1): the POSTs run
 * side by side on one libcurl multi handle, driven by this task's thread,
 * at most RAP_WEBHOOK_CONCURRENCY at once.  Each delivery is leased on its
 * own, for its deadline plus a margin, and the lease query gives an owner
 * no more than RAP_WEBHOOK_PER_OWNER in flight (across instances), so one
 * tenant's hanging receivers hold that many places at most and never a
 * place another tenant's delivery waits for.  Each POST is safe by default
 * (rap/webhook_send.h): public addresses only, unless allowed; the job
 * shows a generic class of failure, the log the detail.
 */
#include "job_api.h"

#include "rap/err.h"
#include "rap/log.h"
#include "rap/metrics.h"
#include "rap/pg.h"
#include "rap/webhook.h"
#include "rap/webhook_send.h"
#include "rap/clock.h"
#include "rap/mem.h"
#include "rap/stop.h"
#include "rap/task.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WEBHOOK_IDLE_MS 250          /* poll interval when nothing is due */
#define WEBHOOK_LEASE_MARGIN_MS 5000 /* past a POST's deadline, to record it */

static const struct rap_log_ctx wh_ctx = { .action = "webhooks" };

/* One delivery in flight: its row and its POST. */
struct inflight {
	struct inflight *prev, *next; /* the list of those in flight */
	struct rap_webhook w;
	struct rap_webhook_send send;
};

struct webhooks {
	struct rap_task task;
	struct job_api *api;
	PGconn *db;
	CURLM *multi;            /* made by the first connect */
	struct inflight *head;   /* the deliveries in flight */
	int running;             /* how many */
	long long next_lease_ms; /* rap_now_ms when to lease again */
};

/* Removes f from the list (when it is on it) and frees it. */
static void inflight_free(struct webhooks *h, struct inflight *f)
{
	if (f->prev)
		f->prev->next = f->next;
	else if (h->head == f)
		h->head = f->next;
	if (f->next)
		f->next->prev = f->prev;
	rap_webhook_send_cleanup(&f->send);
	free(f->w.url);
	free(f->w.body);
	free(f);
}

/* Records a finished POST's outcome and counts it. */
static void record(struct webhooks *h, struct inflight *f, CURLcode rc)
{
	const struct job_api_settings *cfg = &h->api->cfg;
	struct rap_log_ctx ctx = { .job_id = f->w.job_id, .action = "webhooks" };
	char why[RAP_ERRLEN], detail[RAP_ERRLEN], err[RAP_ERRLEN];
	bool ok, gave_up = false;

	ok = rap_webhook_send_outcome(&f->send, rc, why, detail) == RAP_OK;
	if (!h->db || rap_webhook_record(h->db, &f->w, ok, why, cfg->webhook_max_attempts,
					 cfg->webhook_backoff_ms, &gave_up, err) != RAP_OK) {
		/* The lease runs out and the delivery is sent again: at least once. */
		rap_log(RAP_LOG_WARN, &ctx, "recording webhook %lld: %s", f->w.id,
			h->db ? err : "no database connection");
		return;
	}
	if (ok) {
		rap_metric_inc(h->api->webhooks_delivered, 1);
		rap_log(RAP_LOG_INFO, &ctx, "webhook %lld delivered to %s", f->w.id, f->w.url);
	} else if (gave_up) {
		rap_metric_inc(h->api->webhooks_failed, 1);
		rap_log(RAP_LOG_ERROR, &ctx, "webhook %lld to %s failed %d times, given up: %s",
			f->w.id, f->w.url, f->w.attempts + 1, detail);
	} else {
		rap_metric_inc(h->api->webhooks_retried, 1);
		rap_log(RAP_LOG_WARN, &ctx, "webhook %lld to %s: %s; will retry", f->w.id, f->w.url,
			detail);
	}
}

/* Starts the POST of a leased delivery; takes w's strings. */
static void start(struct webhooks *h, struct rap_webhook *w)
{
	const struct job_api_settings *cfg = &h->api->cfg;
	const struct rap_webhook_send_opts o = {
		.secret = cfg->webhook_secret,
		.allowed_hosts = cfg->webhook_hosts,
		.connect_timeout_ms = cfg->webhook_connect_timeout_ms,
		.timeout_ms = cfg->webhook_timeout_ms,
	};
	struct inflight *f = rap_calloc(1, sizeof(*f));
	char err[RAP_ERRLEN];

	f->w = *w;
	w->url = w->body = NULL;
	if (rap_webhook_send_init(&f->send, &o, &f->w, err) != RAP_OK) {
		/* A URL stored before the check existed: it fails as unreachable. */
		record(h, f, CURLE_URL_MALFORMAT);
		inflight_free(h, f);
		return;
	}
	f->send.data = f;
	if (curl_multi_add_handle(h->multi, f->send.curl) != CURLM_OK) {
		rap_log(RAP_LOG_WARN, &wh_ctx, "webhook %lld: curl_multi_add_handle failed",
			f->w.id);
		inflight_free(h, f); /* its lease runs out: sent later */
		return;
	}
	f->next = h->head;
	if (h->head)
		h->head->prev = f;
	h->head = f;
	h->running++;
}

/* Leases as many due deliveries as there are free places, and starts them;
 * leases again at once while that many were due, else after a pause. */
static int lease(struct webhooks *h)
{
	const struct job_api_settings *cfg = &h->api->cfg;
	int free_places = (int)cfg->webhook_concurrency - h->running, n;
	long long lease_ms = cfg->webhook_timeout_ms + WEBHOOK_LEASE_MARGIN_MS;
	struct rap_webhook *due;
	char err[RAP_ERRLEN];

	if (free_places <= 0 || rap_now_ms() < h->next_lease_ms || !h->db)
		return RAP_OK;
	if (rap_webhook_lease(h->db, free_places, (int)cfg->webhook_per_owner, lease_ms, &due, &n,
			      err) != RAP_OK) {
		rap_log(RAP_LOG_WARN, &wh_ctx, "leasing webhooks: %s", err);
		h->next_lease_ms = rap_now_ms() + WEBHOOK_IDLE_MS;
		return RAP_EDB;
	}
	for (int i = 0; i < n; i++)
		start(h, &due[i]);
	rap_webhook_free(due, n);
	h->next_lease_ms = rap_now_ms() + (n < free_places ? WEBHOOK_IDLE_MS : 0);
	return RAP_OK;
}

/* Records and frees the POSTs that finished. */
static void reap(struct webhooks *h)
{
	struct rap_webhook_send *s;
	struct inflight *f;
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(h->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		s = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
		f = s->data;
		curl_multi_remove_handle(h->multi, m->easy_handle);
		h->running--;
		record(h, f, m->data.result);
		inflight_free(h, f);
	}
}

static int wh_connect(void *ctx)
{
	struct webhooks *h = ctx;
	char err[RAP_ERRLEN];

	if (!h->multi) {
		h->multi = curl_multi_init();
		if (!h->multi)
			return RAP_ENOMEM;
	}
	if (h->db && PQstatus(h->db) == CONNECTION_OK)
		return RAP_OK;
	PQfinish(h->db);
	h->db = NULL;
	if (rap_pg_connect(h->api->svc.cfg.pg_url, &h->db, err) != RAP_OK) {
		h->db = NULL;
		/* The POSTs in flight go on; they are recorded once it is back,
		 * or sent again when their leases run out. */
		return h->running ? RAP_OK : RAP_EDB;
	}
	return RAP_OK;
}

/* One round: lease into the free places, drive the POSTs, record those
 * that finished; waits on their sockets WEBHOOK_IDLE_MS at most. */
static int wh_step(void *ctx)
{
	struct webhooks *h = ctx;
	long long wait_ms = WEBHOOK_IDLE_MS, until;
	int still = 0, result;

	result = lease(h);
	curl_multi_perform(h->multi, &still);
	reap(h);
	if (result != RAP_OK && !h->running)
		return result;
	until = h->next_lease_ms - rap_now_ms();
	if (h->running < h->api->cfg.webhook_concurrency && until < wait_ms)
		wait_ms = until > 0 ? until : 0;
	curl_multi_poll(h->multi, NULL, 0, (int)wait_ms, NULL);
	curl_multi_perform(h->multi, &still);
	reap(h);
	return RAP_OK;
}

/* At the stop: the POSTs in flight are dropped unrecorded; their leases
 * run out and they are sent again (at least once). */
static void wh_close(void *ctx)
{
	struct webhooks *h = ctx;

	while (h->head) {
		curl_multi_remove_handle(h->multi, h->head->send.curl);
		inflight_free(h, h->head);
	}
	h->running = 0;
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
	struct webhooks *h;

	if (!t)
		return;
	h = t->ctx;
	curl_multi_cleanup(h->multi); /* accepts NULL */
	free(h);
}
