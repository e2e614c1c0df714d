/*
 * worker: the process.  Its wiring (settings, metrics, health endpoint) and
 * its slots: one per pool it serves, each a consumer task on a thread of
 * its own that takes the deliveries of its pool's queue; what becomes of
 * each is lifecycle.c's, of quick ones in batches batch.c's.
 */
#include "worker.h"
#include "sandbox.h"

#include "rap/amqp.h"
#include "rap/err.h"
#include "rap/http.h"
#include "rap/jobstore.h"
#include "rap/log.h"
#include "rap/metrics.h"
#include "rap/mem.h"
#include "rap/pg.h"
#include "rap/s3.h"
#include "rap/clock.h"
#include "rap/jobmsg.h"
#include "rap/list.h"
#include "rap/random.h"
#include "rap/schema.h"
#include "rap/stop.h"
#include "rap/task.h"

#include <errno.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The consumer task (rap/task.h): the deliveries of the work queue,
 * handled one by one, or quick ones in batches. */
struct consumer {
	struct worker *w;
	struct rap_amqp_msg *msgs;
	int max; /* deliveries in one batch: RAP_WORKER_BATCH, up to the prefetch */
};

/* The task's connect: PostgreSQL (migrated), the consumer, the publisher. */
static int worker_connect(void *ctx)
{
	struct consumer *c = ctx;
	struct worker *w = c->w;
	const struct rap_settings *cfg = &w->svc.cfg;
	char err[RAP_ERRLEN];

	if (!w->db || !rap_pg_alive(w->db)) {
		PQfinish(w->db);
		w->db = NULL;
		/* The outbox rows its changes write (status events) are announced
		 * after the commit, not in it (wake_relay): see migration 0013. */
		if (rap_pg_connect(cfg->pg_url, &w->db, err) != RAP_OK ||
		    rap_schema_migrate(w->db, err) != RAP_OK ||
		    rap_pg_exec(w->db, "SET rap.outbox_notify = off", 0, NULL, NULL, err) !=
			    RAP_OK) {
			rap_log(RAP_LOG_WARN, NULL, "PostgreSQL: %s", err);
			return RAP_EDB;
		}
	}
	if (!w->amqp || !rap_amqp_ok(w->amqp)) {
		char name[160];

		rap_amqp_free(w->amqp);
		w->amqp = NULL;
		/* "<id> <pool>": the connections of a worker's slots, told apart. */
		snprintf(name, sizeof(name), "%s %s", w->id, w->pools[0]);
		if (rap_amqp_connect(cfg->amqp_url, name, &w->amqp, err) != RAP_OK) {
			rap_log(RAP_LOG_WARN, NULL, "RabbitMQ: %s", err);
			return RAP_EAMQP;
		}
		if (rap_amqp_declare_file(w->amqp, cfg->amqp_definitions) != RAP_OK ||
		    worker_consume_pools(w) != RAP_OK) {
			rap_log(RAP_LOG_ERROR, NULL, "RabbitMQ: %s", rap_amqp_errmsg(w->amqp));
			return RAP_EAMQP;
		}
	}
	if (!w->pub || !rap_amqp_ok(w->pub)) {
		char name[160];

		rap_amqp_free(w->pub);
		w->pub = NULL;
		snprintf(name, sizeof(name), "%s %s publisher", w->id, w->pools[0]);
		if (rap_amqp_connect(cfg->amqp_url, name, &w->pub, err) != RAP_OK) {
			rap_log(RAP_LOG_WARN, NULL, "RabbitMQ publisher: %s", err);
			return RAP_EAMQP;
		}
		if (rap_amqp_confirm_select(w->pub) != RAP_OK) {
			rap_log(RAP_LOG_ERROR, NULL, "RabbitMQ publisher: %s",
				rap_amqp_errmsg(w->pub));
			return RAP_EAMQP;
		}
	}
	atomic_store(&w->ready, true);
	return RAP_OK;
}

/*
 * Takes the deliveries that are already here, after the first, while they
 * are quick jobs: they are claimed and completed together.  A slow job
 * never waits behind a batch, because a batch only grows with quick ones.
 */
