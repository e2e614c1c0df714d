#!/usr/bin/env bash
# Benchmark of pdf.text as a user gets it (issue 14, point 7, PDFs), beside
# poppler's own pdftotext in the same run, on the same files: DOCS (default
# 5) documents of PAGES (default 200) A4 pages of dense text each (66 lines
# of ~95 characters a page, ~190,000 words a document), written by
# bench/pdf_make.py with cairo (Debian's python3-cairo) from a fixed
# vocabulary and SEED.  In turn:
#   platform   the running stack (scripts/up) with its defaults: each file
#              uploaded through the gateway (POST /api/uploads, one after the
#              other), then one POST /api/jobs/batch of DOCS pdf.text jobs
#              (default params: every page, text.txt only), until all are
#              COMPLETED in PostgreSQL (the worker copies each object to
#              scratch, forks its sandboxed rap-processor, poppler-glib, writes
#              text.txt to S3).  Pages/s end to end (first byte uploaded to
#              the last job finished) and for the jobs alone (the batch posted
#              to the last finished_at); the children's CPU and peak RSS from
#              the worker's log;
#   pdftotext  poppler-utils' pdftotext (the same poppler, 22.12) on the local
#              files, a process per document, one at a time, then two at a
#              time (two cores); CPU and peak RSS from /usr/bin/time -v.
# Then the first document's text.txt is fetched (GET /api/jobs/{id}/output)
# and its words compared with pdftotext's (the word sequence, whitespace and
# form feeds aside).
# Prints one JSON line per run, then a table of medians over RUNS rounds
# (default 1), with uptime before and after (the machine may be shared).
# Missing Debian packages (poppler-utils, python3-cairo, time) are
# installed, as root.  Needs a running stack (RAP_* ports and RAP_STATE_DIR
# of another work too).  Usage: bench/pdf.sh        RUNS=3 DOCS=10 bench/pdf.sh
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
docs=${DOCS:-5}
pages=${PAGES:-200}
runs=${RUNS:-1}
seed=${SEED:-1}
state=${RAP_STATE_DIR:-$repo/.state}
gateway=http://127.0.0.1:${RAP_GATEWAY_PORT:-8080}
pg_port=${RAP_PG_PORT:-5439}
key=${RAP_BENCH_KEY:-dev-key}
py=/usr/bin/python3

missing=()
command -v pdftotext >/dev/null || missing+=(poppler-utils)
$py -c 'import cairo' 2>/dev/null || missing+=(python3-cairo)
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

