#!/usr/bin/env bash
# Benchmark of image.thumbnail as a user gets it (issue 14, point 7, images),
# beside the library's own tool and a Pillow worker in the same run, on the
# same files: IMAGES (default 40) photo-like JPEGs of 12, 20 and 24
# megapixels (Q90, 6-10 MB each: Perlin colour fields with grain, cut at
# seeded offsets from one texture made by the vips CLI; fixed SEED), one box
# of SIZE px (default 256), JPEG quality 80, metadata stripped.  In turn:
#   platform      the running stack (scripts/up) with its defaults: each file
#                 uploaded through the gateway (POST /api/uploads, one after
#                 the other), then one POST /api/jobs/batch of IMAGES
#                 image.thumbnail jobs, until all are COMPLETED in PostgreSQL
#                 (the worker copies each object to scratch, forks its
#                 sandboxed rap-processor, libvips with shrink-on-load, writes
#                 the thumbnail to S3).  Thumbnails/s end to end (first byte
#                 uploaded to the last job finished) and for the jobs alone
#                 (the batch posted to the last finished_at); the children's
#                 CPU and peak RSS from the worker's log;
#   vipsthumbnail libvips-tools' vipsthumbnail on the local files, one process
#                 for all, then two processes of half the files each (two
#                 cores), then a process per image, two at a time (as the
#                 platform forks a child per job); CPU and peak RSS from
#                 /usr/bin/time -v;
#   pillow        bench/thumbnail_pillow.py: Debian's python3-pil in a pool of
#                 two processes, Image.open + thumbnail() (JPEG draft mode
#                 inside) + save;
#   decode        one 20 MP JPEG decoded whole, and at 1/8 (shrink-on-load),
#                 by `vips avg`: what a thumbnail costs a core at least.
# Prints one JSON line per run, then a table of medians over RUNS rounds
# (default 1), with uptime before and after (the machine may be shared).
# Missing Debian packages (libvips-tools, python3-pil, time) are installed,
# as root.  Needs a running stack (RAP_* ports and RAP_STATE_DIR of another
# work too).  Usage: bench/thumbnail.sh        RUNS=3 IMAGES=100 bench/thumbnail.sh
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
images=${IMAGES:-40}
runs=${RUNS:-1}
size=${SIZE:-256}
seed=${SEED:-1}
state=${RAP_STATE_DIR:-$repo/.state}
gateway=http://127.0.0.1:${RAP_GATEWAY_PORT:-8080}
pg_port=${RAP_PG_PORT:-5439}
key=${RAP_BENCH_KEY:-dev-key}
py=/usr/bin/python3

