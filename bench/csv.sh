#!/usr/bin/env bash
# Benchmark of csv.validate as a user gets it (issue 11 point 8): one CSV of
# SIZE_MIB (default 1024) made by build/rap-bench-csv --generate (quoted
# fields, doubled quotes, a bad row in 1000), uploaded once, then in turn:
#   direct GET  the object straight from the S3 server (curl, SigV4): the
#               physical limit of any job that reads it;
#   direct PUT  the file to the S3 server as a multipart upload of 32 MiB
#               parts (build/rap-bench-s3): the limit of a job that writes
#               as much back (valid.csv is nearly the whole input);
#   platform    a csv.validate job through the gateway on the running stack
#               with its defaults: the worker streams the object from S3
#               into its sandboxed rap-processor child, which checks every
#               row, writes valid.csv back to S3 and sends row errors; the
#               time is the job's (started_at to finished_at), the child's
#               CPU and peak RSS come from the worker's log; once more
#               with "output": false (no valid.csv written: the read path);
#   local       build/rap-bench-csv on the local file: csv.validate's code
#               alone, no S3, no sandbox;
#   pandas      bench/csv_pandas.py, read_csv(chunksize=200000) with the same
#               checks on the local file, valid rows written to /dev/null
#               (Debian's python3-pandas): the yardstick.
# each without a schema (structure only) and with the schema below. RUNS
# rounds (default 1) run everything in turn; the table shows medians.
# Needs a running stack (scripts/up, or RAP_* ports and RAP_STATE_DIR of
# another), python3-pandas (installed when missing, as root), free disk for
# the file and three times its size in the S3 server's storage.
# Usage: bench/csv.sh [SIZE_MIB]     RUNS=3 bench/csv.sh 1024
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
size_mib=${1:-1024}
runs=${RUNS:-1}
state=${RAP_STATE_DIR:-$repo/.state}
build=${RAP_BUILD_DIR:-$repo/build}
gateway=http://127.0.0.1:${RAP_GATEWAY_PORT:-8080}
s3=http://127.0.0.1:${RAP_S3_PORT:-9100}
bucket=${RAP_S3_BUCKET:-rap-data}
key=${RAP_BENCH_KEY:-dev-key}
# shellcheck disable=SC2089 # JSON text, passed whole as one argument
schema='{"columns":[{"name":"id","type":"integer","required":true,"unique":true},{"name":"name","required":true,"max":64},{"name":"email","type":"email"},{"name":"amount","type":"decimal","min":0},{"name":"day","type":"date"},{"name":"active","type":"boolean"}]}'

if ! /usr/bin/python3 -c 'import pandas' 2>/dev/null; then
	echo "bench: installing python3-pandas (the yardstick)" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-pandas >/dev/null