work=$(mktemp -d "${RAP_BENCH_DIR:-/tmp}/rap-bench-pdf.XXXXXX")
trap 'rm -rf "$work"' EXIT
api() { curl -sS --fail-with-body -H "Authorization: Bearer $key" "$@"; }
psql_() { psql -h 127.0.0.1 -p "$pg_port" -U postgres -d rap -At "$@"; }
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.3f\", $1 }"; }
# /usr/bin/time -v's report: "cpu_s max_rss_mib"
timev() { awk -F': ' '/User time|System time/ { c += $2 } /Maximum resident/ { r = $2 }
	END { printf "%.3f %.1f\n", c, r / 1024 }' "$@"; }

echo "bench: making $docs PDFs of $pages pages (seed $seed)" >&2
mkdir "$work/in"
$py "$repo/bench/pdf_make.py" "$work/in" "$docs" "$pages" "$seed"
files=("$work"/in/doc*.pdf)
total_pages=$((docs * pages))
mib=$(du -cm "${files[@]}" | tail -1 | cut -f1)
echo "bench: $docs PDFs, $total_pages pages, $mib MiB" >&2

# The platform: uploads, one batch of jobs, until all are finished.
platform() {
	local t0 t1 mark f ids list body done_ fin pc run
	local -a idv
	t0=$(now)
	: >"$work/keys"
	for f in "${files[@]}"; do
		api -F job_type=pdf.text -F "file=@$f;type=application/pdf" "$gateway/api/uploads" |
			jq -r .object_key >>"$work/keys"
	done
	t1=$(now)
	body=$(jq -R -s -c \
		'{jobs: [split("\n")[] | select(. != "") | {object_key: ., type: "pdf.text", params: {}}]}' \
		"$work/keys")
	mark=$(now)
	ids=$(api -H 'Content-Type: application/json' -d "$body" "$gateway/api/jobs/batch" |
		jq -r '.jobs[].job_id')
	mapfile -t idv <<<"$ids"
	printf '%s\n' "${idv[0]}" >"$work/first_job"
	list=$(printf "'%s'," "${idv[@]}")
	list=${list%,}
	while :; do
		done_=$(psql_ -c "SELECT count(*) FILTER (WHERE status = 'COMPLETED') || ' ' ||
			count(*) FILTER (WHERE status IN ('FAILED', 'DEAD', 'CANCELLED'))
			FROM jobs WHERE id IN ($list)")
		if [[ ${done_#* } != 0 ]]; then
			echo "bench: $done_ (completed, failed) of $docs jobs:" >&2
			psql_ -c "SELECT id, status, error FROM jobs WHERE id IN ($list) AND status <> 'COMPLETED'" >&2
			exit 1
		fi
		[[ ${done_% *} == "$docs" ]] && break
		sleep 0.25
	done
	fin=$(psql_ -c "SELECT extract(epoch FROM max(finished_at)) FROM jobs WHERE id IN ($list)")
	# Every document's pages must all be there.
	pc=$(psql_ -c "SELECT sum((result->>'page_count')::int) FROM jobs WHERE id IN ($list)")
	[[ $pc == "$total_pages" ]] || {
		echo "bench: the jobs counted $pc pages, not $total_pages" >&2
		exit 1
	}
	# Each job from started_at to finished_at (the worker's copy, child, upload).
	run=$(psql_ -c "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY
		extract(epoch FROM finished_at - started_at)) FROM jobs WHERE id IN ($list)")
	sleep 0.5 # the worker logs the child's usage after the result is committed
	grep -h 'rap-processor used' "$state"/logs/worker*.log |
		jq -R -c --arg ids "$ids" 'fromjson? | select((.msg // "") | startswith("rap-processor used"))
		| select(.job_id as $j | $ids | split("\n") | index($j))
		| .msg | capture("used (?<cpu>[0-9.]+) s of CPU, at most (?<rss>[0-9.]+) MiB")' \
		>"$work/usage"
	jq -s -c --argjson n "$docs" --argjson pages "$total_pages" --argjson up "$(calc "$t1 - $t0")" \
		--argjson jobs "$(calc "$fin - $mark")" --argjson e2e "$(calc "$fin - $t0")" \
		--argjson run "$(calc "$run")" '{
		what: "platform", docs: $n, pages: $pages, seconds: $e2e, upload_seconds: $up,
		jobs_seconds: $jobs, job_run_median_s: $run, children_logged: length,
		cpu_s: (map(.cpu | tonumber) | add),
		max_rss_mib: (map(.rss | tonumber) | max),
		median_rss_mib: (map(.rss | tonumber) | sort | .[length / 2 | floor])}' "$work/usage"
}

# pdftotext, a process per document, PROCS at a time (its default, reading
# order, as poppler-glib's poppler_page_get_text).
pdftotext_() { # procs
	local t0 t1
	rm -f "$work"/in/*.txt # pdftotext writes docNN.txt beside docNN.pdf
	t0=$(now)
	printf '%s\0' "${files[@]}" | /usr/bin/time -v -o "$work/time.x" xargs -0 -P"$1" -n1 pdftotext
	t1=$(now)
	[[ $(find "$work/in" -name '*.txt' | wc -l) == "$docs" ]] || {
		echo "bench: pdftotext wrote $(find "$work/in" -name '*.txt' | wc -l) texts" >&2
		exit 1
	}
	timev "$work/time.x" | jq -R -c --argjson n "$docs" --argjson pages "$total_pages" \
		--argjson procs "$1" --argjson s "$(calc "$t1 - $t0")" '
		split(" ") | map(tonumber) | {what: "pdftotext", procs: $procs, docs: $n,
		pages: $pages, seconds: $s, cpu_s: .[0], max_rss_mib: .[1]}'
}

# The first document's text from the platform against pdftotext's: the same
# words in the same order?
compare() {
	local url
	url=$(api "$gateway/api/jobs/$(cat "$work/first_job")/output" | jq -r .url)
	curl -sS --fail "$url" -o "$work/platform.txt"
	pdftotext "${files[0]}" "$work/pdftotext.txt"
	# One word a line (text.txt has no newline after its last word).
	words() { tr '\f' '\n' <"$1" | awk '{ for (i = 1; i <= NF; i++) print $i }'; }
	words "$work/platform.txt" >"$work/w.platform"
	words "$work/pdftotext.txt" >"$work/w.pdftotext"
	diff "$work/w.platform" "$work/w.pdftotext" | head -8 | sed 's/^/bench: word diff: /' >&2 || true
	jq -n -c --argjson a "$(wc -l <"$work/w.platform")" --argjson b "$(wc -l <"$work/w.pdftotext")" \
		--argjson d "$(diff "$work/w.platform" "$work/w.pdftotext" | grep -c '^[<>]' || true)" \
		--argjson ff "$(tr -cd '\f' <"$work/platform.txt" | wc -c)" \
		'{what: "compare", platform_words: $a, pdftotext_words: $b, words_differing: $d,
		platform_form_feeds: $ff, same: ($d == 0)}'
}

out=$work/runs.jsonl
load_before=$(uptime)
for ((r = 1; r <= runs; r++)); do
	echo "bench: round $r of $runs" >&2
	platform | tee -a "$out"
	pdftotext_ 1 | tee -a "$out"
	pdftotext_ 2 | tee -a "$out"
done
load_after=$(uptime)
compare | tee -a "$out"

printf '\n%s PDFs of %s pages (%s pages, %s MiB), median of %s\n' "$docs" "$pages" \
	"$total_pages" "$mib" "$runs"
printf 'uptime before: %s\nuptime after:  %s\n' "${load_before# }" "${load_after# }"
jq -rs '
  def med: sort | .[(length / 2 | floor)];
  def r2: . * 100 | round / 100;
  def r1: . * 10 | round / 10;
  (map(select(.what == "platform"))) as $pl
  | (map(select(.what == "pdftotext" and .procs == 1))) as $p1
  | (map(select(.what == "pdftotext" and .procs == 2))) as $p2
  | (map(select(.what == "compare")) | .[0]) as $c
  | ($pl[0].pages) as $n
  | ($p2 | map($n / .seconds) | med) as $p2r
  | def row(what; rows; secs):
    (rows | map($n / secs) | med) as $r
    | "| \(what) | \(rows | map(secs) | med | r2) | \($r | r1) | \($r / $p2r | r2)x | \(rows | map(.cpu_s / $n * 1000) | med | r2) | \(rows | map(.max_rss_mib) | med) |";
  "",
    "| what | seconds | pages/s | vs pdftotext, 2 processes | CPU ms per page | peak RSS MiB (largest process) |",
    "|---|---|---|---|---|---|",
    row("platform, end to end (uploads, then the jobs)"; $pl; .seconds),
    row("platform, the jobs alone (batch posted to last finished)"; $pl; .jobs_seconds),
    row("pdftotext, a process per document, 1 at a time"; $p1; .seconds),
    row("pdftotext, a process per document, 2 at a time"; $p2; .seconds),
    "",
    "platform: uploads \($pl | map(.upload_seconds) | med) s; a job started to finished \($pl | map(.job_run_median_s) | med) s (median); child peak RSS median \($pl | map(.median_rss_mib) | med) MiB, max \($pl | map(.max_rss_mib) | med) MiB (\($pl | map(.children_logged) | med) children logged)",
    "text of the first document: platform \($c.platform_words) words, pdftotext \($c.pdftotext_words), \($c.words_differing) differing lines of the word diff: \(if $c.same then "the same words in the same order" else "NOT the same" end)"
' "$out"
