"""A link stated for several periods: a share that changed, an office that changed hands' title.

One owner and one firm are one link in the graph; rows that give it other dates are its periods.
The investigations read the period in force on their date, and cite the row that states it.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from conftest import write_csv

from graphinv import CaseFile, ingest, load_graph
from graphinv.query import freeze_list, shared_owners, ubo


@pytest.fixture
def case(tmp_path: Path) -> Path:
    folder = tmp_path / "per"
    write_csv(folder / "companies.csv", ["id", "name"], [["DUP", "Dup SA"], ["C1", "Uno SA"]])
    write_csv(folder / "persons.csv", ["id", "name"], [["PC", "Pedro C"]])
    write_csv(
        folder / "ownership.csv",
        ["owner_id", "company_id", "share_pct", "start_date", "end_date"],
        [["PC", "DUP", "10", "2010-01-01", "2015-01-01"], ["PC", "DUP", "30", "2015-01-01", ""]],
    )
    write_csv(
        folder / "officers.csv",
        ["person_id", "company_id", "role", "start_date", "end_date"],
        [["PC", "C1", "Director", "2010-01-01", "2019-01-01"], ["PC", "C1", "Administrador Único", "2019-01-01", ""]],
    )
    write_csv(folder / "flags.csv", ["entity_ref", "list"], [["C1", "DEA"], ["DUP", "DEA"]])
    path = tmp_path / "case.graphinv"
    ingest(path, [folder])
    return path


def test_the_link_keeps_every_period_with_its_row(case: Path) -> None:
    with CaseFile(case) as opened:
        (owns,) = [l for l in opened.links() if l["rel"] == "OWNS"]
    assert owns["sources"] == ["per:ownership.csv:2", "per:ownership.csv:3"]
    assert owns["periods"] == [
        {"start_date": "2010-01-01", "end_date": "2015-01-01", "share_pct": 10.0, "source": "per:ownership.csv:2"},
        {"start_date": "2015-01-01", "share_pct": 30.0, "source": "per:ownership.csv:3"},
    ]
    # It holds from the first start, open-ended, with the share of the period begun last.
    assert (owns["start_date"], owns.get("end_date"), owns["share_pct"]) == ("2010-01-01", None, 30.0)


@pytest.mark.parametrize(
    ("as_of", "share", "row"),
    [
        ("2021-06-01", 30.0, "per:ownership.csv:3"),
        ("2015-01-01", 30.0, "per:ownership.csv:3"),
        ("2012-06-01", 10.0, "per:ownership.csv:2"),
    ],
)
def test_ubo_reads_the_share_in_force_on_its_date(case: Path, as_of: str, share: float, row: str) -> None:
    (owner,) = ubo(load_graph(case), "DUP", as_of=as_of).rows
    assert owner.owner.name == "Pedro C" and owner.effective_pct == share
    assert owner.links[0].sources == (row,) and row in owner.links[0].text
    assert not ubo(load_graph(case), "DUP", as_of="2009-12-31").rows


@pytest.mark.parametrize(("as_of", "role"), [("2021-01-01", "Administrador Único"), ("2015-01-01", "Director")])
def test_freeze_list_names_the_officer_with_the_role_of_the_day(case: Path, as_of: str, role: str) -> None:
    rows = {r.entity.bundle_id: r for r in freeze_list(load_graph(case), flagged=True, officers=True, as_of=as_of).rows}
    assert f"{role} of Uno SA" in rows["PC"].reasons


def test_the_same_period_stated_twice_is_one_period(tmp_path: Path) -> None:
    folder = tmp_path / "twice"
    write_csv(folder / "companies.csv", ["id", "name"], [["F", "F SA"]])
    write_csv(folder / "persons.csv", ["id", "name"], [["P", "P"]])
    write_csv(
        folder / "ownership.csv",
        ["owner_id", "company_id", "share_pct", "start_date"],
        [["P", "F", "40", "2019-01-01"], ["P", "F", "40", "2019-01-01"], ["P", "F", "55", ""]],
    )
    ingest(tmp_path / "case.graphinv", [folder])
    with CaseFile(tmp_path / "case.graphinv") as opened:
        (owns,) = [l for l in opened.links() if l["rel"] == "OWNS"]
    # Undated and dated rows of one link: two periods (the undated one begun first), three sources.
    assert [p["source"] for p in owns["periods"]] == ["twice:ownership.csv:4", "twice:ownership.csv:2"]
    assert owns["sources"] == ["twice:ownership.csv:2", "twice:ownership.csv:3", "twice:ownership.csv:4"]
    assert owns["share_pct"] == 40.0


def test_a_gap_between_periods_is_no_holding_and_every_answer_reads_the_period_of_its_day(tmp_path: Path) -> None:
    """P1 held 30% of C1 in 2015-2017 and 60% from 2018; P2 was its director in 2015 and its
    president from 2018. In 2017 neither held anything there; in 2016 P1 held 30%."""
    folder = tmp_path / "gap"
    write_csv(folder / "companies.csv", ["id", "name"], [["C1", "Alpha Holdings SA"], ["C2", "Beta Trading SA"]])
    write_csv(folder / "persons.csv", ["id", "name"], [["P1", "Juan Perez Lopez"], ["P2", "Maria Gomez Ruiz"]])
    write_csv(
        folder / "ownership.csv",
        ["owner_id", "company_id", "share_pct", "start_date", "end_date"],
        [
            ["P1", "C1", "30", "2015-01-01", "2017-01-01"],
            ["P1", "C1", "60", "2018-01-01", ""],
            ["P1", "C2", "50", "", ""],
        ],
    )
    write_csv(
        folder / "officers.csv",
        ["person_id", "company_id", "role", "start_date", "end_date"],
        [
            ["P2", "C1", "director", "2015-01-01", "2016-01-01"],
            ["P2", "C1", "president", "2018-01-01", ""],
            ["P2", "C2", "director", "", ""],
        ],
    )
    write_csv(folder / "flags.csv", ["entity_ref", "list"], [["C1", "DEA"]])
    path = tmp_path / "case.graphinv"
    ingest(path, [folder])
    graph = load_graph(path)
    assert not ubo(graph, "C1", as_of="2017-06-01").rows
    assert not ubo(graph, "C1", as_of="2017-01-01").rows  # the end day is not in force
    assert [r.effective_pct for r in ubo(graph, "C1", as_of="2016-06-01").rows] == [30.0]
    in_gap = {r.entity.bundle_id for r in freeze_list(graph, around=["C1"], officers=True, as_of="2017-06-01").rows}
    assert in_gap == {"C1"}
    for day, shown, row in (
        ("2016-06-01", "owns 30%", "gap:ownership.csv:2"),
        ("2021-01-01", "owns 60%", "gap:ownership.csv:3"),
    ):
        (owner,) = [r for r in shared_owners(graph, as_of=day).rows if r.owner.bundle_id == "P1"]
        (link,) = [l for l in owner.links if "Alpha Holdings" in l.text]
        assert shown in link.text and link.sources == (row,)
    assert not [
        r for r in shared_owners(graph, officers=True, as_of="2017-06-01").rows if r.owner.bundle_id in ("P1", "P2")
    ]


def test_the_ftm_export_writes_one_ownership_per_period_and_reads_back_the_same_answers(
    case: Path, tmp_path: Path
) -> None:
    from graphinv.export.ftm import write_ftm

    out = tmp_path / "case.ftm.jsonl"
    write_ftm(case, out)
    entities = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    owned = sorted(
        (e["properties"]["startDate"], e["properties"]["percentage"], e["properties"]["summary"])
        for e in entities
        if e["schema"] == "Ownership"
    )
    assert [(start, pct) for start, pct, _ in owned] == [(["2010-01-01"], ["10"]), (["2015-01-01"], ["30"])]
    assert ["source per:ownership.csv:2" in s[0] for _, _, s in owned] == [True, False]
    again = tmp_path / "again.graphinv"
    ingest(again, [out])
    graph = load_graph(again)
    dup = next(n for n, a in graph.nodes(data=True) if a.get("name") == "Dup SA")
    for as_of, share in (("2012-06-01", 10.0), ("2021-06-01", 30.0)):
        assert [r.effective_pct for r in ubo(graph, dup, as_of=as_of).rows] == [share]
