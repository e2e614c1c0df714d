#!/usr/bin/env bash
# Benchmark of the upload paths: one random file of SIZE_MIB sent
#   streaming   multipart/form-data POST /api/uploads through the gateway;
#   tus         POST /api/files/ then PATCHes of CHUNK_MIB (default: the
#               whole file in one PATCH, as tus-js-client does by default)
#               through the gateway;
#   cli         `rap upload` (tus, its default 64 MiB PATCHes with
#               checksums) through the gateway, when build/rap exists;
#   direct PUT  one PUT of the same file to the same S3 server (curl,
#               SigV4): the yardstick;
#   direct multipart
#               the same file as a multipart upload straight to S3 by the
#               platform's own S3 client (build/rap-bench-s3: parts one
#               after the other, then CompleteMultipartUpload): what the
#               multipart API costs on this server, without upload-api.
# RUNS rounds (default 1) run the paths in turn, so that a noisy machine
# slows every path alike; the table shows the median time of each path.
# For the paths through upload-api it reports upload-api's peak RSS (VmHWM,
# reset before each run through /proc/PID/clear_refs) and checks the sha256
# upload-api computed against the file's; for every path the CPU seconds
# that s3rver, upload-api and nginx spent on it. Objects are deleted after
# each run.
# Needs a running stack (scripts/up, or the RAP_* ports and RAP_STATE_DIR of
# another one), root (clear_refs of another user's process), and free disk
# for the file plus twice its size in s3rver's storage.
# Usage: bench/upload.sh [SIZE_MIB [CHUNK_MIB]]   (default 1024, whole file)
#        RUNS=3 bench/upload.sh 1024     PATHS='cli put' bench/upload.sh 10240
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
size_mib=${1:-1024}
chunk_mib=${2:-0}
runs=${RUNS:-1}
state=${RAP_STATE_DIR:-$repo/.state}
build=${RAP_BUILD_DIR:-$repo/build}
gateway=http://127.0.0.1:${RAP_GATEWAY_PORT:-8080}
s3=http://127.0.0.1:${RAP_S3_PORT:-9100}
bucket=${RAP_S3_BUCKET:-rap-data}
key=${RAP_BENCH_KEY:-dev-key}
part=${RAP_UPLOAD_PART_SIZE:-8388608}
work=$(mktemp -d "${RAP_BENCH_DIR:-/tmp}/rap-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

upload_pid() { cat "$state/run/upload-api.child.pid"; }
reset_peak() { echo 5 >"/proc/$(upload_pid)/clear_refs"; }
peak_kib() { awk '/VmHWM/ {print $2}' "/proc/$(upload_pid)/status"; }
now() { date +%s.%N; }
s3curl() { curl -sS --fail --aws-sigv4 "aws:amz:us-east-1:s3" -u S3RVER:S3RVER \
	-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$@"; }
# Bytes [offset, offset + n) of the file to stdout, without a copy on disk.
range() { dd if="$file" bs=1M iflag=skip_bytes,count_bytes skip="$1" count="$2" status=none; }
json_field() { sed -n "s/.*\"$1\" *: *\"\\{0,1\\}\\([^\",}]*\\).*/\\1/p"; }

# CPU ticks (user + system) of the processes named: s3rver, upload-api, nginx.
pids_of() {
	case $1 in
	s3rver) cat "$state/run/s3rver.pid" ;;
	upload-api) upload_pid ;;
	nginx) pgrep -f 'nginx: worker' | tr '\n' ' ' ;;
	esac
}
ticks() {
	local t=0 p f
	for p in $(pids_of "$1"); do
		read -r -a f <"/proc/$p/stat"
		t=$((t + f[13] + f[14]))
	done
	echo "$t"
}
hz=$(getconf CLK_TCK)

file=$work/payload.bin
total=$((size_mib * 1024 * 1024))
echo "bench: writing $size_mib MiB of random bytes" >&2
head -c "$total" /dev/urandom >"$file"
want=$(sha256sum "$file" | cut -d' ' -f1)
idle=$(awk '/VmRSS/ {print $2}' "/proc/$(upload_pid)/status")

check_sha() { # path, upload json
	[[ $(json_field sha256 <<<"$2") == "$want" ]] || { echo "$1: sha256 mismatch: $2" >&2; exit 1; }
	s3curl -X DELETE -o /dev/null "$s3/$bucket/$(json_field object_key <<<"$2")"
}

run_streaming() {
	local out
	out=$(curl -sS --fail-with-body -H "Authorization: Bearer $key" -F "file=@$file" "$gateway/api/uploads")
	check_sha streaming "$out"
}

run_tus() {
	local loc out step offset=0 n
	loc=$(curl -sS --fail -D - -o /dev/null -X POST -H 'Tus-Resumable: 1.0.0' \
		-H "Authorization: Bearer $key" -H "Upload-Length: $total" \
		"$gateway/api/files/" | tr -d '\r' | awk 'tolower($1) == "location:" {print $2}')
	step=$((chunk_mib > 0 ? chunk_mib * 1024 * 1024 : total))
	while ((offset < total)); do
		n=$((total - offset < step ? total - offset : step))
		range "$offset" "$n" |
			curl -sS --fail -o /dev/null -X PATCH -H 'Tus-Resumable: 1.0.0' \
				-H "Authorization: Bearer $key" -H 'Content-Type: application/offset+octet-stream' \
				-H "Upload-Offset: $offset" -H "Content-Length: $n" -H 'Expect:' -H 'Transfer-Encoding:' \
				-T - "$gateway$loc"
		offset=$((offset + n))
	done
	out=$(curl -sS --fail -H "Authorization: Bearer $key" "$gateway/api/uploads/${loc##*/}")
	check_sha tus "$out"
}

