"""Benchmark: pushing a case to a Bolt server, the neo4j-admin CSV export, and playbook latency.

    python bench/bench_neo4j.py /tmp/bench/case-100000.graphinv [--json out.json]

Starts one private ArcadeDB Bolt server (the same launcher as the no-server engine), pushes the
case as ``graphinv neo4j push`` does (the case read in chunks, constraints first, CREATE into an
empty database, secondary indexes last), pushes it again (the idempotent re-push: MERGE finds
everything), runs the playbooks once each over Bolt with parameters picked from the graph, then
writes the neo4j-csv export (the "native" bulk route: ``neo4j-admin database import`` reads it).
Prints one JSON object; progress goes to standard error. Peak memory is measured for this
process and, from /proc, for the server's process tree (the JVM).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from graphinv.export.neo4j import write_neo4j_csv
from graphinv.playbooks import case_stream, run_playbook
from graphinv.store import CaseFile
from graphinv.store.arcade import start_server
from graphinv.store.neo4j import connect, run_cypher, write_stream


#: The timed playbooks, in the order they run. Around one firm first, whole-graph listings next,
#: risk last: an abandoned query keeps the server busy, so the slowest go where they delay nothing.
#: Those around one firm need ``_pick``'s entities.
_PLAYBOOKS = ("ubo", "new-importers", "freeze-list", "officers-shared-by-flagged", "cluster", "path",
              "shared-addresses", "shared-owners", "hubs", "risk")
_AROUND = ("ubo", "new-importers", "freeze-list", "cluster", "path")


def _pick(target) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Parameters that name real entities of a synthetic case: a flagged firm with owners, a chain."""
    with connect(target) as driver:
        _, rows, _ = run_cypher(driver, target,
            "MATCH (c:Company)<-[:OWNS]-(o) WHERE c.flagged RETURN c.id AS firm, o.id AS owner ORDER BY c.id LIMIT 1")
        firm, owner = rows[0]["firm"], rows[0]["owner"]
        _, rows, _ = run_cypher(driver, target,
            "MATCH (c:Company {id: $firm})<-[:OWNS]-(o)-[:OWNS]->(d:Company) WHERE d <> c RETURN d.id AS other LIMIT 1", {"firm": firm})
        other = rows[0]["other"] if rows else owner
        _, rows, _ = run_cypher(driver, target,
            "MATCH (s:Shipment) WHERE s.chemical IS NOT NULL RETURN s.chemical AS chemical, count(*) AS n ORDER BY n DESC LIMIT 1")
        chemical = rows[0]["chemical"] if rows else "4-piperidone"
    return {"firm": firm, "owner": owner, "other": other, "chemical": chemical}


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants, in MB (Linux /proc)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                total += next((int(line.split()[1]) for line in fh if line.startswith("VmRSS:")), 0)
            with open(f"/proc/{p}/task/{p}/children") as fh:
                todo += [int(c) for c in fh.read().split()]
        except OSError:
            continue
    return total / 1024


