"""The investigations on the fictional precursor case: the answers fixtures/README.md documents
that need no entity resolution (ownership, the cycle, the freeze list, owners, the nominee,
new importers counted by tax id, risk)."""

from __future__ import annotations

import networkx as nx
import pytest
from conftest import FIXTURE
from pydantic import ValidationError

from graphinv import RefError, ingest, load_graph
from graphinv.query import (
    cluster,
    freeze_list,
    new_importers,
    path,
    resolve_ref,
    risk,
    shared_addresses,
    shared_owners,
    ubo,
)

RING = ["C014", "C037", "C052", "C068", "C081", "C117", "C129"]


@pytest.fixture(scope="module")
def graph(tmp_path_factory: pytest.TempPathFactory) -> nx.MultiDiGraph:
    case = tmp_path_factory.mktemp("query-fixture") / "case.graphinv"
    ingest(case, [FIXTURE], dataset="precursor-case")
    return load_graph(case)


def bid(entity: object) -> str:
    return entity.bundle_id or entity.name  # type: ignore[attr-defined]


def shares(result: object) -> dict[str, float | None]:
    return {bid(r.owner): r.effective_pct for r in result.rows}  # type: ignore[attr-defined]


# -- §6 beneficial ownership ---------------------------------------------------------------------


def test_ubo_through_two_holding_layers(graph: nx.MultiDiGraph) -> None:
    result = ubo(graph, "C037")
    assert shares(result) == pytest.approx({"P003": 43.2, "P017": 36.0, "P004": 10.8, "P066": 10.0})
    p003 = result.rows[0]
    chain = [graph.nodes[n]["bundle_id"] for n in p003.paths[0]]
    assert chain == ["P003", "C095", "C103", "C037"]
    assert p003.share_known and p003.ultimate and p003.direct_pct is None
    texts = [l.text for l in p003.links]
    assert any("owns 80% of Grupo Inversor Calzada" in t and "ownership.csv" in t for t in texts)
    everyone = ubo(graph, "C037", intermediate=True)
    assert shares(everyone) == pytest.approx(
        {"C103": 90.0, "C095": 54.0, "P003": 43.2, "P017": 36.0, "P004": 10.8, "P066": 10.0}
    )
    assert set(shares(ubo(graph, "C037", threshold=25))) == {"P003", "P017"}


# fixtures/README.md §6, the cycle table: target -> {owner: effective %}.
CYCLE = {
    "C052": {"P025": 80.0, "P052": 5.6, "P003": 12.0, "C117": 20.0, "C068": 8.0},
    "C068": {"P025": 24.0, "P052": 70.0, "P003": 3.6, "C052": 30.0, "C117": 6.0},
    "C117": {"P025": 9.6, "P052": 28.0, "P003": 60.0, "C068": 40.0, "C052": 12.0},
}


@pytest.mark.parametrize("target", sorted(CYCLE))
def test_ubo_around_the_cycle_matches_the_table_and_never_inflates(graph: nx.MultiDiGraph, target: str) -> None:
    result = ubo(graph, target, intermediate=True)
    assert shares(result) == pytest.approx(CYCLE[target])
    persons = sum(r.effective_pct for r in result.rows if r.owner.kind == "Person")
    assert persons == pytest.approx(97.6)
    assert len(result.cycles) == 1
    assert {graph.nodes[n]["bundle_id"] for n in result.cycles[0]} == {"C052", "C068", "C117"}
    assert any("cycle" in note for note in result.notes)
    for row in result.rows:
        for chain in row.paths:
            assert len(set(chain)) == len(chain), "a chain visited a firm twice"


def test_ubo_threshold_around_the_cycle(graph: nx.MultiDiGraph) -> None:
    assert set(shares(ubo(graph, "C052", threshold=25))) == {"P025"}
    assert set(shares(ubo(graph, "C068", threshold=25))) == {"P052"}
    assert set(shares(ubo(graph, "C117", threshold=25))) == {"P003", "P052"}
    p052 = next(r for r in ubo(graph, "C117").rows if bid(r.owner) == "P052")
    assert p052.direct_pct is None and [graph.nodes[n]["bundle_id"] for n in p052.paths[0]] == ["P052", "C068", "C117"]


