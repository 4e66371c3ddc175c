"""Ingest benchmark: time and peak memory of `graphinv ingest` on synthetic bundles of given sizes.

For each ``--companies N`` a bundle is generated with bench/synth.py (timed separately, not part
of the result), then ingested into a fresh case file by a fresh ``python -m graphinv ingest
--no-resolve`` subprocess: the ingest alone (entity resolution has its own benchmark,
bench/bench_resolve.py); ``--with-resolution`` also times the default command, which resolves
after ingesting. The child's peak RSS comes from ``os.wait4`` on that one child (Linux reports
the largest of the child and the parse worker it forks and reaps), so scales never see each
other's memory. One JSON object per scale goes to stdout, with the load average around the run;
progress goes to stderr.

Usage: ``python bench/bench_ingest.py --companies 100000 [--companies 1000000 ...] [--workdir DIR]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import synth  # noqa: E402

__all__ = ["main", "run_ingest", "ingest_command"]


def ingest_command(case: Path, bundle: Path, *, resolve: bool = False) -> list[str]:
    """The measured command; one place to change if the CLI changes."""
    return [sys.executable, "-m", "graphinv", "ingest", str(case), str(bundle), *([] if resolve else ["--no-resolve"])]


def run_ingest(cmd: list[str], *, log_dir: Path, tag: str) -> dict:
    """Run ``cmd`` in its own process; return wall seconds, the child's peak RSS, exit code, logs.

    Output goes to files, not pipes, so a chatty child can never block on a full pipe while we
    sit in wait4.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    # Graph caches the ingest may build belong to this run, not to the user's cache.
    env.setdefault("GRAPHINV_CACHE_DIR", str(log_dir / "cache"))
    out_path, err_path = log_dir / f"{tag}.stdout", log_dir / f"{tag}.stderr"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                cwd=REPO, env=env)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        seconds = time.perf_counter() - t0
    # wait4 reaped the child: tell Popen, or it would try to reap it again.
    proc.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss is KiB on Linux, bytes on macOS.
    rss_bytes = usage.ru_maxrss if sys.platform == "darwin" else usage.ru_maxrss * 1024
    # CPU time of the child and of the worker it reaps: what the run costs whatever else the
    # machine is doing (the wall time on a shared machine also counts waiting for a core).
    cpu = usage.ru_utime + usage.ru_stime
    return {"seconds": seconds, "cpu_seconds": cpu, "peak_rss_mb": rss_bytes / 2**20, "returncode": proc.returncode,
            "stdout": out_path, "stderr": err_path}


def _tail(path: Path, lines: int = 40) -> str:
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(text[-lines:])


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size if path.exists() else 0


def _fresh_case(case: Path) -> None:
    for p in (case, *(case.with_name(case.name + s) for s in ("-wal", "-shm", "-journal",
                                                                   ".rejects.csv"))):
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()


def _bundle(workdir: Path, companies: int, seed: int, reuse: bool) -> tuple[Path, dict, float]:
    bundle = workdir / f"bundle-{companies}-s{seed}"
    manifest = workdir / f"bundle-{companies}-s{seed}.json"  # beside, not inside, the bundle
    if reuse and manifest.exists() and bundle.is_dir():
        counts = json.loads(manifest.read_text())
        if all((bundle / name).exists() for name in counts):
            return bundle, counts, 0.0
    if bundle.exists():
        shutil.rmtree(bundle)
    t0 = time.perf_counter()
    counts = synth.generate(bundle, companies, seed=seed)
    seconds = time.perf_counter() - t0
    manifest.write_text(json.dumps(counts))
    return bundle, counts, seconds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Benchmark `graphinv ingest` on synthetic bundles.",
        epilog="example: python bench/bench_ingest.py --companies 100000 --companies 1000000")
    ap.add_argument("--companies", type=int, action="append", required=True,
                    help="bundle size in companies; repeat for several scales")
    ap.add_argument("--workdir", type=Path, default=None,
                    help="where bundles, case files and logs go (default: a temporary folder, "
                         "removed afterwards)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--reuse", action="store_true",
                    help="reuse a bundle already generated in --workdir with the same size and seed")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    ap.add_argument("--with-resolution", action="store_true",
                    help="also time the default `graphinv ingest` (ingest, then entity resolution) on a fresh case")
    ns = ap.parse_args(argv)

    temporary = ns.workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="graphinv-bench-")) if temporary else ns.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    status = 0
    try:
        for companies in ns.companies:
            bundle, counts, gen_s = _bundle(workdir, companies, ns.seed, ns.reuse)
            rows = sum(counts.values())
            bundle_mb = _size(bundle) / 2**20
            how = "reused" if gen_s == 0.0 else f"generated in {gen_s:.1f} s"
            print(f"bundle {bundle}: {companies:,} companies, {rows:,} rows, {bundle_mb:.1f} MB, "
                  f"{how}", file=sys.stderr, flush=True)
            case = workdir / f"case-{companies}.graphinv"
            _fresh_case(case)
            load_before = os.getloadavg()
            res = run_ingest(ingest_command(case, bundle), log_dir=workdir, tag=f"ingest-{companies}")
            load_after = os.getloadavg()
            if res["returncode"] != 0:
                print(f"ingest of {companies:,} companies failed with exit code "
                      f"{res['returncode']} after {res['seconds']:.1f} s; stderr tail "
                      f"({res['stderr']}):\n{_tail(res['stderr'])}", file=sys.stderr)
                status = 1
                break
            rejects = case.with_name(case.name + ".rejects.csv")
            if rejects.exists():
                with open(rejects, encoding="utf-8", errors="replace") as f:
                    n_rej = max(0, sum(1 for _ in f) - 1)
                if n_rej:
                    print(f"warning: {n_rej:,} rows rejected, see {rejects}", file=sys.stderr)
            seconds = res["seconds"]
            result = {
                "companies": companies,
                "rows": rows,
                "command": "graphinv ingest --no-resolve",
                "seconds": round(seconds, 2),
                "rows_per_s": round(rows / seconds) if seconds else None,
                "cpu_seconds": round(res["cpu_seconds"], 2),
                "peak_rss_mb": round(res["peak_rss_mb"], 1),
                "case_mb": round(_size(case) / 2**20, 1),
                "bundle_mb": round(bundle_mb, 1),
                "generate_seconds": round(gen_s, 2),
                "load_before": [round(x, 2) for x in load_before],
                "load_after": [round(x, 2) for x in load_after],
            }
            if ns.with_resolution:
                resolved = workdir / f"case-{companies}-resolved.graphinv"
                _fresh_case(resolved)
                both = run_ingest(ingest_command(resolved, bundle, resolve=True), log_dir=workdir,
                                  tag=f"ingest-resolve-{companies}")
                if both["returncode"] != 0:
                    print(f"ingest with resolution failed ({both['returncode']}); see {both['stderr']}",
                          file=sys.stderr)
                    status = 1
                result["with_resolution"] = {
                    "seconds": round(both["seconds"], 2),
                    "cpu_seconds": round(both["cpu_seconds"], 2),
                    "peak_rss_mb": round(both["peak_rss_mb"], 1),
                    "load_after": [round(x, 2) for x in os.getloadavg()],
                }
                _fresh_case(resolved)
            print(json.dumps(result), flush=True)
    finally:
        if temporary and not ns.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        elif temporary:
            print(f"kept {workdir}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
