/*
 * watch.c: a job followed to its end over the notifier's WebSocket
 * (proto/asyncapi.yaml, channel /ws; libwebsockets' client, one thread).
 *
 * The connection subscribes with `since` = the largest event_id seen, so a
 * reconnect replays exactly what was missed; events already seen (replay
 * and live delivery overlap, RabbitMQ delivers at least once) are dropped
 * by event_id.  After every (re)connect the job is also read once with
 * GET /api/jobs/{id}: a job that ended while the socket was down is seen
 * even if its events were not replayed.  A dropped connection is retried
 * with backoff; the watch gives up after --retry-timeout seconds without a
 * connection.  Idle connections are pinged, so a dead link is noticed.
 */
#include "cli.h"

#include "rap/err.h"
#include "rap/mem.h"
#include "rap/buf.h"
#include "rap/clock.h"
#include "rap/str.h"
#include "rap/stop.h"

#include <json-c/json.h>
#include <libwebsockets.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PROTOCOL "rap-events"
#define SEEN_MAX 4096        /* event ids remembered for dropping repeats */
#define RX_MAX (64 * 1024)   /* one message from the notifier */
#define TICK_US (100 * 1000) /* the loop wakes this often at least */

#define PROGRESS_EVERY_MS 5000

struct watch {
	struct cli_http *http;
	const struct cli_opts *o;
	const char *job_id;
	FILE *out;
	struct lws_context *ctx;
	struct lws *wsi;
	lws_sorted_usec_list_t tick;
	char address[256]; /* where to connect */
	int port;
	bool tls;
	char host[300]; /* Host: header */
	char path[1024];
	bool sent;          /* the subscribe went out on this connection */
	bool need_get;      /* subscribed: read the job once */
	bool was_down;      /* a connection was lost or refused */
	int64_t down_since; /* 0 while subscribed */
	int64_t reconnect_at;
	struct cli_backoff bo;
	long long since;
	long long seen[SEEN_MAX];
	unsigned nseen;
	struct rap_buf rx;
	char status[CLI_STATUS_LEN]; /* terminal state once known */
	char stage[32];              /* the stage of the last progress line */
	int64_t progress_ms;         /* when the last progress line went out */
	int result;                  /* RAP_OK, or why it stopped */
	char err[RAP_ERRLEN];
};

/* Pings after 20 s of silence, hangs up after 40 s without an answer. */
static const lws_retry_bo_t idle_policy = {
	.secs_since_valid_ping = 20,
	.secs_since_valid_hangup = 40,
};

static bool seen(struct watch *w, long long id)
{
	for (unsigned i = 0; i < w->nseen && i < SEEN_MAX; i++)
		if (w->seen[i] == id)
			return true;
	return false;
}

/* Prints e unless it was seen already; notes a terminal state. */
static void on_event(struct watch *w, const struct cli_event *e)
{
	char line[700];

	if (seen(w, e->event_id))
		return;
	w->seen[w->nseen++ % SEEN_MAX] = e->event_id;
	if (e->event_id > w->since)
		w->since = e->event_id;
	cli_event_format(w->job_id, e, line, sizeof(line));
	fprintf(w->out, "%s\n", line);
	fflush(w->out);
	if (cli_event_terminal(e->to))
		snprintf(w->status, sizeof(w->status), "%s", e->to);
}

/* The events and status of a job as GET /api/jobs/{id} gives it. */
static void on_job(struct watch *w, struct json_object *job)
{
	const char *status = cli_json_string(job, "status");
	struct json_object *events;
	struct cli_event e;

	if (json_object_object_get_ex(job, "events", &events) &&
	    json_object_is_type(events, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(events); i++)
			if (cli_event_parse(json_object_array_get_idx(events, i), &e) == RAP_OK)
				on_event(w, &e);
	}
	if (status && cli_event_terminal(status))
		snprintf(w->status, sizeof(w->status), "%s", status);
}