static int collect(struct worker *w, struct rap_amqp_msg *msgs, int max)
{
	struct rap_jobmsg jm;
	char err[RAP_ERRLEN];
	int n = 1;

	while (n < max) {
		if (rap_jobmsg_decode(msgs[n - 1].body, msgs[n - 1].len, &jm, err) != RAP_OK)
			break;
		if (!worker_quick(jm.type) || msgs[n - 1].redelivered)
			break;
		if (rap_amqp_next(w->amqp, 0, &msgs[n]) != RAP_OK)
			break;
		n++;
	}
	return n;
}

static void worker_down(void *ctx)
{
	struct consumer *c = ctx;

	atomic_store(&c->w->ready, false);
}

/*
 * Tells the relay (job-api) that the jobs just settled wrote status events
 * to the outbox.  A NOTIFY of its own, after the commits that wrote them:
 * PostgreSQL serialises the commits of transactions that NOTIFY, WAL flush
 * included, while this one has nothing to flush.  Should it fail, the
 * relay's poll (RAP_RELAY_POLL_MS) finds the rows all the same.
 */
static void wake_relay(struct worker *w)
{
	char err[RAP_ERRLEN];

	if (rap_pg_exec(w->db, "NOTIFY rap_outbox", 0, NULL, NULL, err) != RAP_OK)
		rap_log(RAP_LOG_DEBUG, NULL, "NOTIFY rap_outbox: %s", err);
}

/* Waits up to half a second for a delivery, and handles it (with the quick
 * ones right behind it, as a batch). */
static int worker_step(void *ctx)
{
	struct consumer *c = ctx;
	struct worker *w = c->w;
	int result, n, i;

	/* An early ack stopped the consumer while its long job ran. */
	if (delivery_resume(w) != RAP_OK) {
		rap_log(RAP_LOG_WARN, NULL, "RabbitMQ: %s", rap_amqp_errmsg(w->amqp));
		return RAP_OK;
	}
	result = rap_amqp_next(w->amqp, 500, &c->msgs[0]);
	if (result == RAP_ETIMEDOUT)
		return RAP_OK;
	if (result != RAP_OK) {
		/* The next connect notices the broken connection. */
		rap_log(RAP_LOG_WARN, NULL, "RabbitMQ: %s", rap_amqp_errmsg(w->amqp));
		return RAP_OK;
	}
	n = collect(w, c->msgs, c->max);
	if (n == 1)
		worker_handle(w, &c->msgs[0]);
	else
		worker_handle_batch(w, c->msgs, n);
	wake_relay(w);
	for (i = 0; i < n; i++)
		rap_amqp_msg_release(&c->msgs[i]);
	return RAP_OK;
}

static const struct rap_task_ops consumer_ops = {
	.connect = worker_connect,
	.step = worker_step,
	.down = worker_down,
};

/* One slot's consumer: its connections and S3 clients are its own; the
 * rest (settings, metrics, the processor's path) is the process's. */
static void slot_init(struct worker *w, size_t i, const struct rap_s3_cfg *s3c)
{
	struct worker *s = &w->slots[i];

	memcpy(s, w, sizeof(*s));
	s->slots = NULL;
	s->n_slots = 0;
	s->pools[0] = w->pools[i];
	s->n_pools = 1;
	s->prefetch = w->cfg.worker_prefetch ? w->cfg.worker_prefetch
					     : rap_jobtype_pool_prefetch(w->pools[i]);
	atomic_init(&s->ready, false);
	s->db = NULL;
	s->amqp = NULL;
	s->pub = NULL;
	s->s3 = rap_s3_new(s3c);
	s->s3_in = rap_s3_new(s3c);
}

static void slot_free(struct worker *s)
{
	rap_s3_free(s->s3);
	rap_s3_free(s->s3_in);
	rap_amqp_free(s->amqp);
	rap_amqp_free(s->pub);
	PQfinish(s->db);
}

/* A slot per pool the worker serves; before the health endpoint starts,
 * which reads the slots' readiness from its own thread. */
static void worker_slots_new(struct worker *w, const struct rap_s3_cfg *s3c)
{
	w->slots = rap_calloc(w->n_pools, sizeof(*w->slots));
	for (size_t i = 0; i < w->n_pools; i++)
		slot_init(w, i, s3c);
	w->n_slots = w->n_pools;
}

