/* settings.c: worker's own settings (the shared ones: lib/service/settings.c). */
#include "worker.h"

#include <stddef.h>

#define S(field) offsetof(struct worker_settings, field)

const struct rap_cfg_opt worker_settings_table[] = {
	{ "RAP_WORKER_POOLS", RAP_CFG_STR, 0, 0, "",
	  "worker pools this worker serves, comma-separated (quick, light, data, image, pdf, video: "
	  "docs/job-types.md), "
	  "consuming each pool's queue jobs.work.<pool>; empty: every pool",
	  S(worker_pools) },
	{ "RAP_WORKER_PORT", RAP_CFG_INT, 0, 65535, "8104",
	  "worker health/metrics port (0: none, for extra local workers)", S(worker_port) },
	{ "RAP_WORKER_PREFETCH", RAP_CFG_INT, 0, 1000, "0",
	  "unacknowledged messages a worker holds at once, per pool it serves; 0: each "
	  "pool's own (quick 64, light 8, data 1, image 4, pdf 2, video 1: docs/job-types.md)",
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
};

const size_t worker_settings_count =
	sizeof(worker_settings_table) / sizeof(worker_settings_table[0]);
