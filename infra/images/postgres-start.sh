#!/bin/bash
# The rap-postgres image's command (infra/images/postgres.Containerfile):
# makes the data folder at the first start (a superuser POSTGRES_USER with
# POSTGRES_PASSWORD, scram-sha-256 from other hosts, and the database
# POSTGRES_DB), then runs PostgreSQL in the foreground on every address.
set -euo pipefail

PGDATA=${PGDATA:-/var/lib/postgresql/data}
user=${POSTGRES_USER:-postgres}
db=${POSTGRES_DB:-$user}
: "${POSTGRES_PASSWORD:?rap-postgres-start: set POSTGRES_PASSWORD}"

if [[ ! -s $PGDATA/PG_VERSION ]]; then
	pwfile=$(mktemp)
	printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
	initdb -D "$PGDATA" -U "$user" --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
		--auth-local=trust --auth-host=scram-sha-256 >/dev/null
	rm -f "$pwfile"
	printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
	if [[ $db != postgres ]]; then
		printf 'CREATE DATABASE "%s";\n' "$db" |
			postgres --single -D "$PGDATA" -j postgres >/dev/null
	fi
	echo "rap-postgres-start: initialised $PGDATA (user $user, database $db)"
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/tmp
