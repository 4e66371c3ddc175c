"""Each investigation on small stories written as real CSV bundles, ingested into real case files."""

from __future__ import annotations

import importlib
from pathlib import Path

import networkx as nx
import pytest
from conftest import write_csv

from graphinv import CaseFile, GraphinvError, RefError, ingest, load_graph
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
from graphinv.store import Decision


def build(tmp_path: Path, **files: tuple[list[str], list[list[object]]]) -> nx.MultiDiGraph:
    folder = tmp_path / "bundle"
    for name, (header, rows) in files.items():
        write_csv(folder / f"{name}.csv", header, rows)
    case = tmp_path / "case.graphinv"
    ingest(case, [folder], dataset="story")
    return load_graph(case)


COMPANY = ["id", "name", "tax_id", "incorporation_date", "employees", "address"]
PERSON = ["id", "name", "address"]
OWNS = ["owner_id", "company_id", "share_pct", "start_date", "end_date"]


def bid(entity: object) -> str:
    return entity.bundle_id  # type: ignore[attr-defined]


# -- ubo ------------------------------------------------------------------------------------------


def test_ubo_two_firms_owning_each_other_terminates_without_inventing_an_owner(tmp_path: Path) -> None:
    # The BODS conformance case "circular ownership": Alpha and Beta own each other 100%.
    g = build(
        tmp_path,
        companies=(COMPANY, [["A", "Alpha Corp Ltd", "", "", "", ""], ["B", "Beta Corp Ltd", "", "", "", ""]]),
        ownership=(OWNS, [["A", "B", "100", "", ""], ["B", "A", "100", "", ""]]),
    )
    result = ubo(g, "A")
    assert result.rows == ()
    assert any("cycle" in n for n in result.notes) and any("no ultimate owner" in n for n in result.notes)
    everyone = ubo(g, "A", intermediate=True)
    assert [(bid(r.owner), r.effective_pct, r.ultimate) for r in everyone.rows] == [("B", 100.0, False)]


def test_ubo_sums_chains_and_keeps_unknown_shares_unknown(tmp_path: Path) -> None:
    g = build(
        tmp_path,
        companies=(COMPANY, [[c, f"Firm {c}", "", "", "", ""] for c in ("T", "H1", "H2", "H3")]),
        persons=(PERSON, [["P1", "Ana Uno", ""], ["P2", "Beto Dos", ""], ["P3", "Caro Tres", ""]]),
        ownership=(
            OWNS,
            [
                ["H1", "T", "40", "", ""],
                ["H2", "T", "20", "", ""],
                ["H3", "T", "40", "", ""],
                ["P1", "H1", "50", "", ""],
                ["P1", "H2", "100", "", ""],
                ["P2", "H1", "50", "", ""],
                ["P3", "H3", "", "", ""],
            ],
        ),
    )
    rows = {bid(r.owner): r for r in ubo(g, "T").rows}
    assert rows["P1"].effective_pct == pytest.approx(40.0) and len(rows["P1"].paths) == 2
    assert rows["P2"].effective_pct == pytest.approx(20.0)
    p3 = rows["P3"]
    assert (p3.effective_pct, p3.share_known, p3.max_pct) == (None, False, 40.0)
    assert "unknown share" in p3.links[-1].text or any("unknown share" in l.text for l in p3.links)
    assert {bid(r.owner) for r in ubo(g, "T", threshold=30).rows} == {"P1", "P3"}  # P3 could reach 40


def test_ubo_as_of_follows_start_and_end_dates(tmp_path: Path) -> None:
    # Like BODS "tecido": the founder sells out while a trust and a partner buy in.
    g = build(
        tmp_path,
        companies=(COMPANY, [["T", "Tecido Ltd", "", "", "", ""], ["S", "Shear Trust", "", "", "", ""]]),
        persons=(PERSON, [["M", "Maria Esteves", ""], ["N", "Nuno Silva", ""]]),
        ownership=(
            OWNS,
            [
                ["M", "T", "100", "2002-03-09", "2021-09-24"],
                ["S", "T", "60", "2021-09-24", ""],
                ["N", "T", "40", "2021-09-24", ""],
            ],
        ),
    )

    def at(day: str) -> dict[str, float | None]:
        return {bid(r.owner): r.effective_pct for r in ubo(g, "T", as_of=day, intermediate=True).rows}

    assert at("2020-01-01") == {"M": 100.0}
    assert at("2021-09-23") == {"M": 100.0}
    assert at("2021-09-24") == {"S": 60.0, "N": 40.0}
    assert at("2001-01-01") == {}
    with pytest.raises(GraphinvError, match="as_of"):
        ubo(g, "T", as_of="2024-13-01")


# -- refs ----------------------------------------------------------------------------------------------