@pytest.mark.parametrize(
    ("firm", "expected"),
    [
        ("C014", {"P025": 50.0, "P041": 30.0, "P003": 20.0}),
        ("C081", {"P017": 60.0, "P071": 40.0}),
        ("C129", {"P071": 100.0}),
        ("C095", {"P003": 80.0, "P004": 20.0}),
        ("C103", {"C095": 60.0, "P003": 48.0, "P017": 40.0, "P004": 12.0}),
    ],
)
def test_ubo_of_the_other_ring_firms(graph: nx.MultiDiGraph, firm: str, expected: dict[str, float]) -> None:
    assert shares(ubo(graph, firm, intermediate=True)) == pytest.approx(expected)


def test_ubo_of_the_distributor_reports_unknown_shares_as_unknown(graph: nx.MultiDiGraph) -> None:
    result = ubo(graph, "C006", intermediate=True)
    known = {bid(r.owner): r.effective_pct for r in result.rows if r.share_known}
    assert known == pytest.approx({"C019": 58.0, "P009": 41.0, "C074": 30.0, "P010": 17.4, "P088": 11.6})
    unknown = {bid(r.owner): r for r in result.rows if not r.share_known}
    assert set(unknown) == {"P120", "P121"}
    for row in unknown.values():
        assert row.effective_pct is None and row.max_pct == pytest.approx(30.0)
    ring_persons = {"P003", "P004", "P017", "P018", "P025", "P026", "P041", "P052", "P053", "P066", "P071"}
    assert not ring_persons & (set(known) | set(unknown))


def test_ubo_counts_only_ownership_valid_on_the_date(graph: nx.MultiDiGraph) -> None:
    # P184 founded C012 and sold out on 2014-05-08; the current owners start that day.
    before = ubo(graph, "C012", as_of="2014-01-01")
    assert shares(before) == {"P184": 100.0}
    assert "P184" not in shares(ubo(graph, "C012"))
    assert "P184" not in shares(ubo(graph, "C012", as_of="2014-05-08"))


def test_ubo_refuses_a_person_and_names_the_ref(graph: nx.MultiDiGraph) -> None:
    with pytest.raises(RefError, match="P003.*not a Company"):
        ubo(graph, "P003")


# -- §8 freeze list --------------------------------------------------------------------------------

FREEZE = {
    "C014": ("named", {"A017", "A018", "A019"}),
    "C037": ("named", {"A050", "A051"}),
    "C052": ("named", {"A070", "A071"}),
    "C068": ("named", {"A091", "A092"}),
    "C081": ("named", {"A109", "A110", "A111"}),
    "C117": ("named", {"A154", "A155"}),
    "C129": ("named", {"A169", "A170"}),
    "C095": ("chain", {"A126", "A127"}),
    "C103": ("chain", {"A137"}),
    "P003": ("owner", {"A207", "A208", "A209"}),
    "P017": ("owner", {"A215", "A216"}),
    "P025": ("owner", {"A220", "A221"}),
    "P041": ("owner", {"A227"}),
    "P052": ("owner", {"A229", "A230"}),
    "P071": ("owner", {"A234"}),
    "P004": ("spouse", {"A210", "A211"}),
    "P018": ("spouse", {"A217"}),
    "P026": ("spouse", {"A222"}),
    "P053": ("spouse", {"A231"}),
}


