/* service.c: the start-up every service shares. */
#include "rap/service.h"
#include "rap/err.h"
#include "rap/http.h"
#include "rap/log.h"
#include "rap/metrics.h"
#include "rap/s3.h"
#include "rap/clock.h"
#include "rap/stop.h"

#include <stdio.h>
#include <string.h>

/* rap_build_info{version,commit,service} 1: which build each process runs
 * (CMake sets RAP_VERSION and RAP_COMMIT when it configures the tree). */
static void add_build_info(struct rap_service *svc)
{
	char labels[192];

	snprintf(labels, sizeof(labels), "version=\"%s\",commit=\"%s\",service=\"%s\"", RAP_VERSION,
		 RAP_COMMIT, svc->name);
	rap_metric_set(rap_metrics_add(svc->metrics, RAP_GAUGE, "rap_build_info",
				       rap_metrics_strdup(svc->metrics, labels),
				       "the build a process runs: always 1"),
		       1);
}

int rap_service_init(struct rap_service *svc, const struct rap_service_desc *d, int argc,
		     char **argv)
{
	struct rap_cfg_table tables[RAP_SETTINGS_GROUPS + 1];
	char err[RAP_ERRLEN];
	size_t n, i;
	int r;

	memset(svc, 0, sizeof(*svc));
	svc->name = d->name;
	n = rap_settings_tables(d->groups | RAP_SETTINGS_BASE, &svc->cfg, tables);
	if (d->n_opts)
		tables[n++] = (struct rap_cfg_table){ d->opts, d->n_opts, d->cfg };
	r = rap_config_cli(argc, argv, d->name, d->about, tables, n);
	if (r != 0)
		return r;
	for (i = 0; i < n; i++)
		if (rap_config_load(tables[i].opts, tables[i].n, tables[i].cfg, rap_settings_env,
				    NULL, err) != RAP_OK) {
			fprintf(stderr, "%s: configuration error: %s\n", d->name, err);
			return -1;
		}
	if (rap_log_init(d->name, svc->cfg.log_level) != RAP_OK) {
		fprintf(stderr, "%s: RAP_LOG_LEVEL must be debug, info, warn or error\n", d->name);
		return -1;
	}
	rap_stop_install(false);
	svc->metrics = rap_metrics_new();
	add_build_info(svc);
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
		"%s %s -> %u, %llu body bytes in %lld ms", req->method, req->url, req->status,
		(unsigned long long)req->body_bytes, (long long)(rap_now_ms() - req->started_ms));
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
