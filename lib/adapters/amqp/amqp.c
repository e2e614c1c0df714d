/*
 * amqp.c: RabbitMQ connections, topology, confirmed publishing, consuming,
 * over rabbitmq-c 0.11.
 *
 * A handle is one TCP connection with one channel (CH), used by one thread.
 * There are no AMQP heartbeats (TCP keepalive finds dead peers; see
 * rap_amqp_connect).  Any error on the wire, a close from the broker, or a
 * confirm that does not come in time sets `failed`; a failed handle refuses
 * every further call and is only freed and replaced, never repaired.
 *
 * Publisher confirms: rabbitmq-c 0.11 has no confirm-wait, so the handle
 * counts publishes itself.  Delivery tags run from batch_start to
 * next_seq - 1, and state[tag - batch_start] is 0 (waiting), 1 (acked) or
 * 2 (nacked); basic.ack and basic.nack frames mark one tag or, with
 * `multiple`, every earlier one still waiting.  rap_amqp_wait_confirms
 * reads frames until no tag is waiting, then starts the next batch at
 * next_seq.  basic.return frames (unroutable mandatory messages) are
 * handed to the caller while waiting.
 *
 * Consuming: each delivery is an envelope on the heap that the caller owns
 * until rap_amqp_msg_release; the x-death and x-delivery-count headers are
 * summarised into the message (times dead-lettered, latest reason/queue).
 */
#include "rap/amqp.h"
#include "rap/assert.h"
#include "rap/err.h"
#include "rap/mem.h"

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>

struct rap_amqp {
	amqp_connection_state_t conn;
	bool failed;
	bool confirms;
	uint64_t next_seq;    /* delivery tag of the next publish */
	uint64_t batch_start; /* first unconfirmed publish */
	unsigned char *state; /* per outstanding publish: 0 wait, 1 ack, 2 nack */
	size_t state_cap;
	char consumer_tags[RAP_AMQP_CONSUMERS][256]; /* "" where none */
	unsigned consumers;
	char err[RAP_ERRLEN];
};

static const amqp_channel_t CH = 1;

/* Records why the last RPC failed and marks the handle failed. */
static int rpc_check(struct rap_amqp *a, amqp_rpc_reply_t r, const char *what)
{
	switch (r.reply_type) {
	case AMQP_RESPONSE_NORMAL:
		return RAP_OK;
	case AMQP_RESPONSE_NONE:
		snprintf(a->err, sizeof(a->err), "%s: missing RPC reply", what);
		break;
	case AMQP_RESPONSE_LIBRARY_EXCEPTION:
		snprintf(a->err, sizeof(a->err), "%s: %s", what,
			 amqp_error_string2(r.library_error));
		break;
	case AMQP_RESPONSE_SERVER_EXCEPTION:
		if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
			amqp_channel_close_t *m = r.reply.decoded;

			snprintf(a->err, sizeof(a->err), "%s: channel closed: %d %.*s", what,
				 m->reply_code, (int)m->reply_text.len,
				 (char *)m->reply_text.bytes);
		} else if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
			amqp_connection_close_t *m = r.reply.decoded;

			snprintf(a->err, sizeof(a->err), "%s: connection closed: %d %.*s", what,
				 m->reply_code, (int)m->reply_text.len,
				 (char *)m->reply_text.bytes);
		} else {
			snprintf(a->err, sizeof(a->err), "%s: server error method %08x", what,
				 r.reply.id);
		}
		break;
	}
	a->failed = true;
	return RAP_EAMQP;
}

