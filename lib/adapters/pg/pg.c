/*
 * pg.c: PostgreSQL connections, statements, migrations and a pool.
 *
 * Every statement goes through settle(), which turns a failed result into
 * the platform's errors (a refused job transition, a unique violation, the
 * rest) with the server's first line in err; the caller owns any result.
 * Hot statements are prepared once per connection, and which connection
 * prepared what is remembered here (libpq does not say), so that prepared
 * statements can be used inside a transaction without a failed attempt
 * aborting it.  Migrations run under an advisory lock, each in its own
 * transaction.  The pool hands a connection to one thread at a time and
 * checks a long-idle one with a round trip before handing it out.
 */
#include "rap/pg.h"
#include "rap/assert.h"
#include "rap/err.h"
#include "rap/mem.h"
#include "rap/clock.h"
#include "rap/str.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Keeps the first line of a server message. */
static void copy_msg(char *err, const char *msg)
{
	size_t n = strcspn(msg, "\n");

	snprintf(err, RAP_ERRLEN, "%.*s", (int)n, msg);
}

/* The library does not print: server notices are dropped. */
static void ignore_notice(void *arg, const char *message)
{
}

int rap_pg_connect(const char *url, PGconn **out, char *err)
{
	PGconn *db = PQconnectdb(url);
	const char *ds;

	if (PQstatus(db) != CONNECTION_OK) {
		copy_msg(err, PQerrorMessage(db));
		PQfinish(db);
		return RAP_EDB;
	}
	PQsetNoticeProcessor(db, ignore_notice, NULL);
	/* Timestamps are read as text in ISO form (jobstatus.c); the server
	 * reports its DateStyle, so the usual case costs no round trip. */
	ds = PQparameterStatus(db, "DateStyle");
	if ((!ds || strncmp(ds, "ISO", 3) != 0) &&
	    rap_pg_exec(db, "SET DateStyle = ISO", 0, NULL, NULL, err) != RAP_OK) {
		PQfinish(db);
		return RAP_EDB;
	}
	*out = db;
	return RAP_OK;
}

/* Hands over a result or turns it into an error (rap_pg_exec's). */
static int settle(PGconn *db, PGresult *res, PGresult **out, char *err)
{
	ExecStatusType st = PQresultStatus(res);
	const char *state;
	int result;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		if (out)
			*out = res;
		else
			PQclear(res);
		return RAP_OK;
	}
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	copy_msg(err,
		 PQresultErrorMessage(res)[0] ? PQresultErrorMessage(res) : PQerrorMessage(db));
	if (state && strcmp(state, "RAP01") == 0)
		result = RAP_ETRANSITION;
	else if (state && strcmp(state, "23505") == 0)
		result = RAP_ECONFLICT;
	else
		result = RAP_EDB;
	PQclear(res);
	return result;
}

int rap_pg_exec(PGconn *db, const char *sql, int n, const char *const *params, PGresult **out,
		char *err)
{
	return settle(db, PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0), out, err);
}

/* rap_pg_one_text's end: the first cell of the first row, RAP_ENOENT when
 * there is no row; result is the query's (run before the call: the order
 * in which arguments are evaluated is unspecified). */
static int first_text(int result, PGresult *res, char **out)
{
	if (result != RAP_OK)
		return result;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return RAP_ENOENT;
	}
	*out = rap_strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return RAP_OK;
}

/*
 * Which statements each connection has prepared, kept here because libpq
 * keeps nothing of the kind: a connection is known by its address and its
 * backend's pid (a reconnect gets a new pid even at the same address).
 * Knowing in advance is what lets a transaction use prepared statements: a
 * failed PQprepare or PQexecPrepared would abort it.  When the table is
 * full, an entry is reused; a connection that lost its entry prepares
 * again, and outside a transaction "already prepared" (42P05) is taken as
 * done.
 */
#define PREP_CONNS 256
#define PREP_NAMES 32
#define PREP_NAME_LEN 40

struct prep_conn {
	const PGconn *db;
	int pid;
	unsigned n;
	char names[PREP_NAMES][PREP_NAME_LEN];
};

static struct prep_conn prep_table[PREP_CONNS];
static unsigned prep_next; /* the entry reused next when the table is full */
static pthread_mutex_t prep_lock = PTHREAD_MUTEX_INITIALIZER;

/* The entry of db, made if need be; prep_lock held. */
static struct prep_conn *prep_entry(const PGconn *db)
{
	int pid = PQbackendPID(db);
	struct prep_conn *free_slot = NULL, *e;
	unsigned i;