run_cli() {
	local out id
	out=$("$build/rap" --url "$gateway" --api-key "$key" --quiet --json --state-dir "$work/cli" \
		upload "$file" --type noop 2>"$work/cli.err") || { cat "$work/cli.err" >&2; exit 1; }
	id=$(json_field upload_id <<<"$out")
	check_sha cli "$(curl -sS --fail -H "Authorization: Bearer $key" "$gateway/api/uploads/$id")"
}

run_put() {
	s3curl -o /dev/null -X PUT -T "$file" "$s3/$bucket/bench/direct-$$.bin"
	s3curl -X DELETE -o /dev/null "$s3/$bucket/bench/direct-$$.bin"
}

run_multipart() {
	RAP_S3_ENDPOINT=$s3 RAP_S3_BUCKET=$bucket "$build/rap-bench-s3" "$file" "bench/multipart-$$.bin" \
		"$part" >"$work/multipart.out"
	s3curl -X DELETE -o /dev/null "$s3/$bucket/bench/multipart-$$.bin"
}

paths=(streaming tus)
[[ -x $build/rap ]] && paths+=(cli)
paths+=(put multipart)
# PATHS="cli put" runs only those (the direct PUT is the yardstick: keep it).
[[ -n ${PATHS:-} ]] && read -ra paths <<<"$PATHS"
[[ " ${paths[*]} " == *" put "* ]] || { echo "bench: PATHS must include put, the yardstick" >&2; exit 2; }
declare -A secs peak cpu_s3 cpu_api cpu_nginx complete
for ((r = 1; r <= runs; r++)); do
	for p in "${paths[@]}"; do
		echo "bench: round $r: $p" >&2
		reset_peak
		a=$(ticks s3rver) b=$(ticks upload-api) c=$(ticks nginx) t0=$(now)
		"run_$p"
		t1=$(now)
		secs[$p]+="$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}') "
		peak[$p]=$(($(peak_kib) > ${peak[$p]:-0} ? $(peak_kib) : ${peak[$p]:-0}))
		cpu_s3[$p]+="$(( $(ticks s3rver) - a )) "
		cpu_api[$p]+="$(( $(ticks upload-api) - b )) "
		cpu_nginx[$p]+="$(( $(ticks nginx) - c )) "
		[[ $p == multipart ]] && complete[$p]+="$(sed -n 's/.*complete_s=\([0-9.]*\).*/\1/p' "$work/multipart.out") "
	done
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
direct=$(median <<<"${secs[put]}")
label() {
	case $1 in
	streaming) echo "streaming multipart/form-data" ;;
	tus) [[ $chunk_mib -gt 0 ]] && echo "tus, PATCHes of $chunk_mib MiB" || echo "tus, one PATCH" ;;
	cli) echo "rap upload (tus, 64 MiB PATCHes, sha256 checksums)" ;;
	put) echo "direct PUT to S3 (curl)" ;;
	multipart) echo "direct multipart to S3 (rap-bench-s3, parts in turn; Complete $(median <<<"${complete[multipart]}") s)" ;;
	esac
}
printf '| %s MiB, %s run(s), median | seconds | MiB/s | vs direct PUT | upload-api peak RSS | CPU s: s3rver / upload-api / nginx |\n' "$size_mib" "$runs"
printf '|---|---|---|---|---|---|\n'
for p in "${paths[@]}"; do
	s=$(median <<<"${secs[$p]}")
	rss=-
	[[ $p == streaming || $p == tus || $p == cli ]] && rss="$(awk -v k="${peak[$p]}" 'BEGIN{printf "%.1f MiB", k/1024}')"
	printf '| %s | %.1f | %.1f | %.0f%% | %s | %.1f / %.1f / %.1f |\n' "$(label "$p")" "$s" \
		"$(awk -v n="$size_mib" -v s="$s" 'BEGIN{print n/s}')" \
		"$(awk -v a="$direct" -v b="$s" 'BEGIN{print 100*a/b}')" "$rss" \
		"$(median <<<"${cpu_s3[$p]}" | awk -v hz="$hz" '{print $1/hz}')" \
		"$(median <<<"${cpu_api[$p]}" | awk -v hz="$hz" '{print $1/hz}')" \
		"$(median <<<"${cpu_nginx[$p]}" | awk -v hz="$hz" '{print $1/hz}')"
done
printf 'upload-api idle RSS before the runs: %.1f MiB; part size %s, parts in flight %s; %s cores\n' \
	"$(awk -v k="$idle" 'BEGIN{print k/1024}')" "$part" "${RAP_UPLOAD_PARTS_IN_FLIGHT:-0}" "$(nproc)"
