#!/usr/bin/env bash
# Benchmark of the upload paths: one file of SIZE_MIB sent
#   1. streaming: multipart/form-data POST /api/uploads through the gateway;
#   2. tus: POST /api/files/ then PATCHes of CHUNK_MIB (default: the whole
#      file in one PATCH, as tus-js-client does by default) through the gateway;
#   3. direct: one PUT of the same file to the same S3 server (curl, SigV4),
#      the yardstick;
#   4. direct multipart: the same parts PUT straight to S3 by curl, then
#      CompleteMultipartUpload: what any multipart path costs on this server.
# For 1 and 2 it reports throughput and upload-api's peak RSS (VmHWM, reset
# before each run through /proc/PID/clear_refs), and checks the sha256 that
# upload-api computed against the file's. Objects are deleted afterwards.
# Needs a running stack (scripts/up, or RAP_* ports and RAP_STATE_DIR of
# another one) and root (clear_refs of another user's process).
# Usage: bench/upload.sh [SIZE_MIB [CHUNK_MIB]]   (default 1024, whole file)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
size_mib=${1:-1024}
chunk_mib=${2:-0}
state=${RAP_STATE_DIR:-$repo/.state}
gateway=http://127.0.0.1:${RAP_GATEWAY_PORT:-8080}
s3=http://127.0.0.1:${RAP_S3_PORT:-9100}
bucket=${RAP_S3_BUCKET:-rap-data}
key=${RAP_BENCH_KEY:-dev-key}
work=$(mktemp -d "${RAP_BENCH_DIR:-/tmp}/rap-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

upload_pid() { cat "$state/run/upload-api.child.pid"; }
reset_peak() { echo 5 > "/proc/$(upload_pid)/clear_refs"; }
peak_kib() { awk '/VmHWM/ {print $2}' "/proc/$(upload_pid)/status"; }
now() { date +%s.%N; }
rate() { awk -v n="$size_mib" -v s="$1" 'BEGIN{printf "%.1f", n/s}'; }
s3curl() { curl -sS --fail --aws-sigv4 "aws:amz:us-east-1:s3" -u S3RVER:S3RVER \
	-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$@"; }
# Bytes [offset, offset + n) of the file to stdout, without a copy on disk.
range() { dd if="$file" bs=1M iflag=skip_bytes,count_bytes skip="$1" count="$2" status=none; }
json_field() { sed -n "s/.*\"$1\" *: *\"\\{0,1\\}\\([^\",}]*\\).*/\\1/p"; }

file=$work/payload.bin
echo "bench: writing $size_mib MiB of random bytes" >&2
head -c $((size_mib * 1024 * 1024)) /dev/urandom > "$file"
want=$(sha256sum "$file" | cut -d' ' -f1)
idle=$(awk '/VmRSS/ {print $2}' "/proc/$(upload_pid)/status")

# 1. streaming multipart
reset_peak
t0=$(now)
out=$(curl -sS --fail-with-body -H "Authorization: Bearer $key" -F "file=@$file" "$gateway/api/uploads")
t1=$(now)
stream_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')
stream_peak=$(peak_kib)
[[ $(json_field sha256 <<<"$out") == "$want" ]] || { echo "streaming: sha256 mismatch: $out" >&2; exit 1; }
s3curl -X DELETE -o /dev/null "$s3/$bucket/$(json_field object_key <<<"$out")"

# 2. tus
reset_peak
t0=$(now)
loc=$(curl -sS --fail -D - -o /dev/null -X POST -H 'Tus-Resumable: 1.0.0' \
	-H "Authorization: Bearer $key" -H "Upload-Length: $((size_mib * 1024 * 1024))" \
	"$gateway/api/files/" | tr -d '\r' | awk 'tolower($1) == "location:" {print $2}')
total=$((size_mib * 1024 * 1024))
step=$(( chunk_mib > 0 ? chunk_mib * 1024 * 1024 : total ))
offset=0
while (( offset < total )); do
	n=$(( total - offset < step ? total - offset : step ))
	range "$offset" "$n" |
		curl -sS --fail -o /dev/null -X PATCH -H 'Tus-Resumable: 1.0.0' \
			-H "Authorization: Bearer $key" -H 'Content-Type: application/offset+octet-stream' \
			-H "Upload-Offset: $offset" -H "Content-Length: $n" -H 'Expect:' -H 'Transfer-Encoding:' \
			-T - "$gateway$loc"
	offset=$((offset + n))
done
t1=$(now)
tus_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')
tus_peak=$(peak_kib)
out=$(curl -sS --fail -H "Authorization: Bearer $key" "$gateway/api/uploads/${loc##*/}")
[[ $(json_field sha256 <<<"$out") == "$want" ]] || { echo "tus: sha256 mismatch: $out" >&2; exit 1; }
s3curl -X DELETE -o /dev/null "$s3/$bucket/$(json_field object_key <<<"$out")"

# 3. direct PUT (s3rver accepts any V4 signature; curl signs the headers)
t0=$(now)
s3curl -o /dev/null -X PUT -T "$file" "$s3/$bucket/bench/direct-$$.bin"
t1=$(now)
direct_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')
s3curl -X DELETE -o /dev/null "$s3/$bucket/bench/direct-$$.bin"

# 4. direct multipart upload of the same parts (what any multipart path costs
#    on this S3 server: s3rver writes parts, then concatenates them)
part=${RAP_UPLOAD_PART_SIZE:-8388608}
t0=$(now)
mkey=bench/multipart-$$.bin
uid=$(s3curl -X POST "$s3/$bucket/$mkey?uploads=" | sed -n 's:.*<UploadId>\(.*\)</UploadId>.*:\1:p')
xml="<CompleteMultipartUpload>"
offset=0
n=1
while (( offset < total )); do
	len=$(( total - offset < part ? total - offset : part ))
	etag=$(range "$offset" "$len" |
		s3curl -D - -o /dev/null -X PUT -H "Content-Length: $len" -H 'Expect:' -H 'Transfer-Encoding:' -T - \
			"$s3/$bucket/$mkey?partNumber=$n&uploadId=$uid" |
		tr -d '\r' | awk 'tolower($1) == "etag:" {print $2}')
	xml+="<Part><PartNumber>$n</PartNumber><ETag>$etag</ETag></Part>"
	offset=$((offset + len))
	n=$((n + 1))
done
s3curl -o /dev/null -X POST -H 'Content-Type: application/xml' --data-binary "$xml</CompleteMultipartUpload>" \
	"$s3/$bucket/$mkey?uploadId=$uid"
t1=$(now)
multi_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')
s3curl -X DELETE -o /dev/null "$s3/$bucket/$mkey"

printf '| %s MiB | path | seconds | MiB/s | vs direct PUT | upload-api peak RSS |\n' "$size_mib"
printf '|---|---|---|---|---|---|\n'
printf '| | streaming multipart | %.1f | %s | %.0f%% | %s KiB |\n' "$stream_s" "$(rate "$stream_s")" \
	"$(awk -v a="$direct_s" -v b="$stream_s" 'BEGIN{print 100*a/b}')" "$stream_peak"
printf '| | tus (%s) | %.1f | %s | %.0f%% | %s KiB |\n' \
	"$([[ $chunk_mib -gt 0 ]] && echo "PATCHes of $chunk_mib MiB" || echo "one PATCH")" "$tus_s" \
	"$(rate "$tus_s")" "$(awk -v a="$direct_s" -v b="$tus_s" 'BEGIN{print 100*a/b}')" "$tus_peak"
printf '| | direct PUT to S3 | %.1f | %s | 100%% | - |\n' "$direct_s" "$(rate "$direct_s")"
printf '| | direct multipart to S3 (same parts, one at a time) | %.1f | %s | %.0f%% | - |\n' "$multi_s" \
	"$(rate "$multi_s")" "$(awk -v a="$direct_s" -v b="$multi_s" 'BEGIN{print 100*a/b}')"
printf 'upload-api idle RSS before the runs: %s KiB; part size %s, parts in flight %s\n' "$idle" \
	"${RAP_UPLOAD_PART_SIZE:-8388608}" "${RAP_UPLOAD_PARTS_IN_FLIGHT:-1}"
