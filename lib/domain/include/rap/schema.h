#ifndef RAP_SCHEMA_H
#define RAP_SCHEMA_H

#include "rap/pg.h"

/*
 * The platform's database schema: the SQL files of db/migrations/, compiled
 * into the library in version order, so every service applies the same
 * versions without a path to configure.
 */
extern const struct rap_migration rap_schema_migrations[];
extern const unsigned rap_schema_migrations_count;

/** Brings the database up to the newest migration (rap_pg_migrate). */
int rap_schema_migrate(PGconn *db, char *err);

#endif
