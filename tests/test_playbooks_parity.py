"""Parity: every investigation's playbook, run with no server on the fixture case, answers exactly
as the Python investigation of the same name (``graphinv.query``) on the same case; and every
playbook returns the columns its header declares."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playbook_parity import RUNS, cluster_facts, facts, path_facts, python_rows

from graphinv.playbooks import get_playbook, list_playbooks, run_playbook

CASES = [(name, i) for name, runs in RUNS.items() for i in range(len(runs))]


@pytest.fixture(scope="module")
def graph(playbook_case: Path) -> Any:
    from graphinv.store import load_graph

    return load_graph(playbook_case)


@pytest.mark.parametrize(("name", "index"), CASES, ids=[f"{n}-{i}" for n, i in CASES])
def test_playbook_equals_the_python_investigation(name: str, index: int, engine_target: Any, graph: Any) -> None:
    params, refs, options = RUNS[name][index]
    pytest.importorskip("graphinv.query", reason="the Python investigations (issue 4) are not in this tree")
    played = run_playbook(name, params, neo4j=engine_target)
    python = python_rows(graph, name, refs, options)
    if name == "cluster":
        assert cluster_facts(rows=played.rows) == cluster_facts(python=python)
    elif name == "path":
        limit = params.get("limit", 10)
        assert path_facts(rows=played.rows, limit=limit) == path_facts(python=python, limit=limit)
    else:
        assert facts(name, played.rows) == facts(name, python.rows)


def test_the_story_answers_come_out_of_the_playbooks(engine_target: Any) -> None:
    """A few of fixtures/README.md's expected answers, read straight off the playbooks."""
    owners = run_playbook("ubo", {"firm": "C037", "threshold": 25}, neo4j=engine_target).rows
    assert [(r["owner"]["bundle_id"], r["effective_pct"], r["paths"][0][0] == r["owner"]["id"]) for r in owners] == [
        ("P003", 43.2, True), ("P017", 36.0, True),
    ]
    freeze = run_playbook("freeze-list", {"around": ["C014", "C037", "C052", "C068", "C081", "C117", "C129"]}, neo4j=engine_target).rows
    assert len(freeze) == 19
    accounts = {a["bundle_id"] for r in freeze for a in r["accounts"]}
    assert not accounts & {"A007", "A008", "A009"}
    ranked = [r["entity"]["bundle_id"] for r in run_playbook("risk", {}, neo4j=engine_target).rows]
    assert ranked.index("C006") > max(ranked.index(c) for c in ("C014", "C037", "C052", "C068", "C081", "C117", "C129"))
    assert "C006" not in ranked[:10]
    hubs = run_playbook("hubs", {}, neo4j=engine_target).rows
    assert [(h["as"], h["firms"]) for h in hubs] == [("address", 16), ("officer", 10)]
    nominee = run_playbook("officers-shared-by-flagged", {}, neo4j=engine_target).rows[0]
    assert (nominee["officer"]["bundle_id"], nominee["count"], nominee["all_firms"]) == ("P066", 5, 10)
    relatives = run_playbook("relatives-of-flagged-owners", {"relations": ["spouse"]}, neo4j=engine_target).rows
    spouses = {(r["relative"]["bundle_id"], r["owner"]["bundle_id"]) for r in relatives}
    assert {("P018", "P017"), ("P026", "P025"), ("P053", "P052")} <= spouses
    shells = run_playbook("incorporated-before-first-import", {"max_days": 730}, neo4j=engine_target).rows
    assert {r["company"]["bundle_id"] for r in shells} >= {"C037", "C052", "C068", "C081", "C117", "C129"}
    assert all(0 <= r["days"] <= 730 for r in shells)


@pytest.mark.parametrize("name", [b.name for b in list_playbooks()])
def test_every_playbook_returns_its_declared_columns(name: str, engine_target: Any) -> None:
    book = get_playbook(name)
    samples = {"ref": "C037", "chemical": "4-piperidone", "date": "2019-01-01"}
    params = {p.name: samples[p.base] for p in book.params if p.required}
    if name == "path":
        params = {"source": "P003", "target": "C037"}
    result = run_playbook(name, params, neo4j=engine_target)
    assert result.columns == book.returns
    assert result.rows, f"{name} found nothing on the fixture case"


def test_ubo_playbook_agrees_on_circular_and_treasury_holdings(tmp_path: Path) -> None:
    """B owns 60% of T and T all of B: B is owned (by T), so not an ultimate owner of T. S holds
    70% of U and 10% of itself: a firm with no owner but itself is ultimate."""
    from conftest import write_csv

    from graphinv import ingest
    from graphinv.store import load_graph

    folder = tmp_path / "cyc"
    firms = [["T", "Target SA"], ["B", "Beta SA"], ["S", "Self SA"], ["U", "Uni SA"]]
    write_csv(folder / "companies.csv", ["id", "name"], firms)
    write_csv(folder / "persons.csv", ["id", "name"], [["P1", "Pia Uno"]])
    write_csv(
        folder / "ownership.csv",
        ["owner_id", "company_id", "share_pct"],
        [["B", "T", "60"], ["T", "B", "100"], ["P1", "T", "40"], ["S", "U", "70"], ["S", "S", "10"]],
    )
    case = tmp_path / "case.graphinv"
    ingest(case, [folder])
    graph = load_graph(case)
    for firm, owners in (("T", ["P1"]), ("U", ["S"])):
        played = run_playbook("ubo", {"firm": firm}, case=case)
        python = python_rows(graph, "ubo", (firm,), {})
        assert facts("ubo", played.rows) == facts("ubo", python.rows)
        assert [r["owner"]["bundle_id"] for r in played.rows] == owners


