"""The matcher splits its work across processes and arrays; the answer must not depend on how.

Records come from the resolution benchmark's seeded generator (registry firms, customs
spellings with typos and missing tax ids, look-alike firms), which also gives the truth.
"""

from __future__ import annotations

import importlib.util
import os
import time
from collections import defaultdict
from pathlib import Path

import pytest

from graphinv.exc import GraphinvError
from graphinv.perf import fork_call, fork_map, worker_count
from graphinv.resolve import match as match_module
from graphinv.resolve.match import Candidate, clusters, match
from graphinv.resolve.normalize import split_legal_form

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


def _block_keys(name):
    """A name's blocks as strings, as match._block_entries documents them."""
    rare, k = name.rare[:3], name.kind
    keys = [f"{k}:word:{t}" for t in rare]
    keys += [f"{k}:pair:{min(x, y)}:{max(x, y)}" for i, x in enumerate(rare) for y in rare[i + 1:]]
    if rare and len(rare[0]) >= 5:
        keys += [f"{k}:typo:{rare[0][:i] + rare[0][i + 1:]}" for i in range(len(rare[0]))]
    if len(name.spaceless) >= 6:
        keys.append(f"{k}:start:{name.spaceless[:7]}")
    if not rare and name.text:
        keys.append(f"{k}:text:{name.text}")
    return keys


def _plain_blocks(block_names):
    """Each block's members (a name twice if two of its deleted forms are one), by block string."""
    blocks = defaultdict(list)
    name_keys = [_block_keys(nm) for nm in block_names]
    for idx, keys in enumerate(name_keys):
        for k in keys:
            blocks[k].append(idx)
    return blocks, name_keys


def _cap(key):
    return match_module._WORD_BLOCK_CAP if ":word:" in key else match_module._BLOCK_CAP


def _pairs_one_name_at_a_time(block_names, names, searching):
    """The blocking rule written plainly: each searching name unions its blocks under the caps,
    keeps the mates it owns, and pre-filters them with rapidfuzz's own token scorers."""
    from rapidfuzz import fuzz

    blocks, name_keys = _plain_blocks(block_names)
    pairs = []
    for na, keys in enumerate(name_keys):
        if not searching[na]:
            continue
        seen = set()
        for k in keys:
            if len(blocks[k]) <= _cap(k):
                seen.update(blocks[k])
        for nb in sorted(m for m in seen if m > na or not searching[m]):
            a, b = names[na].sort_key, names[nb].sort_key
            alike = fuzz.token_sort_ratio(a, b)
            if alike >= match_module._PREFILTER_CLOSE or (
                alike >= match_module._PREFILTER_AT and fuzz.token_set_ratio(a, b) >= match_module._PREFILTER_CONTAINED
            ):
                pairs.append((na, nb))
    return pairs


@pytest.mark.parametrize("cap", [None, 3])
def test_candidate_pairs_on_arrays_equal_the_plain_rule(records, monkeypatch, cap):
    _rows, cands = records
    if cap is not None:  # small caps, so that skipped blocks are exercised too
        monkeypatch.setattr(match_module, "_WORD_BLOCK_CAP", cap)
        monkeypatch.setattr(match_module, "_BLOCK_CAP", cap + 2)
    texts = sorted({split_legal_form(c.name)[0] for c in cands})
    df = defaultdict(int)
    for text in texts:
        for t in set(text.split()):
            df[t] += 1
    names = [match_module._make_name("Company", t, df, len(texts)) for t in texts]
    searching = bytearray((i % 3 != 0) for i in range(len(names)))  # some names only get found
    # Blocking reads each name's words alone (a worker does it before the names are made).
    words = [match_module._significant(t) for t in texts]
    block_names = match_module._block_names([("Company", t) for t in texts], words, df)
    assert [(b.text, b.spaceless) for b in block_names] == [(nm.text, nm.spaceless) for nm in names]
    for b in block_names:  # distinct words of two letters or more but stopwords, rarest first
        own = {w for w in b.text.split() if len(w) > 1 and w not in match_module.STOPWORDS}
        assert b.rare == tuple(sorted(own, key=lambda w: (df[w], w)))
    blocks = match_module._blocks(block_names)
    # The same blocks as the rule written plainly: members by block, those under their cap.
    found = defaultdict(list)
    for block, member in zip(blocks[0].tolist(), blocks[1].tolist()):
        found[block].append(member)
    plain = [tuple(m) for k, m in _plain_blocks(block_names)[0].items() if 2 <= len(m) <= _cap(k)]
    assert sorted(map(tuple, found.values())) == sorted(plain)
    owners, mates = match_module._candidate_pairs(names, blocks, searching)
    expected = _pairs_one_name_at_a_time(block_names, names, searching)
    assert list(zip(owners.tolist(), mates.tolist())) == expected
    assert len(expected) > 100, "the generated names must share blocks"


def test_fork_call_overlaps_returns_and_raises(monkeypatch):
    monkeypatch.setenv("GRAPHINV_WORKERS", "2")
    shared = list(range(1000))
    wait = fork_call(lambda: (os.getpid(), sum(shared)), len(shared), min_items=0)
    pid, total = wait()
    assert pid != os.getpid() and total == sum(shared)  # forked, and saw the caller's data

    def fails():
        raise ValueError("no such block")

    with pytest.raises(ValueError, match="no such block"):
        fork_call(fails, 1, min_items=0)()
    with pytest.raises(GraphinvError, match="exit code 3"):
        fork_call(lambda: os._exit(3), 1, min_items=0)()
    assert fork_call(os.getpid, 1, min_items=2)() == os.getpid()  # small work stays here


def test_fork_map_starts_at_the_call_and_keeps_slice_order(monkeypatch, tmp_path):
    monkeypatch.setenv("GRAPHINV_WORKERS", "2")
    shared = list(range(10_000))

    def task(start, end):
        (tmp_path / f"{start}.started").touch()
        return os.getpid(), sum(shared[start:end])

    parts = fork_map(task, len(shared), min_items=0, slices_per_worker=2)
    # The caller has not read anything yet, and the slices are already running or done.
    for _ in range(600):
        if len(list(tmp_path.glob("*.started"))) == 4:
            break
        time.sleep(0.05)
    assert len(list(tmp_path.glob("*.started"))) == 4
    results = list(parts)
    assert [total for _pid, total in results] == [sum(shared[i:i + 2500]) for i in range(0, 10_000, 2500)]
    assert os.getpid() not in {pid for pid, _total in results}

    def fails(start, end):
        raise ValueError(f"bad slice {start}")

    with pytest.raises(ValueError, match="bad slice"):
        list(fork_map(fails, 10, min_items=0))
    assert [pid for pid, _ in fork_map(task, 10, min_items=11)] == [os.getpid()]  # small work stays here