/*
 * Runs the slots, each consuming its pool's queue on a thread of its own,
 * until the stop.  A pool's slot holds at most
 * its prefetch of deliveries (rap_jobpools, or RAP_WORKER_PREFETCH for all)
 * and runs one job, or one batch of quick ones, at a time.
 */
static int worker_run_slots(struct worker *w)
{
	struct consumer *cs;
	struct rap_task *ts;
	size_t i, started = 0;
	int status = RAP_OK;

	cs = rap_calloc(w->n_slots, sizeof(*cs));
	ts = rap_calloc(w->n_slots, sizeof(*ts));
	for (i = 0; i < w->n_slots; i++) {
		cs[i].w = &w->slots[i];
		cs[i].max = (int)(w->cfg.worker_batch < w->slots[i].prefetch
					  ? w->cfg.worker_batch
					  : w->slots[i].prefetch);
		cs[i].msgs = rap_calloc((size_t)cs[i].max, sizeof(*cs[i].msgs));
		ts[i] = (struct rap_task){ .name = w->pools[i],
					   .ops = &consumer_ops,
					   .ctx = &cs[i] };
	}
	for (i = 0; i < w->n_slots; i++, started++) {
		if (rap_task_start(&ts[i]) != RAP_OK) {
			rap_log(RAP_LOG_ERROR, NULL, "cannot start the slot of pool %s",
				w->pools[i]);
			rap_stop_request();
			status = RAP_EIO;
			break;
		}
	}
	for (i = 0; i < started; i++)
		rap_task_join(&ts[i]);
	for (i = 0; i < w->n_slots; i++)
		free(cs[i].msgs);
	free(cs);
	free(ts);
	return status;
}

static bool worker_ready(void *arg, char *reason, size_t len)
{
	struct worker *w = arg;

	for (size_t i = 0; i < w->n_slots; i++) {
		if (!atomic_load(&w->slots[i].ready)) {
			snprintf(reason, len,
				 "the slot of pool %s is not connected to PostgreSQL "
				 "and RabbitMQ",
				 w->slots[i].pools[0]);
			return false;
		}
	}
	return w->n_slots > 0;
}

static const char *const sandbox_labels[SBX_OUTCOMES] = {
	[SBX_COMPLETED] = "outcome=\"completed\"",
	[SBX_FAILED] = "outcome=\"failed\"",
	[SBX_TIME_LIMIT] = "outcome=\"time_limit\"",
	[SBX_MEMORY_LIMIT] = "outcome=\"memory_limit\"",
	[SBX_OUTPUT_LIMIT] = "outcome=\"output_limit\"",
	[SBX_CRASHED] = "outcome=\"processor_crashed\"",
	[SBX_VIOLATION] = "outcome=\"sandbox_violation\"",
	[SBX_CANCELLED] = "outcome=\"cancelled\"",
	[SBX_TRANSIENT] = "outcome=\"transient\"",
};

static void register_metrics(struct worker *w)
{
	struct rap_metrics *m = w->svc.metrics;

	w->completed = rap_metrics_add(m, RAP_COUNTER, "rap_worker_jobs_total",
				       "outcome=\"completed\"",
				       "jobs finished by this worker, by outcome");
	w->failed = rap_metrics_add(m, RAP_COUNTER, "rap_worker_jobs_total", "outcome=\"failed\"",
				    "jobs finished by this worker, by outcome");
	w->dead_lettered = rap_metrics_add(m, RAP_COUNTER, "rap_worker_jobs_total",
					   "outcome=\"dead\"",
					   "jobs finished by this worker, by outcome");
	w->requeued = rap_metrics_add(m, RAP_COUNTER, "rap_worker_jobs_total",
				      "outcome=\"requeued\"",
				      "jobs finished by this worker, by outcome");
	w->retried = rap_metrics_add(m, RAP_COUNTER, "rap_worker_jobs_total",
				     "outcome=\"retrying\"",
				     "jobs finished by this worker, by outcome");
	w->duplicates = rap_metrics_add(m, RAP_COUNTER, "rap_worker_duplicate_deliveries_total",
					NULL, "deliveries of finished jobs, acked and skipped");
	w->bytes_read = rap_metrics_add(m, RAP_COUNTER, "rap_worker_input_bytes_total", NULL,
					"bytes read from S3 by processors");
	w->children = rap_metrics_add(m, RAP_GAUGE, "rap_worker_children", NULL,
				      "sandboxed processor children running now");
	w->early_acks = rap_metrics_add(m, RAP_COUNTER, "rap_worker_early_acks_total", NULL,
					"deliveries of long jobs acked before the job ended");
	for (int i = 0; i < SBX_OUTCOMES; i++)
		w->sandbox[i] = rap_metrics_add(m, RAP_COUNTER, "rap_worker_sandbox_total",
						sandbox_labels[i],
						"sandboxed runs by outcome (docs/sandbox.md)");
	w->scanned_clean = rap_metrics_add(
		m, RAP_COUNTER, "rap_worker_scanned_first_total", "verdict=\"clean\"",
		"inputs of RAP_JOB_SCAN_FIRST types scanned before they ran");
	w->scanned_infected = rap_metrics_add(
		m, RAP_COUNTER, "rap_worker_scanned_first_total", "verdict=\"infected\"",
		"inputs of RAP_JOB_SCAN_FIRST types scanned before they ran");
}