	for (i = 0; i < PREP_CONNS; i++) {
		e = &prep_table[i];
		if (e->db == db) {
			if (e->pid != pid) {
				e->pid = pid;
				e->n = 0;
			}
			return e;
		}
		if (!e->db && !free_slot)
			free_slot = e;
	}
	e = free_slot ? free_slot : &prep_table[prep_next++ % PREP_CONNS];
	e->db = db;
	e->pid = pid;
	e->n = 0;
	return e;
}

static bool prep_known(const PGconn *db, const char *name)
{
	struct prep_conn *e;
	bool known = false;
	unsigned i;

	pthread_mutex_lock(&prep_lock);
	e = prep_entry(db);
	for (i = 0; i < e->n && !known; i++)
		known = strcmp(e->names[i], name) == 0;
	pthread_mutex_unlock(&prep_lock);
	return known;
}

/* Records (known) or forgets (!known) name as prepared on db. */
static void prep_mark(const PGconn *db, const char *name, bool known)
{
	struct prep_conn *e;
	unsigned i;

	pthread_mutex_lock(&prep_lock);
	e = prep_entry(db);
	for (i = 0; i < e->n; i++)
		if (strcmp(e->names[i], name) == 0)
			break;
	if (!known && i < e->n)
		memcpy(e->names[i], e->names[--e->n], PREP_NAME_LEN);
	else if (known && i == e->n && e->n < PREP_NAMES)
		snprintf(e->names[e->n++], PREP_NAME_LEN, "%s", name);
	pthread_mutex_unlock(&prep_lock);
}

static bool has_state(const PGresult *res, const char *code)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	return PQresultStatus(res) == PGRES_FATAL_ERROR && state && strcmp(state, code) == 0;
}

/* Prepares name on db; NULL when done, else the failed result. */
static PGresult *prepare(PGconn *db, const char *name, const char *sql, int n)
{
	PGresult *res = PQprepare(db, name, sql, n, NULL);

	if (PQresultStatus(res) == PGRES_COMMAND_OK || has_state(res, "42P05")) {
		/* 42P05 (already there) aborts a transaction all the same. */
		bool ok = PQresultStatus(res) == PGRES_COMMAND_OK ||
			  PQtransactionStatus(db) == PQTRANS_IDLE;

		prep_mark(db, name, true);
		if (ok) {
			PQclear(res);
			return NULL;
		}
	}
	return res;
}

int rap_pg_prepare(PGconn *db, const char *name, const char *sql, int n, char *err)
{
	PGresult *res;

	RAP_ASSERT(strlen(name) < PREP_NAME_LEN);
	if (prep_known(db, name) || (res = prepare(db, name, sql, n)) == NULL)
		return RAP_OK;
	return settle(db, res, NULL, err);
}

int rap_pg_exec_prepared(PGconn *db, const char *name, const char *sql, int n,
			 const char *const *params, PGresult **out, char *err)
{
	PGresult *res;

	RAP_ASSERT(strlen(name) < PREP_NAME_LEN);
	if (!prep_known(db, name) && (res = prepare(db, name, sql, n)) != NULL)
		return settle(db, res, out, err);
	res = PQexecPrepared(db, name, n, params, NULL, NULL, 0);
	if (has_state(res, "26000")) {
		/* Gone after all (a DISCARD, a pooler): again, once, where a
		 * failure has not aborted a transaction. */
		prep_mark(db, name, false);
		if (PQtransactionStatus(db) == PQTRANS_IDLE) {
			PQclear(res);
			res = prepare(db, name, sql, n);
			if (res)
				return settle(db, res, out, err);
			res = PQexecPrepared(db, name, n, params, NULL, NULL, 0);
		}
	}
	return settle(db, res, out, err);
}

/* The next query's result in pipeline mode, with the NULL that ends it
 * read too; NULL when there is none (a broken connection). */
static PGresult *next_in_pipeline(PGconn *db)
{
	PGresult *res = PQgetResult(db), *more;

	if (res && PQresultStatus(res) != PGRES_PIPELINE_SYNC)
		while ((more = PQgetResult(db)) != NULL)
			PQclear(more);
	return res;
}