int rap_amqp_connect(const char *url, const char *name, struct rap_amqp **out, char *err)
{
	struct rap_amqp *a = rap_calloc(1, sizeof(*a));
	struct amqp_connection_info info;
	amqp_table_entry_t props[1];
	amqp_table_t client_props;
	struct timeval tv = { 10, 0 };
	amqp_socket_t *sock;
	char *copy = rap_strdup(url);
	int result = RAP_EAMQP;

	if (amqp_parse_url(copy, &info) != AMQP_STATUS_OK) {
		snprintf(err, RAP_ERRLEN, "malformed AMQP URL");
		result = RAP_EINVAL;
		goto out_free;
	}
	if (!info.vhost || !*info.vhost)
		info.vhost = "/"; /* "amqp://host:port/" names the default vhost */
	a->conn = amqp_new_connection();
	sock = amqp_tcp_socket_new(a->conn);
	if (!sock || amqp_socket_open_noblock(sock, info.host, info.port, &tv) != AMQP_STATUS_OK) {
		snprintf(err, RAP_ERRLEN, "cannot connect to RabbitMQ at %s:%d", info.host,
			 info.port);
		goto out_free;
	}
	props[0].key = amqp_cstring_bytes("connection_name");
	props[0].value.kind = AMQP_FIELD_KIND_UTF8;
	props[0].value.value.bytes = amqp_cstring_bytes(name);
	client_props.num_entries = 1;
	client_props.entries = props;
	/*
	 * No AMQP heartbeats: rabbitmq-c only answers them when it is called,
	 * and a worker streaming a 10 GB object does not call it for minutes,
	 * so the broker would drop a healthy consumer.  TCP keepalive finds
	 * dead peers instead.
	 */
	{
		int on = 1, idle = 30, intvl = 10, cnt = 3;
		int fd = amqp_get_sockfd(a->conn);

		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	}
	if (rpc_check(a,
		      amqp_login_with_properties(a->conn, info.vhost, 0, 131072, 0, &client_props,
						 AMQP_SASL_METHOD_PLAIN, info.user, info.password),
		      "login") != RAP_OK)
		goto out_copy_err;
	amqp_channel_open(a->conn, CH);
	if (rpc_check(a, amqp_get_rpc_reply(a->conn), "channel.open") != RAP_OK)
		goto out_copy_err;
	a->next_seq = 1;
	a->batch_start = 1;
	free(copy);
	*out = a;
	return RAP_OK;

out_copy_err:
	snprintf(err, RAP_ERRLEN, "%s", a->err);
out_free:
	free(copy);
	rap_amqp_free(a);
	return result;
}

void rap_amqp_free(struct rap_amqp *a)
{
	if (!a)
		return;
	if (a->conn) {
		if (!a->failed) {
			amqp_channel_close(a->conn, CH, AMQP_REPLY_SUCCESS);
			amqp_connection_close(a->conn, AMQP_REPLY_SUCCESS);
		}
		amqp_destroy_connection(a->conn);
	}
	free(a->state);
	free(a);
}

bool rap_amqp_ok(const struct rap_amqp *a)
{
	return a && !a->failed;
}

int rap_amqp_fd(const struct rap_amqp *a)
{
	return a && a->conn ? amqp_get_sockfd(a->conn) : -1;
}

int rap_amqp_drain(struct rap_amqp *a)
{
	struct timeval tv = { 0, 0 };
	amqp_frame_t f;
	int st;

	while (!a->failed) {
		st = amqp_simple_wait_frame_noblock(a->conn, &f, &tv);
		if (st == AMQP_STATUS_TIMEOUT)
			return RAP_OK;
		if (st != AMQP_STATUS_OK) {
			snprintf(a->err, sizeof(a->err), "connection lost: %s",
				 amqp_error_string2(st));
			a->failed = true;
		} else if (f.frame_type == AMQP_FRAME_METHOD &&
			   (f.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD ||
			    f.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD)) {
			snprintf(a->err, sizeof(a->err), "the broker closed the connection");
			a->failed = true;
		}
	}
	return RAP_EAMQP;
}

const char *rap_amqp_errmsg(const struct rap_amqp *a)
{
	return a->err;
}

/* Converts a JSON object of arguments into an AMQP table (entries owned by
 * the caller, strings point into the JSON object). */
static amqp_table_t json_table(struct json_object *args, amqp_table_entry_t *entries, int max)
{
	amqp_table_t t = { 0, entries };

	if (!args)
		return t;
	json_object_object_foreach(args, key, val) {
		amqp_table_entry_t *e;

		if (t.num_entries >= max)
			break;
		e = &entries[t.num_entries];
		e->key = amqp_cstring_bytes(key);
		switch (json_object_get_type(val)) {
		case json_type_int:
			e->value.kind = AMQP_FIELD_KIND_I64;
			e->value.value.i64 = json_object_get_int64(val);
			break;
		case json_type_boolean:
			e->value.kind = AMQP_FIELD_KIND_BOOLEAN;
			e->value.value.boolean = json_object_get_boolean(val);
			break;
		default:
			e->value.kind = AMQP_FIELD_KIND_UTF8;
			e->value.value.bytes = amqp_cstring_bytes(json_object_get_string(val));
			break;
		}
		t.num_entries++;
	}
	return t;
}