def test_an_ambiguous_ref_lists_the_candidates(tmp_path: Path) -> None:
    g = build(
        tmp_path,
        companies=(
            COMPANY,
            [
                ["C1", "Química del Norte, S.A. de C.V.", "QNO110923HG8", "", "", ""],
                ["C2", "QUIMICA DEL NORTE, S.A. DE C.V.", "QNO030519RT3", "", "", ""],
            ],
        ),
    )
    with pytest.raises(RefError) as info:
        resolve_ref(g, "quimica del norte, s.a. de c.v.")
    message = str(info.value)
    assert "ambiguous" in message and "QNO110923HG8" in message and "QNO030519RT3" in message
    assert bid_of(g, resolve_ref(g, "QNO-110923-HG8")) == "C1"
    with pytest.raises(RefError, match="No entity matches REF 'Quimica del Nrte'.*closest names"):
        resolve_ref(g, "Quimica del Nrte")


def bid_of(g: nx.MultiDiGraph, node: str) -> str:
    return g.nodes[node]["bundle_id"]


# -- hubs, shared addresses and owners, cluster, path ------------------------------------------------------

AGENT = "Av. Reforma 100, Piso 5, 06600 Ciudad de México"


@pytest.fixture
def hub_graph(tmp_path: Path) -> nx.MultiDiGraph:
    """Two small firms (F1, F2) registered by one agent among 14 others, tied through their owners."""
    firms = [[f"F{i}", f"Firma {i}, S.A. de C.V.", f"FIR{i:03d}", "2019-01-01", "3", AGENT] for i in range(1, 17)]
    return build(
        tmp_path,
        companies=(COMPANY, firms + [["H", "Holding Uno, S.A. de C.V.", "HUN", "2018-01-01", "1", "Calle 1"]]),
        persons=(PERSON, [["P1", "Pedro Uno", "Calle Casa 1"], ["P2", "Paula Dos", "Calle Casa 1"]]),
        ownership=(OWNS, [["P1", "F1", "100", "", ""], ["P2", "H", "100", "", ""], ["H", "F2", "100", "", ""]]),
        family=(["person_id", "relative_id", "relation"], [["P1", "P2", "esposa"]]),
        flags=(["entity_ref", "list", "reason", "date"], [["F1", "DEA", "referral", "2021-01-01"]]),
    )


def test_a_shared_office_of_16_firms_is_a_hub_not_a_lead(hub_graph: nx.MultiDiGraph) -> None:
    result = shared_addresses(hub_graph)
    assert [(r.count, len(r.entities), r.hub) for r in result.rows] == [(2, 2, False), (16, 1, True)]
    # The hub names only its flagged firm, and cites only that firm's link; the note says how to see all.
    hub = result.rows[1]
    assert [bid(e) for e in hub.entities] == [bid(e) for e in hub.flagged] == ["F1"]
    assert [l.source for l in hub.links] == [hub.entities[0].id]
    assert [h.degree for h in result.hubs] == [16]
    note = (
        "1 hub(s) with more than 12 firms and persons name only the flagged ones; "
        "raise max_degree (--max-degree; 0: no hubs) to name them all"
    )
    assert result.notes == (note,)
    unlimited = shared_addresses(hub_graph, max_degree=None)
    assert [(r.count, len(r.entities), len(r.links), r.hub) for r in unlimited.rows] == [
        (16, 16, 16, False),
        (2, 2, 2, False),
    ]
    assert unlimited.notes == ()


def test_path_avoids_the_hub_and_explains_the_family_route(hub_graph: nx.MultiDiGraph) -> None:
    result = path(hub_graph, "F1", "F2")
    assert [bid(e) for e in result.rows[0].entities] == ["F1", "P1", "P2", "H", "F2"]
    assert (
        "Paula Dos is the spouse of Pedro Uno" in result.rows[0].links[1].text
        or "spouse" in result.rows[0].links[1].text
    )
    assert all("story:" in l.text for l in result.rows[0].links)
    assert [h.entity.kind for h in result.hubs] == ["Address"]
    through = path(hub_graph, "F1", "F2", max_degree=None)
    assert through.rows[0].length == 2 and through.rows[0].entities[1].kind == "Address"
    assert path(hub_graph, "F1", "F2", max_hops=3).rows == ()


def test_cluster_is_split_into_groups_and_never_walks_through_a_hub(hub_graph: nx.MultiDiGraph) -> None:
    result = cluster(hub_graph, around=["F1", "F16"], hops=4)
    groups = [{e.bundle_id for e in g.entities if e.bundle_id} for g in result.rows]
    assert groups == [{"F1", "P1", "P2", "H", "F2"}, {"F16"}]
    assert [bid(f) for f in result.rows[0].flagged] == ["F1"]
    assert all(h.degree == 16 for g in result.rows for h in g.hubs)
    assert cluster(hub_graph, around=["F1"], hops=1).rows[0].entities[0].hops == 0


