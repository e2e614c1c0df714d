#!/usr/bin/env bash
# Benchmark of video.probe's sandboxed child beside FFmpeg's own commands
# (issue 14, point 7, videos), in one run on one file: SECONDS (default 30)
# of 1280x720 H.264 at 30 fps with an AAC tone, written by ffmpeg from its
# test pattern (testsrc2, -preset veryfast: a keyframe every 250 frames,
# x264's default), the poster at POSITION percent (default 10) of it.
#   child      build/rap-processor --type video.probe as the worker starts
#              it: the file on fd 0 (the scratch copy), the START frame on
#              fd 3 (bench/video_child.py writes it and reads the frames
#              back), rlimits and the seccomp filter; 512 MiB, 600 s of CPU
#              (the registry's limits).  Its result and poster.jpg (640
#              wide) are what a job gets; S3, the queue and the worker's
#              copy are not in the figures (bench/pdf.sh and
#              bench/thumbnail.sh measure that path for their types);
#   ffprobe    ffprobe -show_format -show_streams, what the result holds;
#   ffmpeg     ffmpeg -ss T -i FILE -frames:v 1 -vf scale=640:-2 poster.jpg,
#              the same poster, with ffmpeg's threads (auto) and with one.
# Each RUNS times (default 5) in turn; wall time, CPU and peak RSS from
# /usr/bin/time; the medians in a table, with uptime before and after (the
# machine may be shared).  Needs a plain build (cmake --build build) and
# ffmpeg (scripts/install-deps.sh).  Usage: bench/video.sh
#   RUNS=9 SECONDS_=60 POSITION=50 bench/video.sh
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=${RUNS:-5}
secs=${SECONDS_:-30}
position=${POSITION:-10}
child=${RAP_BUILD_DIR:-$repo/build}/rap-processor
[[ -x $child ]] || {
	echo "bench: no $child (cmake --build build)" >&2
	exit 1
}
[[ -x /usr/bin/time ]] || {
	echo "bench: /usr/bin/time is missing (apt-get install time)" >&2
	exit 1
}

work=$(mktemp -d "${RAP_BENCH_DIR:-/tmp}/rap-bench-video.XXXXXX")
trap 'rm -rf "$work"' EXIT
clip=$work/clip.mp4
echo "bench: making $secs s of 1280x720 H.264 + AAC" >&2
ffmpeg -hide_banner -loglevel error -y -f lavfi -i "testsrc2=size=1280x720:rate=30" \
	-f lavfi -i sine=frequency=440 -t "$secs" -c:v libx264 -preset veryfast \
	-pix_fmt yuv420p -c:a aac "$clip"
mib=$(du -m "$clip" | cut -f1)
at=$(awk "BEGIN { printf \"%.3f\", $secs * $position / 100 }")
echo "bench: $mib MiB; poster at $at s; $runs runs; $(uptime)" >&2

# "wall cpu rss_mib" of a command, from /usr/bin/time.
measure() {
	/usr/bin/time -f '%e %U %S %M' -o "$work/t" "$@" >"$work/out" 2>"$work/err" || {
		echo "bench: $* failed:" >&2
		cat "$work/err" >&2
		exit 1
	}
	awk '{ printf "%.3f %.3f %.1f\n", $1, $2 + $3, $4 / 1024 }' "$work/t"
}

: >"$work/rows"
for ((i = 1; i <= runs; i++)); do
	{
		# The child's own usage, which video_child.py prints (not its own).
		echo "child $(/usr/bin/python3 "$repo/bench/video_child.py" "$child" "$clip" \
			"{\"position\":$position}" "$work/poster.jpg")"
		echo "ffprobe $(measure ffprobe -v error -show_format -show_streams "$clip")"
		echo "ffmpeg $(measure ffmpeg -v error -y -ss "$at" -i "$clip" -frames:v 1 \
			-vf scale=640:-2 "$work/ff.jpg")"
		echo "ffmpeg-1-thread $(measure ffmpeg -v error -threads 1 -y -ss "$at" -i "$clip" \
			-frames:v 1 -vf scale=640:-2 -threads 1 "$work/ff1.jpg")"
	} >>"$work/rows"
done
# A failed child leaves its row empty (a substitution's status is lost).
[[ $(grep -c '^child [0-9]' "$work/rows") == "$runs" ]] || {
	echo "bench: a child run failed" >&2
	exit 1
}
echo
echo "| $secs s of 720p H.264, poster at $position % | wall s | CPU s | peak RSS MiB |"
echo "|---|---|---|---|"
for what in child ffprobe ffmpeg ffmpeg-1-thread; do
	awk -v w="$what" '$1 == w { n++; a[n] = $2; c[n] = $3; r[n] = $4 }
		function med(x, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
			if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t } return x[int((n + 1) / 2)] }
		END { printf "| %s | %.3f | %.3f | %.1f |\n", w, med(a, n), med(c, n), med(r, n) }' \
		"$work/rows"
done
echo
echo "bench: poster $(head -c 3 "$work/poster.jpg" | od -An -tx1 | tr -d ' \n') (ffd8ff: a JPEG); $(uptime)" >&2
