"""The demo: the bundled fictional precursor case, ingested, resolved, investigated and drawn."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from graphinv.export.files import ensure_folder
from graphinv.export.report import write_demo_pages
from graphinv.ingest import IngestReport, Progress, ingest
from graphinv.query import (
    FreezeList,
    NewImporters,
    Risk,
    SharedAddresses,
    freeze_list,
    new_importers,
    risk,
    shared_addresses,
)
from graphinv.resolve import ResolveReport, resolve
from graphinv.store import CaseFile, load_graph

__all__ = ["DemoResult", "Headlines", "fixture_dir", "headlines", "run_demo"]

#: The chemical and date of the story: the firms that began importing 4-piperidone in 2019.
DEMO_CHEMICAL = "4-piperidone"
DEMO_SINCE = "2019-01-01"


def fixture_dir() -> Path:
    """The fictional case shipped with graphinv (inside the wheel, or in a source checkout)."""
    packaged = Path(__file__).resolve().parent / "fixtures" / "precursor-case"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "fixtures" / "precursor-case"


@dataclass(frozen=True)
class Headlines:
    """The findings an analyst reads first."""

    shared_addresses: SharedAddresses
    freeze_list: FreezeList
    new_importers: NewImporters
    risk: Risk


@dataclass(frozen=True)
class DemoResult:
    case: Path
    ingest: IngestReport
    resolution: ResolveReport
    counts: dict[str, int]
    headlines: Headlines
    explore_html: Path
    report_html: Path


def headlines(case: str | os.PathLike[str], *, chemical: str = DEMO_CHEMICAL, since: str = DEMO_SINCE, top: int = 10) -> Headlines:
    """Shared addresses among flagged entities, the freeze list of every flagged firm, the new
    importers of the chemical, and the top of the risk ranking."""
    graph = load_graph(case)
    return Headlines(
        shared_addresses=shared_addresses(graph, flagged=True),
        freeze_list=freeze_list(graph, flagged=True),
        new_importers=new_importers(graph, chemical=chemical, since=since),
        risk=risk(graph, top=top),
    )


def run_demo(out_dir: str | os.PathLike[str] = "graphinv-demo", *, progress: Progress | None = None) -> DemoResult:
    """Build the fixture case in ``out_dir`` (re-running is a no-op), resolve it, gather the
    headline findings and write the interactive graph and the case report next to it."""
    folder = Path(out_dir)
    ensure_folder(folder, create=True, writing=folder)
    case = folder / "precursor-case.graphinv"
    report = ingest(case, [fixture_dir()], dataset="precursor-case", progress=progress)
    resolution = resolve(case)
    with CaseFile(case) as opened:
        counts = opened.counts()
    explore_html, report_html = write_demo_pages(case, folder)
    return DemoResult(
        case=case, ingest=report, resolution=resolution, counts=counts,
        headlines=headlines(case), explore_html=explore_html, report_html=report_html,
    )