static const char *jstr(struct json_object *o, const char *key, const char *def)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return def;
	return json_object_get_string(v);
}

static bool jbool(struct json_object *o, const char *key, bool def)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return def;
	return json_object_get_boolean(v);
}

static struct json_object *jargs(struct json_object *o)
{
	struct json_object *v;

	return json_object_object_get_ex(o, "arguments", &v) ? v : NULL;
}

static int declare_exchanges(struct rap_amqp *a, struct json_object *list)
{
	size_t i;

	for (i = 0; list && i < json_object_array_length(list); i++) {
		struct json_object *x = json_object_array_get_idx(list, i);
		amqp_table_entry_t entries[16];

		amqp_exchange_declare(a->conn, CH, amqp_cstring_bytes(jstr(x, "name", "")),
				      amqp_cstring_bytes(jstr(x, "type", "direct")), 0,
				      jbool(x, "durable", true), jbool(x, "auto_delete", false),
				      jbool(x, "internal", false),
				      json_table(jargs(x), entries, 16));
		if (rpc_check(a, amqp_get_rpc_reply(a->conn), jstr(x, "name", "")) != RAP_OK)
			return RAP_EAMQP;
	}
	return RAP_OK;
}

static int declare_queues(struct rap_amqp *a, struct json_object *list)
{
	size_t i;

	for (i = 0; list && i < json_object_array_length(list); i++) {
		struct json_object *q = json_object_array_get_idx(list, i);
		amqp_table_entry_t entries[16];

		amqp_queue_declare(a->conn, CH, amqp_cstring_bytes(jstr(q, "name", "")), 0,
				   jbool(q, "durable", true), 0, jbool(q, "auto_delete", false),
				   json_table(jargs(q), entries, 16));
		if (rpc_check(a, amqp_get_rpc_reply(a->conn), jstr(q, "name", "")) != RAP_OK)
			return RAP_EAMQP;
	}
	return RAP_OK;
}

static int declare_bindings(struct rap_amqp *a, struct json_object *list)
{
	size_t i;

	for (i = 0; list && i < json_object_array_length(list); i++) {
		struct json_object *b = json_object_array_get_idx(list, i);
		amqp_table_entry_t entries[16];
		amqp_table_t args = json_table(jargs(b), entries, 16);

		if (strcmp(jstr(b, "destination_type", "queue"), "exchange") == 0)
			amqp_exchange_bind(a->conn, CH,
					   amqp_cstring_bytes(jstr(b, "destination", "")),
					   amqp_cstring_bytes(jstr(b, "source", "")),
					   amqp_cstring_bytes(jstr(b, "routing_key", "")), args);
		else
			amqp_queue_bind(a->conn, CH, amqp_cstring_bytes(jstr(b, "destination", "")),
					amqp_cstring_bytes(jstr(b, "source", "")),
					amqp_cstring_bytes(jstr(b, "routing_key", "")), args);
		if (rpc_check(a, amqp_get_rpc_reply(a->conn), "bind") != RAP_OK)
			return RAP_EAMQP;
	}
	return RAP_OK;
}

/* True when the definitions bind queue to exchange with key (no arguments). */
static bool has_binding(struct json_object *list, const char *exchange, const char *key,
			const char *queue)
{
	size_t i;

	for (i = 0; i < json_object_array_length(list); i++) {
		struct json_object *b = json_object_array_get_idx(list, i);

		if (strcmp(jstr(b, "source", ""), exchange) == 0 &&
		    strcmp(jstr(b, "routing_key", ""), key) == 0 &&
		    strcmp(jstr(b, "destination", ""), queue) == 0)
			return true;
	}
	return false;
}

/* True when an earlier binding of list than i has the same source and the
 * same value of field. */