class _Peak:
    """Samples the server's resident memory once a second."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            self.peak = max(self.peak, _tree_rss_mb(self.pid))

    def stop(self) -> float:
        self._stop.set()
        return round(self.peak)


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _push(target, case: Path, args: argparse.Namespace, label: str, out: dict) -> None:  # type: ignore[no-untyped-def]
    load = _load()
    with CaseFile(case) as opened, case_stream(opened) as stream:
        t = time.perf_counter()
        done = write_stream(target, stream.nodes(args.batch), stream.links(args.batch), batch=args.batch,
                            totals=(stream.node_count, 0), unique=not args.merge, index_after=not args.index_first)
        seconds = time.perf_counter() - t
    rows = done.nodes + done.links
    out[f"{label}_s"] = round(seconds, 1)
    out[f"{label}_rows"] = rows
    out[f"{label}_rows_per_s"] = round(rows / seconds)
    out[f"{label}_created"] = done.nodes_created + done.links_created
    out[f"{label}_load_before"] = load
    out[f"{label}_load_after"] = _load()
    print(label, out[f"{label}_s"], "s", out[f"{label}_rows_per_s"], "rows/s", "created", out[f"{label}_created"],
          "load", load, "->", out[f"{label}_load_after"], file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("case", type=Path)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--heap", default=None, help="JVM heap of the server, e.g. 6g (default: the engine's)")
    parser.add_argument("--query-heap-mb", type=int, default=None,
                        help="what running queries may hold in MB (default: the engine's, half the heap)")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--merge", action="store_true", help="MERGE even into an empty database (what the push did before)")
    parser.add_argument("--index-first", action="store_true", help="create the secondary indexes before loading")
    parser.add_argument("--skip-second-push", action="store_true")
    parser.add_argument("--skip-csv", action="store_true")
    parser.add_argument("--only-push", action="store_true", help="stop after the push(es)")
    parser.add_argument("--skip", action="append", default=[], help="a playbook not to time (repeat)")
    parser.add_argument("--only", action="append", default=[], help="time only this playbook (repeat)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds after which a playbook is abandoned")
    parser.add_argument("--keep", type=Path, default=None, help="keep the server's databases in this folder")
    parser.add_argument("--no-push", action="store_true", help="time the playbooks on the database kept in --keep by an earlier run")
    args = parser.parse_args()
    out: dict[str, object] = {
        "case": str(args.case), "machine": f"{platform.machine()} {os.cpu_count()} cores", "batch": args.batch,
        "merge": args.merge, "index_first": args.index_first, "started": time.strftime("%Y-%m-%d %H:%M:%S"),
    }

    with tempfile.TemporaryDirectory(prefix="bench-neo4j-") as tmp:
        databases = args.keep or Path(tmp) / "databases"
        if args.no_push and not (args.keep and (args.keep / "bench").is_dir()):
            parser.error("--no-push needs --keep FOLDER holding a database pushed by an earlier run")
        server = start_server(databases, create=() if args.no_push else ("bench",), heap=args.heap, query_heap_mb=args.query_heap_mb)
        peak = _Peak(server.process.pid)
        try:
            target = server.target("bench", title="bench server")
            if not args.no_push:
                _push(target, args.case, args, "push", out)
            if not args.skip_second_push and not args.no_push:
                _push(target, args.case, args, "repush", out)
            out["server_rss_mb_after_push"] = round(_tree_rss_mb(server.process.pid))
            if not args.only_push:
                timed = [name for name in _PLAYBOOKS if name not in args.skip and (not args.only or name in args.only)]
                # The whole-graph listings need no entity: on a large case, skip the look-ups too.
                picked = _pick(target) if set(timed) & set(_AROUND) else dict.fromkeys(("firm", "other", "chemical"))
                runs = {
                    "ubo": {"firm": picked["firm"]},
                    "new-importers": {"chemical": picked["chemical"], "since": "2019-01-01"},
                    "freeze-list": {"around": [picked["firm"]]},
                    "officers-shared-by-flagged": {},
                    "cluster": {"around": [picked["firm"]], "hops": 2},
                    "path": {"source": picked["firm"], "target": picked["other"]},
                    "shared-addresses": {"flagged": True},
                    "shared-owners": {"flagged": True},
                    "hubs": {},
                    "risk": {"top": 10},
                }
                latency: dict[str, object] = {}
                for name in timed:
                    params = runs[name]
                    latency[name] = _timed(name, params, target, args.timeout)
                    print(name, latency[name], file=sys.stderr, flush=True)
                out["playbooks"] = latency
        finally:
            out["server_peak_rss_mb"] = peak.stop()
            server.stop()

    if not args.skip_csv:
        with tempfile.TemporaryDirectory(prefix="bench-csv-") as tmp:
            t = time.perf_counter()
            done = write_neo4j_csv(args.case, Path(tmp) / "csv")
            seconds = time.perf_counter() - t
            out["csv_s"] = round(seconds, 1)
            out["csv_rows_per_s"] = round((done.nodes + done.links) / seconds)
            out["csv_mb"] = round(sum(p.stat().st_size for p in (*done.node_files, *done.link_files)) / 1e6)
            print("csv", out["csv_s"], "s", out["csv_rows_per_s"], "rows/s", file=sys.stderr, flush=True)
    out["peak_rss_mb_python"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    out["load_end"] = _load()
    text = json.dumps(out, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")


def _timed(name: str, params: dict, target, timeout: float) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """One run of a playbook, abandoned after ``timeout`` seconds (the server is told to stop it by
    closing the connection; ArcadeDB may still finish the query in the background)."""
    box: dict[str, object] = {}

    def run() -> None:
        t = time.perf_counter()
        try:
            result = run_playbook(name, params, neo4j=target)
            box.update(s=round(time.perf_counter() - t, 2), rows=len(result.rows))
        except Exception as exc:  # noqa: BLE001 - a benchmark reports, it does not stop
            box.update(s=round(time.perf_counter() - t, 2), error=str(exc)[:200])

    load = _load()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        return {"s": None, "error": f"stopped after {timeout:.0f} s", "load": load}
    return {**box, "load": load}


if __name__ == "__main__":
    main()