def test_the_ring_freeze_list_is_the_19_entities_with_their_accounts(graph: nx.MultiDiGraph) -> None:
    result = freeze_list(graph, around=RING, min_share=25)
    got = {bid(e.entity): (e.role, {a.bundle_id for a in e.accounts}) for e in result.rows}
    assert got == FREEZE
    all_accounts = {a.bundle_id for e in result.rows for a in e.accounts}
    assert not {"A007", "A008", "A009", "A233"} & all_accounts  # C006's accounts; the nominee's
    assert "P066" not in got
    by_id = {bid(e.entity): e for e in result.rows}
    frozen = {a.bundle_id: a.frozen_date for e in result.rows for a in e.accounts if a.status == "frozen"}
    assert frozen == {"A017": "2022-02-10", "A051": "2022-02-10", "A209": "2022-02-10"}
    assert "owns 43.2% of Distribuidora Reactiva del Golfo" in by_id["P003"].reason
    assert "owns 60% of Servicios Logísticos Marejada" in by_id["P003"].reason
    assert "owns 36% of Distribuidora Reactiva del Golfo" in by_id["P017"].reason
    assert "owns 28% of Servicios Logísticos Marejada" in by_id["P052"].reason
    assert "owns 54% of Distribuidora Reactiva del Golfo" in by_id["C095"].reason
    assert "Rodrigo Villaseñor Ibarra" in by_id["C103"].reason and "Julián Villaseñor Ibarra" in by_id["C103"].reason
    assert "owns 30% of Laboratorios Selva Azul" in by_id["C052"].reason
    assert "spouse of Rodrigo Villaseñor Ibarra" in by_id["P004"].reason
    assert "10.8%" in by_id["P004"].reason and "FIU-PEP-watch" in by_id["P004"].reason
    spouse_link = by_id["P026"].links[0]
    assert spouse_link.rel == "FAMILY" and "family.csv" in spouse_link.text
    # Every entry can show the links that put it there.
    assert all(e.links for e in result.rows if e.role != "named")


def test_freeze_list_options(graph: nx.MultiDiGraph) -> None:
    no_spouses = freeze_list(graph, around=RING, spouses=False)
    assert {bid(e.entity) for e in no_spouses.rows} == set(FREEZE) - {"P004", "P018", "P026", "P053"}
    with_officers = freeze_list(graph, around=RING, officers=True)
    added = {bid(e.entity) for e in with_officers.rows} - set(FREEZE)
    assert added == {"P066"}
    nominee = next(e for e in with_officers.rows if bid(e.entity) == "P066")
    assert nominee.role == "officer" and {a.bundle_id for a in nominee.accounts} == {"A233"}
    higher = freeze_list(graph, around=RING, min_share=50)
    assert "P041" not in {bid(e.entity) for e in higher.rows}  # 30% of C014
    # From every flagged firm, the distributor is named, with its two frozen accounts.
    everything = freeze_list(graph, flagged=True)
    c006 = next(e for e in everything.rows if bid(e.entity) == "C006")
    assert {a.bundle_id for a in c006.accounts} == {"A007", "A008", "A009"}
    assert any("unknown share" in n for n in everything.notes)


# -- §5 shared owners and §10 the nominee -------------------------------------------------------------

SHARED_OWNERS = {
    "P003": {"C014", "C095", "C117"},
    "P025": {"C014", "C052"},
    "P017": {"C081", "C103"},
    "P071": {"C081", "C129"},
    "P009": {"C006", "C019"},
    "C048": {"C101", "C102", "C127"},
    "C064": {"C029", "C093"},
    "P062": {"C032", "C043"},
    "P063": {"C119", "C147"},
    "P068": {"C051", "C099"},
    "P089": {"C078", "C080"},
    "P126": {"C065", "C080"},
    "P135": {"C087", "C126"},
    "P206": {"C010", "C069"},
    "P216": {"C012", "C023"},
    "P219": {"C150", "C151"},
    "P222": {"C065", "C120"},
}


def test_shared_owners_are_the_documented_ones(graph: nx.MultiDiGraph) -> None:
    result = shared_owners(graph)
    got = {bid(r.owner): {bid(c) for c in r.companies} for r in result.rows}
    assert got == SHARED_OWNERS
    assert bid(result.rows[0].owner) == "P003"  # largest first
    assert all(r.links and all("ownership.csv" in l.text for l in r.links) for r in result.rows)


def test_shared_owners_with_a_flagged_firm(graph: nx.MultiDiGraph) -> None:
    got = {bid(r.owner) for r in shared_owners(graph, flagged=True).rows}
    assert got == {"P003", "P025", "P017", "P071", "P009", "C064", "P068", "P089", "P126", "P206", "P216", "P222"}
    # Among flagged firms only, the ring's shared owners are P003, P025 and P071.
    ring = {
        bid(r.owner)
        for r in shared_owners(graph, flagged=True).rows
        if len(r.flagged) >= 2 and {bid(c) for c in r.flagged} <= set(RING)
    }
    assert ring == {"P003", "P025", "P071"}


