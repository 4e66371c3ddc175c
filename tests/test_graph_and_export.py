"""The networkx projection, its cache, and the JSON-lines export that round-trips it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

from graphinv import CaseFile, Company, ingest, load_graph, project, write_jsonl
from graphinv.store import cache_dir
from graphinv.store import graph as store_graph


def test_projection_keys_nodes_by_id_and_edges_by_relationship(tmp_path: Path, small_bundle: Path) -> None:
    case = tmp_path / "case.graphinv"
    ingest(case, [small_bundle])
    graph = load_graph(case)
    assert isinstance(graph, nx.MultiDiGraph)
    c1 = Company.make_id("small", "C1")
    assert graph.nodes[c1]["name"] == "Química Fina del Norte, S.A. de C.V."
    assert graph.nodes[c1]["flagged"] is True
    owners = {u: d["share_pct"] for u, _, k, d in graph.in_edges(c1, keys=True, data=True) if k == "OWNS"}
    assert list(owners.values()) == [60.0]
    edge = graph.get_edge_data(next(iter(owners)), c1, key="OWNS")
    assert edge["sources"] == ["small:ownership.csv:2"]
    assert graph.graph["dangling_links"] == 0


def test_fast_projection_equals_what_networkx_own_methods_build(tmp_path: Path) -> None:
    from conftest import FIXTURE

    case = tmp_path / "case.graphinv"
    ingest(case, [FIXTURE])
    with CaseFile(case) as opened:
        fast = project(opened)
        slow = nx.MultiDiGraph()
        slow.add_nodes_from((n["id"], n) for n in opened.nodes())
        slow.add_edges_from((l["source"], l["target"], l["rel"], l) for l in opened.links())
    assert dict(fast.nodes(data=True)) == dict(slow.nodes(data=True))
    assert fast.adj == slow.adj and fast.pred == slow.pred
    assert sorted(fast.edges(keys=True)) == sorted(slow.edges(keys=True))
    assert fast.number_of_edges() == slow.number_of_edges() > 2000
    assert fast.in_degree(next(iter(fast.nodes))) == slow.in_degree(next(iter(slow.nodes)))


def test_graph_is_cached_per_case_version(tmp_path: Path, small_bundle: Path) -> None:
    case = tmp_path / "case.graphinv"
    ingest(case, [small_bundle / "companies.csv"])
    first = load_graph(case)
    assert load_graph(case) is first
    with CaseFile(case) as opened:
        cached = cache_dir() / f"{opened.case_id}-{opened.revision}.pickle"
    assert cached.exists()
    # A new process reads the pickle instead of projecting again, and gets the same graph.
    code = (
        "import graphinv.store.graph as g, sys\n"
        "g.project = lambda case: sys.exit('projected again')\n"
        f"print(g.load_graph({str(case)!r}).number_of_nodes())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout) == first.number_of_nodes()

    ingest(case, [small_bundle])
    second = load_graph(case)
    assert second is not first and second.number_of_nodes() > first.number_of_nodes()
    assert not cached.exists()  # the stale version is dropped


def test_the_cached_graph_is_the_projected_graph_in_the_same_order_with_its_indexes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conftest import FIXTURE

    import graphinv.query  # noqa: F401 - registers the query layer's indexes

    case = tmp_path / "case.graphinv"
    ingest(case, [FIXTURE])
    with CaseFile(case) as opened:
        graph = project(opened)
    store_graph._build_indexes(graph)
    monkeypatch.setattr(store_graph, "_CHUNK", 97)  # many chunks of each kind, each ending mid-node
    target = tmp_path / "graph.pickle"
    with open(target, "wb") as handle:
        store_graph._write_cache(handle, graph, store_graph._INDEXES[graph])
    cached = store_graph._read_cache(target)
    assert cached is not None and cached is not graph
    assert cached.graph == graph.graph
    # Same nodes, successors, predecessors and keys, in the same order: the investigations
    # iterate these dicts, so a cached graph must answer exactly as the projected one.
    assert list(cached._node.items()) == list(graph._node.items())
    for mine, theirs in ((cached._succ, graph._succ), (cached._pred, graph._pred)):
        assert [(n, [(m, list(keys.items())) for m, keys in nbrs.items()]) for n, nbrs in mine.items()] == [
            (n, [(m, list(keys.items())) for m, keys in nbrs.items()]) for n, nbrs in theirs.items()
        ]
    assert any(len(keys) > 1 for nbrs in cached._succ.values() for keys in nbrs.values())  # pairs with 2+ links
    # Shared as networkx shares them: one key dict per link for both directions, one id string.
    assert all(cached._pred[v][u] is keys for u, nbrs in cached._succ.items() for v, keys in nbrs.items())
    assert all(attrs["id"] is n for n, attrs in cached._node.items())
    indexes = store_graph._INDEXES[cached]
    assert indexes.keys() == store_graph._INDEXES[graph].keys()
    assert indexes["query.refs"]._by_id is cached._node  # the REF index reads the graph's own nodes
    assert indexes["query.kinds"] == store_graph._INDEXES[graph]["query.kinds"]


def test_a_cache_file_cut_short_or_of_an_older_format_is_projected_again(
    tmp_path: Path, small_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pickle

    case = tmp_path / "case.graphinv"
    ingest(case, [small_bundle])
    expected = load_graph(case)
    with CaseFile(case) as opened:
        cached = cache_dir() / f"{opened.case_id}-{opened.revision}.pickle"
    whole = cached.read_bytes()
    older = pickle.dumps({"format": "graphinv-graph/2", "graph": expected, "indexes": {}})
    for broken in (whole[: len(whole) // 2], whole[:-5], older, b"not a pickle"):
        cached.write_bytes(broken)
        store_graph._MEMORY.clear()
        assert store_graph._read_cache(cached) is None
        if broken is older:  # told apart by its first bytes: none of the old graph is unpickled
            with monkeypatch.context() as m:
                m.setattr(pickle, "load", lambda *a: pytest.fail("unpickled a file of another format"))
                assert store_graph._read_cache(cached) is None
        again = load_graph(case)
        assert again is not expected and list(again.nodes(data=True)) == list(expected.nodes(data=True))
        assert cached.read_bytes() == whole  # and cached anew


def test_load_graph_says_each_long_step_as_it_starts_and_the_cli_shows_it_on_a_terminal(
    tmp_path: Path, small_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from rich.console import Console
    from typer.testing import CliRunner

    import graphinv.query  # noqa: F401 - registers the query layer's indexes
    from graphinv import cli
    from graphinv.store.graph import LOAD_STEPS

    case = tmp_path / "case.graphinv"
    ingest(case, [small_bundle])
    said: list[str] = []
    load_graph(case, status=said.append)
    assert said == [LOAD_STEPS["project"], LOAD_STEPS["index"], LOAD_STEPS["store"]]
    said.clear()
    load_graph(case, status=said.append)
    assert said == []  # in memory already
    store_graph._MEMORY.clear()
    load_graph(case, status=said.append)
    assert said == [LOAD_STEPS["read"]]

    store_graph._MEMORY.clear()
    screen = io.StringIO()
    monkeypatch.setattr(cli, "err", Console(file=screen, force_terminal=True, width=100))
    result = CliRunner().invoke(cli.app, ["query", str(case), "shared-addresses", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert LOAD_STEPS["read"] in screen.getvalue()  # the spinner's last words, then cleared
    assert json.loads(result.stdout) is not None
    # Off a terminal (a pipe, a file), nothing but the answer.
    store_graph._MEMORY.clear()
    monkeypatch.setattr(cli, "err", Console(file=io.StringIO(), force_terminal=False))
    piped = CliRunner().invoke(cli.app, ["query", str(case), "shared-addresses", "--format", "json"])
    assert piped.exit_code == 0 and cli.err.file.getvalue() == ""


def test_diverged_copies_of_one_case_never_share_a_cached_graph(tmp_path: Path, small_bundle: Path) -> None:
    import shutil

    first = tmp_path / "mine.graphinv"
    ingest(first, [small_bundle / "companies.csv"])
    load_graph(first)
    second = tmp_path / "colleague.graphinv"
    shutil.copy(first, second)
    ingest(first, [small_bundle / "persons.csv"])
    ingest(second, [small_bundle / "shipments.csv"])
    assert CaseFile(first).version == CaseFile(second).version  # same number, different contents
    kinds_first = {d["kind"] for _, d in load_graph(first).nodes(data=True)}
    kinds_second = {d["kind"] for _, d in load_graph(second).nodes(data=True)}
    assert "Person" in kinds_first and "Shipment" not in kinds_first
    assert "Shipment" in kinds_second and "Person" not in kinds_second


def test_jsonl_export_round_trips_the_graph(tmp_path: Path, small_bundle: Path) -> None:
    case = tmp_path / "case.graphinv"
    ingest(case, [small_bundle])
    target = tmp_path / "case.jsonl"
    count = write_jsonl(case, target)
    lines = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == count
    rebuilt = nx.MultiDiGraph()
    for obj in lines:
        kind = obj.pop("type")
        if kind == "node":
            rebuilt.add_node(obj["id"], **obj)
        else:
            assert kind == "link" and {"rel", "source", "target", "sources"} <= obj.keys()
            rebuilt.add_edge(obj["source"], obj["target"], key=obj["rel"], **obj)
    with CaseFile(case) as opened:
        original = project(opened)
    assert dict(rebuilt.nodes(data=True)) == dict(original.nodes(data=True))
    assert sorted(rebuilt.edges(keys=True, data=True), key=repr) == sorted(original.edges(keys=True, data=True), key=repr)
    assert all(o["type"] == "node" for o in map(json.loads, target.read_text().splitlines()[: original.number_of_nodes()]))


def test_cli_export_to_stdout(tmp_path: Path, small_bundle: Path) -> None:
    case = tmp_path / "case.graphinv"
    ingest(case, [small_bundle])
    out = subprocess.run(
        [sys.executable, "-m", "graphinv", "export", str(case), "--format", "jsonl", "-o", "-"],
        capture_output=True, check=True,
    )
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    write_jsonl(case, tmp_path / "x.jsonl")
    assert rows == [json.loads(line) for line in (tmp_path / "x.jsonl").read_text().splitlines()]
    assert {r["type"] for r in rows} == {"node", "link"}


def test_a_graph_too_big_to_pickle_in_the_memory_left_is_not_cached_and_the_cli_says_so(
    tmp_path: Path, small_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from graphinv.cli import app

    case = tmp_path / "case.graphinv"
    ingest(case, [small_bundle])
    monkeypatch.setattr(store_graph, "_PICKLE_OVERHEAD", 10_000.0)  # as if the process were huge
    with CaseFile(case) as opened:
        cached = cache_dir() / f"{opened.case_id}-{opened.revision}.pickle"
    result = CliRunner().invoke(app, ["query", str(case), "shared-addresses"])
    assert result.exit_code == 0, result.output
    assert "note: the case's graph is not cached: writing it needs about" in result.output
    assert "the next load projects the case again" in result.output
    assert not cached.exists()
    store_graph._MEMORY.clear()
    monkeypatch.setattr(store_graph, "_PICKLE_OVERHEAD", 0.6)
    assert "cache_note" not in load_graph(case).graph
    assert cached.exists()


def test_a_projected_graph_is_frozen_for_the_collector_and_a_failed_work_is_not(
    tmp_path: Path, small_bundle: Path
) -> None:
    import gc

    from graphinv.perf import gc_paused

    case = tmp_path / "case.graphinv"
    ingest(case, [small_bundle])
    try:
        gc.unfreeze()
        with CaseFile(case) as opened:
            graph = project(opened)
        # Its node and link dicts, out of the collector's sight (it would find no cycle among them).
        assert gc.get_freeze_count() >= graph.number_of_nodes() + graph.number_of_edges() > 0
        gc.unfreeze()
        with pytest.raises(ValueError), gc_paused(keep_young_over=0):
            half_built = [[i] for i in range(1000)]
            raise ValueError(len(half_built))
        assert gc.get_freeze_count() == 0 and gc.isenabled()
    finally:
        gc.unfreeze()
