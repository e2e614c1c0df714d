/* service.c: the start-up every service shares. */
#include "rap/service.h"
#include "rap/err.h"
#include "rap/http.h"
#include "rap/log.h"
#include "rap/metrics.h"
#include "rap/s3.h"
#include "rap/util.h"

#include <stdio.h>
#include <string.h>

volatile int rap_stop;

static void on_signal(int sig)
{
	rap_stop = 1;
}

int rap_service_init(struct rap_service *svc, const char *name, const char *about,
		     int argc, char **argv)
{
	char err[RAP_ERRLEN];
	struct sigaction sa;
	int r;

	memset(svc, 0, sizeof(*svc));
	svc->name = name;
	r = rap_settings_cli(argc, argv, name, about);
	if (r != 0)
		return r;
	if (rap_settings_load(&svc->cfg, err) != RAP_OK) {
		fprintf(stderr, "%s: configuration error: %s\n", name, err);
		return -1;
	}
	if (rap_log_init(name, svc->cfg.log_level) != RAP_OK) {
		fprintf(stderr, "%s: RAP_LOG_LEVEL must be debug, info, warn or error\n", name);
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	svc->metrics = rap_metrics_new();
	return 0;
}

void rap_service_cleanup(struct rap_service *svc)
{
	rap_metrics_free(svc->metrics);
	svc->metrics = NULL;
}

void rap_service_log_request(void *svc, const struct rap_http_req *req)
{
	struct rap_log_ctx ctx = { .request_id = req->request_id, .action = "http" };

	rap_log(req->status >= 500 ? RAP_LOG_WARN : RAP_LOG_INFO, &ctx,
		"%s %s -> %u, %llu body bytes in %lld ms", req->method, req->url,
		req->status, (unsigned long long)req->body_bytes,
		(long long)(rap_now_ms() - req->started_ms));
}

void rap_service_s3_cfg(const struct rap_service *svc, struct rap_s3_cfg *out)
{
	out->endpoint = svc->cfg.s3_endpoint;
	out->region = svc->cfg.s3_region;
	out->bucket = svc->cfg.s3_bucket;
	out->access_key = svc->cfg.s3_access_key;
	out->secret_key = svc->cfg.s3_secret_key;
}

struct rap_s3 *rap_service_presigner(const struct rap_service *svc)
{
	struct rap_s3_cfg cfg;

	rap_service_s3_cfg(svc, &cfg);
	if (svc->cfg.s3_public_endpoint[0])
		cfg.endpoint = svc->cfg.s3_public_endpoint;
	return rap_s3_new(&cfg);
}

void rap_backoff_init(struct rap_backoff *b, int min_ms, int max_ms)
{
	b->min_ms = min_ms;
	b->max_ms = max_ms;
	b->cur_ms = min_ms;
}

int rap_backoff_next(struct rap_backoff *b)
{
	unsigned r = 0;
	int d = b->cur_ms;

	rap_random(&r, sizeof(r));
	d += (int)(r % (unsigned)(d / 4 + 1));
	b->cur_ms = b->cur_ms * 2 > b->max_ms ? b->max_ms : b->cur_ms * 2;
	return d;
}

void rap_backoff_reset(struct rap_backoff *b)
{
	b->cur_ms = b->min_ms;
}