def test_the_nominee_director_is_an_officer_of_ten_firms(graph: nx.MultiDiGraph) -> None:
    officers = [r for r in shared_owners(graph, officers=True).rows if r.rel == "OFFICER_OF"]
    p066 = next(r for r in officers if bid(r.owner) == "P066")
    assert {bid(c) for c in p066.companies} == {
        "C014",
        "C037",
        "C045",
        "C053",
        "C081",
        "C091",
        "C103",
        "C117",
        "C129",
        "C154",
    }
    assert officers[0] is p066
    assert all(len(r.companies) <= 3 for r in officers if r is not p066)
    # With a tighter hub limit the nominee is reported as a hub, not as a lead.
    tight = shared_owners(graph, officers=True, max_degree=5)
    assert [bid(h.entity) for h in tight.hubs] == ["P066"]
    hub = next(r for r in tight.rows if bid(r.owner) == "P066")
    assert hub.hub and hub.count == len(p066.companies)
    assert hub.companies == hub.flagged == tuple(c for c in p066.companies if c.flagged)
    assert {l.target for l in hub.links} == {c.id for c in hub.companies}


# -- §4 shared addresses (each spelling on its own, before resolution) ---------------------------------


def test_shared_addresses_before_resolution_break_into_spellings(graph: nx.MultiDiGraph) -> None:
    groups = [frozenset(bid(e) for e in r.entities) for r in shared_addresses(graph).rows]
    for expected in (
        {"C014", "C103"},
        {"C068", "C117"},
        {"C024", "C060", "C061", "C091", "C097", "C108", "C123", "C154", "C160"},
        {"C046", "C059", "C082", "C129"},
        {"C017", "C028", "C107"},
        {"C048", "C102"},
        {"C064", "C029"},
        {"P017", "P018"},
        {"P025", "P026"},
        {"P045", "P046"},
        {"P052", "P053"},
    ):
        assert frozenset(expected) in groups, expected
    couples = [g for g in groups if all(x.startswith("P") for x in g)]
    assert len(couples) == 18
    assert not any("C006" in g for g in groups)
    flagged = shared_addresses(graph, flagged=True)
    assert all(r.flagged for r in flagged.rows)
    assert frozenset({"C048", "C102"}) not in [frozenset(bid(e) for e in r.entities) for r in flagged.rows]
    largest = flagged.rows[0]
    assert len(largest.entities) == 9 and all("companies.csv" in l.text for l in largest.links)


def test_an_address_with_more_holders_than_max_degree_is_a_hub_not_a_lead(graph: nx.MultiDiGraph) -> None:
    result = shared_addresses(graph, flagged=True, max_degree=8)
    hubs = [r for r in result.rows if r.hub]
    # The 9-firm spelling of the virtual office: counted whole, naming only its flagged firms.
    assert [r.count for r in hubs] == [9]
    assert [sorted(bid(e) for e in r.entities) for r in hubs] == [["C097", "C108"]] == [sorted(bid(e) for e in r.flagged) for r in hubs]
    assert result.rows[-1].hub and not result.rows[0].hub  # leads first
    assert [h.degree for h in result.hubs] == [9]


# -- cluster and path ---------------------------------------------------------------------------------


def test_cluster_around_c129_stops_at_hubs(graph: nx.MultiDiGraph) -> None:
    # Before resolution the virtual office is three spellings of 9, 4 and 3 firms; with a hub
    # limit of 3 the 4-firm spelling C129 uses is a hub and its three other firms stay out.
    result = cluster(graph, around=["C129"], max_degree=3)
    assert len(result.rows) == 1
    members = {bid(e) for e in result.rows[0].entities}
    assert "C129" in members and "P071" in members and "P066" not in members  # P066 runs 10 firms: a hub too
    assert not {"C046", "C059", "C082", "C060"} & members
    hub_names = {bid(h.entity) for h in result.rows[0].hubs}
    assert "P066" in hub_names
    assert any(h.entity.kind == "Address" for h in result.rows[0].hubs)
    seeds = result.rows[0].seeds
    assert [bid(s) for s in seeds] == ["C129"]
    default = cluster(graph, around=["C129"])
    members = {bid(e) for e in default.rows[0].entities}
    assert {"P066", "P071", "C081", "C037", "C014", "C117", "C103"} <= members


