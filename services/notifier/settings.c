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
};

const size_t notifier_settings_count =
	sizeof(notifier_settings_table) / sizeof(notifier_settings_table[0]);
