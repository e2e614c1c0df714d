/*
 * group.c: single job creations from concurrent requests, committed
 * together.  Each POST /jobs is one small transaction, and what bounds
 * many of them is the WAL flush each commit waits for, not the work: so
 * the request threads hand their creation to one committer thread, which
 * takes everything waiting (up to RAP_JOB_GROUP_MAX) and creates it in one
 * transaction sent in one round trip (rap_job_create_group).  A request
 * still answers only after its own job is committed; alone, it waits for
 * nobody.
 */
#include "job_api.h"

#include "rap/err.h"
#include "rap/jobstore.h"
#include "rap/log.h"
#include "rap/metrics.h"
#include "rap/mem.h"
#include "rap/pg.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct waiting {
	struct rap_job_create_item *item;
	bool done;
	struct waiting *next;
};

struct job_api_group {
	struct job_api *api;
	pthread_mutex_t lock;
	pthread_cond_t work; /* something is waiting, or the stop */
	pthread_cond_t done; /* a group was settled */
	struct waiting *head, **tail;
	bool stopping;
	pthread_t thread;
};

/* Creates the group's jobs, or gives each the reason it could not. */
static void settle(struct job_api_group *g, struct rap_job_create_item *items, int n)
{
	static const struct rap_log_ctx ctx = { .action = "create" };
	char err[RAP_ERRLEN];
	PGconn *db;
	int i, result;

	result = rap_pg_pool_get(g->api->pool, 5000, &db, err);
	if (result == RAP_OK) {
		result = rap_job_create_group(db, items, n, err);
		rap_pg_pool_put(g->api->pool, db);
	}
	if (result != RAP_OK) {
		rap_log(RAP_LOG_WARN, &ctx, "%d job creations failed: %s", n, err);
		for (i = 0; i < n; i++) {
			items[i].result = result == RAP_ETIMEDOUT ? RAP_ETIMEDOUT : RAP_EDB;
			snprintf(items[i].err, RAP_ERRLEN, "%s", err);
		}
		return;
	}
	rap_metric_inc(g->api->create_groups, 1);
	job_api_relay_kick(g->api);
}

static void *group_main(void *arg)
{
	struct job_api_group *g = arg;
	struct rap_job_create_item items[RAP_JOB_GROUP_MAX];
	struct waiting *taken[RAP_JOB_GROUP_MAX];
	int i, n;

	pthread_mutex_lock(&g->lock);
	for (;;) {
		while (!g->head && !g->stopping)
			pthread_cond_wait(&g->work, &g->lock);
		if (!g->head)
			break;
		for (n = 0; g->head && n < RAP_JOB_GROUP_MAX; n++) {
			taken[n] = g->head;
			g->head = g->head->next;
		}
		if (!g->head)
			g->tail = &g->head;
		pthread_mutex_unlock(&g->lock);
		for (i = 0; i < n; i++)
			items[i] = *taken[i]->item;
		settle(g, items, n);
		pthread_mutex_lock(&g->lock);
		for (i = 0; i < n; i++) {
			*taken[i]->item = items[i];
			taken[i]->done = true;
		}
		pthread_cond_broadcast(&g->done);
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

struct job_api_group *job_api_group_start(struct job_api *api)
{
	struct job_api_group *g = rap_calloc(1, sizeof(*g));

	g->api = api;
	g->tail = &g->head;
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->work, NULL);
	pthread_cond_init(&g->done, NULL);
	if (pthread_create(&g->thread, NULL, group_main, g) != 0) {
		pthread_cond_destroy(&g->done);
		pthread_cond_destroy(&g->work);
		pthread_mutex_destroy(&g->lock);
		free(g);
		return NULL;
	}
	return g;
}

void job_api_group_stop(struct job_api_group *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->lock);
	g->stopping = true;
	pthread_cond_signal(&g->work);
	pthread_mutex_unlock(&g->lock);
	pthread_join(g->thread, NULL);
	pthread_cond_destroy(&g->done);
	pthread_cond_destroy(&g->work);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

int job_api_group_create(struct job_api_group *g, struct rap_job_create_item *item)
{
	struct waiting *w = rap_calloc(1, sizeof(*w));

	w->item = item;
	pthread_mutex_lock(&g->lock);
	*g->tail = w;
	g->tail = &w->next;
	pthread_cond_signal(&g->work);
	while (!w->done)
		pthread_cond_wait(&g->done, &g->lock);
	pthread_mutex_unlock(&g->lock);
	free(w);
	return item->result;
}
