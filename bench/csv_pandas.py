#!/usr/bin/python3
"""What a Python user would write for csv.validate, the yardstick of
bench/csv.sh: pandas read_csv(chunksize=...) over a local file, the same
checks as the benchmark's csv.validate params, the valid rows written out
as CSV, and the same counts.  Prints one JSON line: rows, valid, failed,
seconds, MiB/s and the process's peak RSS.

  bench/csv_pandas.py FILE [--schema] [--out FILE]

Without --schema: structure only (ragged rows), as csv.validate without
columns.  With --schema: the columns of bench/csv.sh's SCHEMA (id integer
required unique, name required at most 64 characters, email, amount a
decimal >= 0, day a date, active a boolean).
"""
import csv
import json
import os
import resource
import sys
import time

import pandas as pd

EMAIL = r'[^@\s]+@[^@\s]+\.[^@\s]+'
BOOLS = {'true', 'false', '1', '0', 'yes', 'no'}
CHUNK = 200_000


def main():
    args = sys.argv[1:]
    path = args[0]
    schema = '--schema' in args
    out_path = args[args.index('--out') + 1] if '--out' in args else '/dev/null'
    start = time.monotonic()
    rows = failed = 0
    seen = set()
    with open(out_path, 'w', newline='') as out:
        reader = pd.read_csv(path, dtype=str, keep_default_na=False, chunksize=CHUNK,
                             on_bad_lines='skip', engine='c')
        header = True
        for chunk in reader:
            n = len(chunk)
            rows += n
            # A row with fewer fields than the header reads with empty
            # trailing fields: that is csv.validate's ragged_row.
            bad = chunk.iloc[:, -1].eq('') & chunk.iloc[:, -2].eq('')
            if schema:
                ids = pd.to_numeric(chunk['id'], errors='coerce')
                bad |= ids.isna() | (ids % 1 != 0)
                dup = chunk['id'].map(lambda v: v in seen)
                seen.update(chunk['id'][~bad].tolist())
                bad |= dup
                bad |= chunk['name'].eq('') | chunk['name'].str.len().gt(64)
                bad |= ~chunk['email'].str.fullmatch(EMAIL)
                amount = pd.to_numeric(chunk['amount'], errors='coerce')
                bad |= amount.isna() | amount.lt(0)
                day = pd.to_datetime(chunk['day'], format='%Y-%m-%d', errors='coerce')
                bad |= day.isna()
                bad |= ~chunk['active'].str.lower().isin(BOOLS)
            failed += int(bad.sum())
            chunk[~bad].to_csv(out, header=header, index=False, quoting=csv.QUOTE_MINIMAL)
            header = False
    secs = time.monotonic() - start
    size = os.path.getsize(path)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({'rows': rows, 'valid': rows - failed, 'failed': failed,
                      'seconds': round(secs, 2), 'mib_s': round(size / 2**20 / secs, 1),
                      'max_rss_mib': round(rss, 1)}))


if __name__ == '__main__':
    main()
