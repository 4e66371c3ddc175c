"""The per-graph indexes and array paths the investigations use at registry scale give exactly what
the plain graph walks give: the REF index and the scan, the arrays and hub_degree(), the fast risk
ranking and the row-by-row one, the array walk of cluster and the dict walk, shared-owners' owners
read off the arrays and walked owner by owner, the stakes of firms held only by persons and the
chain walk's, unvalidated models and validated ones. Checked on the fixture story and on a small synthetic registry (hubs, nominees,
hundreds of flagged firms), and the indexes travel with the cached graph."""

from __future__ import annotations

import gc
import importlib
import json
import random
import sys
import weakref
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from conftest import FIXTURE, REPO

from graphinv import ingest, load_graph
from graphinv.exc import GraphinvError
from graphinv.model import LINK_KINDS, fold
from graphinv.query import Account, Entity, cluster, risk, shared_addresses, shared_owners
from graphinv.query._arrays import arrays, gather, unique
from graphinv.query._graph import (
    evidence,
    flagged_firms,
    flagged_nodes,
    hub_degree,
    is_registered_company,
    nodes_of_kind,
)
from graphinv.query.new_importers import chemical_shipments, latest_shipment_date, shipment_chemical
from graphinv.query.refs import _index, _scan
from graphinv.query.results import Evidence
from graphinv.query.ubo import direct_stakes, ownership, stakes
from graphinv.store import graph as store_graph

risk_module = importlib.import_module("graphinv.query.risk")
cluster_module = importlib.import_module("graphinv.query.cluster")
shared_owners_module = importlib.import_module("graphinv.query.shared_owners")


@pytest.fixture(scope="module")
def fixture_graph(tmp_path_factory: pytest.TempPathFactory) -> nx.MultiDiGraph:
    case = tmp_path_factory.mktemp("index-fixture") / "case.graphinv"
    ingest(case, [FIXTURE], dataset="precursor-case")
    return load_graph(case)


@pytest.fixture(scope="module")
def synth_graph(tmp_path_factory: pytest.TempPathFactory) -> nx.MultiDiGraph:
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import synth
    finally:
        sys.path.remove(str(REPO / "bench"))
    folder = tmp_path_factory.mktemp("index-synth")
    synth.generate(folder / "bundle", 3000, seed=11)
    ingest(folder / "case.graphinv", [folder / "bundle"], dataset="synth")
    return load_graph(folder / "case.graphinv")


@pytest.fixture(params=["fixture", "synth"])
def graph(request: pytest.FixtureRequest) -> nx.MultiDiGraph:
    return request.getfixturevalue(f"{request.param}_graph")  # type: ignore[no-any-return]


def dump(result: object) -> str:
    return json.dumps(result.model_dump(mode="json"), sort_keys=True)  # type: ignore[attr-defined]


def refs_of(graph: nx.MultiDiGraph, limit: int = 400) -> list[str]:
    """Every way a user might name an entity: its id, bundle id, tax id (spaced and dashed), name
    and aliases (upper-cased and with extra spaces), and some that name nothing; for up to
    ``limit`` entities of each kind (each scan reads every node)."""
    refs = ["nobody at all", "XAXX010101000", "C999999"]
    picked: list[str] = []
    for kind in ("Company", "Person", "Address", "Account", "Shipment"):
        picked += [n for n, a in graph._node.items() if a.get("kind") == kind][:limit]
    for node_id in picked:
        attrs = graph._node[node_id]
        refs.append(node_id)
        refs.extend(attrs.get("merged_ids") or ())
        for key in ("bundle_id", "tax_id", "name"):
            if attrs.get(key):
                refs.append(str(attrs[key]))
        if attrs.get("tax_id"):
            tax = str(attrs["tax_id"])
            refs.append(f"{tax[:3]}-{tax[3:]} ".lower())
        if attrs.get("name"):
            refs.append(f"  {str(attrs['name']).upper()}  ")
        refs.extend(str(a) for a in attrs.get("aliases") or ())
    return refs


def test_ref_index_finds_what_the_scan_finds(graph: nx.MultiDiGraph) -> None:
    index = _index(graph)
    refs = refs_of(graph, limit=15 if len(graph) > 5000 else 400)
    assert len(refs) > 100
    for ref in refs:
        expected = [ref.strip()] if ref.strip() in graph._node else _scan(graph, ref.strip())
        assert index.find(ref) == expected, ref


def test_ref_index_names_every_node_and_suggests_close_names(fixture_graph: nx.MultiDiGraph) -> None:
    index = _index(fixture_graph)
    assert dict(index.names) == {n: str(a.get("name", n)) for n, a in fixture_graph._node.items()}
    firm = next(a for a in fixture_graph._node.values() if a.get("kind") == "Company")
    typo = str(firm["name"])[:-1]
    assert any(fold(str(firm["name"])) in fold(s) for s in index.closest(typo))


