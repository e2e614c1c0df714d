#!/usr/bin/python3
"""The Pillow yardstick of bench/thumbnail.sh: what a Celery user would write.

Each file through a pool of PROCS worker processes (Celery's prefork):
Image.open, thumbnail((SIZE, SIZE)) (which calls draft() itself, so a JPEG
is decoded at 1/2, 1/4 or 1/8 of its size when that still covers the box),
ImageOps.exif_transpose, then saved as a JPEG of quality 80 with optimised
Huffman tables, no metadata: the platform's defaults. Debian's python3-pil.

Prints one JSON line: seconds (pool start to last thumbnail written), the
count, the CPU seconds of the workers and the peak RSS of the largest worker
(getrusage of the reaped children, the figure /usr/bin/time -v gives).
Usage: thumbnail_pillow.py --out DIR [--procs 2] [--size 256] FILE...
"""
import argparse
import json
import multiprocessing
import os
import resource
import time

from PIL import Image, ImageOps


def thumb(job):
    path, out, size = job
    with Image.open(path) as im:
        im.thumbnail((size, size))
        im = ImageOps.exif_transpose(im)
        if im.mode != "RGB":
            im = im.convert("RGB")
        name = os.path.join(out, os.path.splitext(os.path.basename(path))[0] + "_thumb.jpg")
        im.save(name, "JPEG", quality=80, optimize=True)
        return im.size


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    jobs = [(f, a.out, a.size) for f in a.files]
    start = time.monotonic()
    with multiprocessing.Pool(a.procs) as pool:
        sizes = list(pool.imap_unordered(thumb, jobs))
        pool.close()
        pool.join()
    seconds = time.monotonic() - start
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({
        "what": "pillow", "procs": a.procs, "images": len(sizes),
        "max_side": max(max(s) for s in sizes),
        "seconds": round(seconds, 3),
        "cpu_s": round(ru.ru_utime + ru.ru_stime, 3),
        "max_rss_mib": round(ru.ru_maxrss / 1024, 1),
        "pillow": Image.__version__,
    }))


if __name__ == "__main__":
    main()
