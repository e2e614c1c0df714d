#!/usr/bin/env bash
# Benchmark: streams a file of SIZE_MIB through upload-api (via the gateway,
# multipart/form-data) and reports throughput and upload-api's peak RSS
# (VmHWM), next to a direct PUT of the same file to the same S3 server.
# Needs a running stack (scripts/up, or RAP_* ports of another one).
# Usage: bench/upload_rss.sh [SIZE_MIB]   (default 1024)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
size_mib=${1:-1024}
state=${RAP_STATE_DIR:-$repo/.state}
gateway=http://127.0.0.1:${RAP_GATEWAY_PORT:-8080}
s3=http://127.0.0.1:${RAP_S3_PORT:-9100}
bucket=${RAP_S3_BUCKET:-rap-data}
pid=$(cat "$state/run/upload-api.child.pid")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A sparse-free file of random-ish bytes, generated once per size.
file=$work/payload.bin
head -c $((size_mib * 1024 * 1024)) /dev/urandom > "$file"

hwm_before=$(awk '/VmHWM/ {print $2}' /proc/"$pid"/status)
start=$(date +%s.%N)
out=$(curl -sS --fail-with-body -H 'Authorization: Bearer dev-key' -F "file=@$file" "$gateway/api/uploads")
end=$(date +%s.%N)
hwm_after=$(awk '/VmHWM/ {print $2}' /proc/"$pid"/status)
secs=$(awk -v a="$start" -v b="$end" 'BEGIN{print b-a}')

# Direct PUT of the same bytes to the S3 server (s3rver accepts any V4
# signature, so curl's own SigV4 is enough here).
dstart=$(date +%s.%N)
curl -sS --fail -o /dev/null -X PUT -T "$file" --aws-sigv4 "aws:amz:us-east-1:s3" \
	-u S3RVER:S3RVER -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
	"$s3/$bucket/bench/direct-$$.bin"
dend=$(date +%s.%N)
dsecs=$(awk -v a="$dstart" -v b="$dend" 'BEGIN{print b-a}')

printf 'size_mib=%s\n' "$size_mib"
printf 'upload_api: %.1f s, %.1f MiB/s, peak RSS %s KiB (before: %s KiB)\n' \
	"$secs" "$(awk -v n="$size_mib" -v s="$secs" 'BEGIN{print n/s}')" "$hwm_after" "$hwm_before"
printf 'direct PUT: %.1f s, %.1f MiB/s\n' "$dsecs" "$(awk -v n="$size_mib" -v s="$dsecs" 'BEGIN{print n/s}')"
printf 'ratio: %.2f\n' "$(awk -v a="$dsecs" -v b="$secs" 'BEGIN{print a/b}')"
printf 'response: %s\n' "$out"