def test_a_cut_cluster_orders_equal_groups_by_their_nearest_member(tmp_path: Path) -> None:
    # Eight flagged firms, each alone at its own address: eight groups of two, one flagged each.
    # Each group's first member is its firm (hops 0), though its address sorts first by kind.
    firms = [[f"F{i}", f"Firma {i}", "", "", "", f"Calle {i}"] for i in range(8)]
    flags = [[f"F{i}", "DEA", "referral", "2021-01-01"] for i in range(8)]
    g = build(tmp_path, companies=(COMPANY, firms), flags=(["entity_ref", "list", "reason", "date"], flags))
    whole = cluster(g, hops=1)
    assert [(len(r.entities), len(r.flagged), r.entities[0].kind) for r in whole.rows] == [(2, 1, "Company")] * 8
    assert [r.entities[0].id for r in whole.rows] == sorted(r.entities[0].id for r in whole.rows)
    for limit in range(1, 8):
        assert cluster(g, hops=1, limit=limit).rows == whole.rows[:limit]


def test_louvain_labels_large_groups(tmp_path: Path) -> None:
    # Two tight groups (three owners each holding six firms) joined by one ownership link.
    firms = [[f"{g}{i}", f"Firma {g}{i}", "", "", "", ""] for g in "AB" for i in range(6)]
    owners = [f"P{g}{k}" for g in "AB" for k in range(3)]
    owns = [[p, f"{p[1]}{i}", "10", "", ""] for p in owners for i in range(6)] + [["A0", "B0", "5", "", ""]]
    g = build(
        tmp_path,
        companies=(COMPANY, firms),
        persons=(PERSON, [[p, f"Persona {p}", ""] for p in owners]),
        ownership=(OWNS, owns),
    )
    result = cluster(g, around=["PA0"], hops=6, community_min_size=5, max_degree=None)
    assert len(result.rows) == 1
    group = result.rows[0]
    assert group.communities == 2
    label = {e.bundle_id: e.community for e in group.entities}
    assert {label[f"A{i}"] for i in range(6)} | {label[f"PA{k}"] for k in range(3)} == {label["PA0"]}
    assert {label[f"B{i}"] for i in range(6)} | {label[f"PB{k}"] for k in range(3)} == {label["PB0"]} != {label["PA0"]}
    assert cluster(g, around=["PA0"], hops=6, community_min_size=5, max_degree=None) == result
    assert cluster(g, around=["PA0"], hops=6, max_degree=None).rows[0].communities == 0  # small: no labels


def test_shared_owners_officers_and_dates(tmp_path: Path) -> None:
    g = build(
        tmp_path,
        companies=(COMPANY, [[c, f"Firm {c}", "", "", "", ""] for c in ("X", "Y", "Z")]),
        persons=(PERSON, [["P1", "Uno", ""], ["P2", "Dos", ""]]),
        ownership=(OWNS, [["P1", "X", "50", "", ""], ["P1", "Y", "50", "2010-01-01", "2015-01-01"]]),
        officers=(
            ["person_id", "company_id", "role"],
            [["P2", "X", "director"], ["P2", "Y", "director"], ["P2", "Z", "director"]],
        ),
    )
    assert shared_owners(g).rows == ()
    then = shared_owners(g, as_of="2012-06-01")
    assert [(r.owner.bundle_id, len(r.companies)) for r in then.rows] == [("P1", 2)]
    officers = shared_owners(g, officers=True)
    assert [(r.owner.bundle_id, r.rel, len(r.companies)) for r in officers.rows] == [("P2", "OFFICER_OF", 3)]
    assert all("director" in l.text for l in officers.rows[0].links)


# -- freeze list, new importers, risk ---------------------------------------------------------------------------


def test_freeze_list_cites_the_watch_list_row_and_the_link_to_every_account(tmp_path: Path) -> None:
    """An order must say where each name and account comes from: the flag's row, and each HOLDS row."""
    g = build(
        tmp_path,
        companies=(COMPANY, [["C1", "Uno SA", "", "", "", ""]]),
        persons=(PERSON, [["P1", "Pia Uno", ""]]),
        ownership=(OWNS, [["P1", "C1", "60", "", ""]]),
        accounts=(
            ["id", "holder_id", "bank", "number"],
            [["A1", "C1", "Banco Uno", "001"], ["A2", "P1", "Banco Dos", "002"]],
        ),
        flags=(["entity_ref", "list", "reason", "date"], [["C1", "DEA-2021", "precursor imports", "2021-03-01"]]),
    )
    rows = {bid(r.entity): r for r in freeze_list(g, around=["C1"]).rows}
    assert rows["C1"].reason == "flagged: DEA-2021 (2021-03-01) - precursor imports [story:flags.csv:2]"
    for holder, account, row in (("C1", "A1", "story:accounts.csv:2"), ("P1", "A2", "story:accounts.csv:3")):
        assert [bid(a) for a in rows[holder].accounts] == [account]
        (holds,) = [l for l in rows[holder].links if l.rel == "HOLDS"]
        assert holds.sources == (row,) and row in holds.text


