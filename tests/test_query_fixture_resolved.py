"""The investigations' fixture answers that need entity resolution (issue 3): the address spelling
families as one building, the hub, and customs rows without a tax id counted for their firm.

The case is ingested and then resolved with ``graphinv.resolve``.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest


from graphinv import load_graph
from graphinv.query import cluster, new_importers, shared_addresses

HUB_FIRMS = {
    "C017",
    "C024",
    "C028",
    "C046",
    "C059",
    "C060",
    "C061",
    "C082",
    "C091",
    "C097",
    "C107",
    "C108",
    "C123",
    "C129",
    "C154",
    "C160",
}


@pytest.fixture(scope="module")
def graph(resolved_fixture_case: Path) -> nx.MultiDiGraph:
    return load_graph(resolved_fixture_case)


def bid(entity: object) -> str:
    return entity.bundle_id or entity.name  # type: ignore[attr-defined]


def test_shared_addresses_among_flagged_firms_after_unification(graph: nx.MultiDiGraph) -> None:
    result = shared_addresses(graph, flagged=True)
    rows = {frozenset(bid(e) for e in r.entities): r for r in result.rows}
    cedro = rows[frozenset({"C014", "C052", "C095", "C103"})]
    assert {bid(e) for e in cedro.flagged} == {"C014", "C052"} and not cedro.hub
    marinos = rows[frozenset({"C037", "C068", "C081", "C117"})]
    assert {bid(e) for e in marinos.flagged} == {"C037", "C068", "C081", "C117"} and not marinos.hub
    home = rows[frozenset({"P003", "P004"})]
    assert {bid(e) for e in home.flagged} == {"P004"}
    # The virtual office: its 16 firms counted, only the three flagged named.
    hub = rows[frozenset({"C097", "C108", "C129"})]
    assert hub.hub and hub.count == len(HUB_FIRMS) == 16 and {bid(e) for e in hub.flagged} == {"C097", "C108", "C129"}
    assert hub.entities == hub.flagged
    unlimited = shared_addresses(graph, flagged=True, max_degree=None).rows[0]  # the largest first
    assert {bid(e) for e in unlimited.entities} == HUB_FIRMS and not unlimited.hub
    assert result.rows[-1] is hub  # reported as a hub, after the leads
    assert [h.degree for h in result.hubs] == [16]
    # Every spelling's registry row is evidence for the one building.
    assert len({l.sources for l in cedro.links}) == 4


def test_cluster_around_c129_does_not_pull_in_the_hub_firms_through_the_address(graph: nx.MultiDiGraph) -> None:
    result = cluster(graph, around=["C129"])
    members = {bid(e) for g in result.rows for e in g.entities}
    assert "C060" not in members
    # The only hub firms present are the nominee's (C091, C154), reached through P066, not the address.
    assert members & (HUB_FIRMS - {"C129"}) <= {"C091", "C154"}
    assert any(h.entity.kind == "Address" and h.degree == 16 for h in result.hubs)
    assert not any(
        e.kind == "Address" and e.id in {h.entity.id for h in result.hubs} for g in result.rows for e in g.entities
    )


def test_new_importers_of_4_piperidone_count_rows_without_a_tax_id(graph: nx.MultiDiGraph) -> None:
    result = new_importers(graph, chemical="4-piperidone", since="2019-01-01")
    got = [(bid(r.company), r.first_import, bid(r.first_shipment), r.shipments, r.quantity_kg) for r in result.rows]
    assert got == [
        ("C014", "2019-03-18", "S0159", 8, 13600.0),
        ("C081", "2019-06-04", "S0166", 7, 8900.0),
        ("C037", "2019-09-23", "S0184", 8, 13900.0),
        ("C052", "2020-01-14", "S0205", 6, 7100.0),
        ("C068", "2020-05-27", "S0236", 6, 5650.0),
    ]
    without_tax_id = {
        bid(r.company): sum(1 for l in r.links if not graph.nodes[l.target].get("importer_tax_id")) for r in result.rows
    }
    assert without_tax_id == {"C014": 3, "C037": 3, "C052": 2, "C068": 2, "C081": 2}
    established = new_importers(graph, chemical="4-piperidone", since="2019-01-01", established=True)
    assert {bid(r.company): r.shipments for r in established.rows if not r.new} == {"C006": 28, "C027": 17}


def test_related_precursors_count_rows_without_a_tax_id(graph: nx.MultiDiGraph) -> None:
    boc = new_importers(graph, chemical="1-boc-4-piperidone", since="2019-01-01")
    assert [(bid(r.company), r.first_import, bid(r.first_shipment), r.shipments, r.quantity_kg) for r in boc.rows] == [
        ("C129", "2020-03-10", "S0215", 3, 900.0)
    ]
    ap = new_importers(graph, chemical="4-anilinopiperidine", since="2019-01-01")
    assert [(bid(r.company), r.first_import, bid(r.first_shipment), r.shipments, r.quantity_kg) for r in ap.rows] == [
        ("C117", "2021-03-30", "S0294", 2, 700.0)
    ]