def test_cluster_of_every_flagged_firm_keeps_the_distributor_apart_from_the_ring(graph: nx.MultiDiGraph) -> None:
    result = cluster(graph)
    ring_group = next(g for g in result.rows if any(bid(e) == "C037" for e in g.entities))
    members = {bid(e) for e in ring_group.entities}
    assert set(RING) <= members
    assert "C006" not in members
    assert ring_group.communities >= 2  # a large group gets Louvain labels
    assert all(m.community is not None for m in ring_group.entities)
    assert cluster(graph).model_dump() == result.model_dump()  # deterministic


def test_path_explains_every_link_with_its_source(graph: nx.MultiDiGraph) -> None:
    result = path(graph, "P018", "C037")
    assert result.total == 1
    row = result.rows[0]
    assert row.length == 3
    assert [bid(e) for e in row.entities] == ["P018", "P017", "C103", "C037"]
    assert [l.text for l in row.links] == [
        "Julián Villaseñor Ibarra is the spouse of Claudia Ferrer Anaya (precursor-case:family.csv:9)",
        "Julián Villaseñor Ibarra owns 40% of Tenedora Robledal, S.A.P.I. de C.V. (precursor-case:ownership.csv:160)",
        (
            "Tenedora Robledal, S.A.P.I. de C.V. owns 90% of Distribuidora Reactiva del Golfo, S. de R.L. de C.V. "
            "(precursor-case:ownership.csv:62)"
        ),
    ]


def test_path_finds_every_shortest_connection_and_refs_by_name_or_tax_id(graph: nx.MultiDiGraph) -> None:
    result = path(graph, "rodrigo villasenor ibarra", "QFN170312AB1")
    assert result.total >= 1 and all(r.length == 1 for r in result.rows)
    assert {l.rel for l in result.rows[0].links} == {"OWNS"}
    two = path(graph, "C014", "C052")  # P025 owns both; the nominee does not run C052
    assert {bid(r.entities[1]) for r in two.rows} >= {"P025"}
    assert all(r.length == 2 for r in two.rows)
    none = path(graph, "C006", "C014", max_hops=4)
    assert none.rows == () and "no connection" in none.notes[0]


def test_refs_are_ids_bundle_ids_tax_ids_or_names(graph: nx.MultiDiGraph) -> None:
    node = resolve_ref(graph, "C037")
    assert resolve_ref(graph, node) == node
    assert resolve_ref(graph, "DRG180521K47") == node
    assert resolve_ref(graph, "DISTRIBUIDORA REACTIVA DEL GOLFO, S. DE R.L. DE C.V.") == node
    assert resolve_ref(graph, "Química Fina del Norte, S.A. de C.V.") == resolve_ref(
        graph, "quimica fina del norte, s.a. de c.v."
    )
    with pytest.raises(RefError, match="closest names: .*Química Fina del Norte"):
        resolve_ref(graph, "Quimica Fina del Nort")


# -- §7 new importers (by tax id; the rows without one are customs parties until resolution) -----------


def test_new_importers_of_4_piperidone(graph: nx.MultiDiGraph) -> None:
    result = new_importers(graph, chemical="4-Piperidona", since="2019-01-01")
    registered = [r for r in result.rows if r.company.bundle_id]
    assert [(bid(r.company), r.first_import, bid(r.first_shipment)) for r in registered] == [
        ("C014", "2019-03-18", "S0159"),
        ("C081", "2019-06-04", "S0166"),
        ("C037", "2019-09-23", "S0184"),
        ("C052", "2020-01-14", "S0205"),
        ("C068", "2020-05-27", "S0236"),
    ]
    # Every 4-P shipment since 2019 lands on one importer node: together 35 rows and 49,150 kg.
    assert sum(r.shipments for r in result.rows) == 35
    assert sum(r.quantity_kg for r in result.rows) == pytest.approx(49150)
    assert all(r.new for r in result.rows)
    assert all("shipments.csv" in l.text for r in result.rows for l in r.links)
    assert not {"C006", "C027"} & {r.company.bundle_id for r in result.rows}