# A vague date counts as the first day of its period (docs/bundle.md); an undated shipment is never
# a first import. Año SA first imports in "2019" (incorporated "2019"), Alba SA on 2019-01-01 (the
# same day: name decides), Mes SA in "2019-05", Sin Fecha SA undated and on 2019-06-10; the latest
# shipment is dated "2022", the day Q1 became an officer of five firms. Ciclo SA holds 10% of itself
# (treasury shares) and 50% of Zeta SA: one other firm, so no shared owner.
VAGUE_RUNS: list[tuple[str, dict[str, Any]]] = [
    ("shared-owners", {}),
    ("new-importers", {"chemical": "4-piperidone", "since": "2019-01-01", "established": True}),
    ("new-importers", {"chemical": "4-piperidone", "since": "2019-05-01"}),
    ("new-importers", {"chemical": "4-piperidone", "since": "2017-01-01", "until": "2019-12-31"}),
    ("risk", {}),
    ("risk", {"since": "2019-01-01"}),
]


@pytest.fixture(scope="module")
def vague_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conftest import write_csv

    from graphinv import ingest

    folder = tmp_path_factory.mktemp("vague") / "vague"
    write_csv(
        folder / "companies.csv",
        ["id", "name", "tax_id", "incorporation_date", "employees"],
        [
            ["E", "Establecida SA", "T-E", "1990-01-01", "300"],
            ["A", "Año SA", "T-A", "2019", "3"],
            ["L", "Alba SA", "T-L", "2018-06-01", "3"],
            ["M", "Mes SA", "T-M", "2016-05-15", "20"],
            ["U", "Sin Fecha SA", "T-U", "2010-01-01", "20"],
            ["Y", "Ciclo SA", "T-Y", "2010-01-01", "20"],
            ["Z", "Zeta SA", "T-Z", "2010-01-01", "20"],
        ],
    )
    write_csv(folder / "persons.csv", ["id", "name"], [["P1", "Pia Uno"], ["Q1", "Quique Nominal"]])
    write_csv(
        folder / "ownership.csv",
        ["owner_id", "company_id", "share_pct"],
        [["Y", "Y", "10"], ["Y", "Z", "50"], ["P1", "A", "20"], ["P1", "L", "20"]],
    )
    write_csv(
        folder / "officers.csv",
        ["person_id", "company_id", "role", "start_date"],
        [["Q1", firm, "director", "2022-01-01"] for firm in ("A", "M", "U", "Y", "Z")],
    )
    write_csv(
        folder / "shipments.csv",
        ["id", "date", "importer", "importer_tax_id", "exporter", "product", "quantity_kg"],
        [
            ["S1", "2017-03-01", "Establecida SA", "T-E", "Exp Uno", "4-piperidone", "100"],
            ["S2", "2019", "Año SA", "T-A", "Exp Uno", "4-piperidone", "100"],
            ["S3", "2019-01-01", "Alba SA", "T-L", "Exp Dos", "4-piperidone", "100"],
            ["S4", "2019-05", "Mes SA", "T-M", "Exp Uno", "4-piperidone", "100"],
            ["S5", "", "Sin Fecha SA", "T-U", "Exp Dos", "4-piperidone", "100"],
            ["S6", "2019-06-10", "Sin Fecha SA", "T-U", "Exp Uno", "4-piperidone", "100"],
            ["S7", "2022", "Establecida SA", "T-E", "Exp Uno", "4-piperidone", "100"],
        ],
    )
    case = folder.parent / "vague.graphinv"
    ingest(case, [folder])
    return case


@pytest.fixture(scope="module")
def vague_engine(vague_case: Path) -> Any:
    """The no-server engine holding the vague case, as ``--case`` starts it (once for every run)."""
    pytest.importorskip(
        "arcadedb_embedded", reason="the no-server engine needs the engine extra: pip install -e '.[test]'"
    )
    from graphinv.playbooks import case_stream
    from graphinv.store.arcade import case_engine

    with case_engine(vague_case, rows=case_stream) as target:
        yield target


@pytest.mark.parametrize(("name", "params"), VAGUE_RUNS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(VAGUE_RUNS)])
def test_playbooks_read_vague_and_undated_dates_and_treasury_shares_as_python_does(
    name: str, params: dict[str, Any], vague_case: Path, vague_engine: Any
) -> None:
    from graphinv.store import load_graph

    played = run_playbook(name, params, neo4j=vague_engine)
    python = python_rows(load_graph(vague_case), name, (), params)
    assert facts(name, played.rows) == facts(name, python.rows)


def test_the_vague_case_answers(vague_case: Path) -> None:
    """What the parity runs above agree on: vague dates are their first day, undated never first."""
    from graphinv.store import load_graph

    graph = load_graph(vague_case)
    new = python_rows(graph, "new-importers", (), VAGUE_RUNS[1][1]).rows
    assert [(r.company.bundle_id, r.first_import, r.new) for r in new] == [
        ("L", "2019-01-01", True),
        ("A", "2019", True),
        ("M", "2019-05", True),
        ("U", "2019-06-10", True),
        ("E", "2017-03-01", False),
    ]
    scored = {r.entity.bundle_id: {s.name for s in r.signals} for r in python_rows(graph, "risk", (), {}).rows}
    assert {"very_young", "nominee_officer"} <= scored["A"]
