/* settings.c: notifier's own settings (the shared ones: lib/service/settings.c). */
#include "notifier.h"

#include <stddef.h>

#define S(field) offsetof(struct notifier_settings, field)

const struct rap_cfg_opt notifier_settings_table[] = {
	{ "RAP_NOTIFIER_PORT", RAP_CFG_INT, 1, 65535, "8103", "notifier WebSocket and HTTP port",
	  S(notifier_port) },
	{ "RAP_NOTIFIER_ADMIN_PORT", RAP_CFG_INT, 0, 65535, "0",
	  "port of /healthz, /readyz and /metrics served off the WebSocket loop (0: none; the WebSocket port answers them too)",
	  S(admin_port) },
	{ "RAP_NOTIFIER_MAX_QUEUED", RAP_CFG_INT, 16, 1000000, "10000",
	  "frames a client may have waiting (once none was written to it for 5 s; four times that in any case); one further behind is closed with code 4008 and the since to resume from",
	  S(max_queued) },
	{ "RAP_NOTIFIER_MAX_CONNECTIONS", RAP_CFG_INT, 16, 1000000, "16384",
	  "connections the notifier's WebSocket port holds at once (a WebSocket each, or a "
	  "request); one more is closed at once",
	  S(max_conns) },
	{ "RAP_NOTIFIER_MAX_CONNECTIONS_PER_IP", RAP_CFG_INT, 0, 1000000, "12288",
	  "connections the WebSocket port holds at once from one client address (0: no limit); "
	  "behind the gateway every WebSocket comes from its address, so it leaves the gateway "
	  "most places and other addresses the rest",
	  S(max_conns_per_ip) },
	{ "RAP_NOTIFIER_IDLE_TIMEOUT_SECONDS", RAP_CFG_INT, 1, 3600, "30",
	  "seconds a connection has to send its request (the WebSocket upgrade), and a WebSocket "
	  "to subscribe, before it is closed; a subscribed one stays",
	  S(idle_timeout) },
	{ "RAP_NOTIFIER_SSE_HEARTBEAT_SECONDS", RAP_CFG_INT, 1, 3600, "15",
	  "seconds between the `: ping` comments an SSE stream (/events, /jobs/{id}/events) gets, "
	  "so that proxies keep a quiet one open",
	  S(sse_heartbeat) },
	{ "RAP_NOTIFIER_WS_PING_SECONDS", RAP_CFG_INT, 0, 32767, "30",
	  "seconds a WebSocket may go without a pong before it gets a ping (0: never pinged); "
	  "the pings keep a quiet one open through proxies",
	  S(ws_ping) },
	{ "RAP_NOTIFIER_WS_PONG_SECONDS", RAP_CFG_INT, 1, 32767, "20",
	  "seconds a pinged WebSocket has to answer with a pong before it is closed as dead "
	  "(a client gone without a word: a lost link, a sleeping laptop), freeing its place",
	  S(ws_pong) },
};

const size_t notifier_settings_count =
	sizeof(notifier_settings_table) / sizeof(notifier_settings_table[0]);
