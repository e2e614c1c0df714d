#ifndef RAP_SERVICE_H
#define RAP_SERVICE_H

#include <signal.h>
#include <stdbool.h>

#include "rap/settings.h"

struct rap_metrics;
struct rap_http_req;
struct rap_s3;
struct rap_s3_cfg;

/*
 * What every service main does first: the command line (--help,
 * --config-md), settings from the environment, logging, signals, metrics.
 */
struct rap_service {
	const char *name;
	struct rap_settings cfg;
	struct rap_metrics *metrics;
};

/**
 * The stop flag that SIGTERM and SIGINT set.  A signal handler can only
 * reach a global; it is the one piece of global mutable state services
 * share, and everything that loops checks it.
 */
extern volatile int rap_stop;

/**
 * Initialises svc.  Returns 0 to run, 1 when the process should exit 0
 * (--help), -1 when it should exit 1 (the reason was printed).
 */
int rap_service_init(struct rap_service *svc, const char *name, const char *about,
		     int argc, char **argv);
void rap_service_cleanup(struct rap_service *svc);

/** Logs one line per HTTP request: method, URL, status, body bytes, time.
 *  Fits rap_http_cfg.completed. */
void rap_service_log_request(void *svc, const struct rap_http_req *req);

/** Fills an S3 client configuration from the settings (strings borrowed). */
void rap_service_s3_cfg(const struct rap_service *svc, struct rap_s3_cfg *out);
/** An S3 handle for signing URLs that clients use: RAP_S3_PUBLIC_ENDPOINT
 *  if set, else RAP_S3_ENDPOINT.  Free it with rap_s3_free. */
struct rap_s3 *rap_service_presigner(const struct rap_service *svc);

/* Exponential backoff with jitter for reconnect loops. */
struct rap_backoff {
	int min_ms;
	int max_ms;
	int cur_ms;
};

void rap_backoff_init(struct rap_backoff *b, int min_ms, int max_ms);
/** The next delay (cur doubled, capped, with up to 25% jitter). */
int rap_backoff_next(struct rap_backoff *b);
void rap_backoff_reset(struct rap_backoff *b);

#endif
