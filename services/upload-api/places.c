/*
 * places.c: the places that bound how many requests stream into a part
 * writer at once (RAP_UPLOAD_MAX_ACTIVE), shared fairly between owners,
 * and the pace every body that holds one must keep.
 *
 * An owner holds at most its share of the places
 * (RAP_UPLOAD_MAX_ACTIVE_PER_OWNER, a quarter of them by default): one
 * more of its requests is refused with 429 `upload_share_exceeded`, while
 * the other owners still find places.  503 `busy` stays for "every place
 * is taken", which one owner alone can no longer cause unless its share is
 * all of them.
 *
 * A body that holds a place must average RAP_UPLOAD_MIN_RATE bytes a
 * second over each RAP_UPLOAD_RATE_WINDOW_S: libmicrohttpd's idle timeout
 * starts again with every byte, so a byte a second would hold a place for
 * ever.  The pace is measured where the bytes arrive (upload_place_bytes)
 * and by the pacer, a task that looks at every place twice a second, so a
 * body that sends nothing at all is cut too.  A cut answers 408
 * `upload_too_slow` and closes the connection (rap_http_cut); the request
 * then ends as if its client had gone: a multipart upload is aborted in
 * S3, a tus PATCH keeps what it stored and its offset, and the place is
 * given back.
 *
 * The places are a list under one lock; an owner's count is a walk of it,
 * which at the default 64 places costs less than the lock.
 */
#include "upload_api.h"

#include "rap/assert.h"
#include "rap/clock.h"
#include "rap/mem.h"
#include "rap/metrics.h"
#include "rap/err.h"
#include "rap/task.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PACER_PERIOD_MS 500 /* how often the pacer looks at every place */

struct upload_place {
	struct upload_place *prev, *next;
	struct rap_http_req *req;
	const char *owner; /* req->owner: the auth table's, lives as long as it */
	bool paced;        /* a client's body is arriving: it keeps the pace */
	bool cut;          /* cut for its pace (rap_http_cut) */
	struct upload_pace pace;
};

long long upload_owner_share(long long max_active, long long per_owner)
{
	long long share = per_owner > 0 ? per_owner : max_active / 4;

	if (share < 1)
		share = 1;
	return share < max_active ? share : max_active;
}

enum upload_verdict upload_place_verdict(long long active, long long owner_active,
					 long long max_active, long long share)
{
	/* Every place taken is the platform's state, whoever holds them: one
	 * owner whose share is every place meets it as busy, as before. */
	if (active >= max_active)
		return UPLOAD_BUSY;
	if (owner_active >= share)
		return UPLOAD_OVER_SHARE;
	return UPLOAD_ADMIT;
}

void upload_pace_start(struct upload_pace *p, int64_t now_ms)
{
	p->window_start_ms = now_ms;
	p->window_bytes = 0;
}

bool upload_pace_ok(struct upload_pace *p, size_t n, int64_t now_ms, long long min_rate,
		    long long window_s)
{
	int64_t elapsed = now_ms - p->window_start_ms;

	p->window_bytes += (long long)n;
	if (min_rate <= 0 || elapsed < window_s * 1000)
		return true;
	/* A window is over: it averaged the minimum, or the body is cut. */
	if (p->window_bytes * 1000 < min_rate * elapsed)
		return false;
	upload_pace_start(p, now_ms);
	return true;
}

/* Places held by owner; under places_lock. */
static long long owner_count(const struct upload_api *api, const char *owner)
{
	const struct upload_place *pl;
	long long n = 0;

	for (pl = api->places; pl; pl = pl->next)
		if (strcmp(pl->owner, owner) == 0)
			n++;
	return n;
}

/* Answers the refusal of a place. */
static void refuse(struct upload_api *api, struct rap_http_req *req, enum upload_verdict v,
		   long long share)
{
	if (v == UPLOAD_OVER_SHARE) {
		rap_metric_inc(api->over_share, 1);
		rap_http_error(req, 429, "upload_share_exceeded",
			       "this API key's owner is streaming as many uploads as its share "
			       "allows at once (%lld of RAP_UPLOAD_MAX_ACTIVE=%lld, "
			       "RAP_UPLOAD_MAX_ACTIVE_PER_OWNER); retry when one has ended",
			       share, api->cfg.upload_max_active);
		return;
	}
	rap_metric_inc(api->busy, 1);
	rap_http_error(req, 503, "busy",
		       "upload-api is streaming as many uploads as "
		       "it may at once (RAP_UPLOAD_MAX_ACTIVE=%lld); retry shortly",
		       api->cfg.upload_max_active);
}

