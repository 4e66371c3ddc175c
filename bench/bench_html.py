"""HTML benchmark: export time and file size of explore pages of 500, 2,000 and 10,000 entities, and
how long headless Chromium takes to make them interactive (layout settled and frozen).

The neighbourhoods are breadth-first walks from one flagged firm of a synthetic case (bench/synth.py),
capped at each size. Export is timed on a loaded graph (loading the case is timed apart), median of
``--repeat`` runs after one warm-up. Time to interactive is read in the page: ``performance.now()``
when the page's layout finished, i.e. milliseconds since navigation started, in a fresh browser
context each run. One JSON object per measurement goes to stdout, with the machine's 1-minute load
average: on a shared machine the minimum of the runs is the closest to an idle one.

Usage: ``python bench/bench_html.py [--case CASE | --companies 20000] [--sizes 500 2000 10000]
[--browser-sizes 500 2000 10000] [--repeat 3] [--workdir DIR]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import synth

import graphinv
from graphinv.export.html import explore, neighbourhood

__all__ = ["main"]

CHROMIUM = os.environ.get("GRAPHINV_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def emit(record: dict) -> None:
    print(json.dumps(record), flush=True)


def build_case(workdir: Path, companies: int) -> Path:
    case = workdir / f"synth-{companies}.graphinv"
    if case.exists():
        return case
    bundle = workdir / f"bundle-{companies}"
    print(f"generating {companies:,} companies in {bundle}", file=sys.stderr)
    synth.generate(bundle, companies)
    print(f"ingesting into {case}", file=sys.stderr)
    graphinv.ingest(case, [bundle])
    return case


def pick_seed(graph, largest: int) -> str:
    """A flagged firm whose neighbourhood reaches the largest size asked for (deterministic)."""
    flagged = sorted(n for n, a in graph.nodes(data=True) if a.get("flagged") and a.get("kind") == "Company")
    for node in flagged:
        if len(neighbourhood(graph, [node], hops=1000, max_nodes=largest).distance) >= largest:
            return node
    raise SystemExit(f"no flagged firm reaches {largest:,} entities; use a bigger case (--companies)")


def time_to_interactive(browser, path: Path) -> dict:
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    started = time.perf_counter()
    page.goto(path.as_uri(), timeout=300_000)
    page.wait_for_function("() => window.graphinv && window.graphinv.ready", polling=50, timeout=300_000)
    wall = time.perf_counter() - started
    ready_ms = page.evaluate("() => graphinv.readyAt")
    parsed_ms = page.evaluate("() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd")
    context.close()
    return {"ready_s": round(ready_ms / 1000, 2), "script_done_s": round(parsed_ms / 1000, 2), "wall_s": round(wall, 2), "errors": errors}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", type=Path, help="an existing case file (default: build a synthetic one)")
    parser.add_argument("--companies", type=int, default=20_000, help="size of the synthetic case to build")
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 2_000, 10_000])
    parser.add_argument("--browser-sizes", type=int, nargs="*", default=[500, 2_000, 10_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-html-"))
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("GRAPHINV_CACHE_DIR", str(workdir / "cache"))
    case = args.case or build_case(workdir, args.companies)

    started = time.perf_counter()
    graph = graphinv.load_graph(case)
    emit({"what": "load_graph", "case": str(case), "nodes": graph.number_of_nodes(), "links": graph.number_of_edges(),
          "seconds": round(time.perf_counter() - started, 2)})
    seed = pick_seed(graph, max(args.sizes))

    pages: dict[int, Path] = {}
    explore(graph, [seed], hops=1000, max_nodes=min(args.sizes), output=workdir / "warmup.html")
    for size in args.sizes:
        out = workdir / f"explore-{size}.html"
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            explore(graph, [seed], hops=1000, max_nodes=size, output=out)
            times.append(time.perf_counter() - t0)
        text = out.read_text(encoding="utf-8")
        links = text.count('"rel":')
        pages[size] = out
        emit({"what": "export", "entities": size, "links": links, "seconds_min": round(min(times), 3),
              "seconds_median": round(statistics.median(times), 3), "seconds_max": round(max(times), 3),
              "bytes": out.stat().st_size, "load_avg_1m": round(os.getloadavg()[0], 2)})

    if args.browser_sizes:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            for size in args.browser_sizes:
                if size not in pages:
                    continue
                runs = [time_to_interactive(browser, pages[size]) for _ in range(args.repeat)]
                ready = [r["ready_s"] for r in runs]
                emit({"what": "time_to_interactive", "entities": size, "ready_s_min": min(ready),
                      "ready_s_median": statistics.median(ready), "ready_s_max": max(ready),
                      "script_done_s_median": statistics.median(r["script_done_s"] for r in runs),
                      "errors": sorted({e for r in runs for e in r["errors"]}), "load_avg_1m": round(os.getloadavg()[0], 2)})
            browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