def test_freeze_list_around_a_person_names_the_spouse_and_accounts(hub_graph: nx.MultiDiGraph, tmp_path: Path) -> None:
    result = freeze_list(hub_graph, around=["F2"])
    got = {bid(e.entity): e.role for e in result.rows}
    assert got == {"F2": "named", "H": "chain", "P2": "owner", "P1": "spouse"}
    with pytest.raises(GraphinvError, match="either"):
        freeze_list(hub_graph, around=["F2"], flagged=True)


SHIP = [
    "id",
    "date",
    "importer",
    "importer_tax_id",
    "exporter",
    "exporter_country",
    "product",
    "hs_code",
    "quantity_kg",
]


def test_new_importers_read_every_spelling_and_ignore_hs_code_alone(tmp_path: Path) -> None:
    g = build(
        tmp_path,
        companies=(
            COMPANY,
            [
                ["OLD", "Distribuidora Vieja", "OLD", "1970-01-01", "900", ""],
                ["NEW", "Nueva Química", "NEW", "2019-01-01", "2", ""],
            ],
        ),
        shipments=(
            SHIP,
            [
                ["S1", "2016-02-01", "DISTRIBUIDORA VIEJA", "OLD", "Vendor A", "IN", "4-Piperidona", "2933.39", "100"],
                [
                    "S2",
                    "2020-02-01",
                    "DISTRIBUIDORA VIEJA",
                    "OLD",
                    "Vendor A",
                    "IN",
                    "Piperidin-4-one",
                    "293339",
                    "100",
                ],
                [
                    "S3",
                    "2020-03-01",
                    "NUEVA QUIMICA",
                    "NEW",
                    "Vendor B",
                    "CN",
                    "4 PIPERIDONA MONOHIDRATO CLORHIDRATO",
                    "2933.39",
                    "500",
                ],
                [
                    "S4",
                    "2020-04-01",
                    "NUEVA QUIMICA",
                    "NEW",
                    "Vendor B",
                    "CN",
                    "4-piperidone hydrochloride",
                    "",
                    "250.5",
                ],
                ["S5", "2020-05-01", "NUEVA QUIMICA", "NEW", "Vendor B", "CN", "1-Boc-4-piperidona", "2933.39", "50"],
                [
                    "S6",
                    "2020-06-01",
                    "NUEVA QUIMICA",
                    "NEW",
                    "Vendor B",
                    "CN",
                    "Compuesto heterocíclico",
                    "2933.39",
                    "70",
                ],
            ],
        ),
    )
    result = new_importers(g, chemical="4-piperidona", since="2019-01-01")
    assert [(bid(r.company), r.first_import, r.shipments, r.quantity_kg) for r in result.rows] == [
        ("NEW", "2020-03-01", 2, 750.5)
    ]
    assert [e.name for e in result.rows[0].exporters] == ["Vendor B"]
    until = new_importers(g, chemical="4-P", since="2019-01-01", until="2020-03-15")
    assert [(r.shipments, r.quantity_kg) for r in until.rows] == [(1, 500.0)]
    with pytest.raises(GraphinvError, match="Unknown chemical 'acetona'"):
        new_importers(g, chemical="acetona", since="2019-01-01")
    # risk: the new, tiny importer scores above the old, large one (which has no risk signal at all).
    scores = {bid(r.entity): r.score for r in risk(g).rows}
    assert "NEW" in scores and scores.get("OLD", float("-inf")) < scores["NEW"]


