#!/usr/bin/env bash
# Benchmark of many uploads at once: N clients each stream a file of
# SIZE_MIB (multipart/form-data POST /api/uploads through the gateway, curl)
# at the same moment. Reports the wall time, the aggregate throughput of the
# uploads that were stored, how many were refused 503 `busy` (past
# RAP_UPLOAD_MAX_ACTIVE) or 429 `upload_share_exceeded` (past one owner's
# share, RAP_UPLOAD_MAX_ACTIVE_PER_OWNER: a quarter of the places unless
# set; all N clients use one key, so start the stack with
# RAP_UPLOAD_MAX_ACTIVE_PER_OWNER=$RAP_UPLOAD_MAX_ACTIVE to measure more than
# a quarter at once), and upload-api's peak RSS (VmHWM, reset first)
# with what it took per upload streaming at once above its RSS before the
# run (docs/uploads.md: about part size x (1 + parts in flight) each).
# Objects are deleted afterwards.
# Needs a running stack (scripts/up, or the RAP_* ports and RAP_STATE_DIR of
# another one) and root (clear_refs of another user's process).
# Usage: bench/upload_concurrent.sh [N [SIZE_MIB]]   (default 16 clients, 64 MiB)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
n=${1:-16}
size_mib=${2:-64}
state=${RAP_STATE_DIR:-$repo/.state}
gateway=http://127.0.0.1:${RAP_GATEWAY_PORT:-8080}
s3=http://127.0.0.1:${RAP_S3_PORT:-9100}
bucket=${RAP_S3_BUCKET:-rap-data}
key=${RAP_BENCH_KEY:-dev-key}
part=${RAP_UPLOAD_PART_SIZE:-8388608}
in_flight=${RAP_UPLOAD_PARTS_IN_FLIGHT:-0}
max_active=${RAP_UPLOAD_MAX_ACTIVE:-64}
share=${RAP_UPLOAD_MAX_ACTIVE_PER_OWNER:-0}
((share > 0)) || share=$((max_active / 4 > 0 ? max_active / 4 : 1))
((share < max_active)) || share=$max_active
work=$(mktemp -d "${RAP_BENCH_DIR:-/tmp}/rap-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

pid=$(cat "$state/run/upload-api.child.pid")
file=$work/payload.bin
head -c $((size_mib * 1024 * 1024)) /dev/urandom >"$file"

idle_kib=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
echo 5 >"/proc/$pid/clear_refs"
start=$(date +%s.%N)
for i in $(seq 1 "$n"); do
	curl -sS -o "$work/out.$i" -w '%{http_code}\n' -H "Authorization: Bearer $key" \
		-F "file=@$file" "$gateway/api/uploads" >"$work/status.$i" 2>/dev/null &
done
wait
end=$(date +%s.%N)
peak_kib=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")

stored=0 busy=0 other=0
for i in $(seq 1 "$n"); do
	case $(cat "$work/status.$i") in
	201) stored=$((stored + 1))
	     k=$(sed -n 's/.*"object_key" *: *"\([^"]*\)".*/\1/p' "$work/out.$i")
	     curl -sS -o /dev/null -X DELETE --aws-sigv4 "aws:amz:us-east-1:s3" -u S3RVER:S3RVER \
		     -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$s3/$bucket/$k" || true ;;
	503 | 429) busy=$((busy + 1)) ;;
	*) other=$((other + 1)) ;;
	esac
done
active=$((n < share ? n : share))
awk -v n="$n" -v size="$size_mib" -v s="$start" -v e="$end" -v stored="$stored" \
	-v busy="$busy" -v other="$other" -v idle="$idle_kib" -v peak="$peak_kib" \
	-v active="$active" -v part="$part" -v inf="$in_flight" 'BEGIN {
	secs = e - s
	each = (peak - idle) / 1024 / active
	printf "| clients | MiB each | seconds | stored | refused (503, 429) | other | MiB/s stored | RSS before | peak RSS | per upload (part buffers: %.0f MiB) |\n", part * (1 + inf) / 1048576
	printf "|---|---|---|---|---|---|---|---|---|---|\n"
	printf "| %d | %d | %.1f | %d | %d | %d | %.1f | %.1f MiB | %.1f MiB | %.2f MiB |\n",
		n, size, secs, stored, busy, other, stored * size / secs, idle / 1024, peak / 1024, each
}'