/* rap-processor: the setting, or the file next to this executable. */
static int processor_path(struct worker *w)
{
	char self[sizeof(w->processor)];
	ssize_t n;
	char *slash;

	if (w->cfg.processor_path[0]) {
		snprintf(w->processor, sizeof(w->processor), "%s", w->cfg.processor_path);
	} else {
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n <= 0) {
			rap_log(RAP_LOG_ERROR, NULL, "cannot find this executable's folder");
			return RAP_EIO;
		}
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash)
			*slash = '\0';
		snprintf(w->processor, sizeof(w->processor), "%.4000s/rap-processor", self);
	}
	if (access(w->processor, X_OK) != 0) {
		rap_log(RAP_LOG_ERROR, NULL, "the sandboxed processor %s cannot run: %s",
			w->processor, strerror(errno));
		return RAP_EIO;
	}
	rap_log(RAP_LOG_INFO, NULL, "sandboxed processor: %s", w->processor);
	return RAP_OK;
}

/* Whether this worker runs t: enabled, and its pool served. */
static bool runs(const struct worker *w, const struct rap_jobtype *t)
{
	if (!rap_list_contains(w->svc.cfg.job_types, t->name))
		return false;
	for (size_t k = 0; k < w->n_pools; k++)
		if (strcmp(w->pools[k], t->pool) == 0)
			return true;
	return false;
}

/* The type of the registry whose children come from a fork server
 * (virus.scan), if this worker needs it: it runs it, or it runs a type
 * of RAP_JOB_SCAN_FIRST, whose inputs it scans first. */
static const struct rap_jobtype *fork_server_type(const struct worker *w)
{
	const struct rap_jobtype *server = NULL;
	bool needed = false;

	for (size_t i = 0; i < rap_jobtypes_count; i++) {
		const struct rap_jobtype *t = &rap_jobtypes[i];

		if (t->fork_server) {
			server = t;
			needed = needed || runs(w, t);
		} else if (rap_list_contains(w->cfg.scan_first, t->name) && runs(w, t))
			needed = true;
	}
	return needed ? server : NULL;
}

/*
 * Starts the fork server (forksrv.c) when this worker runs virus.scan:
 * the signatures are loaded now, once, and a database that is missing or
 * empty stops the worker here with the server's reason.  The worker
 * becomes a child subreaper first, so that each scan child the server
 * forks (through a process that exits at once) becomes the worker's.
 */