def test_kind_flagged_and_chemical_indexes_match_a_scan(graph: nx.MultiDiGraph) -> None:
    nodes = graph._node
    for kind in ("Company", "Person", "Address", "Account", "Shipment"):
        assert nodes_of_kind(graph, kind) == tuple(n for n, a in nodes.items() if a.get("kind") == kind)
    assert flagged_nodes(graph) == tuple(n for n, a in nodes.items() if a.get("flagged"))
    assert flagged_firms(graph) == tuple(n for n, a in nodes.items() if a.get("flagged") and is_registered_company(a))
    expected: dict[str, list[str]] = {}
    for n, a in nodes.items():
        if a.get("kind") == "Shipment" and shipment_chemical(a):
            expected.setdefault(str(shipment_chemical(a)), []).append(n)
    assert chemical_shipments(graph) == {c: tuple(s) for c, s in expected.items()}
    assert latest_shipment_date(graph) == max(
        (str(a.get("date") or "") for a in nodes.values() if a.get("kind") == "Shipment"), default=""
    )


def test_arrays_hold_every_node_and_link_and_each_hub_degree(graph: nx.MultiDiGraph) -> None:
    arr = arrays(graph)
    assert arr.ids == list(graph._node)
    assert all(arr.pos[n] == i for i, n in enumerate(arr.ids))
    links = {
        (arr.ids[u], arr.ids[v], arr.rels[r]) for u, v, r in zip(arr.src.tolist(), arr.dst.tolist(), arr.rel.tolist())
    }
    assert links == {(u, v, r) for u, v, r in graph.edges(keys=True)}
    assert len(arr.src) == graph.number_of_edges()
    for i, node in enumerate(arr.ids):
        assert arr.party_degree[i] == hub_degree(graph, node), node
        assert arr.kinds[arr.kind[i]] == graph._node[node].get("kind")
        _, entry = gather(arr.indptr, arr.adj, np.array([i]))
        expected = sorted(
            o
            for o, keys in [*graph._succ[node].items(), *graph._pred[node].items()]
            for r in keys
            if r != "POSSIBLY_SAME_AS"
        )
        assert sorted(arr.ids[j] for j in arr.adj[entry].tolist()) == expected
    assert unique(np.array([3, 1, 3, 2, 1])).tolist() == [1, 2, 3]


RISK_VARIANTS = [
    {"top": 20},
    {"top": 1},
    {"top": 10**9},
    {"top": 15, "max_degree": None},
    {"top": 15, "max_degree": 3},
    {"top": 25, "nominee_min_firms": 2},
    {"top": 30, "as_of": "2016-06-30"},
    {"top": 30, "since": "2019-01-01"},
    {"top": 20, "new_after_years": 0.5},
    {"top": 25, "weights": {"tiny": 3.0, "old": 0.5, "watchlist": 0.0, "mass_address": -1.0}},
    {"top": 10, "weights": {"large": 0.3}},  # not a binary fraction: the row-by-row path runs
]


