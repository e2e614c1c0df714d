/* settings.c: notifier's own settings (the shared ones: lib/service/settings.c). */
#include "notifier.h"

#include <stddef.h>

#define S(field) offsetof(struct notifier_settings, field)

const struct rap_cfg_opt notifier_settings_table[] = {
	{ "RAP_NOTIFIER_PORT", RAP_CFG_INT, 1, 65535, "8103", "notifier WebSocket and HTTP port",
	  S(notifier_port) },
};

const size_t notifier_settings_count =
	sizeof(notifier_settings_table) / sizeof(notifier_settings_table[0]);
