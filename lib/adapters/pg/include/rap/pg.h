#ifndef RAP_PG_H
#define RAP_PG_H

#include <libpq-fe.h>
#include <stdbool.h>

/*
 * PostgreSQL helpers: connecting, running parameterised statements with one
 * error convention, applying versioned migrations, and a small blocking
 * connection pool for multi-threaded services.
 */

/** One migration: its version, a name for messages, and its SQL. */
struct rap_migration {
	int version;
	const char *name;
	const char *sql;
};

/** Connects; RAP_EDB with the server's message in err on failure. */
int rap_pg_connect(const char *url, PGconn **out, char *err);

/**
 * Runs sql with n text parameters (NULL entries are SQL NULL).  On success
 * *out (if not NULL) holds the result, which the caller PQclear()s.
 * Errors: RAP_ETRANSITION for a refused job state change (SQLSTATE RAP01),
 * RAP_ECONFLICT for a unique violation, RAP_EDB otherwise (message in err).
 */
int rap_pg_exec(PGconn *db, const char *sql, int n, const char *const *params, PGresult **out,
		char *err);

/**
 * rap_pg_exec through a prepared statement of that name, prepared on the
 * connection at its first use (parsed and planned once, not on every call:
 * the hot statements of job creation, the relay, the worker and the status
 * path).  Works inside a transaction too: which connection prepared what is
 * remembered, so nothing is tried that could fail and abort it.  Each name
 * (under 40 characters) must always be given the same sql.
 */
int rap_pg_exec_prepared(PGconn *db, const char *name, const char *sql, int n,
			 const char *const *params, PGresult **out, char *err);
/** Prepares name (as rap_pg_exec_prepared would) unless the connection
 *  has it already: for statements sent in pipeline mode. */
int rap_pg_prepare(PGconn *db, const char *name, const char *sql, int n, char *err);
/**
 * rap_pg_exec_prepared with a simple command sent before it, after it, or
 * both (BEGIN, COMMIT: NULL for none), all in one pipeline: one round
 * trip instead of two or three.  The statement's result goes to out; the
 * first of the three that failed is the error (a command after a failed
 * statement is not run, and the transaction is left aborted, for the
 * caller's rollback).
 */
int rap_pg_exec_prepared_with(PGconn *db, const char *before, const char *name, const char *sql,
			      int n, const char *const *params, const char *after, PGresult **out,
			      char *err);
/** rap_pg_one_text through rap_pg_exec_prepared. */
int rap_pg_one_text_prepared(PGconn *db, const char *name, const char *sql, int n,
			     const char *const *params, char **out, char *err);

/** rap_pg_exec for a query that yields at most one row of interest:
 *  RAP_ENOENT (and *out NULL) when it yields none. */
int rap_pg_one(PGconn *db, const char *sql, int n, const char *const *params, PGresult **out,
	       char *err);

/** BEGIN / COMMIT / ROLLBACK (rollback never fails loudly). */
int rap_pg_begin(PGconn *db, char *err);
int rap_pg_commit(PGconn *db, char *err);
void rap_pg_rollback(PGconn *db);

/** rap_pg_one for a query whose one cell of interest is text: *out gets a
 *  copy (caller frees). */
int rap_pg_one_text(PGconn *db, const char *sql, int n, const char *const *params, char **out,
		    char *err);

/** True when the connection is usable (resets it once if it is not). */
bool rap_pg_alive(PGconn *db);

/**
 * Applies every migration of the table (count of them, in version order)
 * newer than the database's version, each in its own transaction, under an
 * advisory lock so services starting together apply them once.  err says
 * which migration failed.
 */
int rap_pg_migrate(PGconn *db, const struct rap_migration *migrations, unsigned count, char *err);

struct rap_pg_pool;

/** Opens a pool of n connections lazily (the first get connects). */
struct rap_pg_pool *rap_pg_pool_new(const char *url, unsigned n);
void rap_pg_pool_free(struct rap_pg_pool *pool);
/** Runs sql (a SET, say) on each connection the pool opens from now on;
 *  a connection on which it fails is closed and the get fails. */
void rap_pg_pool_setup(struct rap_pg_pool *pool, const char *sql);
/** Takes a live connection, waiting up to timeout_ms; RAP_ETIMEDOUT or
 *  RAP_EDB (message in err) when none can be had. */
int rap_pg_pool_get(struct rap_pg_pool *pool, int timeout_ms, PGconn **out, char *err);
/** Returns a connection; a broken one is closed and reopened later. */
void rap_pg_pool_put(struct rap_pg_pool *pool, PGconn *db);

#endif
