/* notifier: fans job status events out to WebSocket clients. */
#include "notifier.h"

#include "rap/auth.h"
#include "rap/err.h"
#include "rap/http.h"
#include "rap/log.h"
#include "rap/metrics.h"
#include "rap/pg.h"
#include "rap/stop.h"
#include "rap/clock.h"

#include <ev.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>

static void register_metrics(struct notifier *n)
{
	struct rap_metrics *m = n->svc.metrics;

	n->events_in = rap_metrics_add(m, RAP_COUNTER, "rap_notifier_events_total", NULL,
				       "status events consumed from RabbitMQ");
	n->batches_in =
		rap_metrics_add(m, RAP_COUNTER, "rap_notifier_batches_total", NULL,
				"job.status.batch messages received (their events count above)");
	n->frames_out = rap_metrics_add(m, RAP_COUNTER, "rap_notifier_frames_sent_total", NULL,
					"WebSocket frames sent to clients");
	n->writes_out = rap_metrics_add(
		m, RAP_COUNTER, "rap_notifier_writes_total", NULL,
		"socket writes of WebSocket frames (several frames of a client go in one)");
	n->clients_now = rap_metrics_add(m, RAP_GAUGE, "rap_notifier_clients", NULL,
					 "connected WebSocket clients");
	n->replayed = rap_metrics_add(m, RAP_COUNTER, "rap_notifier_replayed_events_total", NULL,
				      "past events sent from PostgreSQL on subscribe");
	n->progress_skipped =
		rap_metrics_add(m, RAP_COUNTER, "rap_notifier_progress_skipped_total", NULL,
				"job.progress messages not queued for a client already behind");
	n->dropped_clients = rap_metrics_add(m, RAP_COUNTER,
					     "rap_notifier_slow_clients_dropped_total", NULL,
					     "clients disconnected for falling too far behind");
	n->conns_now = rap_metrics_add(m, RAP_GAUGE, "rap_notifier_connections", NULL,
				       "connections the WebSocket port holds (upgraded or not)");
	n->refused_total = rap_metrics_add(
		m, RAP_COUNTER, "rap_notifier_connections_refused_total", "reason=\"total\"",
		"connections the WebSocket port closed at once, by the limit they met (total: RAP_NOTIFIER_MAX_CONNECTIONS, address: RAP_NOTIFIER_MAX_CONNECTIONS_PER_IP)");
	n->refused_addr = rap_metrics_add(
		m, RAP_COUNTER, "rap_notifier_connections_refused_total", "reason=\"address\"",
		"connections the WebSocket port closed at once, by the limit they met (total: RAP_NOTIFIER_MAX_CONNECTIONS, address: RAP_NOTIFIER_MAX_CONNECTIONS_PER_IP)");
	n->idle_closed = rap_metrics_add(
		m, RAP_COUNTER, "rap_notifier_idle_closed_total", NULL,
		"WebSockets closed for not subscribing within RAP_NOTIFIER_IDLE_TIMEOUT_SECONDS");
	n->sse_now =
		rap_metrics_add(m, RAP_GAUGE, "rap_notifier_sse_streams", NULL,
				"open Server-Sent Events streams (/events, /jobs/{id}/events)");
}

#define LOOP_STALL_MS 10000 /* a loop silent this long is not ready */

static bool notifier_ready(void *arg, char *reason, size_t len)
{
	struct notifier *n = arg;

	int64_t stalled = rap_now_ms() - atomic_load(&n->loop_ms);

	if (stalled > LOOP_STALL_MS) {
		snprintf(reason, len, "the WebSocket loop has not turned for %lld ms",
			 (long long)stalled);
		return false;
	}
	if (atomic_load(&n->amqp_ok))
		return true;
	snprintf(reason, len, "not consuming status events from RabbitMQ");
	return false;
}

/* The admin port: /healthz, /readyz and /metrics from a thread of its own
 * (libmicrohttpd), answered however busy the WebSocket loop is. */
static int admin_start(struct notifier *n, struct rap_http_server **http)
{
	struct rap_http_cfg hc = { 0 };
	char err[RAP_ERRLEN];

	*http = NULL;
	if (!n->cfg.admin_port)
		return RAP_OK;
	hc.bind = n->svc.cfg.bind;
	hc.port = (unsigned)n->cfg.admin_port;
	hc.threads = 1;
	hc.svc = n;
	hc.ready = notifier_ready;
	hc.metrics = n->svc.metrics;
	if (rap_http_start(&hc, http, err) != RAP_OK) {
		rap_log(RAP_LOG_ERROR, NULL, "admin port: %s", err);
		return RAP_EIO;
	}
	return RAP_OK;
}

int main(int argc, char **argv)
{
	struct notifier n = { 0 };
	struct rap_http_server *http = NULL;
	const struct rap_service_desc desc = {
		.name = "notifier",
		.about = "Pushes job status events to browsers over WebSocket at /ws, and as "
			 "Server-Sent Events at /events and /jobs/{id}/events.",
		.groups = RAP_SETTINGS_PG | RAP_SETTINGS_AMQP | RAP_SETTINGS_AUTH,
		.opts = notifier_settings_table,
		.n_opts = notifier_settings_count,
		.cfg = &n.cfg,
	};
	char err[RAP_ERRLEN];
	int r, status = EXIT_FAILURE;

	r = rap_service_init(&n.svc, &desc, argc, argv);
	if (r != 0)
		return r > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	if (rap_auth_parse(n.svc.cfg.api_keys, &n.auth, err) != RAP_OK) {
		rap_log(RAP_LOG_ERROR, NULL, "%s", err);
		goto out_service;
	}
	register_metrics(&n);
	pthread_mutex_init(&n.lock, NULL);
	if (notifier_ws_run(&n) != RAP_OK)
		goto out_auth;
	if (admin_start(&n, &http) != RAP_OK)
		goto out_lws;
	n.consumer = notifier_consumer_new(&n);
	if (rap_task_start(n.consumer) != RAP_OK) {
		rap_log(RAP_LOG_ERROR, NULL, "cannot start the consumer thread");
		goto out_lws;
	}
	rap_log(RAP_LOG_INFO, NULL, "listening on %s:%lld (admin port %lld)", n.svc.cfg.bind,
		n.cfg.notifier_port, n.cfg.admin_port);
	/* A turn at a time; the loop's 1 s heartbeat brings it back here. */
	while (!rap_stopping())
		ev_run(n.ev_loop, EVRUN_ONCE);
	rap_log(RAP_LOG_INFO, NULL, "stopping");
	rap_stop_request(); /* the loop may have ended on an error */
	rap_task_join(n.consumer);
	while (notifier_dispatch(&n)) /* frees what is still pending */
		;
	status = EXIT_SUCCESS;
out_lws:
	rap_http_stop(http);
	notifier_consumer_free(n.consumer);
	lws_context_destroy(n.lws);
	if (n.ev_loop)
		ev_loop_destroy(n.ev_loop);
	free(n.topics);
	notifier_conns_cleanup(&n.conns);
out_auth:
	PQfinish(n.db);
	rap_auth_free(n.auth);
	pthread_mutex_destroy(&n.lock);
out_service:
	rap_service_cleanup(&n.svc);
	return status;
}
