"""UBO against real published material in ../shared/realdata: the BODS examples' declared indirect
ownership and cycles, and the KEK media-ownership graph (real chains of up to 15 hops, cycles,
missing percentages) checked against an independent count of every simple chain."""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path

import networkx as nx
import pytest
from conftest import REPO, write_csv

from graphinv import ingest, load_graph
from graphinv.query import ubo

REALDATA = REPO.parent / "shared" / "realdata"
BODS = REALDATA / "bods-examples"
KEK = REALDATA / "kek-media-ownership"

pytestmark = pytest.mark.skipif(not REALDATA.is_dir(), reason=f"{REALDATA} is not part of this checkout")


def bods_case(tmp_path: Path, package: Path) -> nx.MultiDiGraph:
    """A BODS 0.4 package as a canonical bundle: entities, persons, and each direct shareholding
    (share.exact, or empty when the package does not state it)."""
    statements = json.loads(package.read_text(encoding="utf-8"))
    companies, persons, owns = [], [], []
    for s in statements:
        details = s.get("recordDetails", {})
        if s.get("recordType") == "entity":
            companies.append([s["recordId"], details.get("name") or s["recordId"]])
        elif s.get("recordType") == "person":
            names = details.get("names") or [{}]
            persons.append([s["recordId"], names[0].get("fullName") or s["recordId"]])
    for s in statements:
        details = s.get("recordDetails", {})
        party = details.get("interestedParty")
        if s.get("recordType") != "relationship" or not isinstance(party, str):
            continue
        for interest in details.get("interests", []):
            if interest.get("directOrIndirect") == "indirect":
                continue  # declared results, not links: they are what we compare against
            if interest.get("type") in ("shareholding", None):
                share = (interest.get("share") or {}).get("exact")
                owns.append([party, details["subject"], "" if share is None else share])
    folder = tmp_path / package.stem
    write_csv(folder / "companies.csv", ["id", "name"], companies)
    if persons:
        write_csv(folder / "persons.csv", ["id", "name"], persons)
    write_csv(folder / "ownership.csv", ["owner_id", "company_id", "share_pct"], owns)
    case = tmp_path / f"{package.stem}.graphinv"
    ingest(case, [folder], dataset=package.stem)
    return load_graph(case)


def by_name(result: object) -> dict[str, object]:
    return {r.owner.name: r for r in result.rows}  # type: ignore[attr-defined]


def test_bods_circular_ownership_terminates_without_a_ubo_or_inflation(tmp_path: Path) -> None:
    g = bods_case(tmp_path, BODS / "v0.4-conformance-fixtures" / "edge-cases__10-circular-ownership.json")
    result = ubo(g, "Alpha Corp Ltd")
    assert result.rows == () and result.cycles
    assert any("no ultimate owner" in n for n in result.notes)
    rows = by_name(ubo(g, "Alpha Corp Ltd", intermediate=True))
    assert list(rows) == ["Beta Corp Ltd"] and rows["Beta Corp Ltd"].effective_pct == 100.0


@pytest.mark.parametrize(
    ("package", "firm", "declared"),
    [
        ("indirect-ownership.json", "Company A", 30.0),
        ("multiple-indirect-ownership.json", "Company B", 60.0),
        ("mutilple-indirect-ownership-2.json", "Company A", 60.0),
    ],
)
def test_bods_indirect_owner_through_an_unstated_share_is_unknown_not_guessed(
    tmp_path: Path, package: str, firm: str, declared: float
) -> None:
    g = bods_case(tmp_path, BODS / "v0.4-official" / package)
    person = by_name(ubo(g, firm))["Person 1"]
    assert person.effective_pct is None and not person.share_known
    assert person.max_pct is not None and declared <= person.max_pct  # the declared value is possible


def test_bods_state_owned_chain_sums_direct_and_indirect(tmp_path: Path) -> None:
    g = bods_case(tmp_path, BODS / "v0.4-official" / "bods-package-fi-soe.json")
    rows = by_name(ubo(g, "Gasgrid Finland Oy", intermediate=True))
    ministry = rows["Valtiovarainministerio"]
    assert ministry.effective_pct == pytest.approx(100.0) and ministry.direct_pct == 23.5 and len(ministry.paths) == 2
    assert rows["Suomen Kaasuverkko Oy"].effective_pct == 76.5


@pytest.fixture(scope="module")
def kek(tmp_path_factory: pytest.TempPathFactory) -> tuple[nx.MultiDiGraph, nx.DiGraph, dict[str, str]]:
    folder = tmp_path_factory.mktemp("kek")
    with open(KEK / "company.csv", encoding="utf-8") as handle:
        companies = [[r["id"], r["name"]] for r in csv.DictReader(handle)]
    with open(KEK / "shares.csv", encoding="utf-8") as handle:
        shares = [[r["shareholder"], r["owns"], r["share"]] for r in csv.DictReader(handle)]
    write_csv(folder / "bundle" / "companies.csv", ["id", "name"], companies)
    write_csv(folder / "bundle" / "ownership.csv", ["owner_id", "company_id", "share_pct"], shares)
    ingest(folder / "kek.graphinv", [folder / "bundle"], dataset="kek")
    plain = nx.DiGraph()
    for owner, firm, share in shares:
        plain.add_edge(owner, firm, share=float(share) if share else None)
    return load_graph(folder / "kek.graphinv"), plain, dict(companies)


def expected_stakes(plain: nx.DiGraph, target: str) -> dict[str, float]:
    """Independently: for every ancestor, the sum over networkx's simple paths of the share product."""
    stakes: dict[str, float] = {}
    for owner in nx.ancestors(plain, target):
        for chain in nx.all_simple_paths(plain, owner, target):
            product = 1.0
            for a, b in itertools.pairwise(chain):
                share = plain.edges[a, b]["share"]
                if share is None:
                    break
                product *= share / 100.0
            else:
                stakes[owner] = stakes.get(owner, 0.0) + product * 100.0
    return stakes


def test_kek_ubo_equals_an_independent_sum_over_simple_chains(kek: tuple) -> None:
    graph, plain, names = kek
    in_cycles = {n for cycle in nx.simple_cycles(plain) for n in cycle}
    assert {names[n] for n in in_cycles} >= {"NRJ Group S.A.", "Highlight Communications AG", "Constantin Medien AG"}
    deep = sorted(plain.nodes, key=lambda n: (-len(nx.ancestors(plain, n)), n))[:15]
    for target in sorted(in_cycles) + deep:
        result = ubo(graph, target, intermediate=True)
        got = {
            graph.nodes[r.owner.id]["bundle_id"]: r.effective_pct for r in result.rows if r.effective_pct is not None
        }
        assert got == pytest.approx(expected_stakes(plain, target), abs=1e-5), names[
            target
        ]  # shares are given to 6 decimals
        if target in in_cycles:
            assert result.cycles, names[target]


def test_kek_longest_chain_is_followed_to_its_root(kek: tuple) -> None:
    graph, _, names = kek
    turner = next(i for i, n in names.items() if n == "Turner Broadcasting System Deutschland GmbH")
    result = ubo(graph, turner, intermediate=True)
    longest = max((p for r in result.rows for p in r.paths), key=len)
    assert len(longest) - 1 == 15  # hops, as the KEK README measured
    assert names[graph.nodes[longest[0]]["bundle_id"]] == "State Street Global Advisors (US)" or len(longest) == 16
