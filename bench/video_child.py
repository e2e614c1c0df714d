#!/usr/bin/env python3
"""Runs build/rap-processor --type video.probe as the worker starts it (the
file on fd 0, the START frame on fd 3, frames read back from fd 1), writes
the poster to OUT and prints the child's own "wall_s cpu_s peak_rss_mib"
(wait4's usage of the child alone, not of this script).  Fails unless the
child sent a RESULT.  Usage: video_child.py PROCESSOR FILE PARAMS_JSON OUT
"""
import json
import os
import struct
import subprocess
import sys
import time

FRAME_START, FRAME_OUTPUT_DATA, FRAME_RESULT, FRAME_FAIL = 1, 5, 7, 8


def main():
    proc, path, params, out = sys.argv[1:5]
    start = json.dumps({"type": "video.probe", "job_id": "00000000-0000-4000-8000-000000000000",
                        "params": json.loads(params), "input_size": os.path.getsize(path)}).encode()
    r, w = os.pipe()
    os.write(w, bytes([FRAME_START]) + struct.pack(">I", len(start)) + start)
    os.close(w)
    os.dup2(r, 3, inheritable=True)
    with open(path, "rb") as f:
        t0 = time.monotonic()
        p = subprocess.Popen([proc, "--type", "video.probe", "--memory-mb", "512", "--cpu-s", "600"],
                             stdin=f, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, pass_fds=(3,))
        os.close(3)
        data = p.stdout.read()
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
    result, i, poster = None, 0, b""
    while i + 5 <= len(data):
        kind, n = data[i], struct.unpack(">I", data[i + 1:i + 5])[0]
        body = data[i + 5:i + 5 + n]
        i += 5 + n
        if kind == FRAME_OUTPUT_DATA:
            poster += body
        elif kind == FRAME_RESULT:
            result = json.loads(body)
        elif kind == FRAME_FAIL:
            sys.exit("video_child: FAIL " + body.decode())
    if result is None or status != 0:
        sys.exit("video_child: no result (status %d)" % status)
    with open(out, "wb") as f:
        f.write(poster)
    print("%.3f %.3f %.1f" % (wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024))


if __name__ == "__main__":
    main()