@pytest.mark.parametrize("options", RISK_VARIANTS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
def test_risk_ranking_over_arrays_equals_scoring_row_by_row(
    graph: nx.MultiDiGraph, options: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = risk(graph, **options)
    monkeypatch.setattr(risk_module, "_ranked", lambda *args, **kwargs: None)
    slow = risk(graph, **options)
    assert len(fast.rows) == len(slow.rows) > 0
    assert dump(fast) == dump(slow)


@pytest.mark.parametrize(
    "options",
    [{}, {"hops": 0}, {"hops": 1}, {"hops": 3}, {"max_degree": None}, {"max_degree": 3}, {"max_degree": 5, "hops": 3}],
)
def test_cluster_walk_over_arrays_equals_the_dict_walk(
    graph: nx.MultiDiGraph, options: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cluster_module, "_ARRAY_SEEDS", 0)
    fast = cluster(graph, **options)
    monkeypatch.setattr(cluster_module, "_ARRAY_SEEDS", 10**12)
    slow = cluster(graph, **options)
    assert len(fast.rows) == len(slow.rows) > 0
    assert dump(fast) == dump(slow)


@pytest.mark.parametrize(
    "options",
    [{}, {"flagged": True}, {"officers": True}, {"flagged": True, "officers": True}, {"max_degree": None},
     {"max_degree": 3}, {"flagged": True, "max_degree": 2}, {"as_of": "2015-01-01"}],
)
def test_shared_owners_over_arrays_equal_the_owner_by_owner_walk(
    graph: nx.MultiDiGraph, options: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = shared_owners(graph, **options)
    walk = shared_owners_module._held_with_aliases  # with no aliases: every person and firm, one by one
    monkeypatch.setattr(shared_owners_module, "_holdings", lambda g, rel, day, flagged, max_degree: (day, max_degree))
    monkeypatch.setattr(shared_owners_module, "_held", lambda g, rel, asked: walk(g, rel, *asked, {}))
    slow = shared_owners(graph, **options)
    assert len(fast.rows) == len(slow.rows) > 0
    assert dump(fast) == dump(slow)
    if options.get("max_degree", 12) is not None and any(r.hub for r in fast.rows):
        assert all(set(r.companies) == set(r.flagged) for r in fast.rows if r.hub)


@pytest.mark.parametrize("investigation", [shared_addresses, shared_owners])
@pytest.mark.parametrize(
    "options", [{}, {"flagged": True}, {"max_degree": 2}, {"max_degree": None}, {"include_possible": True}]
)
def test_a_listing_cut_to_its_first_rows_is_the_head_of_the_whole(
    graph: nx.MultiDiGraph, investigation: object, options: dict
) -> None:
    whole = investigation(graph, **options)  # type: ignore[operator]
    assert whole.total == len(whole.rows) > 3
    for limit in (1, 3, len(whole.rows), len(whole.rows) + 5):
        head = investigation(graph, limit=limit, **options)  # type: ignore[operator]
        assert head.rows == whole.rows[:limit] and head.total == whole.total and head.hubs == whole.hubs
        cut = [n for n in head.notes if "are shown" in n]
        what = "addresses" if investigation is shared_addresses else "owners"
        assert cut == ([f"{whole.total:,} shared {what}; the first {limit:,} are shown"] if limit < whole.total else [])
    with pytest.raises(GraphinvError, match="limit must be at least 1"):
        investigation(graph, limit=0, **options)  # type: ignore[operator]


@pytest.mark.parametrize("options", [{}, {"hops": 1}, {"hops": 3}, {"max_degree": None}, {"community_min_size": 5}])
def test_a_cluster_cut_to_its_first_groups_is_the_head_of_the_whole(graph: nx.MultiDiGraph, options: dict) -> None:
    whole = cluster(graph, **options)
    assert whole.total == len(whole.rows) > 3
    # Cuts among the largest groups, and among the many of one size, where the first member decides.
    for limit in (1, 3, len(whole.rows) // 2, len(whole.rows) - 1, len(whole.rows)):
        head = cluster(graph, limit=limit, **options)
        assert dump(head.model_copy(update={"notes": (), "total": 0})) == dump(
            whole.model_copy(update={"rows": whole.rows[:limit], "total": 0})
        )
        assert head.total == whole.total
        assert head.notes == ((f"{whole.total:,} groups; the first {limit:,} are shown",) if limit < whole.total else ())
    with pytest.raises(GraphinvError, match="limit must be at least 1"):
        cluster(graph, limit=0, **options)


@pytest.mark.parametrize("day", ["2026-01-01", "2012-06-30"])
def test_direct_stakes_are_the_chain_walks_stakes(graph: nx.MultiDiGraph, day: str) -> None:
    direct = walked = 0
    for firm in nodes_of_kind(graph, "Company"):
        fast = direct_stakes(graph, firm, day, {})
        slow = stakes(graph, day, ownership(graph, firm, day))
        if fast is None:
            assert any(graph._node[r.owner]["kind"] == "Company" for r in slow)
            walked += 1
        else:
            assert fast == slow, firm
            direct += bool(fast)
    assert direct > 20 and walked > 5  # both paths ran, on firms with owners
    held = next(f for f in nodes_of_kind(graph, "Company") if direct_stakes(graph, f, day, {}))
    assert direct_stakes(graph, held, day, {}, max_chains=0) is None  # too many chains: the walk says so


def networkx_louvain(nodes: list[str], edges: list[tuple[str, str]], *, seed: int) -> list[set[str]]:
    simple = nx.Graph()
    simple.add_nodes_from(nodes)
    simple.add_edges_from(edges)
    return nx.community.louvain_communities(simple, seed=seed)  # type: ignore[no-any-return]


def test_louvain_gives_networkx_communities() -> None:
    # Trees, sparse and denser graphs, isolated nodes, repeated and reversed links, several seeds.
    rng = random.Random(4)
    for trial in range(240):
        nodes = sorted({f"n{rng.randrange(10**6):06d}" for _ in range(rng.randint(1, 160))})
        if trial % 3 == 0:
            edges = [(nodes[i], nodes[rng.randrange(i)]) for i in range(1, len(nodes))]
        else:
            edges = [(rng.choice(nodes), rng.choice(nodes)) for _ in range(rng.randint(0, 4 * len(nodes)))]
            edges = [(a, b) for a, b in edges if a != b]
        edges += edges[: len(edges) // 4]
        seed = trial % 4
        found = cluster_module.louvain(nodes, edges, seed=seed)
        assert found == networkx_louvain(nodes, edges, seed=seed), trial


@pytest.mark.parametrize("options", [{}, {"hops": 3}, {"max_degree": None}])
def test_cluster_communities_are_networkx_louvain(
    graph: nx.MultiDiGraph, options: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = cluster(graph, community_min_size=3, **options)
    monkeypatch.setattr(cluster_module, "louvain", networkx_louvain)
    slow = cluster(graph, community_min_size=3, **options)
    assert sum(g.communities for g in fast.rows) > len(fast.rows)
    assert dump(fast) == dump(slow)


def test_unvalidated_models_equal_validated_ones(fixture_graph: nx.MultiDiGraph) -> None:
    graph = fixture_graph
    for node, attrs in graph._node.items():
        made = Entity.of(graph, node)
        assert made == Entity(**made.model_dump())
        assert made.model_dump() == Entity(**made.model_dump()).model_dump()
        assert made.model_fields_set == set(Entity.model_fields)
        if attrs.get("kind") == "Account":
            account = Account.of(graph, node)
            assert account.model_dump() == Account(**account.model_dump()).model_dump()
    for _, _, attrs in graph.edges(data=True):
        made = evidence(graph, attrs)
        assert made == Evidence(**made.model_dump())
        assert made.model_dump(mode="json") == Evidence(**made.model_dump()).model_dump(mode="json")
        # The sentence is what the validated link model says.
        cls = LINK_KINDS[attrs["rel"]]
        link = cls(**{k: v for k, v in attrs.items() if k in cls.model_fields and v is not None})
        names = [str(graph._node[n].get("name") or n) for n in (attrs["source"], attrs["target"])]
        assert made.text.startswith(link.explain(*names))


def test_indexes_are_cached_with_the_graph(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAPHINV_CACHE_DIR", str(tmp_path / "cache"))
    case = tmp_path / "case.graphinv"
    ingest(case, [FIXTURE], dataset="precursor-case")
    first = load_graph(case)
    assert set(store_graph.index_seconds(first)) >= {"query.refs", "query.kinds", "query.flagged", "query.chemicals"}
    expected = risk(first, top=10)
    store_graph._MEMORY.clear()  # as a new process would: read the pickle
    again = load_graph(case)
    assert again is not first
    assert store_graph.index_seconds(again) == {}  # every index came with the graph
    assert arrays(again).ids == list(again._node)
    assert _index(again).find(next(iter(again._node))) == [next(iter(again._node))]
    assert dump(risk(again, top=10)) == dump(expected)


def test_a_large_answer_is_kept_from_the_collector_and_still_freed(
    synth_graph: nx.MultiDiGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph_module = importlib.import_module("graphinv.query._graph")
    try:
        small = cluster(synth_graph, around=[flagged_firms(synth_graph)[0]], hops=1)
        frozen = gc.get_freeze_count()
        assert small.rows and cluster(synth_graph, around=[flagged_firms(synth_graph)[0]], hops=1) == small
        assert gc.get_freeze_count() == frozen  # a small answer is left to the collector
        monkeypatch.setattr(graph_module, "_YOUNG_ANSWER", 1000)
        big = cluster(synth_graph)
        assert gc.get_freeze_count() > frozen + 1000  # the answer's models, moved out of its sight
        gone = weakref.ref(big.rows[0])
        del big
        assert gone() is None  # reference counting still frees them
        assert gc.isenabled()
    finally:
        gc.unfreeze()



#: Properties to word each link kind with (a new kind needs its cases here).
WORDING_CASES: dict[str, list[dict[str, object]]] = {
    "OWNS": [{}, {"share_pct": 35.5}, {"share_pct": 100.0, "start_date": "2019-02-03", "end_date": "2021-01-01"}],
    "OFFICER_OF": [{}, {"role": "director", "start_date": "2019-02-03"}],
    "FAMILY": [{"relation": r} for r in ("spouse", "parent", "child", "sibling", "other")],
    "HAS_ADDRESS": [{}],
    "HOLDS": [{}],
    "IMPORTED": [{}],
    "EXPORTED": [{}],
    "POSSIBLY_SAME_AS": [{"score": 0.875, "reason": "same tax id"}],
}


def test_every_link_kind_is_worded_as_its_model_words_it() -> None:
    assert set(WORDING_CASES) == set(LINK_KINDS)
    sentence = importlib.import_module("graphinv.query._graph")._sentence
    for rel, cases in WORDING_CASES.items():
        for props in cases:
            model = LINK_KINDS[rel](source="a", target="b", **props)
            assert sentence(rel, "a", "b", props, "Ana", "Beta SA") == model.explain("Ana", "Beta SA")
    # A property the kind does not know is left out of its words, as the model leaves it out.
    assert sentence("OWNS", "a", "b", {"share_pct": 10.0, "note": "x"}, "Ana", "Beta SA") == "Ana owns 10% of Beta SA"