int rap_pg_exec_prepared_with(PGconn *db, const char *before, const char *name, const char *sql,
			      int n, const char *const *params, const char *after, PGresult **out,
			      char *err)
{
	PGresult *res[3] = { NULL, NULL, NULL }, *r;
	int result, i, stmt = before ? 1 : 0, count = stmt + 1 + (after ? 1 : 0);
	bool sent;

	if (out)
		*out = NULL;
	result = rap_pg_prepare(db, name, sql, n, err);
	if (result != RAP_OK)
		return result;
	if (!PQenterPipelineMode(db)) {
		copy_msg(err, PQerrorMessage(db));
		return RAP_EDB;
	}
	sent = (!before || PQsendQueryParams(db, before, 0, NULL, NULL, NULL, NULL, 0)) &&
	       PQsendQueryPrepared(db, name, n, params, NULL, NULL, 0) &&
	       (!after || PQsendQueryParams(db, after, 0, NULL, NULL, NULL, NULL, 0));
	sent = PQpipelineSync(db) && sent;
	for (i = 0; sent && i < count; i++) {
		res[i] = next_in_pipeline(db);
		if (!res[i] || PQresultStatus(res[i]) == PGRES_PIPELINE_SYNC) {
			PQclear(res[i]);
			res[i] = NULL;
			sent = false;
		}
	}
	/* Up to the sync's own result, whatever came before it. */
	while (sent && (r = PQgetResult(db)) != NULL) {
		bool sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;

		PQclear(r);
		if (sync)
			break;
	}
	PQexitPipelineMode(db);
	result = RAP_OK;
	for (i = 0; i < count; i++) {
		if (!res[i]) {
			if (result == RAP_OK) {
				copy_msg(err, PQerrorMessage(db));
				result = RAP_EDB;
			}
			continue;
		}
		if (i == stmt && has_state(res[i], "26000"))
			prep_mark(db, name, false); /* gone: prepared again next time */
		if (result != RAP_OK)
			PQclear(res[i]);
		else
			result = settle(db, res[i], i == stmt ? out : NULL, err);
		if (result != RAP_OK && i > stmt && out && *out) {
			/* The statement ran but what came after failed. */
			PQclear(*out);
			*out = NULL;
		}
	}
	return result;
}

int rap_pg_one_text_prepared(PGconn *db, const char *name, const char *sql, int n,
			     const char *const *params, char **out, char *err)
{
	PGresult *res = NULL;
	int result = rap_pg_exec_prepared(db, name, sql, n, params, &res, err);

	return first_text(result, res, out);
}

int rap_pg_one(PGconn *db, const char *sql, int n, const char *const *params, PGresult **out,
	       char *err)
{
	int result = rap_pg_exec(db, sql, n, params, out, err);

	if (result == RAP_OK && PQntuples(*out) == 0) {
		PQclear(*out);
		*out = NULL;
		result = RAP_ENOENT;
	}
	return result;
}

int rap_pg_begin(PGconn *db, char *err)
{
	return rap_pg_exec(db, "BEGIN", 0, NULL, NULL, err);
}

int rap_pg_commit(PGconn *db, char *err)
{
	return rap_pg_exec(db, "COMMIT", 0, NULL, NULL, err);
}

void rap_pg_rollback(PGconn *db)
{
	PQclear(PQexec(db, "ROLLBACK"));
}

/* True while the socket has something to read right now. */
static bool readable(PGconn *db)
{
	struct pollfd pfd = { .fd = PQsocket(db), .events = POLLIN };

	return pfd.fd >= 0 && poll(&pfd, 1, 0) == 1;
}

bool rap_pg_alive(PGconn *db)
{
	int rounds;

	/*
	 * A server that went away while the connection sat idle left its
	 * goodbye on the socket: a FATAL message, which libpq takes as a mere
	 * notice, and then end-of-file.  Read until nothing is pending, so that
	 * the end-of-file is seen too and marks the connection bad; a single
	 * read stops after the message and the next statement would fail.
	 */
	for (rounds = 0; rounds < 4 && PQstatus(db) == CONNECTION_OK && readable(db); rounds++)
		if (PQconsumeInput(db) != 1)
			break;
	if (PQstatus(db) == CONNECTION_OK && PQtransactionStatus(db) != PQTRANS_UNKNOWN)
		return true;
	PQreset(db);
	return PQstatus(db) == CONNECTION_OK;
}

