#ifndef RAP_SERVICE_H
#define RAP_SERVICE_H

#include <stdbool.h>
#include <stddef.h>

#include "rap/config.h"
#include "rap/settings.h"

struct rap_metrics;
struct rap_http_req;
struct rap_s3;
struct rap_s3_cfg;

/*
 * What every service main does first: the command line (--help,
 * --config-md), settings from the environment (the shared groups it names
 * and its own table), logging, the stop on SIGTERM/SIGINT (rap/stop.h),
 * metrics.
 */
struct rap_service_desc {
	const char *name;
	const char *about;
	unsigned groups;                /* RAP_SETTINGS_* the service reads */
	const struct rap_cfg_opt *opts; /* its own settings */
	size_t n_opts;
	void *cfg; /* where its own settings go */
};

struct rap_service {
	const char *name;
	struct rap_settings cfg; /* the shared settings */
	struct rap_metrics *metrics;
};

/**
 * Initialises svc from d.  Returns 0 to run, 1 when the process should exit
 * 0 (--help), -1 when it should exit 1 (the reason was printed).
 */
int rap_service_init(struct rap_service *svc, const struct rap_service_desc *d, int argc,
		     char **argv);
void rap_service_cleanup(struct rap_service *svc);

/** Logs one line per HTTP request: method, URL, status, body bytes, time.
 *  Fits rap_http_cfg.completed. */
void rap_service_log_request(void *svc, const struct rap_http_req *req);

/** Fills an S3 client configuration from the settings (strings borrowed). */
void rap_service_s3_cfg(const struct rap_service *svc, struct rap_s3_cfg *out);
/** An S3 handle for signing URLs that clients use: RAP_S3_PUBLIC_ENDPOINT
 *  if set, else RAP_S3_ENDPOINT.  Free it with rap_s3_free. */
struct rap_s3 *rap_service_presigner(const struct rap_service *svc);

#endif
