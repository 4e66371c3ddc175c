"""The case file's floor: how fast SQLite alone stores an ingested case's rows, with no parsing.

Issue 2 asks for 100,000 bundle rows a second end to end. This reads the stored rows of a case
that ``graphinv ingest`` already wrote (statements, links, flags: the very tuples ingest
inserts), then times only putting them into a fresh file of the same layout the way the writer
does (the case's own CREATE statements; one transaction; ``PRAGMA cache_size`` and sorter threads
as ingest sets them; the id, tax and name indexes built after the rows): Python building no
tuple, parsing nothing, checking nothing. The result is the time below which no ingest into this
layout can go, set against the time the target allows for the case's bundle rows (rows read /
100,000). One JSON object per repeat goes to stdout.

Usage: ``python bench/bench_store_floor.py CASE [--repeat 2] [--workdir DIR]`` (CASE: e.g. the
case ``bench/bench_ingest.py --workdir DIR`` leaves in DIR)
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import tempfile
import time
from pathlib import Path

__all__ = ["main"]

TARGET_ROWS_PER_S = 100_000
_DEFERRED = ("statement_id", "statement_tax", "statement_name")  # built after the rows, as ingest does


def _read(case: Path) -> tuple[int, list[str], dict[str, list[tuple[object, ...]]]]:
    """The case's bundle rows read, its layout (the file's own CREATE statements) and its rows."""
    db = sqlite3.connect(f"file:{case}?mode=ro", uri=True)
    try:
        read = db.execute("SELECT COALESCE(SUM(rows_read), 0) FROM source").fetchone()[0]
        schema = [sql for (sql,) in db.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid")]
        rows = {
            "statement": db.execute("SELECT source_id, line, id, kind, tax_key, name_key, props FROM statement ORDER BY rowid").fetchall(),
            "link": db.execute("SELECT source_id, line, rel, src, dst, props FROM link").fetchall(),
            "flag": db.execute("SELECT source_id, line, entity_id, list, reason, date FROM flag").fetchall(),
        }
    finally:
        db.close()
    return int(read), schema, rows


def _store(path: Path, schema: list[str], rows: dict[str, list[tuple[object, ...]]]) -> dict[str, float]:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA cache_size = -65536")
    deferred = [s for s in schema if any(f"INDEX {name} " in s for name in _DEFERRED)]
    for statement in schema:
        if statement not in deferred:
            db.execute(statement)
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    db.execute("BEGIN")
    for table, width in (("statement", 7), ("link", 6), ("flag", 6)):
        at = time.perf_counter()
        db.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * width)})", rows[table])
        seconds[f"{table}_s"] = round(time.perf_counter() - at, 2)
    at = time.perf_counter()
    db.execute("PRAGMA threads = 2")
    for statement in deferred:
        db.execute(statement)
    seconds["indexes_s"] = round(time.perf_counter() - at, 2)
    at = time.perf_counter()
    db.execute("COMMIT")
    seconds["commit_s"] = round(time.perf_counter() - at, 2)
    seconds["total_s"] = round(time.perf_counter() - started, 2)
    db.close()
    return seconds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("case", type=Path)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--workdir", type=Path, default=None)
    ns = ap.parse_args(argv)
    if not ns.case.exists():
        ap.error(f"no such case file: {ns.case} (ingest a bundle first, e.g. with bench/bench_ingest.py --workdir DIR)")
    read, schema, rows = _read(ns.case)
    stored = sum(len(r) for r in rows.values())
    workdir = ns.workdir or Path(tempfile.mkdtemp(prefix="graphinv-floor-"))
    for run in range(ns.repeat):
        target = workdir / f"floor-{run}.sqlite"
        target.unlink(missing_ok=True)
        seconds = _store(target, schema, rows)
        target.unlink(missing_ok=True)
        print(
            json.dumps(
                {
                    "case": str(ns.case),
                    "bundle_rows_read": read,
                    "stored_rows": stored,
                    **seconds,
                    "floor_rows_per_s": round(read / seconds["total_s"]),
                    "target_allows_s": round(read / TARGET_ROWS_PER_S, 2),
                    "load_average": [round(x, 2) for x in os.getloadavg()],
                }
            ),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