int rap_pg_migrate(PGconn *db, const struct rap_migration *migrations, unsigned count, char *err)
{
	PGresult *res;
	long long current;
	int result;
	unsigned i;

	result = rap_pg_exec(db,
			     "CREATE TABLE IF NOT EXISTS schema_migrations ("
			     " version integer PRIMARY KEY, name text NOT NULL,"
			     " applied_at timestamptz NOT NULL DEFAULT now())",
			     0, NULL, NULL, err);
	if (result == RAP_ECONFLICT)
		result = RAP_OK; /* created concurrently by another service */
	if (result != RAP_OK)
		return result;
	result = rap_pg_exec(db, "SELECT pg_advisory_lock(7261001)", 0, NULL, NULL, err);
	if (result != RAP_OK)
		return result;
	result = rap_pg_exec(db, "SELECT coalesce(max(version), 0) FROM schema_migrations", 0, NULL,
			     &res, err);
	if (result != RAP_OK)
		goto out_unlock;
	result = rap_strtonum(PQgetvalue(res, 0, 0), 0, 1000000, &current);
	PQclear(res);
	if (result != RAP_OK)
		goto out_unlock;
	for (i = 0; i < count; i++) {
		const struct rap_migration *m = &migrations[i];
		char version[16];
		const char *params[2] = { version, m->name };

		if (m->version <= current)
			continue;
		snprintf(version, sizeof(version), "%d", m->version);
		result = rap_pg_begin(db, err);
		if (result != RAP_OK)
			goto out_unlock;
		res = PQexec(db, m->sql);
		if (PQresultStatus(res) != PGRES_COMMAND_OK &&
		    PQresultStatus(res) != PGRES_TUPLES_OK) {
			char msg[RAP_ERRLEN];

			copy_msg(msg, PQresultErrorMessage(res));
			snprintf(err, RAP_ERRLEN, "migration %.40s: %.200s", m->name, msg);
			PQclear(res);
			rap_pg_rollback(db);
			result = RAP_EDB;
			goto out_unlock;
		}
		PQclear(res);
		result = rap_pg_exec(
			db, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", 2,
			params, NULL, err);
		if (result == RAP_OK)
			result = rap_pg_commit(db, err);
		if (result != RAP_OK) {
			rap_pg_rollback(db);
			goto out_unlock;
		}
	}
out_unlock:
	PQclear(PQexec(db, "SELECT pg_advisory_unlock(7261001)"));
	return result;
}

struct pooled {
	PGconn *db;
	int64_t last_used_ms;
};

/* A caller waiting for a connection.  Waiters queue in arrival order and a
 * connection given back goes straight to the oldest: with one condition
 * variable for all, a thread that had just given one back took it again
 * first, and under load (32 HTTP threads, 10 connections) some requests
 * waited half a second (status path p99 107 ms, issue 12). */
struct pool_waiter {
	pthread_cond_t cond;
	struct pool_waiter *next;
	bool ready; /* handed a connection (db) or a slot to connect (db NULL) */
	struct pooled got;
};

struct rap_pg_pool {
	pthread_mutex_t lock;
	struct pool_waiter *head, *tail;
	char *url;
	char *setup; /* run on each new connection, or NULL */
	struct pooled *idle;
	unsigned n_idle;
	unsigned n_free; /* slots not yet connected */
};

struct rap_pg_pool *rap_pg_pool_new(const char *url, unsigned n)
{
	struct rap_pg_pool *pool = rap_calloc(1, sizeof(*pool));

	pthread_mutex_init(&pool->lock, NULL);
	pool->url = rap_strdup(url);
	pool->idle = rap_calloc(n, sizeof(*pool->idle));
	pool->n_free = n;
	return pool;
}

void rap_pg_pool_free(struct rap_pg_pool *pool)
{
	unsigned i;

	if (!pool)
		return;
	for (i = 0; i < pool->n_idle; i++)
		PQfinish(pool->idle[i].db);
	pthread_mutex_destroy(&pool->lock);
	free(pool->idle);
	free(pool->setup);
	free(pool->url);
	free(pool);
}

void rap_pg_pool_setup(struct rap_pg_pool *pool, const char *sql)
{
	free(pool->setup);
	pool->setup = sql ? rap_strdup(sql) : NULL;
}

/* A new connection of the pool, with its setup statement run. */
static int pool_connect(struct rap_pg_pool *pool, PGconn **out, char *err)
{
	int result = rap_pg_connect(pool->url, out, err);

	if (result != RAP_OK || !pool->setup)
		return result;
	result = rap_pg_exec(*out, pool->setup, 0, NULL, NULL, err);
	if (result != RAP_OK) {
		PQfinish(*out);
		*out = NULL;
	}
	return result;
}

