#!/usr/bin/env bash
# The cost of the shared rate limit on status reads (issue 16, point 5): GET
# /jobs/{id} straight to job-api, with RAP_JOB_STATUS_RATE off and on, in the
# same run. On a running stack (scripts/up; RAP_PG_PORT and RAP_AMQP_PORT
# as it has them), three job-apis of the bench's own on free ports:
#   off     RAP_JOB_STATUS_RATE=0: no limit;
#   on      a limit the load never reaches (100,000/s, bursts of 200,000):
#           reservations of 5,000 tokens, a round trip to PostgreSQL for
#           every 5,000 reads;
#   small   reservations of 4 (bursts of 40): a round trip every 4 reads,
#           the limit's worst case short of refusing.
# Each is read by wrk (CONNS connections, SECS seconds), one after the
# other, RUNS rounds; the job read does not exist (a 404 after the same
# owner-scoped lookup as a found one), so nothing but job-api and
# PostgreSQL is measured. Prints one JSON line per run and a table.
# Usage: bench/keylimit.sh        CONNS=32 SECS=10 RUNS=3 bench/keylimit.sh
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
conns=${CONNS:-32}
secs=${SECS:-10}
runs=${RUNS:-1}
build=${RAP_BUILD_DIR:-$repo/build}
pg_url=postgresql://postgres@127.0.0.1:${RAP_PG_PORT:-5439}/rap
amqp_url=amqp://rap:rap@127.0.0.1:${RAP_AMQP_PORT:-5679}/
key=bench-key-$RANDOM$RANDOM
job=00000000-0000-4000-8000-000000000000

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pids=()
out=$(mktemp)
lua=$(mktemp --suffix=.lua)
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -f "$out" "$lua"
}
trap cleanup EXIT

# Starts a job-api with that limit; its port goes to the variable named
# first (no command substitution: the pid must reach the cleanup).
start() { # var rate burst
	local port
	port=$(free_port)
	RAP_PG_URL=$pg_url RAP_AMQP_URL=$amqp_url RAP_JOB_PORT=$port RAP_JOB_ADMIN_PORT=0 \
		RAP_API_KEYS="$key=bench" RAP_LOG_LEVEL=warn RAP_JOB_STATUS_RATE=$2 \
		RAP_JOB_STATUS_BURST=$3 "$build/rap-job-api" >/dev/null 2>&1 &
	pids+=($!)
	for ((i = 0; i < 100; i++)); do
		curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
		sleep 0.1
	done
	printf -v "$1" '%s' "$port"
}
off='' on='' small=''
start off 0 1
start on 100000 200000
start small 1000000 40

cat >"$lua" <<'LUA'
wrk.headers["Authorization"] = "Bearer " .. os.getenv("RAP_BENCH_KEY_")
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format('{"requests":%d,"per_s":%.0f,"errors":%d,"non_2xx":%d,"p50_ms":%.2f,"p99_ms":%.2f}\n',
    summary.requests, summary.requests / (summary.duration / 1e6), errors, summary.errors.status,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
LUA
http() { # what port
	local line
	line=$(RAP_BENCH_KEY_=$key wrk -t2 -c"$conns" -d"${secs}s" -s "$lua" "http://127.0.0.1:$2/jobs/$job" | tail -1)
	jq -c --arg what "$1" --argjson conns "$conns" '{what: $what, conns: $conns} + .' <<<"$line"
}
for ((r = 1; r <= runs; r++)); do
	echo "bench: round $r of $runs" >&2
	http off "$off" | tee -a "$out"
	http on "$on" | tee -a "$out"
	http small "$small" | tee -a "$out"
done
jq -rs '
  def med: sort | .[(length / 2 | floor)];
  (map(select(.what == "off") | .per_s) | med) as $off
  | "\n| limit | requests/s | vs off | p50 ms | p99 ms | errors |",
    "|---|---|---|---|---|---|",
    (["off", "on", "small"][] as $w | map(select(.what == $w)) as $rows
     | ($rows | map(.per_s) | med) as $s
     | "| \($w) | \($s) | \($s / $off * 100 | round / 100)x | \($rows | map(.p50_ms) | med) | \($rows | map(.p99_ms) | med) | \($rows | map(.errors) | add) |")
' "$out"