def test_uncertain_matches_count_only_with_include_possible(tmp_path: Path) -> None:
    folder = tmp_path / "bundle"
    write_csv(
        folder / "companies.csv",
        COMPANY,
        [["F", "Química Fina del Norte, S.A. de C.V.", "QFN170312AB1", "2017-03-12", "6", ""]],
    )
    write_csv(
        folder / "persons.csv", PERSON, [["P1", "Héctor Maldonado Ruelas", ""], ["P2", "Hector Maldonado R.", ""]]
    )
    write_csv(folder / "ownership.csv", OWNS, [["P1", "F", "50", "", ""], ["P2", "F2", "80", "", ""]])
    with open(folder / "companies.csv", "a", encoding="utf-8") as handle:
        handle.write("F2,Comercializadora Alcázar Insumos,CAI180904QX2,2018-09-04,5,\n")
    write_csv(
        folder / "shipments.csv",
        SHIP,
        [
            [
                "S1",
                "2019-03-18",
                "QUIMICA FINA DEL NORTE SA DE CV",
                "QFN170312AB1",
                "Vendor",
                "CN",
                "4-Piperidona",
                "2933.39",
                "1000",
            ],
            ["S2", "2019-01-10", "QUIMICA FNA DEL NORTE", "", "Vendor", "CN", "4-Piperidona", "2933.39", "500"],
        ],
    )
    case = tmp_path / "case.graphinv"
    ingest(case, [folder], dataset="story")
    g = load_graph(case)
    firm, p1, p2 = (resolve_ref(g, r) for r in ("F", "P1", "P2"))
    party = resolve_ref(g, "QUIMICA FNA DEL NORTE")
    # Record two uncertain matches the way resolution does, in the case itself.
    with CaseFile(case) as opened, opened.writer() as writer:
        writer.replace_resolution(
            [
                Decision(*sorted((firm, party)), "possible", "test", 0.8, "names 0.80 alike"),
                Decision(*sorted((p1, p2)), "possible", "test", 0.7, "names 0.70 alike"),
            ],
            {},
        )
    g = load_graph(case)
    assert any(k == "POSSIBLY_SAME_AS" for _, _, k in g.edges(keys=True))

    plain = new_importers(g, chemical="4-P", since="2019-01-01")
    assert sorted((r.company.name, r.first_import, r.shipments) for r in plain.rows) == [
        ("QUIMICA FNA DEL NORTE", "2019-01-10", 1),
        ("Química Fina del Norte, S.A. de C.V.", "2019-03-18", 1),
    ]
    joined = new_importers(g, chemical="4-P", since="2019-01-01", include_possible=True)
    assert [(bid(r.company), r.first_import, r.shipments, r.quantity_kg) for r in joined.rows] == [
        ("F", "2019-01-10", 2, 1500.0)
    ]
    assert any(l.rel == "POSSIBLY_SAME_AS" and "may be the same as" in l.text for l in joined.rows[0].links)

    assert path(g, firm, party, max_hops=2).rows == ()  # only a shared exporter, 4 links away
    assert path(g, firm, party, include_possible=True).rows[0].length == 1

    assert shared_owners(g).rows == ()
    owners = shared_owners(g, include_possible=True)
    assert [(r.owner.bundle_id in ("P1", "P2"), {bid(c) for c in r.companies}) for r in owners.rows] == [
        (True, {"F", "F2"})
    ]
    assert any(l.rel == "POSSIBLY_SAME_AS" for l in owners.rows[0].links)
    assert {bid(e) for e in cluster(g, around=["F"], hops=1, include_possible=True).rows[0].entities} >= {"F", "P1"}


FLAGS = ["entity_ref", "list", "reason", "date"]
FAMILY = ["person_id", "relative_id", "relation"]