def test_established_importers_and_synonyms(graph: nx.MultiDiGraph) -> None:
    for name in ("4-piperidone", "Piperidin-4-one", "4-P", "41661-47-6"):
        result = new_importers(graph, chemical=name, since="2019-01-01", established=True)
        old = {bid(r.company): (r.first_import[:4], r.shipments, r.quantity_kg) for r in result.rows if not r.new}
        assert old == {"C006": ("2016", 28, 12910.0), "C027": ("2016", 17, 2210.0)}
        assert set(next(r for r in result.rows if bid(r.company) == "C006").years) == set(range(2016, 2023))
    importers = {
        r.company.bundle_id
        for r in new_importers(graph, chemical="4-P", since="2010-01-01").rows
        if r.company.bundle_id
    }
    assert importers == {"C006", "C027", "C014", "C037", "C052", "C068", "C081"}


def test_related_precursors(graph: nx.MultiDiGraph) -> None:
    boc = new_importers(graph, chemical="1-Boc-4-piperidona", since="2019-01-01", established=True)
    by = {bid(r.company): r for r in boc.rows}
    assert (by["C129"].first_import, bid(by["C129"].first_shipment), by["C129"].new) == ("2020-03-10", "S0215", True)
    assert (by["C083"].first_import, by["C083"].shipments, by["C083"].quantity_kg, by["C083"].new) == (
        "2017-05-07",
        6,
        150.0,
        False,
    )
    ap = new_importers(graph, chemical="4-AP", since="2019-01-01")
    assert (bid(ap.rows[0].company), ap.rows[0].first_import, bid(ap.rows[0].first_shipment)) == (
        "C117",
        "2021-03-30",
        "S0294",
    )
    pc = new_importers(graph, chemical="cloruro de propionilo", since="2019-01-01", established=True)
    by = {bid(r.company): r for r in pc.rows}
    assert (by["C117"].first_import, bid(by["C117"].first_shipment), by["C117"].shipments, by["C117"].quantity_kg) == (
        "2020-06-16",
        "S0239",
        3,
        6300.0,
    )
    assert (by["C026"].shipments, by["C026"].years[0], by["C026"].years[-1], by["C026"].new) == (14, 2016, 2022, False)


# -- §9 risk ------------------------------------------------------------------------------------------------


def test_the_distributor_ranks_below_every_ring_firm_and_outside_the_top_10(graph: nx.MultiDiGraph) -> None:
    result = risk(graph)
    order = [bid(r.entity) for r in result.rows]
    assert "C006" in order
    assert all(order.index(firm) < order.index("C006") for firm in RING)
    assert "C006" not in order[:10]
    assert set(order[:7]) == set(RING)
    c006 = result.rows[order.index("C006")]
    assert any("4,850 employees" in r and r.startswith("-") for r in c006.reasons)
    assert any("1971" in r and r.startswith("-") for r in c006.reasons)
    c014 = result.rows[order.index("C014")]
    names = {s.name for s in c014.signals}
    assert {"new_importer", "nominee_officer", "tiny", "very_young", "watchlist"} <= names
    assert c014.score == pytest.approx(sum(s.weight for s in c014.signals))
    assert [bid(r.entity) for r in risk(graph, top=3).rows] == order[:3]


# -- results are typed, frozen and serialisable ---------------------------------------------------------------


def test_results_are_frozen_and_every_entity_has_the_contract_fields(graph: nx.MultiDiGraph) -> None:
    result = ubo(graph, "C037")
    with pytest.raises(ValidationError):
        result.rows[0].effective_pct = 99.0  # type: ignore[misc]
    for row in result.json_rows():
        assert {"id", "name", "kind", "tax_id", "flagged"} <= set(row["owner"])
        assert isinstance(row["effective_pct"], float) and isinstance(row["paths"], list)