static void stop(struct watch *w, int result, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Ends the watch with result and a message for the user. */
static void stop(struct watch *w, int result, const char *fmt, ...)
{
	va_list ap;

	w->result = result;
	va_start(ap, fmt);
	vsnprintf(w->err, sizeof(w->err), fmt, ap);
	va_end(ap);
}

/* A job.progress push: a line when the stage changes, and at most every
 * PROGRESS_EVERY_MS between (the notifier pushes about once a second). */
static void on_progress(struct watch *w, struct json_object *o)
{
	char line[256], stage[32];

	if (w->status[0] ||
	    cli_event_progress_line(w->job_id, o, time(NULL), line, sizeof(line), stage) != RAP_OK)
		return;
	if (strcmp(stage, w->stage) == 0 && rap_now_ms() - w->progress_ms < PROGRESS_EVERY_MS)
		return;
	snprintf(w->stage, sizeof(w->stage), "%s", stage);
	w->progress_ms = rap_now_ms();
	fprintf(w->out, "%s\n", line);
	fflush(w->out);
}

/* One message from the notifier. */
static void on_message(struct watch *w, const char *text)
{
	struct json_object *o = json_tokener_parse(text);
	const char *type = cli_json_string(o, "type"), *code, *msg;
	struct cli_event e;

	if (!type)
		type = "";
	if (strcmp(type, "job.status") == 0) {
		if (cli_event_parse(o, &e) == RAP_OK)
			on_event(w, &e);
	} else if (strcmp(type, "job.progress") == 0) {
		on_progress(w, o);
	} else if (strcmp(type, "subscribed") == 0) {
		if (w->was_down)
			fprintf(stderr, "watch: reconnected; catching up after event %lld\n",
				w->since);
		w->was_down = false;
		w->need_get = true;
		w->down_since = 0;
		cli_backoff_reset(&w->bo);
	} else if (strcmp(type, "error") == 0) {
		code = cli_json_string(o, "code") ? cli_json_string(o, "code") : "";
		msg = cli_json_string(o, "message") ? cli_json_string(o, "message") : "";
		/* unavailable passes (a reconnect asks again); the rest will not. */
		if (strcmp(code, "unauthorized") == 0)
			stop(w, RAP_EAUTH,
			     "the notifier refused the API key: %s (unauthorized, "
			     "HTTP 401)",
			     msg);
		else if (strcmp(code, "not_found") == 0)
			stop(w, RAP_ENOENT, "%s (not_found)", msg);
		else if (strcmp(code, "unavailable") != 0)
			stop(w, RAP_EPROTO, "the notifier refused the subscription: %s", msg);
		else if (w->down_since && w->wsi)
			/* Refused for now: close, and subscribe again later. */
			lws_set_timeout(w->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	}
	json_object_put(o);
}

/* The subscribe message: api_key, job_id and since. */
static int write_subscribe(struct watch *w, struct lws *wsi)
{
	struct json_object *o = json_object_new_object();
	unsigned char buf[LWS_PRE + 1024];
	const char *text;
	size_t n;
	int result = 0;

	json_object_object_add(o, "type", json_object_new_string("subscribe"));
	json_object_object_add(o, "api_key", json_object_new_string(w->o->api_key));
	json_object_object_add(o, "job_id", json_object_new_string(w->job_id));
	json_object_object_add(o, "since", json_object_new_int64(w->since));
	text = json_object_to_json_string_ext(o, CLI_JSON_FLAGS);
	n = strlen(text);
	if (n > sizeof(buf) - LWS_PRE) {
		stop(w, RAP_ETOOBIG, "the API key is too long for a subscribe message");
		result = -1;
	} else {
		memcpy(buf + LWS_PRE, text, n);
		if (lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT) < (int)n)
			result = -1;
		w->sent = true;
	}
	json_object_put(o);
	return result;
}

/* The connection is gone: try again after the next delay. */
static void disconnected(struct watch *w, const char *why)
{
	int ms = cli_backoff_next(&w->bo, 0.5);

	w->wsi = NULL;
	w->was_down = true;
	if (!w->down_since)
		w->down_since = rap_now_ms();
	w->reconnect_at = rap_now_ms() + ms;
	if (!w->status[0] && w->result == RAP_OK)
		fprintf(stderr, "watch: the WebSocket %s (%s); reconnecting in %.1f s\n",
			w->sent ? "closed" : "could not connect", why, ms / 1000.0);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len)
{
	struct watch *w = lws_context_user(lws_get_context(wsi));

	switch (reason) {
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		w->sent = false;
		lws_callback_on_writable(wsi);
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (!w->sent)
			return write_subscribe(w, wsi);
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (rap_buf_append(&w->rx, in, len) != RAP_OK)
			return -1; /* a message over RX_MAX: not the notifier's */
		if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
			on_message(w, w->rx.data);
			rap_buf_reset(&w->rx);
		}
		break;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (wsi == w->wsi || !w->wsi) {
			const char *why = in && len ? (const char *)in : "connection error";

			/* libwebsockets tells a refused certificate only as "SSL
			 * err 1"; the job's GET over libcurl says what it was, and
			 * ends the watch if it is not passing. */
			if (w->tls && strstr(why, "SSL"))
				w->need_get = true;
			disconnected(w, why);
		}
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (wsi == w->wsi)
			disconnected(w, "the peer closed it");
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = { { PROTOCOL, callback, 0, RX_MAX, 0, NULL, 0 },
						  { NULL, NULL, 0, 0, 0, NULL, 0 } };

/* Keeps the loop waking up, so signals and deadlines are seen. */
static void on_tick(lws_sorted_usec_list_t *sul)
{
	struct watch *w = lws_container_of(sul, struct watch, tick);

	lws_sul_schedule(w->ctx, 0, &w->tick, on_tick, TICK_US);
}

static void connect_ws(struct watch *w)
{
	struct lws_client_connect_info i;

	memset(&i, 0, sizeof(i));
	i.context = w->ctx;
	i.address = w->address;
	i.port = w->port;
	i.ssl_connection = w->tls ? LCCSCF_USE_SSL : 0;
	i.path = w->path;
	i.host = w->host;
	i.origin = w->host;
	i.protocol = PROTOCOL;
	i.pwsi = &w->wsi;
	i.retry_and_idle_policy = &idle_policy;
	w->sent = false;
	rap_buf_reset(&w->rx);
	w->reconnect_at = INT64_MAX;
	if (!lws_client_connect_via_info(&i) && w->reconnect_at == INT64_MAX)
		disconnected(w, "cannot start a connection");
}

/* ws(s)://host[:port]/prefix/ws from the gateway URL. */
static int ws_target(struct watch *w, char *err)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	int result = RAP_EINVAL;
	long long num;
	size_t n;

	if (!u)
		abort(); /* only fails when out of memory */
	if (curl_url_set(u, CURLUPART_URL, w->o->url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK ||
	    rap_strtonum(port, 1, 65535, &num) != RAP_OK) {
		snprintf(err, RAP_ERRLEN, "cannot read the URL %s", w->o->url);
		goto out_free;
	}
	w->tls = strcmp(scheme, "https") == 0;
	w->port = (int)num;
	snprintf(w->address, sizeof(w->address), "%s", host);
	if (strcmp(port, w->tls ? "443" : "80") == 0)
		snprintf(w->host, sizeof(w->host), "%s", host);
	else
		snprintf(w->host, sizeof(w->host), "%s:%s", host, port);
	n = strlen(path);
	while (n > 0 && path[n - 1] == '/')
		n--;
	snprintf(w->path, sizeof(w->path), "%.*s/ws", (int)n, path);
	result = RAP_OK;
out_free:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return result;
}

static int watch_open(struct watch *w, char *err)
{
	struct lws_context_creation_info info;
	int result = ws_target(w, err);

	if (result != RAP_OK)
		return result;
	lws_set_log_level(0, NULL);
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.gid = -1;
	info.uid = -1;
	info.user = w;
	if (w->tls) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.client_ssl_ca_filepath = w->o->cacert; /* NULL: the system's */
	}
	w->ctx = lws_create_context(&info);
	if (!w->ctx) {
		snprintf(err, RAP_ERRLEN, "libwebsockets could not start");
		return RAP_EIO;
	}
	lws_sul_schedule(w->ctx, 0, &w->tick, on_tick, TICK_US);
	return RAP_OK;
}

/* The job's state right after a (re)connect. */
static int read_job(struct watch *w)
{
	struct json_object *job;
	struct cli_retry r;
	int result;

	w->need_get = false;
	cli_retry_init(&r, w->o->retry_timeout_s * 1000);
	result = cli_api_get_job(w->http, w->job_id, &r, &job, w->err);
	if (result == RAP_OK)
		on_job(w, job);
	json_object_put(job);
	return result;
}

/* Runs the loop until the job ends, a signal comes or the watch gives up. */
static int watch_loop(struct watch *w)
{
	int64_t now;

	while (!w->status[0] && w->result == RAP_OK) {
		if (rap_stopping()) {
			stop(w, RAP_ECANCELED, "interrupted");
			break;
		}
		now = rap_now_ms();
		if (!w->wsi && now >= w->reconnect_at)
			connect_ws(w);
		if (!w->wsi && w->down_since &&
		    now - w->down_since > w->o->retry_timeout_s * 1000) {
			stop(w, RAP_ETIMEDOUT,
			     "gave up after %lld s without a connection to the "
			     "notifier",
			     w->o->retry_timeout_s);
			break;
		}
		lws_service(w->ctx, 0);
		if (w->need_get)
			w->result = read_job(w);
	}
	return w->result;
}

/* Prints how the job ended: its result, or its error. */
static void print_end(struct watch *w, struct json_object *job)
{
	const char *error = cli_json_string(job, "error");
	struct json_object *v = NULL;

	if (strcmp(w->status, "COMPLETED") == 0) {
		json_object_object_get_ex(job, "result", &v);
		fprintf(w->out, "result %s\n", json_object_to_json_string_ext(v, CLI_JSON_FLAGS));
	} else {
		fprintf(w->out, "job %s ended %s: %s\n", w->job_id, w->status,
			error ? error : "no error recorded");
	}
	fflush(w->out);
}

int cli_watch_job(struct cli_http *h, const struct cli_opts *o, const char *job_id, FILE *out,
		  struct json_object **job_out)
{
	struct watch *w = rap_calloc(1, sizeof(*w));
	struct json_object *job = NULL;
	struct cli_retry r;
	int result, code = CLI_EXIT_ERROR;

	w->http = h;
	w->o = o;
	w->job_id = job_id;
	w->out = out;
	w->down_since = rap_now_ms();
	cli_backoff_init(&w->bo, 500, 10000);
	rap_buf_init(&w->rx, RX_MAX);
	result = watch_open(w, w->err);
	if (result == RAP_OK)
		result = watch_loop(w);
	if (result == RAP_OK) {
		/* The final state with its result or error. */
		cli_retry_init(&r, o->retry_timeout_s * 1000);
		result = cli_api_get_job(h, job_id, &r, &job, w->err);
	}
	if (result == RAP_OK) {
		print_end(w, job);
		code = cli_event_exit_code(w->status);
	} else if (result == RAP_ECANCELED) {
		fprintf(stderr,
			"interrupted: the job goes on; follow it again with: "
			"rap watch %s\n",
			job_id);
		code = CLI_EXIT_INTERRUPTED;
	} else {
		fprintf(stderr, "error: %s\n", w->err);
		cli_api_hint(w->err);
	}
	if (job_out)
		*job_out = job;
	else
		json_object_put(job);
	if (w->ctx)
		lws_context_destroy(w->ctx);
	rap_buf_cleanup(&w->rx);
	free(w);
	return code;
}

int cli_watch_run(const struct cli_opts *o)
{
	struct json_object *job = NULL;
	struct cli_http h;
	int code;

	cli_http_init(&h, o);
	code = cli_watch_job(&h, o, o->arg, o->json ? stderr : stdout, &job);
	if (o->json && job)
		printf("%s\n", json_object_to_json_string_ext(job, CLI_JSON_FLAGS));
	json_object_put(job);
	cli_http_cleanup(&h);
	return code;
}