fi
work=$(mktemp -d "${RAP_BENCH_DIR:-/tmp}/rap-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

s3curl() { curl -sS --fail --aws-sigv4 "aws:amz:us-east-1:s3" -u S3RVER:S3RVER \
	-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$@"; }
api() { curl -sS --fail-with-body -H "Authorization: Bearer $key" "$@"; }
jq_() { jq -r "$@"; }
median() { sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
secs_between() { # two ISO 8601 times
	echo "$(date -d "$2" +%s.%N) - $(date -d "$1" +%s.%N)" | bc -l
}

file=$work/bench.csv
rows=$((size_mib * 1024 * 1024 / 71))
echo "bench: generating about $size_mib MiB ($rows rows)" >&2
"$build/rap-bench-csv" --generate "$rows" >"$file"
bytes=$(stat -c %s "$file")
mib=$(echo "$bytes / 1048576" | bc -l)
echo "bench: uploading $(printf %.0f "$mib") MiB" >&2
object=$(api -F job_type=csv.validate -F "file=@$file;type=text/csv" "$gateway/api/uploads" |
	jq_ .object_key)

# One csv.validate job on the object; prints "seconds cpu_s rss_mib rows".
platform() { # params
	local job status out cpu rss
	job=$(api -H 'Content-Type: application/json' \
		-d "{\"object_key\":\"$object\",\"type\":\"csv.validate\",\"params\":$1}" \
		"$gateway/api/jobs" | jq_ .job_id)
	while :; do
		out=$(api "$gateway/api/jobs/$job")
		status=$(jq_ .status <<<"$out")
		case $status in COMPLETED) break ;; FAILED | DEAD | CANCELLED)
			echo "bench: job $job $status: $(jq_ .error <<<"$out")" >&2
			exit 1
			;;
		esac
		sleep 0.5
	done
	read -r cpu rss < <(grep -h "\"job_id\":\"$job\"" "$state"/logs/worker*.log |
		sed -n 's/.*rap-processor used \([0-9.]*\) s of CPU, at most \([0-9.]*\) MiB.*/\1 \2/p' |
		tail -1)
	echo "$(secs_between "$(jq_ .started_at <<<"$out")" "$(jq_ .finished_at <<<"$out")") \
${cpu:-?} ${rss:-?} $(jq_ .result.rows_processed <<<"$out")"
}

declare -A t
for ((r = 1; r <= runs; r++)); do
	echo "bench: round $r of $runs" >&2
	s=$(date +%s.%N)
	s3curl -o /dev/null "$s3/$bucket/$object"
	t[get]+="$(echo "$(date +%s.%N) - $s" | bc -l) "
	RAP_S3_ENDPOINT=$s3 RAP_S3_BUCKET=$bucket "$build/rap-bench-s3" "$file" "bench/csv-put-$$.csv" \
		$((32 << 20)) >"$work/put.out"
	s3curl -X DELETE -o /dev/null "$s3/$bucket/bench/csv-put-$$.csv" || true
	t[put]+="$(sed -n 's/.*total_s=\([0-9.]*\).*/\1/p' "$work/put.out") "
	t[put_complete]+="$(sed -n 's/.*complete_s=\([0-9.]*\).*/\1/p' "$work/put.out") "
	for mode in plain schema; do
		params='{}'
		[[ $mode == schema ]] && params=$schema
		read -r secs cpu rss n < <(platform "$params")
		t[platform_$mode]+="$secs "
		t[platform_${mode}_cpu]+="$cpu "
		t[platform_${mode}_rss]+="$rss "
		read -r secs cpu rss n < <(platform "$(jq -c '. + {output: false}' <<<"$params")")
		t[nooutput_$mode]+="$secs "
		t[nooutput_${mode}_rss]+="$rss "
		local_args=("$file")
		[[ $mode == schema ]] && local_args+=("$schema")
		line=$("$build/rap-bench-csv" "${local_args[@]}" | head -1)
		t[local_$mode]+="$(sed -n 's/.* in \([0-9.]*\) s:.*/\1/p' <<<"$line") "
		t[local_${mode}_rss]+="$(sed -n 's/.*max RSS \([0-9.]*\) MiB.*/\1/p' <<<"$line") "
		pandas_args=("$file")
		[[ $mode == schema ]] && pandas_args+=(--schema)
		out=$(/usr/bin/python3 "$repo/bench/csv_pandas.py" "${pandas_args[@]}")
		t[pandas_$mode]+="$(jq_ .seconds <<<"$out") "
		t[pandas_${mode}_rss]+="$(jq_ .max_rss_mib <<<"$out") "
		[[ $(jq_ .rows <<<"$out") == "$n" ]] || echo "bench: pandas read $(jq_ .rows <<<"$out") rows, csv.validate $n" >&2
	done
done
s3curl -X DELETE -o /dev/null "$s3/$bucket/$object" || true

med() { tr ' ' '\n' <<<"${t[$1]}" | grep . | median; }
rate() { printf '%.1f' "$(echo "$mib / $1" | bc -l)"; }
get=$(med get)
printf '\n%s MiB, %s rows, median of %s\n\n' "$(printf %.0f "$mib")" "$rows" "$runs"
printf '| what | s | MiB/s | rows/s | vs pandas | vs direct GET | peak RSS MiB |\n|---|---|---|---|---|---|---|\n'
printf '| direct GET from S3 | %.2f | %s | - | - | 100%% | - |\n' "$get" "$(rate "$get")"
put=$(med put)
printf '| direct multipart PUT to S3, 32 MiB parts (of it, Complete %.2f s) | %.2f | %s | - | - | %.0f%% | - |\n' \
	"$(med put_complete)" "$put" "$(rate "$put")" "$(echo "100 * $get / $put" | bc -l)"
for mode in plain schema; do
	pd=$(med "pandas_$mode")
	for who in platform nooutput local pandas; do
		v=$(med "${who}_$mode")
		label=$who
		[[ $who == nooutput ]] && label='platform, "output": false'
		printf '| %s, %s | %.2f | %s | %.0f | %.1fx | %.0f%% | %s |\n' "$label" \
			"$([[ $mode == plain ]] && echo 'no schema' || echo 'schema')" "$v" "$(rate "$v")" \
			"$(echo "$rows / $v" | bc -l)" "$(echo "$pd / $v" | bc -l)" \
			"$(echo "100 * $get / $v" | bc -l)" "$(med "${who}_${mode}_rss")"
	done
done
printf '\nplatform child CPU: %s s (no schema), %s s (schema)\n' \
	"$(med platform_plain_cpu)" "$(med platform_schema_cpu)"