static bool seen_before(struct json_object *list, size_t i, const char *field)
{
	struct json_object *b = json_object_array_get_idx(list, i);
	size_t j;

	for (j = 0; j < i; j++) {
		struct json_object *e = json_object_array_get_idx(list, j);

		if (strcmp(jstr(e, "source", ""), jstr(b, "source", "")) == 0 &&
		    strcmp(jstr(e, field, ""), jstr(b, field, "")) == 0)
			return true;
	}
	return false;
}

/* True when a plain queue binding of the definitions' direct exchanges. */
static bool plain_direct(struct json_object *exchanges, struct json_object *b)
{
	struct json_object *args = jargs(b);
	size_t i;

	if (strcmp(jstr(b, "destination_type", "queue"), "queue") != 0 ||
	    (args && json_object_object_length(args) > 0))
		return false;
	for (i = 0; exchanges && i < json_object_array_length(exchanges); i++) {
		struct json_object *x = json_object_array_get_idx(exchanges, i);

		if (strcmp(jstr(x, "name", ""), jstr(b, "source", "")) == 0)
			return strcmp(jstr(x, "type", "direct"), "direct") == 0;
	}
	return false;
}

/*
 * Removes the bindings an earlier version of the definitions made and this
 * one does not: a job type moved to another pool's queue would otherwise be
 * routed to both (the broker only ever adds what it loads, and so does
 * declaring).  Within each direct exchange, every routing key the
 * definitions use is unbound from every queue of that exchange they do not
 * bind it to.  Unbinding what is not bound is a no-op for RabbitMQ, and
 * queues the definitions do not name (a service's own) are left alone.
 */
static int unbind_strays(struct rap_amqp *a, struct json_object *exchanges,
			 struct json_object *list)
{
	size_t i, j;

	for (i = 0; list && i < json_object_array_length(list); i++) {
		struct json_object *k = json_object_array_get_idx(list, i);

		if (!plain_direct(exchanges, k) || seen_before(list, i, "routing_key"))
			continue;
		for (j = 0; j < json_object_array_length(list); j++) {
			struct json_object *q = json_object_array_get_idx(list, j);
			const char *x = jstr(k, "source", ""), *key = jstr(k, "routing_key", "");
			const char *queue = jstr(q, "destination", "");

			if (!plain_direct(exchanges, q) || strcmp(jstr(q, "source", ""), x) != 0 ||
			    seen_before(list, j, "destination") || has_binding(list, x, key, queue))
				continue;
			amqp_queue_unbind(a->conn, CH, amqp_cstring_bytes(queue),
					  amqp_cstring_bytes(x), amqp_cstring_bytes(key),
					  amqp_empty_table);
			if (rpc_check(a, amqp_get_rpc_reply(a->conn), "unbind") != RAP_OK)
				return RAP_EAMQP;
		}
	}
	return RAP_OK;
}

int rap_amqp_declare_file(struct rap_amqp *a, const char *path)
{
	struct json_object *defs = json_object_from_file(path);
	struct json_object *v;
	int result;

	if (!defs) {
		snprintf(a->err, sizeof(a->err), "cannot read definitions %s: %s", path,
			 json_util_get_last_err());
		return RAP_EINVAL;
	}
	result = declare_exchanges(a, json_object_object_get_ex(defs, "exchanges", &v) ? v : NULL);
	if (result == RAP_OK)
		result =
			declare_queues(a, json_object_object_get_ex(defs, "queues", &v) ? v : NULL);
	if (result == RAP_OK)
		result = declare_bindings(
			a, json_object_object_get_ex(defs, "bindings", &v) ? v : NULL);
	if (result == RAP_OK && json_object_object_get_ex(defs, "bindings", &v)) {
		struct json_object *x = NULL;

		json_object_object_get_ex(defs, "exchanges", &x);
		result = unbind_strays(a, x, v);
	}
	json_object_put(defs);
	return result;
}