bool upload_admit(struct upload_api *api, struct rap_http_req *req, bool paced,
		  struct upload_place **place)
{
	long long share = upload_owner_share(api->cfg.upload_max_active,
					     api->cfg.upload_max_active_per_owner);
	const char *owner = req->owner ? req->owner : "";
	enum upload_verdict v;
	struct upload_place *pl;

	pthread_mutex_lock(&api->places_lock);
	v = upload_place_verdict(api->active, owner_count(api, owner), api->cfg.upload_max_active,
				 share);
	if (v == UPLOAD_ADMIT) {
		pl = rap_calloc(1, sizeof(*pl));
		pl->req = req;
		pl->owner = owner;
		pl->paced = paced && api->cfg.upload_min_rate > 0;
		upload_pace_start(&pl->pace, rap_now_ms());
		pl->next = api->places;
		if (api->places)
			api->places->prev = pl;
		api->places = pl;
		api->active++;
		*place = pl;
	}
	pthread_mutex_unlock(&api->places_lock);
	if (v != UPLOAD_ADMIT) {
		refuse(api, req, v, share);
		return false;
	}
	rap_metric_inc(api->in_flight, 1);
	return true;
}

void upload_release(struct upload_api *api, struct upload_place **place)
{
	struct upload_place *pl = *place;
	long long left;

	if (!pl)
		return;
	*place = NULL;
	pthread_mutex_lock(&api->places_lock);
	if (pl->prev)
		pl->prev->next = pl->next;
	else
		api->places = pl->next;
	if (pl->next)
		pl->next->prev = pl->prev;
	left = --api->active;
	RAP_ASSERT(left >= 0);
	pthread_mutex_unlock(&api->places_lock);
	free(pl);
	rap_metric_inc(api->in_flight, -1);
	/* The last one out gives the heap that a crowd of uploads grew (each
	 * connection thread's malloc arena keeps it) back to the system: an
	 * idle instance goes back to its idle size. */
	if (left == 0)
		malloc_trim(0);
}

/* Cuts a place's request for its pace; under places_lock (the request
 * lives while its place is in the list). */
static void cut(struct upload_api *api, struct upload_place *pl)
{
	char msg[256];

	pl->paced = false;
	pl->cut = true;
	snprintf(msg, sizeof(msg),
		 "the body arrived slower than %lld bytes/s averaged over %lld s "
		 "(RAP_UPLOAD_MIN_RATE, RAP_UPLOAD_RATE_WINDOW_S); a tus upload resumes "
		 "from HEAD's offset",
		 api->cfg.upload_min_rate, api->cfg.upload_rate_window_s);
	rap_metric_inc(api->too_slow, 1);
	rap_http_cut(pl->req, 408, "upload_too_slow", msg);
}

bool upload_place_bytes(struct upload_api *api, struct upload_place *pl, size_t n)
{
	bool ok = true;

	if (!pl)
		return true;
	pthread_mutex_lock(&api->places_lock);
	if (pl->paced && !upload_pace_ok(&pl->pace, n, rap_now_ms(), api->cfg.upload_min_rate,
					 api->cfg.upload_rate_window_s)) {
		cut(api, pl);
		ok = false;
	}
	pthread_mutex_unlock(&api->places_lock);
	return ok;
}

bool upload_place_body_done(struct upload_api *api, struct upload_place *pl)
{
	bool went_on;

	if (!pl)
		return true;
	pthread_mutex_lock(&api->places_lock);
	pl->paced = false;
	went_on = !pl->cut;
	pthread_mutex_unlock(&api->places_lock);
	return went_on;
}

/* The pacer's round: cuts every body behind its pace. */
static int pacer_step(void *ctx)
{
	struct upload_api *api = ctx;
	struct upload_place *pl;
	int64_t now = rap_now_ms();

	pthread_mutex_lock(&api->places_lock);
	for (pl = api->places; pl; pl = pl->next)
		if (pl->paced && !upload_pace_ok(&pl->pace, 0, now, api->cfg.upload_min_rate,
						 api->cfg.upload_rate_window_s))
			cut(api, pl);
	pthread_mutex_unlock(&api->places_lock);
	rap_sleep_ms(PACER_PERIOD_MS);
	return RAP_OK;
}

static int pacer_connect(void *ctx)
{
	(void)ctx;
	return RAP_OK;
}

static const struct rap_task_ops pacer_ops = {
	.connect = pacer_connect,
	.step = pacer_step,
};

void upload_pacer_init(struct upload_api *api, struct rap_task *t)
{
	memset(t, 0, sizeof(*t));
	t->name = "pacer";
	t->ops = &pacer_ops;
	t->ctx = api;
}
