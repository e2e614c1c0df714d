#!/usr/bin/env bash
# The status path beside its yardstick in the same run (issue 12, point 2).
# On a running stack (scripts/up, its defaults):
#   pgbench     pgbench -S -M prepared (select-only, prepared statements) on
#               the stack's own PostgreSQL, in a database of its own
#               (rap_pgbench, scale 10): what the database offers;
#   direct      GET /jobs/{id} straight to job-api, wrk (Debian's, installed
#               when missing, as root), keep-alive connections;
#   gateway     the same through nginx, GET /api/jobs/{id}.
# Each with CONNS connections (default 32) for SECONDS (default 15), one
# after the other; the job read is a COMPLETED no-op job with its events.
# Prints one JSON line per run, then a table of ratios.
# Usage: bench/status.sh           CONNS=32 SECS=15 RUNS=3 bench/status.sh
set -euo pipefail

conns=${CONNS:-32}
secs=${SECS:-15}
runs=${RUNS:-1}
pg_port=${RAP_PG_PORT:-5439}
job_url=http://127.0.0.1:${RAP_JOB_API_PORT:-8102}
gateway=http://127.0.0.1:${RAP_GATEWAY_PORT:-8080}
upload_url=http://127.0.0.1:${RAP_UPLOAD_API_PORT:-8101}
key=${RAP_BENCH_KEY:-dev-key}
db=rap_pgbench

if ! command -v wrk >/dev/null; then
	echo "bench: installing wrk (the HTTP load generator)" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null
fi
psql_() { psql -h 127.0.0.1 -p "$pg_port" -U postgres -At "$@"; }
if [[ -z $(psql_ -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$db'") ]]; then
	psql_ -d postgres -c "CREATE DATABASE $db" >/dev/null
	pgbench -h 127.0.0.1 -p "$pg_port" -U postgres -i -s 10 -q "$db" >/dev/null 2>&1
fi

# One finished job to read.
object=$(curl -fsS -H "Authorization: Bearer $key" -F file=@/dev/null\;filename=status.txt \
	"$upload_url/uploads" | jq -r .object_key)
job=$(curl -fsS -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
	-d "{\"object_key\":\"$object\",\"type\":\"noop\"}" "$job_url/jobs" | jq -r .job_id)
for ((i = 0; i < 300; i++)); do
	[[ $(curl -fsS -H "Authorization: Bearer $key" "$job_url/jobs/$job" | jq -r .status) == COMPLETED ]] && break
	sleep 0.1
done

# wrk's summary as JSON: requests/s and the latency percentiles, in ms.
lua=$(mktemp --suffix=.lua)
out=$(mktemp)
trap 'rm -f "$lua" "$out"' EXIT
cat >"$lua" <<'EOF'
wrk.headers["Authorization"] = "Bearer " .. os.getenv("RAP_BENCH_KEY_")
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format('{"requests":%d,"per_s":%.0f,"errors":%d,"p50_ms":%.2f,"p99_ms":%.2f,"max_ms":%.2f}\n',
    summary.requests, summary.requests / (summary.duration / 1e6), errors,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
EOF
http() { # what url
	local line
	line=$(RAP_BENCH_KEY_=$key wrk -t2 -c"$conns" -d"${secs}s" -s "$lua" "$2" | tail -1)
	jq -c --arg what "$1" --argjson conns "$conns" '{what: $what, conns: $conns} + .' <<<"$line"
}
for ((r = 1; r <= runs; r++)); do
	echo "bench: round $r of $runs" >&2
	pgbench -h 127.0.0.1 -p "$pg_port" -U postgres -S -M prepared -c "$conns" -j 2 -T "$secs" \
		"$db" 2>/dev/null |
		awk -v c="$conns" '/latency average/ {lat=$4} /^tps/ {tps=$3}
			END {printf "{\"what\":\"pgbench\",\"conns\":%d,\"per_s\":%.0f,\"avg_ms\":%s}\n", c, tps, lat}' |
		tee -a "$out"
	http direct "$job_url/jobs/$job" | tee -a "$out"
	http gateway "$gateway/api/jobs/$job" | tee -a "$out"
done

jq -rs '
  def med: sort | .[(length / 2 | floor)];
  (map(select(.what == "pgbench") | .per_s) | med) as $pg
  | "\n| what | requests/s | vs pgbench -S | p50 ms | p99 ms | errors |",
    "|---|---|---|---|---|---|",
    "| pgbench -S -M prepared | \($pg) | 1.00x | | | |",
    (["direct", "gateway"][] as $w | map(select(.what == $w)) as $rows
     | ($rows | map(.per_s) | med) as $s
     | "| GET /jobs/{id}, \($w) | \($s) | \($s / $pg * 100 | round / 100)x | \($rows | map(.p50_ms) | med) | \($rows | map(.p99_ms) | med) | \($rows | map(.errors) | add) |")
' "$out"
