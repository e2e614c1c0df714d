#!/usr/bin/python3
"""Uploads a file to upload-api with tus-py-client (Debian's python3-tuspy),
used as any Python user would: TusClient, an Uploader with a URL storage
(so that a later run resumes the same upload), sha1 Upload-Checksum on
every PATCH (unless --no-checksum), and the client's own retries.

Usage: tuspy_upload.py ENDPOINT FILE STORE [--chunk N] [--stop-at N]
                       [--retries N] [--no-checksum]
Env:   RAP_API_KEY (default dev-key)

Prints one JSON object a line on stdout: {"event": "start", "url", "offset"}
once the client knows its upload (a resumed one asks HEAD for the offset),
{"event": "chunk", "offset"} after each PATCH, then {"event": "stopped"} or
{"event": "done"}; on failure {"event": "error", "error", "status"} and exit
status 1.
"""
import argparse
import json
import os
import sys

from tusclient import client
from tusclient.exceptions import TusCommunicationError, TusUploadFailed
from tusclient.storage import filestorage


def say(**fields):
    print(json.dumps(fields), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("endpoint")
    ap.add_argument("file")
    ap.add_argument("store")
    ap.add_argument("--chunk", type=int, default=2 * 1024 * 1024)
    ap.add_argument("--stop-at", type=int, default=0)
    ap.add_argument("--retries", type=int, default=0)
    ap.add_argument("--no-checksum", action="store_true")
    a = ap.parse_args()

    key = os.environ.get("RAP_API_KEY", "dev-key")
    tus = client.TusClient(a.endpoint, headers={"Authorization": "Bearer " + key})
    try:
        up = tus.uploader(
            a.file,
            chunk_size=a.chunk,
            metadata={"filename": os.path.basename(a.file),
                      "filetype": "application/octet-stream"},
            store_url=True,
            url_storage=filestorage.FileStorage(a.store),
            upload_checksum=not a.no_checksum,
            retries=a.retries,
            retry_delay=1,
        )
        if not up.url:
            up.set_url(up.create_url())
            up.offset = 0
        say(event="start", url=up.url, offset=up.offset)
        size = up.get_file_size()
        stop = up.stop_at = a.stop_at or size  # chunks end there too
        while up.offset < stop:
            up.upload_chunk()
            say(event="chunk", offset=up.offset)
        say(event="done" if up.offset == size else "stopped", url=up.url, offset=up.offset)
    except (TusCommunicationError, TusUploadFailed) as e:
        say(event="error", error=str(e), status=getattr(e, "status_code", None))
        sys.exit(1)


if __name__ == "__main__":
    main()
