#!/usr/bin/env bash
# Quick jobs as a user gets them, beside Celery in the same run (issue 12,
# point 1).  On a running stack (scripts/up, its defaults):
#   celery        bench/celery_noop.py: Debian's python3-celery (installed
#                 when missing, as root) on the stack's own RabbitMQ (a vhost
#                 of its own, rap-celery-bench) with acks_late, prefork 2 and
#                 the default prefetch; once without a result backend, once
#                 with its PostgreSQL one (a database of its own on the
#                 stack's PostgreSQL, fsync on as for the platform);
#   platform      bench/jobs.mjs: durable no-op jobs, one POST /jobs per job
#                 (32 clients), then POST /jobs/batch of 100 (4 clients), then
#                 the enqueue-to-start latency of one job at a time;
#   broker        bench/amqp_latency.py: RabbitMQ alone, a persistent
#                 message published to a quorum queue (what the platform's
#                 work queues are) and to a classic one (Celery's), until a
#                 consumer in another process has it: the floor under the
#                 enqueue-to-start latency of each.
# Prints one JSON line per run, then a table of ratios.  RUNS rounds
# (default 1); JOBS jobs per throughput run (default 5000).
# Usage: bench/quick.sh           RUNS=3 JOBS=10000 bench/quick.sh
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=${RUNS:-1}
jobs=${JOBS:-5000}
samples=${SAMPLES:-200}
amqp_port=${RAP_AMQP_PORT:-5679}
mgmt=http://127.0.0.1:${RAP_AMQP_MGMT_PORT:-15679}/api
pg_port=${RAP_PG_PORT:-5439}
vhost=rap-celery-bench
db=rap_celery_bench

if ! /usr/bin/python3 -c 'import celery, sqlalchemy, psycopg2' 2>/dev/null; then
	echo "bench: installing python3-celery, python3-sqlalchemy, python3-psycopg2 (the yardstick)" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-celery python3-sqlalchemy \
		python3-psycopg2 >/dev/null
fi
curl -fsS -u rap:rap -X PUT "$mgmt/vhosts/$vhost" >/dev/null
curl -fsS -u rap:rap -X PUT -H 'content-type: application/json' \
	-d '{"configure":".*","write":".*","read":".*"}' "$mgmt/permissions/$vhost/rap" >/dev/null
psql_() { psql -h 127.0.0.1 -p "$pg_port" -U postgres -At "$@"; }
psql_ -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null
psql_ -d postgres -c "CREATE DATABASE $db" >/dev/null
broker="amqp://rap:rap@127.0.0.1:$amqp_port/$vhost"
backend="db+postgresql://postgres@127.0.0.1:$pg_port/$db"

out=$(mktemp)
trap 'rm -f "$out"; curl -fsS -u rap:rap -X DELETE "$mgmt/vhosts/$vhost" >/dev/null || true' EXIT
for ((r = 1; r <= runs; r++)); do
	echo "bench: round $r of $runs" >&2
	/usr/bin/python3 "$repo/bench/celery_noop.py" --broker "$broker" --jobs "$jobs" \
		--samples "$samples" | tee -a "$out"
	/usr/bin/python3 "$repo/bench/celery_noop.py" --broker "$broker" --backend "$backend" \
		--jobs "$jobs" --samples "$samples" | tee -a "$out"
	node "$repo/bench/jobs.mjs" "$jobs" 32 0 1 | tee -a "$out"
	node "$repo/bench/jobs.mjs" $((jobs * 4)) 4 0 100 | tee -a "$out"
	node "$repo/bench/jobs.mjs" 100 1 "$samples" 1 | tee -a "$out"
	/usr/bin/python3 "$repo/bench/amqp_latency.py" --url "amqp://rap:rap@127.0.0.1:$amqp_port/" \
		--samples "$samples" | tee -a "$out"
done

# Medians of each kind of run, and the platform's against Celery's.
jq -rs '
  def med: sort | .[(length / 2 | floor)];
  def rows(f): map(select(f));
  (rows(.what == "celery" and .backend == "none")) as $cn
  | (rows(.what == "celery" and .backend == "postgresql")) as $cp
  | (rows(.what == "platform" and .batch == 1 and .enqueue_to_start_ms == null)) as $p1
  | (rows(.what == "platform" and .batch > 1)) as $pb
  | (rows(.what == "platform" and .enqueue_to_start_ms != null)) as $pl
  | (rows(.what == "amqp_publish_to_consume_ms")) as $br
  | ($cn | map(.end_to_end_per_s) | med) as $cn_s
  | ($cp | map(.end_to_end_per_s) | med) as $cp_s
  | ($p1 | map(.end_to_end_per_s) | med) as $p1_s
  | ($pb | map(.end_to_end_per_s) | med) as $pb_s
  | "\n| what | jobs/s end to end | vs Celery, no backend | vs Celery, PostgreSQL backend | enqueue-to-start p50 ms | p99 ms |",
    "|---|---|---|---|---|---|",
    "| Celery, no result backend | \($cn_s) | 1.00x | | \($cn | map(.enqueue_to_start_ms.p50) | med) | \($cn | map(.enqueue_to_start_ms.p99) | med) |",
    "| Celery, PostgreSQL result backend | \($cp_s) | | 1.00x | \($cp | map(.enqueue_to_start_ms.p50) | med) | \($cp | map(.enqueue_to_start_ms.p99) | med) |",
    "| platform, one POST /jobs per job | \($p1_s) | \($p1_s / $cn_s * 100 | round / 100)x | \($p1_s / $cp_s * 100 | round / 100)x | | |",
    "| platform, POST /jobs/batch of 100 | \($pb_s) | \($pb_s / $cn_s * 100 | round / 100)x | \($pb_s / $cp_s * 100 | round / 100)x | | |",
    "| platform, one job at a time | | | | \($pl | map(.enqueue_to_start_ms.p50 | tonumber) | med) | \($pl | map(.enqueue_to_start_ms.p99 | tonumber) | med) |",
    "| RabbitMQ alone, publish to consume, quorum queue | | | | \($br | map(.quorum.p50) | med) | \($br | map(.quorum.p99) | med) |",
    "| RabbitMQ alone, publish to consume, classic queue | | | | \($br | map(.classic.p50) | med) | \($br | map(.classic.p99) | med) |"
' "$out"
