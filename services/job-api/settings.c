/* settings.c: job-api's own settings (the shared ones: lib/service/settings.c). */
#include "job_api.h"

#include <stddef.h>

#define S(field) offsetof(struct job_api_settings, field)

const struct rap_cfg_opt job_api_settings_table[] = {
	{ "RAP_JOB_PORT", RAP_CFG_INT, 1, 65535, "8102", "job-api HTTP port", S(job_port) },
	{ "RAP_HTTP_THREADS", RAP_CFG_INT, 1, 256, "16",
	  "HTTP worker threads of job-api (requests in flight; POST /jobs commit together)",
	  S(http_threads) },
	{ "RAP_JOB_MAX_ATTEMPTS", RAP_CFG_STR, 0, 0, "",
	  "attempts per job type, replacing the registry's (docs/job-types.md): type=N[,type=N...] "
	  "(a job may set its own)",
	  S(job_max_attempts) },
	{ "RAP_JOB_RETENTION_DAYS", RAP_CFG_INT, 0, 36500, "0",
	  "days a finished job (COMPLETED, FAILED, CANCELLED) is kept after it ended, with its "
	  "events and output object; 0 keeps every job (DEAD jobs are always kept)",
	  S(job_retention_days) },
	{ "RAP_WEBHOOK_SECRET", RAP_CFG_STR, 0, 0, "",
	  "key of the HMAC-SHA256 signature of webhook bodies (X-Rap-Signature); empty: unsigned",
	  S(webhook_secret) },
	{ "RAP_WEBHOOK_ALLOWED_HOSTS", RAP_CFG_STR, 0, 0, "",
	  "hosts (names or addresses, comma-separated) a job's webhook_url may name although they "
	  "are, or resolve to, addresses that are not public (loopback, private, link-local...: "
	  "docs/webhooks.md); public addresses are always allowed; empty: public only",
	  S(webhook_hosts) },
	{ "RAP_WEBHOOK_MAX_ATTEMPTS", RAP_CFG_INT, 1, 1000, "12",
	  "attempts at delivering one webhook before it is marked failed",
	  S(webhook_max_attempts) },
	{ "RAP_WEBHOOK_BACKOFF_MS", RAP_CFG_INT, 10, 3600000, "2000",
	  "wait after a webhook's first failed attempt; it doubles each time, up to an hour",
	  S(webhook_backoff_ms) },
	{ "RAP_WEBHOOK_TIMEOUT_MS", RAP_CFG_INT, 100, 120000, "10000",
	  "how long one webhook POST may take, connection included", S(webhook_timeout_ms) },
	{ "RAP_WEBHOOK_CONNECT_TIMEOUT_MS", RAP_CFG_INT, 100, 120000, "3000",
	  "how long a webhook may take to resolve its host and connect",
	  S(webhook_connect_timeout_ms) },
	{ "RAP_WEBHOOK_CONCURRENCY", RAP_CFG_INT, 1, 1000, "32",
	  "webhook POSTs in flight at once per job-api instance", S(webhook_concurrency) },
	{ "RAP_WEBHOOK_PER_OWNER", RAP_CFG_INT, 1, 1000, "4",
	  "webhook POSTs in flight at once per owner of the jobs (all instances together)",
	  S(webhook_per_owner) },
	{ "RAP_SWEEP_MS", RAP_CFG_INT, 100, 600000, "1000",
	  "how often job-api re-queues jobs whose lease expired", S(sweep_ms) },
	{ "RAP_STATS_MS", RAP_CFG_INT, 100, 600000, "5000",
	  "how often job-api counts open jobs and the outbox backlog for /metrics", S(stats_ms) },
	{ "RAP_STORAGE_STATS_MS", RAP_CFG_INT, 100, 3600000, "60000",
	  "how often job-api sums the stored uploads' bytes for /metrics (a scan of the "
	  "uploads table)",
	  S(storage_stats_ms) },
	{ "RAP_RELAY_BATCH", RAP_CFG_INT, 1, 10000, "500",
	  "outbox rows the relay publishes per confirmed batch", S(relay_batch) },
	{ "RAP_RELAY_POLL_MS", RAP_CFG_INT, 10, 60000, "1000",
	  "relay poll interval when no notification arrives", S(relay_poll_ms) },
	{ "RAP_JOB_ADMIN_PORT", RAP_CFG_INT, 0, 65535, "0",
	  "port of /healthz, /readyz and /metrics on a thread of their own, which a flood of "
	  "the main port cannot starve (0: none; the main port answers them too)",
	  S(admin_port) },
	{ "RAP_JOB_MAX_CONNECTIONS", RAP_CFG_INT, 16, 100000, "1024",
	  "connections job-api holds open at once (shared among RAP_HTTP_THREADS); one more is "
	  "closed at once",
	  S(max_conns) },
	{ "RAP_JOB_MAX_CONNECTIONS_PER_IP", RAP_CFG_INT, 0, 100000, "768",
	  "connections job-api holds open at once from one client address (0: no limit); "
	  "behind the gateway every request comes from its address, so it leaves the gateway "
	  "most places and other addresses the rest",
	  S(max_conns_per_ip) },
	{ "RAP_JOB_IDLE_TIMEOUT_SECONDS", RAP_CFG_INT, 1, 3600, "75",
	  "seconds a connection to job-api may send and receive nothing before it is closed "
	  "(the clock restarts with every byte; keep it above the gateway's upstream "
	  "keepalive_timeout, 60 s)",
	  S(idle_timeout) },
	{ "RAP_JOB_CREATE_RATE", RAP_CFG_INT, 0, 1000000, "5000",
	  "jobs one API key may create a second, on average, across every job-api instance "
	  "(POST /jobs is one, a batch as many as it holds); past it and the burst: 429 "
	  "rate_limited with Retry-After; 0: no limit",
	  S(job_create_rate) },
	{ "RAP_JOB_CREATE_BURST", RAP_CFG_INT, 1, 10000000, "10000",
	  "jobs one API key may create at once above RAP_JOB_CREATE_RATE (its token bucket's "
	  "size; a batch larger than this needs a full bucket)",
	  S(job_create_burst) },
	{ "RAP_JOB_STATUS_RATE", RAP_CFG_INT, 0, 1000000, "1000",
	  "status reads one API key may make a second, on average, across every job-api "
	  "instance (GET /jobs, /jobs/{id}, its errors and output); past it and the burst: 429 "
	  "rate_limited with Retry-After; 0: no limit",
	  S(job_status_rate) },
	{ "RAP_JOB_STATUS_BURST", RAP_CFG_INT, 1, 10000000, "2000",
	  "status reads one API key may make at once above RAP_JOB_STATUS_RATE",
	  S(job_status_burst) },
};

const size_t job_api_settings_count =
	sizeof(job_api_settings_table) / sizeof(job_api_settings_table[0]);
