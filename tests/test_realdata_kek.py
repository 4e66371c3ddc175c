"""KEK media ownership (real): mapping and FtM give the same graph; chains, cycles, effective shares."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest

from _realdata import MAPPINGS, realdata
from graphinv import ingest, load_graph
from graphinv.query import ubo


@pytest.fixture(scope="module")
def kek_csv(tmp_path_factory: pytest.TempPathFactory) -> nx.MultiDiGraph:
    folder = realdata("kek-media-ownership")
    case = tmp_path_factory.mktemp("kek") / "csv.graphinv"
    report = ingest(case, [folder / "company.csv", folder / "shares.csv"], mapping=MAPPINGS / "kek-media-ownership.yml")
    assert report.rejected_total == 0
    assert [(f.file, f.kept) for f in report.files] == [("company.csv", 3065), ("shares.csv", 2904)]
    return load_graph(case)


@pytest.fixture(scope="module")
def kek_ftm(tmp_path_factory: pytest.TempPathFactory) -> nx.MultiDiGraph:
    case = tmp_path_factory.mktemp("kek") / "ftm.graphinv"
    report = ingest(case, [realdata("kek-media-ownership", "kek.ftm.jsonl")])  # recognised by content
    assert report.files[0].kind == "ftm" and report.rejected_total == 0
    return load_graph(case)


def _ownership(graph: nx.MultiDiGraph) -> nx.DiGraph:
    owns = nx.DiGraph()
    for source, target, key, attrs in graph.edges(keys=True, data=True):
        if key == "OWNS":
            owns.add_edge(source, target, share=attrs.get("share_pct"), unpaired=attrs.get("share_unpaired"))
    return owns


def test_mapping_and_ftm_give_the_same_ownership_graph(kek_csv: nx.MultiDiGraph, kek_ftm: nx.MultiDiGraph) -> None:
    a, b = _ownership(kek_csv), _ownership(kek_ftm)
    assert (a.number_of_nodes(), a.number_of_edges()) == (2705, 2904)
    assert (b.number_of_nodes(), b.number_of_edges()) == (2705, 2904)
    # followthemoney collapsed runs of spaces and tabs in names when it made the FtM file.
    for g, graph in ((a, kek_csv), (b, kek_ftm)):
        nx.set_node_attributes(g, {n: " ".join(graph.nodes[n]["name"].split()) for n in g}, "name")
    # FtM keyed each mutual holding on the unordered pair, so two links carry both percentages
    # unpaired instead of one each: the same structure, the share left open rather than guessed.
    unpaired = {(b.nodes[u]["name"], b.nodes[v]["name"]) for u, v, d in b.edges(data=True) if d["unpaired"]}
    assert unpaired == {
        ("Highlight Communications AG", "Constantin Medien AG"),
        ("Constantin Medien AG", "Highlight Communications AG"),
        ("News America, Inc.", "News Publishing Australia Ltd."),
        ("News Publishing Australia Ltd.", "News America, Inc."),
    }

    def edge_match(x: dict, y: dict) -> bool:
        if y.get("unpaired"):
            return x["share"] is not None and f"{x['share']:g}" in y["unpaired"].split("; ")
        return x["share"] == y["share"]

    assert nx.is_isomorphic(a, b, node_match=lambda x, y: x["name"] == y["name"], edge_match=edge_match)


def test_longest_chain_and_cycles(kek_csv: nx.MultiDiGraph) -> None:
    owns = _ownership(kek_csv)
    name = {n: kek_csv.nodes[n]["name"] for n in owns}
    cycles = sorted(sorted(name[n] for n in c) for c in nx.simple_cycles(owns))
    assert cycles == [
        ["Constantin Medien AG", "Highlight Communications AG"],
        ["NRJ Group S.A."],
        ["News America, Inc.", "News Publishing Australia Ltd."],
        ["Rheinisch-Bergische Verlagsgesellschaft mbH", "Rheinische Post Verlagsgesellschaft mbH", "Verlag W. Girardet KG"],
    ]
    # ubo reports the cycles it meets instead of looping or inflating shares.
    rp = ubo(kek_csv, "Rheinische Post Verlagsgesellschaft mbH")
    assert len(rp.cycles) == 1 and len(rp.cycles[0]) == 3
    dag = owns.copy()
    for cycle in nx.simple_cycles(owns):
        dag.remove_edge(cycle[-1], cycle[0])
    chain = nx.dag_longest_path(dag)
    assert len(chain) - 1 == 15
    assert name[chain[-1]] == "Turner Broadcasting System Deutschland GmbH"
    assert [name[n] for n in chain[1:4]] == ["Bank of America Corporation", "Merrill Lynch & Co., Inc.", "BlackRock, Inc."]


def _effective(graph: nx.MultiDiGraph, firm: str) -> dict[str, float]:
    return {row.owner.name: row.effective_pct for row in ubo(graph, firm).rows}


@pytest.mark.parametrize("graph_name", ["kek_csv", "kek_ftm"])
def test_effective_shares_at_the_end_of_long_chains_checked_by_hand(graph_name: str, request: pytest.FixtureRequest) -> None:
    graph = request.getfixturevalue(graph_name)
    # Zonemedia Broadcasting Limited (KEK 3177), 13 hops below John C. Malone:
    #   Malone 39.3% of Liberty Global, Inc.; 100% UGC; UGC 99.5% of Europe Acquisition, Inc.;
    #   100% at each of the ten links below. 0.393 x 0.995 = 0.391035 -> 39.1035%.
    #   United Internet Holding, Inc. holds 0.5% of Europe Acquisition, then 100% down: 0.5%.
    zone = _effective(graph, "Zonemedia Broadcasting Limited")
    assert zone["Malone, Dr. John C."] == pytest.approx(39.1035)
    assert zone["United Internet Holding, Inc."] == pytest.approx(0.5)
    # Wetter Fernsehen - Meteos GmbH (KEK 2810), 12 hops below Permira IV L.P.2:
    #   39.27% of Lavena 1, 100% down to Lavena Holding 5, 88% of ProSiebenSat.1 Media AG, 100%,
    #   100%, 72.97% of wetter.com AG, 100%, 100%: 0.3927 x 0.88 x 0.7297 = 0.25216681 -> 25.216681%.
    #   KKR Fund Holdings L.P.: 94.16% of KKR Glory (KPE), 12.44% of Lavena 1, then the same:
    #   0.9416 x 0.1244 x 0.88 x 0.7297 = 0.0752166 -> 7.521663%.
    meteos = _effective(graph, "Wetter Fernsehen - Meteos GmbH")
    assert meteos["Permira IV L.P.2"] == pytest.approx(25.216681)
    assert meteos["KKR Fund Holdings L.P."] == pytest.approx(7.521663, abs=1e-6)
    # Turner Broadcasting System Deutschland GmbH (KEK 67), the longest chain's end. Dodge & Cox
    #   holds 5.3% of Time Warner, Inc., 100% of Historic Time Warner, which reaches Warner
    #   Communications directly (84.81%) and through Turner Broadcasting System, Inc. (15.19%),
    #   then 100% down: 0.053 x (0.8481 + 0.1519) = 0.053 -> 5.3% over two chains.
    #   State Street: 4.5% of Bank of America, 100% of Merrill Lynch, 7.1% of BlackRock, 5.98% of
    #   Time Warner, then the same two chains: 0.045 x 0.071 x 0.0598 x 1.0 = 0.000191061 -> 0.0191061%.
    turner = ubo(graph, "Turner Broadcasting System Deutschland GmbH")
    rows = {row.owner.name: row for row in turner.rows}
    assert rows["Dodge & Cox"].effective_pct == pytest.approx(5.3)
    assert len(rows["Dodge & Cox"].paths) == 2
    assert rows["State Street Global Advisors (US)"].effective_pct == pytest.approx(0.0191061, abs=1e-6)