def test_risk_lists_firms_tied_only_to_a_flagged_person(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # H is 100% owned by flagged PA; G is 100% owned by PB, whose spouse PC is flagged; K is run
    # by PD, whose spouse PE (flagged) is on the other side of the family link. No firm is flagged.
    # By hand: H +1 (PA), G +1 (PC, via PB), K +1 (PE, via PD); each one flagged person.
    g = build(
        tmp_path,
        companies=(
            COMPANY,
            [["H", "Hueca SA", "", "", "", ""], ["G", "Gestora SA", "", "", "", ""], ["K", "Kappa SA", "", "", "", ""]],
        ),
        persons=(PERSON, [[p, f"Persona {p}", ""] for p in ("PA", "PB", "PC", "PD", "PE")]),
        ownership=(OWNS, [["PA", "H", "100", "", ""], ["PB", "G", "100", "", ""]]),
        officers=(["person_id", "company_id", "role"], [["PD", "K", "director"]]),
        family=(FAMILY, [["PB", "PC", "spouse"], ["PE", "PD", "esposo"]]),
        flags=(FLAGS, [[p, "DEA", "person referral", ""] for p in ("PA", "PC", "PE")]),
    )
    expected = [("G", 1.0, "flagged_person"), ("H", 1.0, "flagged_person"), ("K", 1.0, "flagged_person")]
    ranked = risk(g, top=10)  # over the arrays
    assert [(bid(r.entity), r.score, r.signals[0].name) for r in ranked.rows] == expected
    monkeypatch.setattr(importlib.import_module("graphinv.query.risk"), "_ranked", lambda *a, **k: None)
    assert risk(g, top=10) == ranked
    assert [(bid(r.entity), r.score) for r in risk(g).rows] == [(b, s) for b, s, _ in expected]


def test_risk_without_hubs_lists_every_firm_at_a_large_address_of_a_flagged_firm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 250 firms at one address, F0 flagged; with max_degree=None the address is no hub, so each
    # other firm shares its address with 1 flagged firm: 249 rows of +1; F0 itself: +1 watchlist.
    firms = [[f"F{i}", f"Firma {i:03d}", "", "", "", "Calle Grande 1"] for i in range(250)]
    g = build(tmp_path, companies=(COMPANY, firms), flags=(FLAGS, [["F0", "DEA", "referral", ""]]))
    ranked = risk(g, max_degree=None, top=300)
    assert len(ranked.rows) == 250 and {r.score for r in ranked.rows} == {1.0}
    assert sum(r.signals[0].name == "shared_address_flagged" for r in ranked.rows) == 249
    monkeypatch.setattr(importlib.import_module("graphinv.query.risk"), "_ranked", lambda *a, **k: None)
    assert risk(g, max_degree=None, top=300) == ranked


def test_a_firm_owning_part_of_itself_is_not_tied_to_another_firm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # S (flagged) holds 10% of itself and 60% of T; C5 holds 10% of itself and all of C6.
    # risk by hand: S +1 watchlist only (its stake in itself is no flagged firm it owns);
    # T +1 ownership_flagged (owned by S), and no owner_links_flagged (S's "other" flagged firm is S).
    # shared-owners: C5 owns one firm besides itself, so no row; S likewise.
    g = build(
        tmp_path,
        companies=(COMPANY, [[c, f"Firma {c}", "", "", "", ""] for c in ("S", "T", "C5", "C6")]),
        ownership=(
            OWNS,
            [
                ["S", "S", "10", "", ""],
                ["S", "T", "60", "", ""],
                ["C5", "C5", "10", "", ""],
                ["C5", "C6", "100", "", ""],
            ],
        ),
        flags=(FLAGS, [["S", "DEA", "referral", ""]]),
    )
    expected = [("S", 1.0, ("watchlist",)), ("T", 1.0, ("ownership_flagged",))]
    ranked = risk(g, top=5)
    assert [(bid(r.entity), r.score, tuple(s.name for s in r.signals)) for r in ranked.rows] == expected
    monkeypatch.setattr(importlib.import_module("graphinv.query.risk"), "_ranked", lambda *a, **k: None)
    assert risk(g, top=5) == ranked
    assert shared_owners(g).rows == ()  # the array path
    assert shared_owners(g, include_possible=True).rows == ()  # the Python walk
    assert shared_owners(g, limit=5).rows == ()


@pytest.fixture
def vague_dates(tmp_path: Path) -> nx.MultiDiGraph:
    """4-piperidone imports dated to the day, the month, the year, or not at all."""
    firms = [
        ["OLD", "Distribuidora Antigua", "OLD", "", "", ""],
        ["I4", "Importadora Cuatro", "I4", "", "", ""],
        ["I5", "Importadora Cinco", "I5", "", "", ""],
        ["I6", "Importadora Seis", "I6", "", "", ""],
    ]
    shipments = [
        ["S1", "2018-03-01", "DISTRIBUIDORA ANTIGUA", "OLD", "Far Chem", "CN", "4-piperidona", "2933.39", "100"],
        ["S7", "", "IMPORTADORA CUATRO", "I4", "Far Chem", "CN", "4-piperidona", "2933.39", "5"],
        ["S8", "2020-01-01", "IMPORTADORA CUATRO", "I4", "Far Chem", "CN", "4-piperidona", "2933.39", "7"],
        ["S9", "2019", "IMPORTADORA CINCO", "I5", "Far Chem", "CN", "4-piperidona", "2933.39", "9"],
        ["S10", "2019-06", "IMPORTADORA SEIS", "I6", "Far Chem", "CN", "4-piperidona", "2933.39", "10"],
    ]
    return build(tmp_path, companies=(COMPANY, firms), shipments=(SHIP, shipments))


def test_a_vague_date_is_the_first_day_of_its_period_and_an_option_the_whole_period(
    vague_dates: nx.MultiDiGraph,
) -> None:
    g = vague_dates

    def new(**options: str) -> list[tuple[str, str | None, bool]]:
        rows = new_importers(g, chemical="4-piperidona", **options).rows  # type: ignore[arg-type]
        return [(bid(r.company), r.first_import, r.new) for r in rows]

    # By hand: S9 "2019" counts as 2019-01-01 and S10 "2019-06" as 2019-06-01, so both are on or
    # after 2019-01-01 (and after --since 2019, which starts on 2019-01-01); only S10 is on or
    # after 2019-06-01. I4's first dated import is S8, 2020-01-01.
    expected = [("I5", "2019", True), ("I6", "2019-06", True), ("I4", "2020-01-01", True)]
    assert new(since="2019-01-01") == new(since="2019") == expected
    assert new(since="2019-06-01") == new(since="2019-06") == expected[1:]
    # --until 2019 runs through 2019-12-31: every 2019 shipment counts, S8 (2020) and the undated S7
    # do not (neither can be placed before it); OLD imported in 2018, before --since.
    assert new(since="2019", until="2019", established=True) == [*expected[:2], ("OLD", "2018-03-01", False)]
    assert new(since="2019", until="2019-05-31") == expected[:1]  # S10 counts as 2019-06-01
    with pytest.raises(GraphinvError, match="as_of: .*one day.*2020-12-31"):
        ubo(g, "OLD", as_of="2020")
    with pytest.raises(GraphinvError, match="as_of"):
        risk(g, as_of="2020-06")
    # risk's new importers read the same rule: I5's first import (2019) is on or after 2019-01-01.
    scored = {bid(r.entity): r for r in risk(g, since="2019-01-01").rows}
    assert "new importer of 4-piperidone: first import 2019 (S9), on or after 2019-01-01" in scored["I5"].reasons[0]


def test_an_undated_shipment_counts_but_never_decides_the_first_import(vague_dates: nx.MultiDiGraph) -> None:
    g = vague_dates
    # By hand: I4 imported S7 (undated, 5 kg) and S8 (2020-01-01, 7 kg): first import 2020-01-01
    # (S8), 2 shipments, 12 kg, new since 2019-01-01; with --until 2020-12-31 only S8 counts.
    result = new_importers(g, chemical="4-piperidona", since="2019-01-01")
    i4 = next(r for r in result.rows if bid(r.company) == "I4")
    assert (i4.first_import, bid(i4.first_shipment), i4.shipments, i4.quantity_kg, i4.new) == (
        "2020-01-01",
        "S8",
        2,
        12.0,
        True,
    )
    assert any("undated" in n and "Importadora Cuatro" in n for n in result.notes)
    until = new_importers(g, chemical="4-piperidona", since="2019-01-01", until="2020-12-31")
    assert [(r.first_import, r.shipments, r.new) for r in until.rows if bid(r.company) == "I4"] == [
        ("2020-01-01", 1, True)
    ]
    reasons = {bid(r.entity): r.reasons for r in risk(g, since="2019-01-01").rows}
    assert any("first import 2020-01-01 (S8)" in r and "2 shipments, 12 kg" in r for r in reasons["I4"])


def test_ubo_says_when_the_depth_limit_cut_a_chain(tmp_path: Path) -> None:
    # L0 <- L1 <- ... <- L45 at 100% each, PZ owns all of L45: 46 links up from L0, past MAX_DEPTH
    # (40), so PZ is not reached; PY holds 0% of L0 directly and is listed.
    firms = [[f"L{i}", f"Capa {i}", "", "", "", ""] for i in range(46)]
    owns = [[f"L{i + 1}", f"L{i}", "100", "", ""] for i in range(45)] + [["PZ", "L45", "100", "", ""]]
    g = build(
        tmp_path,
        companies=(COMPANY, firms),
        persons=(PERSON, [["PZ", "Zoe Final", ""], ["PY", "Yago Directo", ""]]),
        ownership=(OWNS, [*owns, ["PY", "L0", "0", "", ""]]),
        flags=(FLAGS, [["L0", "DEA", "referral", ""]]),
    )
    result = ubo(g, "L0")
    assert [bid(r.owner) for r in result.rows] == ["PY"] and result.truncated
    assert any("longer than 40 links" in n and "not listed" in n for n in result.notes)
    assert ubo(g, "L40").notes == () and not ubo(g, "L40").truncated  # 6 links up to PZ: all walked
    assert any("L0" in n and "longer than 40 links" in n for n in freeze_list(g, flagged=True).notes)


def test_ubo_notes_ultimate_owners_below_the_threshold_and_treasury_shares(tmp_path: Path) -> None:
    # T3 <- Y1 80%; Y1 <- Y2 50%, PB 50%; Y2 <- Y3 50%; Y3 <- T3 100% (a cycle back to T3).
    # By hand: PB holds 80% x 50% = 40% of T3, the only ultimate owner. At threshold 50 only Y1
    # (80%, itself owned) reaches it: the note must say an ultimate owner exists below 50%.
    # S holds 60% of T and 10% of itself, nothing else: S is T's ultimate owner at 60%.
    g = build(
        tmp_path,
        companies=(COMPANY, [[c, f"Firma {c}", "", "", "", ""] for c in ("T3", "Y1", "Y2", "Y3", "T", "S")]),
        persons=(PERSON, [["PB", "Bruno Inventado", ""]]),
        ownership=(
            OWNS,
            [
                ["Y1", "T3", "80", "", ""],
                ["Y2", "Y1", "50", "", ""],
                ["PB", "Y1", "50", "", ""],
                ["Y3", "Y2", "50", "", ""],
                ["T3", "Y3", "100", "", ""],
                ["S", "T", "60", "", ""],
                ["S", "S", "10", "", ""],
            ],
        ),
    )
    assert [(bid(r.owner), r.effective_pct) for r in ubo(g, "T3").rows] == [("PB", 40.0)]
    high = ubo(g, "T3", threshold=50)
    assert high.rows == ()
    assert [n for n in high.notes if "ultimate" in n] == [
        "no ultimate owner holds 50% or more: the largest, Bruno Inventado, holds 40% (lower the threshold to list it)"
    ]
    selfish = ubo(g, "T")
    assert [(bid(r.owner), r.effective_pct, r.ultimate) for r in selfish.rows] == [("S", 60.0, True)]
    assert not any("no ultimate owner" in n for n in selfish.notes)


# -- the command line's csv and hub lines -------------------------------------------------------------

#: Each investigation with options that give rows on the fixture story (tests/conftest.py).
ASKED = {
    "shared-addresses": ([], {}),
    "shared-owners": ([], {"officers": True}),
    "cluster": ([], {}),
    "ubo": (["C037"], {}),
    "path": (["P018", "C037"], {}),
    "freeze-list": ([], {"flagged": True}),
    "new-importers": ([], {"chemical": "4-piperidona", "since": "2019-01-01"}),
    "risk": ([], {"top": 3}),
    "matches": ([], {}),
}


#: The csv header of each, as its rows' flat() spell it.
HEADERS = {
    "shared-addresses": "address,hub,count,flagged,entities",
    "shared-owners": "owner,as,hub,count,flagged,companies",
    "cluster": "size,kinds,flagged,seeds,links,communities,hubs",
    "ubo": "owner,kind,effective_pct,direct_pct,ultimate,paths",
    "path": "length,entities,explanation",
    "freeze-list": "entity,kind,role,reason,accounts",
    "new-importers": "company,first_import,first_shipment,shipments,quantity_kg,last_import,new,exporters",
    "risk": "entity,score,reasons",
    "matches": "verdict,rule,score,left,right,now,reason",
}


def test_csv_prints_the_header_even_without_rows(tmp_path: Path, resolved_fixture_case: Path) -> None:
    from typer.testing import CliRunner

    from graphinv.cli import app
    from graphinv.query import INVESTIGATIONS, run

    assert set(ASKED) == set(INVESTIGATIONS)
    # The columns known without a row are the keys of a real row's flat().
    story = load_graph(resolved_fixture_case)
    for name, (refs, options) in ASKED.items():
        result = run(story, name, refs, **options)
        assert result.rows and list(result.flat_rows()[0]) == list(result.columns()), name
    # A case where nothing answers: two unrelated firms. By hand: no investigation has a row.
    g_dir = tmp_path / "empty"
    write_csv(g_dir / "companies.csv", ["id", "name"], [["A", "Alfa SA"], ["B", "Beta SA"]])
    case = tmp_path / "empty.graphinv"
    ingest(case, [g_dir], dataset="story")
    runner = CliRunner()
    for name, (refs, options) in ASKED.items():
        refs = {"ubo": ["A"], "path": ["A", "B"]}.get(name, [])
        flags = [
            f"--{k.replace('_', '-')}" if v is True else f"--{k.replace('_', '-')}={v}" for k, v in options.items()
        ]
        out = runner.invoke(app, ["query", str(case), name, *refs, *flags, "--format", "csv"])
        assert out.exit_code == 0, (name, out.output)
        assert out.stdout.splitlines() == [HEADERS[name]], name


def test_the_hub_line_counts_what_the_investigation_counts(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from graphinv.cli import app

    # PH owns 1% of each of 13 firms (C1 flagged): a hub of shared-owners, whose degree counts firms.
    build(
        tmp_path,
        companies=(COMPANY, [[f"C{i}", f"Firma {i:02d}", "", "", "", ""] for i in range(1, 14)]),
        persons=(PERSON, [["PH", "Hub Nominee", ""]]),
        ownership=(OWNS, [["PH", f"C{i}", "1", "", ""] for i in range(1, 14)]),
        flags=(FLAGS, [["C1", "DEA", "referral", ""]]),
    )
    out = CliRunner().invoke(app, ["query", str(tmp_path / "case.graphinv"), "shared-owners", "--format", "csv"])
    assert out.exit_code == 0, out.output
    assert "hub (only its flagged firms named): PH Hub Nominee - 13 firms\n" in out.output
    assert "firms and persons" not in out.output


def test_whole_number_options_and_datetimes_are_checked(hub_graph: nx.MultiDiGraph) -> None:
    import datetime as dt

    import numpy as np

    g = hub_graph
    for call in (
        lambda: path(g, "F1", "F2", max_hops=2.5),
        lambda: path(g, "F1", "F2", limit=1.0),
        lambda: cluster(g, around=["F1"], hops=1.5),
        lambda: cluster(g, around=["F1"], limit="2"),
        lambda: risk(g, top=2.0),
        lambda: shared_owners(g, limit=True),
        lambda: shared_addresses(g, limit=0.5),
        lambda: shared_addresses(g, max_degree=12.5),
    ):
        with pytest.raises(GraphinvError, match="must be a whole number, got"):
            call()
    assert path(g, "F1", "F2", max_hops=np.int64(4)).rows[0].length == 4  # a numpy integer is one
    # A datetime is read as its day (it is a date too, whose isoformat() has the time).
    assert ubo(g, "F2", as_of=dt.datetime(2020, 1, 1, 5, 0)).as_of == "2020-01-01"
    assert risk(g, as_of=dt.datetime(2020, 1, 1, 5, 0)).reference_date == "2020-01-01"


def test_a_name_that_fits_two_persons_is_ambiguous_where_a_firm_is_asked(tmp_path: Path) -> None:
    g = build(
        tmp_path,
        companies=(COMPANY, [["C1", "Uno SA", "", "", "", ""]]),
        persons=(PERSON, [["P32", "Laura López Pérez", ""], ["P54", "Laura López Pérez", ""]]),
    )
    with pytest.raises(RefError, match=r"names 2 entities, none a Company: .*Give the id of a Company") as info:
        ubo(g, "Laura Lopez Perez")
    assert "(Person, P32)" in str(info.value) and "(Person, P54)" in str(info.value)