int rap_amqp_declare_temp_queue(struct rap_amqp *a, const char *exchange, const char *key,
				char *name, size_t len)
{
	amqp_queue_declare_ok_t *ok;

	ok = amqp_queue_declare(a->conn, CH, amqp_empty_bytes, 0, 0, 1, 1, amqp_empty_table);
	if (rpc_check(a, amqp_get_rpc_reply(a->conn), "queue.declare") != RAP_OK)
		return RAP_EAMQP;
	snprintf(name, len, "%.*s", (int)ok->queue.len, (char *)ok->queue.bytes);
	amqp_queue_bind(a->conn, CH, amqp_cstring_bytes(name), amqp_cstring_bytes(exchange),
			amqp_cstring_bytes(key), amqp_empty_table);
	return rpc_check(a, amqp_get_rpc_reply(a->conn), "queue.bind");
}

int rap_amqp_confirm_select(struct rap_amqp *a)
{
	amqp_confirm_select(a->conn, CH);
	if (rpc_check(a, amqp_get_rpc_reply(a->conn), "confirm.select") != RAP_OK)
		return RAP_EAMQP;
	a->confirms = true;
	return RAP_OK;
}

static int publish(struct rap_amqp *a, const char *exchange, const char *key, const char *body,
		   size_t len, const char *message_id, const char *request_id, bool mandatory,
		   const char *const *headers, uint8_t delivery_mode)
{
	amqp_basic_properties_t props;
	amqp_table_entry_t hdr[9];
	int nh = 0;
	amqp_bytes_t b = { len, (void *)body };
	int st;

	if (a->failed)
		return RAP_EAMQP;
	memset(&props, 0, sizeof(props));
	props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG;
	props.content_type = amqp_cstring_bytes("application/json");
	props.delivery_mode = delivery_mode;
	if (message_id) {
		props._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
		props.message_id = amqp_cstring_bytes(message_id);
	}
	if (request_id && *request_id) {
		hdr[nh].key = amqp_cstring_bytes("x-request-id");
		hdr[nh].value.kind = AMQP_FIELD_KIND_UTF8;
		hdr[nh++].value.value.bytes = amqp_cstring_bytes(request_id);
	}
	for (; headers && headers[0] && headers[1] && nh < 9; headers += 2) {
		hdr[nh].key = amqp_cstring_bytes(headers[0]);
		hdr[nh].value.kind = AMQP_FIELD_KIND_UTF8;
		hdr[nh++].value.value.bytes = amqp_cstring_bytes(headers[1]);
	}
	if (nh) {
		props._flags |= AMQP_BASIC_HEADERS_FLAG;
		props.headers.num_entries = nh;
		props.headers.entries = hdr;
	}
	st = amqp_basic_publish(a->conn, CH, amqp_cstring_bytes(exchange), amqp_cstring_bytes(key),
				mandatory, 0, &props, b);
	if (st != AMQP_STATUS_OK) {
		snprintf(a->err, sizeof(a->err), "publish: %s", amqp_error_string2(st));
		a->failed = true;
		return RAP_EAMQP;
	}
	if (a->confirms) {
		size_t idx = (size_t)(a->next_seq - a->batch_start);

		if (idx >= a->state_cap) {
			a->state_cap = a->state_cap ? a->state_cap * 2 : 256;
			a->state = rap_realloc(a->state, a->state_cap);
		}
		a->state[idx] = 0;
		a->next_seq++;
	}
	return RAP_OK;
}

int rap_amqp_publish(struct rap_amqp *a, const char *exchange, const char *key, const char *body,
		     size_t len, const char *message_id, const char *request_id, bool mandatory,
		     const char *const *headers)
{
	return publish(a, exchange, key, body, len, message_id, request_id, mandatory, headers,
		       AMQP_DELIVERY_PERSISTENT);
}

int rap_amqp_publish_transient(struct rap_amqp *a, const char *exchange, const char *key,
			       const char *body, size_t len)
{
	int result = rap_amqp_reap(a);

	if (result != RAP_OK)
		return result;
	return publish(a, exchange, key, body, len, NULL, NULL, false, NULL,
		       AMQP_DELIVERY_NONPERSISTENT);
}

/* Marks tag (and, with multiple, every earlier one) as acked or nacked. */
static void mark(struct rap_amqp *a, uint64_t tag, bool multiple, unsigned char v)
{
	uint64_t t;

	if (tag < a->batch_start || tag >= a->next_seq)
		return;
	for (t = multiple ? a->batch_start : tag; t <= tag; t++)
		if (a->state[t - a->batch_start] == 0)
			a->state[t - a->batch_start] = v;
}

