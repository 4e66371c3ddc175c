"""The parser's floor: the CPU that reading and preparing a bundle's rows takes, with no store.

Issue 2 asks for 100,000 bundle rows a second end to end. ``bench_store_floor.py`` times the
store alone; this times the other half alone: each file of a canonical bundle read with the csv
module and turned into the case file's statement and link rows by the fast path (ids, keys,
checks, JSON: ``graphinv.ingest.fast``), in this process, with nothing written and nothing
pickled, then ``csv.reader`` alone over the same files for comparison. Reported as CPU seconds
(``time.process_time``) per file and in total, against the time the target allows for the rows
on one core and on the machine's two. One JSON object a line goes to stdout.

Usage: ``python bench/bench_parse_floor.py BUNDLE`` (BUNDLE: e.g. the bundle
``bench/bench_ingest.py --workdir DIR`` leaves in DIR)
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from graphinv.ingest import fast
from graphinv.ingest.bundle import REQUIRED_COLUMNS
from graphinv.ingest.csvfile import CsvBatches

__all__ = ["main"]

TARGET_ROWS_PER_S = 100_000


def _prepare(path: Path, kind: str) -> int:
    rows = CsvBatches(path, required=REQUIRED_COLUMNS[kind], size=fast._BATCH)
    kernel = fast.KERNELS[kind](rows.columns, (1, "bench"))
    count = 0
    try:
        for batch in rows:
            count += len(fast._prepare(kernel, batch))
    finally:
        rows.close()
    return count


def _read(path: Path) -> int:
    with path.open(newline="", encoding="utf-8") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bundle", type=Path)
    ns = ap.parse_args(argv)
    files = [(ns.bundle / f"{kind}.csv", kind) for kind in fast.KERNELS if (ns.bundle / f"{kind}.csv").exists()]
    if not files:
        ap.error(f"no bundle file with a fast path in {ns.bundle} (e.g. companies.csv)")
    rows = prepare_s = read_s = 0.0
    for path, kind in files:
        started = time.process_time()
        count = _prepare(path, kind)
        took = time.process_time() - started
        started = time.process_time()
        _read(path)
        reading = time.process_time() - started
        rows += count
        prepare_s += took
        read_s += reading
        print(
            json.dumps(
                {
                    "file": path.name,
                    "rows": count,
                    "prepare_cpu_s": round(took, 2),
                    "us_per_row": round(took / max(count, 1) * 1e6, 1),
                    "csv_reader_cpu_s": round(reading, 2),
                }
            ),
            flush=True,
        )
    print(
        json.dumps(
            {
                "bundle": str(ns.bundle),
                "rows": int(rows),
                "prepare_cpu_s": round(prepare_s, 2),
                "csv_reader_cpu_s": round(read_s, 2),
                "us_per_row": round(prepare_s / max(rows, 1) * 1e6, 1),
                "target_allows_s": round(rows / TARGET_ROWS_PER_S, 2),
                "load_average": [round(x, 2) for x in os.getloadavg()],
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
