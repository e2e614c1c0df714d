/* schema.c: the platform's database schema, db/migrations/ compiled in
 * (cmake/embed_migrations.cmake writes the table). */
#include "rap/schema.h"

int rap_schema_migrate(PGconn *db, char *err)
{
	return rap_pg_migrate(db, rap_schema_migrations, rap_schema_migrations_count, err);
}