static bool all_confirmed(const struct rap_amqp *a, unsigned *nacked)
{
	uint64_t i, n = a->next_seq - a->batch_start;

	*nacked = 0;
	for (i = 0; i < n; i++) {
		if (a->state[i] == 0)
			return false;
		if (a->state[i] == 2)
			(*nacked)++;
	}
	return true;
}

static void read_return(struct rap_amqp *a, rap_amqp_returned on_return, void *ctx)
{
	amqp_message_t m;
	char id[128] = "";

	if (rpc_check(a, amqp_read_message(a->conn, CH, &m, 0), "basic.return") != RAP_OK)
		return;
	if (m.properties._flags & AMQP_BASIC_MESSAGE_ID_FLAG)
		snprintf(id, sizeof(id), "%.*s", (int)m.properties.message_id.len,
			 (char *)m.properties.message_id.bytes);
	if (on_return)
		on_return(ctx, id);
	amqp_destroy_message(&m);
}

/* Applies one frame read on a confirming publisher: an ack, a nack, a
 * returned message, or the broker's close (RAP_EAMQP, handle failed). */
static int confirm_frame(struct rap_amqp *a, amqp_frame_t *f, rap_amqp_returned on_return,
			 void *ctx)
{
	if (f->frame_type != AMQP_FRAME_METHOD)
		return RAP_OK;
	switch (f->payload.method.id) {
	case AMQP_BASIC_ACK_METHOD: {
		amqp_basic_ack_t *m = f->payload.method.decoded;

		mark(a, m->delivery_tag, m->multiple, 1);
		break;
	}
	case AMQP_BASIC_NACK_METHOD: {
		amqp_basic_nack_t *m = f->payload.method.decoded;

		mark(a, m->delivery_tag, m->multiple, 2);
		break;
	}
	case AMQP_BASIC_RETURN_METHOD:
		read_return(a, on_return, ctx);
		break;
	case AMQP_CHANNEL_CLOSE_METHOD:
	case AMQP_CONNECTION_CLOSE_METHOD:
		snprintf(a->err, sizeof(a->err), "broker closed the channel");
		a->failed = true;
		return RAP_EAMQP;
	default:
		break;
	}
	return RAP_OK;
}

int rap_amqp_wait_confirms(struct rap_amqp *a, int timeout_ms, rap_amqp_returned on_return,
			   void *ctx, unsigned *nacked)
{
	struct timeval tv;
	amqp_frame_t f;
	int st;

	*nacked = 0;
	while (!all_confirmed(a, nacked)) {
		if (a->failed)
			return RAP_EAMQP;
		tv.tv_sec = timeout_ms / 1000;
		tv.tv_usec = (timeout_ms % 1000) * 1000;
		st = amqp_simple_wait_frame_noblock(a->conn, &f, &tv);
		if (st == AMQP_STATUS_TIMEOUT) {
			snprintf(a->err, sizeof(a->err), "no publisher confirm within %d ms",
				 timeout_ms);
			a->failed = true; /* the batch's fate is unknown: reconnect */
			return RAP_ETIMEDOUT;
		}
		if (st != AMQP_STATUS_OK) {
			snprintf(a->err, sizeof(a->err), "waiting for confirms: %s",
				 amqp_error_string2(st));
			a->failed = true;
			return RAP_EAMQP;
		}
		if (confirm_frame(a, &f, on_return, ctx) != RAP_OK)
			return RAP_EAMQP;
	}
	a->batch_start = a->next_seq;
	return *nacked ? RAP_EAMQP : RAP_OK;
}

int rap_amqp_reap(struct rap_amqp *a)
{
	struct timeval tv = { 0, 0 };
	unsigned nacked;
	amqp_frame_t f;
	int st;

	while (!a->failed) {
		st = amqp_simple_wait_frame_noblock(a->conn, &f, &tv);
		if (st == AMQP_STATUS_TIMEOUT)
			break;
		if (st != AMQP_STATUS_OK) {
			snprintf(a->err, sizeof(a->err), "connection lost: %s",
				 amqp_error_string2(st));
			a->failed = true;
			break;
		}
		confirm_frame(a, &f, NULL, NULL);
	}
	if (a->failed)
		return RAP_EAMQP;
	/* Everything confirmed: the next publish starts a new batch, so the
	 * bookkeeping stays small on a publisher nobody waits on. */
	if (a->confirms && all_confirmed(a, &nacked))
		a->batch_start = a->next_seq;
	return RAP_OK;
}

