/* settings.c: upload-api's own settings (the shared ones: lib/service/settings.c). */
#include "upload_api.h"

#include <stddef.h>

#define S(field) offsetof(struct upload_settings, field)

const struct rap_cfg_opt upload_settings_table[] = {
	{ "RAP_UPLOAD_PORT", RAP_CFG_INT, 1, 65535, "8101", "upload-api HTTP port",
	  S(upload_port) },
	{ "RAP_UPLOAD_MAX_BYTES", RAP_CFG_INT, 1, 1024LL * 1024 * 1024 * 1024, "10737418240",
	  "largest upload accepted, in bytes", S(upload_max_bytes) },
	{ "RAP_UPLOAD_PART_SIZE", RAP_CFG_INT, 5LL * 1024 * 1024, 512LL * 1024 * 1024, "8388608",
	  "S3 multipart part size, in bytes (S3's minimum is 5 MiB)", S(upload_part_size) },
	{ "RAP_UPLOAD_PARTS_IN_FLIGHT", RAP_CFG_INT, 0, 16, "0",
	  "extra part buffers per upload, so the next part fills while earlier ones "
	  "finish (a part is on its way to S3 while it fills either way; memory per "
	  "upload: part size x (1 + this))",
	  S(upload_parts_in_flight) },
	{ "RAP_UPLOAD_MAX_ACTIVE", RAP_CFG_INT, 1, 100000, "64",
	  "uploads and tus PATCHes an upload-api instance streams at once; one more gets "
	  "503 busy with Retry-After (upload-api's memory stays under about 16 MiB + this x "
	  "part size x (1 + RAP_UPLOAD_PARTS_IN_FLIGHT))",
	  S(upload_max_active) },
	{ "RAP_UPLOAD_MAX_ACTIVE_PER_OWNER", RAP_CFG_INT, 0, 100000, "0",
	  "of those places, how many one owner (API key) may hold at once; one more of its "
	  "requests gets 429 upload_share_exceeded while other owners still find places; "
	  "0: a quarter of RAP_UPLOAD_MAX_ACTIVE (at least 1)",
	  S(upload_max_active_per_owner) },
	{ "RAP_UPLOAD_MIN_RATE", RAP_CFG_INT, 0, 1024LL * 1024 * 1024, "1024",
	  "bytes a second an upload body or tus PATCH must average over each "
	  "RAP_UPLOAD_RATE_WINDOW_S, or it is cut with 408 upload_too_slow (a tus upload "
	  "keeps what arrived and resumes); 0: no minimum",
	  S(upload_min_rate) },
	{ "RAP_UPLOAD_RATE_WINDOW_S", RAP_CFG_INT, 1, 3600, "30",
	  "the window, in seconds, over which RAP_UPLOAD_MIN_RATE is averaged (a body that "
	  "sends nothing is cut after about this long)",
	  S(upload_rate_window_s) },
	{ "RAP_UPLOAD_REQUEST_RATE", RAP_CFG_INT, 0, 1000000, "200",
	  "upload requests one API key may make a second, on average, across every upload-api "
	  "instance (a multipart POST, a tus POST or PATCH, a presign: one each); past it and "
	  "the burst: 429 rate_limited with Retry-After; 0: no limit",
	  S(upload_request_rate) },
	{ "RAP_UPLOAD_REQUEST_BURST", RAP_CFG_INT, 1, 10000000, "1000",
	  "upload requests one API key may make at once above RAP_UPLOAD_REQUEST_RATE",
	  S(upload_request_burst) },
	{ "RAP_TUS_EXPIRE_SECONDS", RAP_CFG_INT, 1, 30 * 86400, "86400",
	  "how long an unfinished tus upload lives after its last PATCH before the sweeper "
	  "aborts it",
	  S(tus_expire_seconds) },
	{ "RAP_PRESIGN_GRACE_SECONDS", RAP_CFG_INT, 0, 86400, "300",
	  "how long after its URL expired an unused presigned upload is swept away",
	  S(presign_grace_seconds) },
	{ "RAP_UPLOAD_SWEEP_MS", RAP_CFG_INT, 100, 3600000, "60000",
	  "how often upload-api sweeps abandoned uploads", S(upload_sweep_ms) },
	{ "RAP_UPLOAD_ADMIN_PORT", RAP_CFG_INT, 0, 65535, "0",
	  "port of /healthz, /readyz and /metrics on a thread of their own, which a flood of "
	  "the main port cannot starve (0: none; the main port answers them too)",
	  S(admin_port) },
	{ "RAP_UPLOAD_MAX_CONNECTIONS", RAP_CFG_INT, 1, 100000, "512",
	  "connections upload-api holds open at once, each a thread; one more is closed at once",
	  S(max_conns) },
	{ "RAP_UPLOAD_MAX_CONNECTIONS_PER_IP", RAP_CFG_INT, 0, 100000, "384",
	  "connections upload-api holds open at once from one client address (0: no limit); "
	  "behind the gateway every request comes from its address, so it leaves the gateway "
	  "most places and other addresses the rest",
	  S(max_conns_per_ip) },
	{ "RAP_UPLOAD_IDLE_TIMEOUT_SECONDS", RAP_CFG_INT, 1, 3600, "75",
	  "seconds a connection to upload-api may send and receive nothing before it is closed "
	  "(the clock restarts with every byte; keep it above the gateway's upstream "
	  "keepalive_timeout, 60 s)",
	  S(idle_timeout) },
};

const size_t upload_settings_count =
	sizeof(upload_settings_table) / sizeof(upload_settings_table[0]);
