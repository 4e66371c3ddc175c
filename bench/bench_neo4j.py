"""Benchmark: pushing a case to a Bolt server, the neo4j-admin CSV export, and playbook latency.

    python bench/bench_neo4j.py /tmp/bench/case-100000.graphinv [--json out.json]

Starts one private ArcadeDB Bolt server (the same launcher as the no-server engine), pushes the
case with ``graphinv.export.neo4j.push`` (5,000-row UNWIND batches, constraints first), pushes it
again (the idempotent re-push), writes the neo4j-csv export, then runs the investigation playbooks
once each over Bolt with parameters picked from the graph. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from graphinv.export.neo4j import write_neo4j_csv
from graphinv.playbooks import case_rows, run_playbook
from graphinv.store import CaseFile
from graphinv.store.arcade import start_server
from graphinv.store.neo4j import connect, run_cypher, write_graph


def _pick(target) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Parameters that name real entities of a synthetic case: a flagged firm with owners, a chain."""
    with connect(target) as driver:
        _, rows, _ = run_cypher(driver, target,
            "MATCH (o)-[:OWNS]->(c:Company) WHERE c.flagged RETURN c.id AS firm, o.id AS owner ORDER BY c.id LIMIT 1")
        firm, owner = rows[0]["firm"], rows[0]["owner"]
        _, rows, _ = run_cypher(driver, target,
            "MATCH (c:Company {id: $firm})<-[:OWNS]-(o)-[:OWNS]->(d:Company) WHERE d <> c RETURN d.id AS other LIMIT 1", {"firm": firm})
        other = rows[0]["other"] if rows else owner
        _, rows, _ = run_cypher(driver, target,
            "MATCH (s:Shipment) WHERE s.chemical IS NOT NULL RETURN s.chemical AS chemical, count(*) AS n ORDER BY n DESC LIMIT 1")
        chemical = rows[0]["chemical"] if rows else "4-piperidone"
    return {"firm": firm, "owner": owner, "other": other, "chemical": chemical}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("case", type=Path)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--heap", default=None, help="JVM heap of the server, e.g. 8g")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--skip-second-push", action="store_true")
    parser.add_argument("--skip", action="append", default=[], help="a playbook not to time (repeat)")
    args = parser.parse_args()
    out: dict[str, object] = {"case": str(args.case), "machine": f"{platform.machine()} {os.cpu_count()} cores", "batch": args.batch}

    started = time.perf_counter()
    with CaseFile(args.case) as case:
        nodes, links = case_rows(case)
    out["prepare_s"] = round(time.perf_counter() - started, 1)
    out["nodes"], out["links"] = len(nodes), len(links)

    with tempfile.TemporaryDirectory(prefix="bench-neo4j-") as tmp:
        server = start_server(Path(tmp) / "databases", create=("bench",), heap=args.heap)
        try:
            target = server.target("bench", title="bench server")
            first = write_graph(target, nodes, links, batch=args.batch)
            out["push_s"] = round(first.seconds, 1)
            out["push_rows_per_s"] = round(first.rows_per_second)
            print("push", out["push_s"], "s", out["push_rows_per_s"], "rows/s", file=sys.stderr, flush=True)
            if not args.skip_second_push:
                again = write_graph(target, nodes, links, batch=args.batch)
                out["repush_s"] = round(again.seconds, 1)
                out["repush_created"] = again.nodes_created + again.links_created
                print("re-push", out["repush_s"], "s", file=sys.stderr, flush=True)
            del nodes, links
            picked = _pick(target)
            runs = {
                "shared-addresses": {"flagged": True},
                "shared-owners": {"flagged": True},
                "cluster": {"around": [picked["firm"]], "hops": 2},
                "ubo": {"firm": picked["firm"]},
                "path": {"source": picked["firm"], "target": picked["other"]},
                "freeze-list": {"around": [picked["firm"]]},
                "new-importers": {"chemical": picked["chemical"], "since": "2019-01-01"},
                "risk": {"top": 10},
                "hubs": {},
                "officers-shared-by-flagged": {},
            }
            latency: dict[str, object] = {}
            for name, params in runs.items():
                if name in args.skip:
                    continue
                t = time.perf_counter()
                try:
                    result = run_playbook(name, params, neo4j=target)
                    latency[name] = {"s": round(time.perf_counter() - t, 2), "rows": len(result.rows)}
                except Exception as exc:  # noqa: BLE001 - a benchmark reports, it does not stop
                    latency[name] = {"s": round(time.perf_counter() - t, 2), "error": str(exc)[:200]}
                print(name, latency[name], file=sys.stderr, flush=True)
            out["playbooks"] = latency
        finally:
            server.stop()

    with tempfile.TemporaryDirectory(prefix="bench-csv-") as tmp:
        t = time.perf_counter()
        done = write_neo4j_csv(args.case, Path(tmp) / "csv")
        seconds = time.perf_counter() - t
        out["csv_s"] = round(seconds, 1)
        out["csv_rows_per_s"] = round((done.nodes + done.links) / seconds)
        out["csv_mb"] = round(sum(p.stat().st_size for p in (*done.node_files, *done.link_files)) / 1e6)
    out["peak_rss_mb_python"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    text = json.dumps(out, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