int rap_amqp_consume(struct rap_amqp *a, const char *queue, unsigned prefetch)
{
	amqp_basic_consume_ok_t *ok;

	amqp_basic_qos(a->conn, CH, 0, (uint16_t)prefetch, 0);
	if (rpc_check(a, amqp_get_rpc_reply(a->conn), "basic.qos") != RAP_OK)
		return RAP_EAMQP;
	ok = amqp_basic_consume(a->conn, CH, amqp_cstring_bytes(queue), amqp_empty_bytes, 0, 0, 0,
				amqp_empty_table);
	if (rpc_check(a, amqp_get_rpc_reply(a->conn), "basic.consume") != RAP_OK)
		return RAP_EAMQP;
	RAP_ASSERT(a->consumers < RAP_AMQP_CONSUMERS);
	snprintf(a->consumer_tags[a->consumers], sizeof(a->consumer_tags[0]), "%.*s",
		 (int)ok->consumer_tag.len, (char *)ok->consumer_tag.bytes);
	a->consumers++;
	return RAP_OK;
}

int rap_amqp_cancel(struct rap_amqp *a)
{
	if (a->failed)
		return RAP_EAMQP;
	while (a->consumers > 0) {
		char *tag = a->consumer_tags[a->consumers - 1];

		amqp_basic_cancel(a->conn, CH, amqp_cstring_bytes(tag));
		if (rpc_check(a, amqp_get_rpc_reply(a->conn), "basic.cancel") != RAP_OK)
			return RAP_EAMQP;
		tag[0] = '\0';
		a->consumers--;
	}
	return RAP_OK;
}

bool rap_amqp_consuming(const struct rap_amqp *a)
{
	return a && !a->failed && a->consumers > 0;
}

static void header_str(const amqp_table_t *t, const char *name, char *out, size_t len)
{
	int i;

	for (i = 0; i < t->num_entries; i++) {
		const amqp_table_entry_t *e = &t->entries[i];

		if (e->key.len == strlen(name) && memcmp(e->key.bytes, name, e->key.len) == 0 &&
		    (e->value.kind == AMQP_FIELD_KIND_UTF8 ||
		     e->value.kind == AMQP_FIELD_KIND_BYTES))
			snprintf(out, len, "%.*s", (int)e->value.value.bytes.len,
				 (char *)e->value.value.bytes.bytes);
	}
}

static long long field_int(const amqp_field_value_t *v)
{
	switch (v->kind) {
	case AMQP_FIELD_KIND_I8:
		return v->value.i8;
	case AMQP_FIELD_KIND_U8:
		return v->value.u8;
	case AMQP_FIELD_KIND_I16:
		return v->value.i16;
	case AMQP_FIELD_KIND_U16:
		return v->value.u16;
	case AMQP_FIELD_KIND_I32:
		return v->value.i32;
	case AMQP_FIELD_KIND_U32:
		return v->value.u32;
	case AMQP_FIELD_KIND_I64:
		return v->value.i64;
	case AMQP_FIELD_KIND_U64:
		return (long long)v->value.u64;
	default:
		return 0;
	}
}

/* Sums the count of every x-death entry (one per queue and reason). */
static void read_deaths(const amqp_table_t *t, struct rap_amqp_msg *msg)
{
	int i, j, k;

	for (i = 0; i < t->num_entries; i++) {
		const amqp_table_entry_t *e = &t->entries[i];

		if (e->key.len == 16 && memcmp(e->key.bytes, "x-delivery-count", 16) == 0)
			msg->delivery_count = field_int(&e->value);
		if (e->key.len != 7 || memcmp(e->key.bytes, "x-death", 7) != 0 ||
		    e->value.kind != AMQP_FIELD_KIND_ARRAY)
			continue;
		for (j = 0; j < e->value.value.array.num_entries; j++) {
			const amqp_field_value_t *d = &e->value.value.array.entries[j];

			if (d->kind != AMQP_FIELD_KIND_TABLE)
				continue;
			for (k = 0; k < d->value.table.num_entries; k++) {
				const amqp_table_entry_t *f = &d->value.table.entries[k];

				if (f->key.len == 5 && memcmp(f->key.bytes, "count", 5) == 0)
					msg->death_count += field_int(&f->value);
			}
			/* The first entry is the latest death. */
			if (j == 0) {
				header_str(&d->value.table, "reason", msg->death_reason,
					   sizeof(msg->death_reason));
				header_str(&d->value.table, "queue", msg->death_queue,
					   sizeof(msg->death_queue));
			}
		}
	}
}