static int start_fork_server(struct worker *w)
{
	static struct forksrv srv;
	const struct rap_jobtype *t = fork_server_type(w);
	struct rap_metrics *m = w->svc.metrics;
	char err[RAP_ERRLEN];

	if (!t)
		return RAP_OK;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
		rap_log(RAP_LOG_ERROR, NULL, "PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
		return RAP_EIO;
	}
	forksrv_init(&srv, w->processor, t->name, w->cfg.clamav_db, w->cfg.scratch_dir);
	srv.loads = rap_metrics_add(m, RAP_COUNTER, "rap_clamav_engine_loads_total", NULL,
				    "ClamAV engines loaded (one per fork server start; "
				    "never per job)");
	srv.signatures_gauge = rap_metrics_add(m, RAP_GAUGE, "rap_clamav_signatures", NULL,
					       "signatures in the fork server's engine");
	srv.restarts = rap_metrics_add(m, RAP_COUNTER, "rap_clamav_server_failures_total", NULL,
				       "fork servers found dead or mute (restarted)");
	if (forksrv_start(&srv, err) != RAP_OK) {
		rap_log(RAP_LOG_ERROR, NULL, "%s", err);
		return RAP_EIO;
	}
	w->forksrv = &srv;
	return RAP_OK;
}

int main(int argc, char **argv)
{
	struct worker w = { 0 };
	struct rap_http_server *http = NULL;
	struct rap_http_cfg hc = { 0 };
	struct rap_s3_cfg s3c;
	const struct rap_service_desc desc = {
		.name = "worker",
		.about = "Runs jobs from the work queues of its pools (jobs.work.<pool>).",
		.groups = RAP_SETTINGS_PG | RAP_SETTINGS_AMQP | RAP_SETTINGS_S3 |
			  RAP_SETTINGS_JOB_TYPES | RAP_SETTINGS_JOB_LIMITS,
		.opts = worker_settings_table,
		.n_opts = worker_settings_count,
		.cfg = &w.cfg,
	};
	struct rap_jobtype_settings types = { 0 };
	char err[RAP_ERRLEN], host[64] = "worker";
	int r, status = EXIT_FAILURE;

	r = rap_service_init(&w.svc, &desc, argc, argv);
	if (r != 0)
		return r > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	types.types = w.svc.cfg.job_types;
	types.limits = w.svc.cfg.job_limits;
	types.scan_first = w.cfg.scan_first;
	if (rap_jobtype_settings_check(&types, err) != RAP_OK ||
	    rap_jobtype_pools_select(w.cfg.worker_pools, w.pools, RAP_JOBTYPE_POOLS_MAX, &w.n_pools,
				     err) != RAP_OK) {
		fprintf(stderr, "worker: configuration error: %s\n", err);
		rap_service_cleanup(&w.svc);
		return EXIT_FAILURE;
	}
	gethostname(host, sizeof(host) - 1);
	if (w.cfg.worker_id[0])
		snprintf(w.id, sizeof(w.id), "%s", w.cfg.worker_id);
	else
		snprintf(w.id, sizeof(w.id), "%s-%d", host, (int)getpid());
	register_metrics(&w);
	worker_timing_register(&w);
	rap_s3_global_init();
	rap_service_s3_cfg(&w.svc, &s3c);
	if (processor_path(&w) != RAP_OK || start_fork_server(&w) != RAP_OK)
		goto out;
	worker_slots_new(&w, &s3c);
	if (w.cfg.worker_port) {
		hc.bind = w.svc.cfg.bind;
		hc.port = (unsigned)w.cfg.worker_port;
		hc.threads = 1;
		/* Health and metrics only: an admin listener's limits, so an
		 * address flooding this port leaves the probes their places. */
		hc.max_conns = RAP_HTTP_ADMIN_MAX_CONNS;
		hc.max_conns_per_ip = RAP_HTTP_ADMIN_MAX_CONNS / 4;
		hc.idle_timeout = 10;
		hc.svc = &w;
		hc.ready = worker_ready;
		hc.metrics = w.svc.metrics;
		if (rap_http_start(&hc, &http, err) != RAP_OK) {
			rap_log(RAP_LOG_ERROR, NULL, "%s", err);
			goto out;
		}
	}
	rap_log(RAP_LOG_INFO, NULL, "worker %s starting", w.id);
	if (worker_run_slots(&w) == RAP_OK)
		status = EXIT_SUCCESS;
	rap_log(RAP_LOG_INFO, NULL, "stopping");
	rap_http_stop(http);
out:
	for (size_t i = 0; i < w.n_slots; i++)
		slot_free(&w.slots[i]);
	free(w.slots);
	if (w.forksrv)
		forksrv_stop(w.forksrv);
	rap_service_cleanup(&w.svc);
	free(w.types);
	return status;
}
