"""The matcher splits its work across processes; the answer must not depend on how.

Records come from the resolution benchmark's seeded generator (registry firms, customs
spellings with typos and missing tax ids, look-alike firms), which also gives the truth.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from graphinv.exc import GraphinvError
from graphinv.perf import worker_count
from graphinv.resolve import match as match_module
from graphinv.resolve.match import Candidate, clusters, match

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench_resolve.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_resolve", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def records(bench):
    rows = bench.generate_firms(4000, seed=5)
    cands = [
        Candidate(id=r["id"], kind="Company", name=r["name"], tax_id=r["tax_id"] or None, country="MX",
                  address=r["address"] or None, date=r["date"] or None, registered=r["registered"] == "1")
        for r in rows
    ]
    return rows, cands


def test_worker_count_reads_the_environment(monkeypatch):
    monkeypatch.setenv("GRAPHINV_WORKERS", "3")
    assert worker_count() == 3
    monkeypatch.setenv("GRAPHINV_WORKERS", "two")
    with pytest.raises(GraphinvError, match="GRAPHINV_WORKERS='two'"):
        worker_count()


def test_forked_and_single_process_answers_are_identical(records, monkeypatch):
    _rows, cands = records
    monkeypatch.setenv("GRAPHINV_WORKERS", "1")
    single = match(cands)
    monkeypatch.setenv("GRAPHINV_WORKERS", "2")
    monkeypatch.setattr(match_module, "_FORK_FROM", 0)  # fork every phase, even at this size
    forked = match(cands)
    assert forked == single
    assert single[0], "the generated records must produce merges"


def test_generated_records_resolve_with_benchmark_quality(records, bench):
    rows, cands = records
    merges, _possible = match(cands)
    labels = {r["id"]: r["id"] for r in rows}
    for group in clusters(merges):
        for member in group:
            labels[member] = group[0]
    scores = bench.pairwise_scores({r["id"]: r["firm"] for r in rows}, labels)
    assert scores["precision"] >= 0.98 and scores["recall"] >= 0.95, scores