int rap_amqp_next(struct rap_amqp *a, int timeout_ms, struct rap_amqp_msg *msg)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	amqp_envelope_t *env;
	amqp_rpc_reply_t r;
	amqp_frame_t f;

	memset(msg, 0, sizeof(*msg));
	if (a->failed)
		return RAP_EAMQP;
	amqp_maybe_release_buffers(a->conn);
	env = rap_calloc(1, sizeof(*env));
	r = amqp_consume_message(a->conn, env, &tv, 0);
	if (r.reply_type == AMQP_RESPONSE_NORMAL) {
		amqp_basic_properties_t *p = &env->message.properties;

		msg->envelope = env;
		msg->body = env->message.body.bytes;
		msg->len = env->message.body.len;
		msg->delivery_tag = env->delivery_tag;
		msg->redelivered = env->redelivered;
		snprintf(msg->exchange, sizeof(msg->exchange), "%.*s", (int)env->exchange.len,
			 (char *)env->exchange.bytes);
		snprintf(msg->routing_key, sizeof(msg->routing_key), "%.*s",
			 (int)env->routing_key.len, (char *)env->routing_key.bytes);
		if (p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG)
			snprintf(msg->message_id, sizeof(msg->message_id), "%.*s",
				 (int)p->message_id.len, (char *)p->message_id.bytes);
		if (p->_flags & AMQP_BASIC_HEADERS_FLAG) {
			header_str(&p->headers, "x-request-id", msg->request_id,
				   sizeof(msg->request_id));
			header_str(&p->headers, "traceparent", msg->traceparent,
				   sizeof(msg->traceparent));
			read_deaths(&p->headers, msg);
		}
		return RAP_OK;
	}
	free(env);
	if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
	    r.library_error == AMQP_STATUS_TIMEOUT)
		return RAP_ETIMEDOUT;
	if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
	    r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
		/* A method other than basic.deliver: a close means failure. */
		if (amqp_simple_wait_frame(a->conn, &f) == AMQP_STATUS_OK &&
		    f.frame_type == AMQP_FRAME_METHOD &&
		    f.payload.method.id != AMQP_CHANNEL_CLOSE_METHOD &&
		    f.payload.method.id != AMQP_CONNECTION_CLOSE_METHOD)
			return RAP_ETIMEDOUT;
		snprintf(a->err, sizeof(a->err), "broker closed the channel");
		a->failed = true;
		return RAP_EAMQP;
	}
	return rpc_check(a, r, "consume");
}

void rap_amqp_msg_release(struct rap_amqp_msg *msg)
{
	if (!msg->envelope)
		return;
	amqp_destroy_envelope(msg->envelope);
	free(msg->envelope);
	msg->envelope = NULL;
}

int rap_amqp_ack(struct rap_amqp *a, uint64_t tag)
{
	int st = amqp_basic_ack(a->conn, CH, tag, 0);

	if (st != AMQP_STATUS_OK) {
		snprintf(a->err, sizeof(a->err), "ack: %s", amqp_error_string2(st));
		a->failed = true;
		return RAP_EAMQP;
	}
	return RAP_OK;
}

int rap_amqp_reject(struct rap_amqp *a, uint64_t tag, bool requeue)
{
	int st = amqp_basic_reject(a->conn, CH, tag, requeue);

	if (st != AMQP_STATUS_OK) {
		snprintf(a->err, sizeof(a->err), "reject: %s", amqp_error_string2(st));
		a->failed = true;
		return RAP_EAMQP;
	}
	return RAP_OK;
}
