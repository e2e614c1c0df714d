/* settings.c: worker's own settings (the shared ones: lib/service/settings.c). */
#include "worker.h"

#include <stddef.h>

#define S(field) offsetof(struct worker_settings, field)

const struct rap_cfg_opt worker_settings_table[] = {
	{ "RAP_WORKER_POOLS", RAP_CFG_STR, 0, 0, "",
	  "worker pools this worker serves, comma-separated (quick, light, data, image, pdf, video, virus: "
	  "docs/job-types.md), "
	  "consuming each pool's queue jobs.work.<pool>; empty: every pool",
	  S(worker_pools) },
	{ "RAP_WORKER_PORT", RAP_CFG_INT, 0, 65535, "8104",
	  "worker health/metrics port (0: none, for extra local workers)", S(worker_port) },
	{ "RAP_WORKER_PREFETCH", RAP_CFG_INT, 0, 1000, "0",
	  "unacknowledged messages a worker holds at once, per pool it serves; 0: each "
	  "pool's own (quick 64, light 8, data 1, image 4, pdf 2, video 1, virus 2: docs/job-types.md)",
	  S(worker_prefetch) },
	{ "RAP_WORKER_BATCH", RAP_CFG_INT, 1, 1000, "64",
	  "quick jobs (noop) a worker claims and completes per statement, up to the prefetch",
	  S(worker_batch) },
	{ "RAP_WORKER_ID", RAP_CFG_STR, 0, 0, "",
	  "worker identity used in leases (default: host-pid)", S(worker_id) },
	{ "RAP_LEASE_SECONDS", RAP_CFG_INT, 2, 3600, "15",
	  "how long a claim holds a job without a heartbeat (workers beat every second)",
	  S(lease_seconds) },
	{ "RAP_WORKER_ACK_AFTER_MS", RAP_CFG_INT, 100, 86400000, "600000",
	  "a job running this long gives up its delivery (acked; the lease holds the job), "
	  "well under RabbitMQ's consumer_timeout (docs/architecture.md, Long jobs)",
	  S(ack_after_ms) },
	{ "RAP_JOB_ERRORS_MAX", RAP_CFG_INT, 0, 100000000, "10000",
	  "row errors stored per job (a job's params.max_errors may lower it); the rest are counted",
	  S(errors_max) },
	{ "RAP_WORKER_SCRATCH_DIR", RAP_CFG_STR, 0, 0, "/var/tmp",
	  "folder of the scratch copies of inputs that processors seek in (removed at once; "
	  "each at most the type's input limit)",
	  S(scratch_dir) },
	{ "RAP_PROCESSOR_PATH", RAP_CFG_STR, 0, 0, "",
	  "the sandboxed processor executable (default: rap-processor next to the worker's)",
	  S(processor_path) },
	{ "RAP_CLAMAV_DB", RAP_CFG_STR, 0, 0, "/var/lib/clamav",
	  "ClamAV's signature folder (.cvd/.cld from freshclam, or .ndb/.hdb of your own), "
	  "loaded once by the worker's fork server when it runs virus.scan; missing or empty "
	  "stops the worker at start (docs/deploy.md: keeping it fresh)",
	  S(clamav_db) },
	{ "RAP_JOB_SCAN_FIRST", RAP_CFG_STR, 0, 0, "",
	  "job types whose input is scanned with ClamAV (virus.scan's fork server) before they "
	  "run, comma-separated: an infected file fails the job permanently (infected) and its "
	  "processor never runs; each a sandboxed type of the registry that reads a file",
	  S(scan_first) },
};

const size_t worker_settings_count =
	sizeof(worker_settings_table) / sizeof(worker_settings_table[0]);
