"""The demo: the bundled fictional precursor case, ingested and summarised."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from graphinv.ingest import IngestReport, Progress, ingest
from graphinv.resolve import ResolveReport, resolve
from graphinv.store import CaseFile

__all__ = ["DemoResult", "fixture_dir", "run_demo"]


def fixture_dir() -> Path:
    """The fictional case shipped with graphinv (inside the wheel, or in a source checkout)."""
    packaged = Path(__file__).resolve().parent / "fixtures" / "precursor-case"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "fixtures" / "precursor-case"


@dataclass(frozen=True)
class DemoResult:
    case: Path
    ingest: IngestReport
    resolution: ResolveReport
    counts: dict[str, int]


def run_demo(out_dir: str | os.PathLike[str] = "graphinv-demo", *, progress: Progress | None = None) -> DemoResult:
    """Build the fixture case in ``out_dir`` (re-running is a no-op) and gather its summary."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    case = folder / "precursor-case.graphinv"
    report = ingest(case, [fixture_dir()], dataset="precursor-case", progress=progress)
    resolution = resolve(case)
    with CaseFile(case) as opened:
        counts = opened.counts()
    return DemoResult(case=case, ingest=report, resolution=resolution, counts=counts)