static bool ping(PGconn *db)
{
	PGresult *res = PQexec(db, "SELECT 1");
	bool ok = PQresultStatus(res) == PGRES_TUPLES_OK;

	PQclear(res);
	return ok;
}

static void pool_release(struct rap_pg_pool *pool, PGconn *db);

/* Takes the oldest waiter off the queue; the lock is held. */
static struct pool_waiter *first_waiter(struct rap_pg_pool *pool)
{
	struct pool_waiter *w = pool->head;

	if (w) {
		pool->head = w->next;
		if (!pool->head)
			pool->tail = NULL;
	}
	return w;
}

/* Waits in the queue until handed a connection or a slot; false on
 * timeout.  The lock is held on entry and on return. */
static bool wait_turn(struct rap_pg_pool *pool, const struct timespec *deadline, struct pooled *got)
{
	struct pool_waiter w = { .next = NULL, .ready = false };
	struct pool_waiter **pp;

	pthread_cond_init(&w.cond, NULL);
	/* w is on the queue only while this function runs: a releaser takes
	 * it off, or it leaves below before returning. */
	if (pool->tail)
		pool->tail->next = &w;
	else
		pool->head = &w; /* cppcheck-suppress autoVariables */
	pool->tail = &w;         /* cppcheck-suppress autoVariables */
	while (!w.ready && pthread_cond_timedwait(&w.cond, &pool->lock, deadline) != ETIMEDOUT)
		;
	if (!w.ready) { /* still queued: leave the queue */
		struct pool_waiter *prev = NULL;

		for (pp = &pool->head; *pp != &w; prev = *pp, pp = &(*pp)->next)
			;
		*pp = w.next;
		if (pool->tail == &w)
			pool->tail = prev;
	}
	pthread_cond_destroy(&w.cond);
	*got = w.got;
	return w.ready;
}

int rap_pg_pool_get(struct rap_pg_pool *pool, int timeout_ms, PGconn **out, char *err)
{
	struct timespec deadline;
	struct pooled got = { NULL, 0 };
	int64_t idle_ms = 0;
	PGconn *db = NULL;
	int result;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&pool->lock);
	if (!pool->head && pool->n_idle > 0) {
		got = pool->idle[--pool->n_idle];
	} else if (!pool->head && pool->n_free > 0) {
		pool->n_free--;
	} else if (!wait_turn(pool, &deadline, &got)) {
		pthread_mutex_unlock(&pool->lock);
		snprintf(err, RAP_ERRLEN, "no database connection free");
		return RAP_ETIMEDOUT;
	}
	pthread_mutex_unlock(&pool->lock);
	db = got.db;
	if (db)
		idle_ms = rap_now_ms() - got.last_used_ms;
	/*
	 * A connection idle for a while is checked with a round trip: after a
	 * server restart its socket may still look healthy (the server's
	 * goodbye message is read as data), and the first real statement
	 * would fail.
	 */
	if (db && rap_pg_alive(db) && (idle_ms < 1000 || ping(db))) {
		*out = db;
		return RAP_OK;
	}
	if (db)
		PQfinish(db);
	result = pool_connect(pool, out, err);
	if (result != RAP_OK)
		pool_release(pool, NULL);
	return result;
}

/* Gives a connection (or, with NULL, its slot) to the oldest waiter, or
 * back to the pool. */
static void pool_release(struct rap_pg_pool *pool, PGconn *db)
{
	struct pool_waiter *w;

	pthread_mutex_lock(&pool->lock);
	w = first_waiter(pool);
	if (w) {
		w->got = (struct pooled){ db, rap_now_ms() };
		w->ready = true;
		pthread_cond_signal(&w->cond);
	} else if (db) {
		pool->idle[pool->n_idle].db = db;
		pool->idle[pool->n_idle++].last_used_ms = rap_now_ms();
	} else {
		pool->n_free++;
	}
	pthread_mutex_unlock(&pool->lock);
}

void rap_pg_pool_put(struct rap_pg_pool *pool, PGconn *db)
{
	if (PQstatus(db) != CONNECTION_OK || PQtransactionStatus(db) != PQTRANS_IDLE) {
		PQfinish(db);
		db = NULL;
	}
	pool_release(pool, db);
}

int rap_pg_one_text(PGconn *db, const char *sql, int n, const char *const *p, char **out, char *err)
{
	PGresult *res = NULL;
	int result = rap_pg_exec(db, sql, n, p, &res, err);

	return first_text(result, res, out);
}