missing=()
command -v vipsthumbnail >/dev/null || missing+=(libvips-tools)
$py -c 'import PIL' 2>/dev/null || missing+=(python3-pil)
[[ -x /usr/bin/time ]] || missing+=(time)
if ((${#missing[@]})); then
	echo "bench: installing ${missing[*]}" >&2
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q \
		"${missing[@]}" >/dev/null
fi
curl -fsS "$gateway/healthz" >/dev/null || {
	echo "bench: no stack answers at $gateway (scripts/up)" >&2
	exit 1
}

work=$(mktemp -d "${RAP_BENCH_DIR:-/tmp}/rap-bench-thumb.XXXXXX")
trap 'rm -rf "$work"' EXIT
api() { curl -sS --fail-with-body -H "Authorization: Bearer $key" "$@"; }
psql_() { psql -h 127.0.0.1 -p "$pg_port" -U postgres -d rap -At "$@"; }
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.3f\", $1 }"; }
# /usr/bin/time -v's report: "cpu_s max_rss_mib"
timev() { awk -F': ' '/User time|System time/ { c += $2 } /Maximum resident/ { r = $2 }
	END { printf "%.3f %.1f\n", c, r / 1024 }' "$@"; }

# The inputs: one texture of 6400 x 4800 (three Perlin fields as R, G, B,
# plus Gaussian grain, sigma 12), cut at seeded offsets into 12, 20 and 24 MP
# images.
echo "bench: making $images images (seed $seed)" >&2
(
	cd "$work"
	vips perlin r.v 6400 4800 --cell-size 300 --uchar --seed "$seed"
	vips perlin g.v 6400 4800 --cell-size 420 --uchar --seed $((seed + 1))
	vips perlin b.v 6400 4800 --cell-size 600 --uchar --seed $((seed + 2))
	vips bandjoin "r.v g.v b.v" rgb.v
	vips gaussnoise n.v 6400 4800 --sigma 12 --mean 0 --seed $((seed + 3))
	vips add rgb.v n.v sum.v
	vips cast sum.v tex.v uchar
	rm r.v g.v b.v rgb.v n.v sum.v
)
mkdir "$work/in"
dims=("4000 3000" "5472 3648" "6000 4000")
RANDOM=$seed
files=()
for ((i = 0; i < images; i++)); do
	read -r w h <<<"${dims[i % 3]}"
	f=$(printf '%s/in/img%03d.jpg' "$work" "$i")
	vips extract_area "$work/tex.v" "${f}[Q=90]" $((RANDOM % (6400 - w + 1))) \
		$((RANDOM % (4800 - h + 1))) "$w" "$h"
	files+=("$f")
done
rm "$work/tex.v"
megapixels=$(for f in "${files[@]}"; do vipsheader -f width "$f"; vipsheader -f height "$f"; done |
	paste - - | awk '{ s += $1 * $2 } END { printf "%.1f", s / 1e6 / NR }')
mib=$(du -cm "${files[@]}" | tail -1 | cut -f1)
echo "bench: $images images, $mib MiB, $megapixels MP on average" >&2
params="{\"sizes\":[{\"width\":$size,\"height\":$size}]}"

# The platform: uploads, one batch of jobs, until all are finished.
platform() {
	local t0 t1 mark f ids list body done_ fin
	local -a idv
	t0=$(now)
	: >"$work/keys"
	for f in "${files[@]}"; do
		api -F job_type=image.thumbnail -F "file=@$f;type=image/jpeg" "$gateway/api/uploads" |
			jq -r .object_key >>"$work/keys"
	done
	t1=$(now)
	body=$(jq -R -s -c --argjson p "$params" \
		'{jobs: [split("\n")[] | select(. != "") | {object_key: ., type: "image.thumbnail", params: $p}]}' \
		"$work/keys")
	mark=$(now)
	ids=$(api -H 'Content-Type: application/json' -d "$body" "$gateway/api/jobs/batch" |
		jq -r '.jobs[].job_id')
	mapfile -t idv <<<"$ids"
	list=$(printf "'%s'," "${idv[@]}")
	list=${list%,}
	while :; do
		done_=$(psql_ -c "SELECT count(*) FILTER (WHERE status = 'COMPLETED') || ' ' ||
			count(*) FILTER (WHERE status IN ('FAILED', 'DEAD', 'CANCELLED'))
			FROM jobs WHERE id IN ($list)")
		if [[ ${done_#* } != 0 ]]; then
			echo "bench: $done_ (completed, failed) of $images jobs:" >&2
			psql_ -c "SELECT id, status, error FROM jobs WHERE id IN ($list) AND status <> 'COMPLETED'" >&2
			exit 1
		fi
		[[ ${done_% *} == "$images" ]] && break
		sleep 0.25
	done
	fin=$(psql_ -c "SELECT extract(epoch FROM max(finished_at)) FROM jobs WHERE id IN ($list)")
	# The largest side of every thumbnail must be the box's.
	psql_ -c "SELECT max(greatest((t->>'width')::int, (t->>'height')::int)) || ' ' || count(t)
		FROM jobs, jsonb_array_elements(result->'thumbnails') t WHERE id IN ($list)" >"$work/check"
	[[ $(cat "$work/check") == "$size $images" ]] || {
		echo "bench: thumbnails (largest side, count): $(cat "$work/check")" >&2
		exit 1
	}
	sleep 0.5 # the worker logs the child's usage after the result is committed
	grep -h 'rap-processor used' "$state"/logs/worker*.log |
		jq -R -c --arg ids "$ids" 'fromjson? | select((.msg // "") | startswith("rap-processor used"))
		| select(.job_id as $j | $ids | split("\n") | index($j))
		| .msg | capture("used (?<cpu>[0-9.]+) s of CPU, at most (?<rss>[0-9.]+) MiB")' \
		>"$work/usage"
	jq -s -c --argjson n "$images" --argjson up "$(calc "$t1 - $t0")" \
		--argjson jobs "$(calc "$fin - $mark")" --argjson e2e "$(calc "$fin - $t0")" '{
		what: "platform", images: $n, seconds: $e2e, upload_seconds: $up, jobs_seconds: $jobs,
		children_logged: length, cpu_s: (map(.cpu | tonumber) | add),
		max_rss_mib: (map(.rss | tonumber) | max),
		median_rss_mib: (map(.rss | tonumber) | sort | .[length / 2 | floor])}' "$work/usage"
}

# vipsthumbnail over the files in PROCS processes (every PROCS-th file each).
vipsthumb() { # procs
	local p t0 t1 k
	local -a part
	rm -rf "$work/out" && mkdir "$work/out"
	t0=$(now)
	for ((p = 0; p < $1; p++)); do
		part=()
		for ((k = p; k < images; k += $1)); do part+=("${files[k]}"); done
		/usr/bin/time -v -o "$work/time.$p" vipsthumbnail "${part[@]}" -s "$size" \
			-o "$work/out/%s_thumb.jpg[Q=80,optimize_coding,strip]" &
	done
	wait
	t1=$(now)
	[[ $(find "$work/out" -name '*_thumb.jpg' | wc -l) == "$images" ]] || {
		echo "bench: vipsthumbnail wrote $(find "$work/out" -name '*_thumb.jpg' | wc -l) thumbnails" >&2
		exit 1
	}
	for ((p = 0; p < $1; p++)); do timev "$work/time.$p"; done |
		jq -R -s -c --argjson n "$images" --argjson procs "$1" --argjson s "$(calc "$t1 - $t0")" '
		split("\n") | map(select(. != "") | split(" ") | map(tonumber)) | {
		what: "vipsthumbnail", procs: $procs, images: $n, seconds: $s,
		cpu_s: (map(.[0]) | add), max_rss_mib: (map(.[1]) | max)}'
}

# vipsthumbnail started once per image, two at a time: a process per
# thumbnail, as the platform forks a child per job.
vipsthumb_each() {
	local t0 t1
	rm -rf "$work/out" && mkdir "$work/out"
	t0=$(now)
	printf '%s\0' "${files[@]}" | /usr/bin/time -v -o "$work/time.x" xargs -0 -P2 -n1 \
		vipsthumbnail -s "$size" -o "$work/out/%s_thumb.jpg[Q=80,optimize_coding,strip]"
	t1=$(now)
	[[ $(find "$work/out" -name '*_thumb.jpg' | wc -l) == "$images" ]] || {
		echo "bench: vipsthumbnail wrote $(find "$work/out" -name '*_thumb.jpg' | wc -l) thumbnails" >&2
		exit 1
	}
	timev "$work/time.x" | jq -R -c --argjson n "$images" --argjson s "$(calc "$t1 - $t0")" '
		split(" ") | map(tonumber) | {what: "vipsthumbnail", procs: 2, each: true, images: $n,
		seconds: $s, cpu_s: .[0], max_rss_mib: .[1]}'
}

pillow() {
	rm -rf "$work/out" && mkdir "$work/out"
	$py "$repo/bench/thumbnail_pillow.py" --out "$work/out" --procs 2 --size "$size" "${files[@]}"
}

# One 20 MP image decoded whole, then at 1/8 (JPEG shrink-on-load).
decode() {
	local f=${files[1]} t0 full eighth
	t0=$(now)
	/usr/bin/time -v -o "$work/time.d" vips avg "$f" >/dev/null
	full="$(calc "$(now) - $t0") $(timev "$work/time.d")"
	t0=$(now)
	/usr/bin/time -v -o "$work/time.d" vips avg "${f}[shrink=8]" >/dev/null
	eighth="$(calc "$(now) - $t0") $(timev "$work/time.d")"
	jq -n -c --arg full "$full" --arg eighth "$eighth" \
		--arg mp "$(calc "$(vipsheader -f width "$f") * $(vipsheader -f height "$f") / 1e6")" '
		def f(s): s | split(" ") | map(tonumber) | {seconds: .[0], cpu_s: .[1], max_rss_mib: .[2]};
		{what: "decode", megapixels: ($mp | tonumber), full: f($full), shrink8: f($eighth)}'
}

out=$work/runs.jsonl
load_before=$(uptime)
for ((r = 1; r <= runs; r++)); do
	echo "bench: round $r of $runs" >&2
	platform | tee -a "$out"
	vipsthumb 1 | tee -a "$out"
	vipsthumb 2 | tee -a "$out"
	vipsthumb_each | tee -a "$out"
	pillow | tee -a "$out"
	decode | tee -a "$out"
done
load_after=$(uptime)

printf '\n%s images (%s MP on average, %s MiB), box %s px, median of %s\n' "$images" \
	"$megapixels" "$mib" "$size" "$runs"
printf 'uptime before: %s\nuptime after:  %s\n' "${load_before# }" "${load_after# }"
jq -rs '
  def med: sort | .[(length / 2 | floor)];
  def r2: . * 100 | round / 100;
  def r1: . * 10 | round / 10;
  (map(select(.what == "platform"))) as $pl
  | (map(select(.what == "vipsthumbnail" and .procs == 1))) as $v1
  | (map(select(.what == "vipsthumbnail" and .procs == 2 and (.each | not)))) as $v2
  | (map(select(.what == "vipsthumbnail" and .each))) as $ve
  | (map(select(.what == "pillow"))) as $pi
  | (map(select(.what == "decode"))) as $d
  | ($pl[0].images) as $n
  | ($v2 | map($n / .seconds) | med) as $v2r
  | ($pi | map($n / .seconds) | med) as $pir
  | def row(what; rows; secs):
    (rows | map($n / secs) | med) as $r
    | "| \(what) | \(rows | map(secs) | med | r2) | \($r | r1) | \($r / $v2r | r2)x | \($r / $pir | r2)x | \(rows | map(.cpu_s / $n * 1000) | med | round) | \(rows | map(.max_rss_mib) | med) |";
  "",
    "| what | seconds | thumbnails/s | vs vipsthumbnail, 2 processes | vs Pillow, 2 processes | CPU ms per image | peak RSS MiB (largest process) |",
    "|---|---|---|---|---|---|---|",
    row("platform, end to end (uploads, then the jobs)"; $pl; .seconds),
    row("platform, the jobs alone (batch posted to last finished)"; $pl; .jobs_seconds),
    row("vipsthumbnail, 1 process"; $v1; .seconds),
    row("vipsthumbnail, 2 processes"; $v2; .seconds),
    row("vipsthumbnail, a process per image, 2 at a time"; $ve; .seconds),
    row("Pillow thumbnail(), 2 processes"; $pi; .seconds),
    "",
    "platform: uploads \($pl | map(.upload_seconds) | med) s; child peak RSS median \($pl | map(.median_rss_mib) | med) MiB, max \($pl | map(.max_rss_mib) | med) MiB (\($pl | map(.children_logged) | med) children logged)",
    "decode of one \($d[0].megapixels) MP JPEG (vips avg): whole \($d | map(.full.seconds) | med) s, \($d | map(.full.cpu_s) | med) CPU s, \($d | map(.full.max_rss_mib) | med) MiB; at 1/8 \($d | map(.shrink8.seconds) | med) s, \($d | map(.shrink8.cpu_s) | med) CPU s, \($d | map(.shrink8.max_rss_mib) | med) MiB"
' "$out"
