"""BODS packages (the standard's own examples, real files): load, ubo, unknown owners, time series."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from typer.testing import CliRunner

from _realdata import realdata
from graphinv import CaseFile, IngestReport, ingest, load_graph
from graphinv.cli import app
from graphinv.query import ubo


def _load(tmp_path: Path, *parts: str) -> nx.MultiDiGraph:
    tmp_path.mkdir(parents=True, exist_ok=True)
    case = tmp_path / "bods.graphinv"
    report = ingest(case, [realdata("bods-examples", *parts)], dataset="bods")
    assert report.rejected_total == 0, report.rejections
    return load_graph(case)


def _owners(graph: nx.MultiDiGraph, firm: str, **options: object) -> dict[str, tuple[float | None, float | None]]:
    return {r.owner.name: (r.effective_pct, r.max_pct) for r in ubo(graph, firm, **options).rows}


def test_every_example_loads(tmp_path: Path) -> None:
    folder = realdata("bods-examples")
    files = sorted(p for p in folder.rglob("*.json"))
    assert len(files) == 43
    for number, file in enumerate(files):
        case = tmp_path / f"{number}.graphinv"
        report = ingest(case, [file], dataset="bods")  # recognised by content, every version
        assert report.files[0].kind == "bods", file
        assert report.rejected_total == 0, (file, report.rejections)
        assert report.files[0].kept == report.files[0].read > 0


@pytest.mark.parametrize(
    ("file", "firm", "owner", "declared", "expected"),
    [
        # B owns 60% of A; Person 1's share of B is not stated; declared indirect 30% -> 50% of B.
        ("v0.4-official/indirect-ownership.json", "Company A", "Person 1", 30.0, 30.0),
        ("v0.2-official/indirect-ownership/os-03-dr-04.json", "Company A", "Person 1", 30.0, 30.0),
        # B holds 50%; declared 50% indirect (so all of B) and 50% direct: Person 1 holds all of A.
        ("v0.4-official/mixed-direct-and-indirect-ownership.json", "Company A", "Person 1", 50.0, 100.0),
        ("v0.2-official/indirect-ownership/os-08-dr-04-company-a.json", "Company A", "Person 1", 50.0, 100.0),
        # B 40% + C 20% of A and 60% declared: only 100% of both adds up.
        ("v0.4-official/mutilple-indirect-ownership-2.json", "Company A", "Person 1", 60.0, 60.0),
        ("v0.2-official/indirect-ownership/os-06-dr-04.json", "Company A", "Person 1", 60.0, 60.0),
        # 50% of A held by B; 30% declared -> Person 1 holds 60% of B.
        ("v0.2-official/indirect-ownership/os-07-dr-04-company-a.json", "Company A", "Person 1", 30.0, 30.0),
        # The Republic controls the ministry, which holds 100% x 76.5% + 23.5% of Gasgrid.
        ("v0.4-official/bods-package-fi-soe.json", "Gasgrid Finland Oy", "Suomen tasavalta", 100.0, 100.0),
    ],
)
def test_ubo_gives_the_percentages_the_statements_imply(
    tmp_path: Path, file: str, firm: str, owner: str, declared: float, expected: float
) -> None:
    graph = _load(tmp_path, *file.split("/"))
    assert _owners(graph, firm)[owner] == (expected, expected)
    firm_id = next(n for n, a in graph.nodes(data=True) if a["name"] == firm)
    assert any(d.get("share_pct") == declared for d in graph.nodes[firm_id]["declared_owners"])
    implied = [a for _, _, a in graph.edges(data=True) if a.get("share_implied_by")]
    assert implied, "the chain link whose share the declaration pins down says so"


@pytest.mark.parametrize(
    ("file", "firm", "declared"),
    [
        ("v0.4-official/multiple-indirect-ownership.json", "Company B", 60.0),  # C and D 50/50, shares in them unknown
        ("v0.2-official/indirect-ownership/os-03-dr-03.json", "Company A", 30.0),  # no share stated anywhere in the chain
        ("v0.2-official/indirect-ownership/os-06-dr-03.json", "Company A", 60.0),
    ],
)
def test_a_declaration_the_chain_cannot_pin_down_stays_a_declaration(tmp_path: Path, file: str, firm: str, declared: float) -> None:
    graph = _load(tmp_path, *file.split("/"))
    effective, most = _owners(graph, firm)["Person 1"]
    assert effective is None and most == 100.0 and most >= declared  # never a guess
    firm_id = next(n for n, a in graph.nodes(data=True) if a["name"] == firm)
    assert [d["share_pct"] for d in graph.nodes[firm_id]["declared_owners"]] == [declared]


def test_circular_ownership_terminates_without_inflating(tmp_path: Path) -> None:
    graph = _load(tmp_path, "v0.4-conformance-fixtures", "edge-cases__10-circular-ownership.json")
    result = ubo(graph, "Alpha Corp Ltd")
    assert result.rows == ()  # no natural person, and neither firm is its own owner
    assert len(result.cycles) == 1 and any("no ultimate owner" in n for n in result.notes)
    assert _owners(graph, "Alpha Corp Ltd", intermediate=True) == {"Beta Corp Ltd": (100.0, 100.0)}  # not 200%


def test_declared_unknown_owner_is_reported_as_unknown(tmp_path: Path) -> None:
    graph = _load(tmp_path, "v0.4-conformance-fixtures", "edge-cases__11-anonymous-person.json")
    rows = ubo(graph, "Opaque Holdings SA").rows
    assert len(rows) == 1
    owner = graph.nodes[rows[0].owner.id]
    assert owner["unknown"] is True and owner["unknown_reason"] == "subjectUnableToConfirmOrIdentifyBeneficialOwner"
    assert rows[0].effective_pct is None and rows[0].share_known is False
    assert sum(1 for _, a in graph.nodes(data=True) if a["kind"] == "Person") == 1  # no placeholder person beyond it


def test_direct_ownership_keeps_shares_and_votes_apart(tmp_path: Path) -> None:
    graph = _load(tmp_path, "v0.4-conformance-fixtures", "core__01-direct-ownership.json")
    assert _owners(graph, "Acme Holdings Ltd") == {"Jane Smith": (75.0, 75.0)}
    (link,) = [a for _, _, k, a in graph.edges(keys=True, data=True) if k == "OWNS"]
    assert (link["share_pct"], link["voting_pct"], link["beneficial"]) == (75.0, 75.0, True)


def test_share_bands_anonymous_beneficiaries_and_pep(tmp_path: Path) -> None:
    graph = _load(tmp_path, "v0.4-official", "simple-pep-declaration.json")
    (link,) = [a for _, _, k, a in graph.edges(keys=True, data=True) if k == "OWNS"]
    assert (link["share_min"], link["share_max"], link["share_pct"]) == (25.0, 50.0, 25.0)
    (person,) = [a for _, a in graph.nodes(data=True) if a["kind"] == "Person"]
    assert person["flags"] == ["PEP"]
    trust = _load(tmp_path / "levent", "v0.4-official", "levent.json")
    owners = ubo(trust, "Levent Trust").rows
    anonymous = [trust.nodes[r.owner.id] for r in owners if trust.nodes[r.owner.id].get("unknown")]
    assert len(owners) == 3 and len(anonymous) == 1 and anonymous[0]["unknown_reason"] == "interestedPartyExemptFromDisclosure"


def test_interests_over_time(tmp_path: Path) -> None:
    graph = _load(tmp_path, "v0.4-official", "tecido.json")
    owns = {graph.nodes[u]["name"]: a for u, v, k, a in graph.edges(keys=True, data=True) if k == "OWNS"}
    maria = owns["Maria Esteves"]
    assert (maria["start_date"], maria["end_date"], maria["share_pct"]) == ("2002-03-09", "2023-03-03", 30.0)
    assert maria["share_history"] == ["2002-03-09: 100%", "2021-09-24: 40%", "2022-09-21: 30%"]
    assert owns["Shear Trust"]["share_history"] == ["2021-09-24: 60%", "2022-09-21: 70%", "2023-03-01: 80%"]
    assert _owners(graph, "Tecido Ltd", as_of="2024-01-01") == {"Shear Trust": (80.0, 80.0)}
    fermcat = _load(tmp_path / "fermcat", "v0.4-official", "fermcat.json")
    assert _owners(fermcat, "Fermcat Ltd", as_of="2024-01-01") == {"Patrick O'Donohue": (100.0, 100.0)}
    assert set(_owners(fermcat, "Fermcat Ltd", as_of="2021-06-01")) == {"Patrick O'Donohue", "Declan Byrne-Amin"}


def test_a_0_2_update_continues_the_record_and_a_new_unknown_owner_appears(tmp_path: Path) -> None:
    graph = _load(tmp_path, "v0.2-official", "2-single-update.json")
    owners = _owners(graph, "CHRINON LTD")
    assert owners["Christopher Taggart"] == (50.0, 50.0)
    unknown = [name for name in owners if name.startswith("Unknown owner of CHRINON LTD")]
    assert len(unknown) == 1 and owners[unknown[0]] == (50.0, 50.0)


def test_bods_and_ftm_pair_give_the_same_graph(tmp_path: Path) -> None:
    bods = _load(tmp_path, "v0.4-bods-ftm-pair", "sample_bods.json")
    case = tmp_path / "ftm.graphinv"
    ingest(case, [realdata("bods-examples", "v0.4-bods-ftm-pair", "sample_ftm.jsonl")], dataset="ftm")
    ftm = load_graph(case)

    def links(graph: nx.MultiDiGraph) -> set[tuple[str, str, str, float | None]]:
        return {(graph.nodes[u]["name"], k, graph.nodes[v]["name"], a.get("share_pct")) for u, v, k, a in graph.edges(keys=True, data=True) if k != "HAS_ADDRESS"}

    assert links(bods) == links(ftm) == {
        ("Jane Smith", "OWNS", "Acme Holdings Ltd", 75.0),
        ("Jane Smith", "OFFICER_OF", "Acme Holdings Ltd", None),
        ("Acme Holdings Ltd", "OWNS", "Acme Trading Ltd", 100.0),
    }
    assert _owners(bods, "Acme Trading Ltd") == _owners(ftm, "Acme Trading Ltd") == {"Jane Smith": (75.0, 75.0)}


# -- values that cannot be read: kept raw on the node or link and reported, never dropped ----------
# A small invented 0.4 package in the shape of the standard's bods-package.json, one statement a
# line: Dana Firm Ltd (line 1), Ana Example (line 2), and her shareholding in the firm (line 3).


ENTITY = {"entityType": {"type": "registeredEntity"}, "name": "Dana Firm Ltd", "foundingDate": "2019-09-03"}
PERSON = {"personType": "knownPerson", "names": [{"type": "legal", "fullName": "Ana Example"}]}
SHARE = {"type": "shareholding", "directOrIndirect": "direct", "beneficialOwnershipOrControl": True, "startDate": "2016-04-06"}


def _statement(
    number: int, record: str, kind: str, details: dict[str, Any], date: str = "2020-03-04", status: str = "new"
) -> dict[str, Any]:
    return {
        "statementId": f"statement-{number}",
        "statementDate": date,
        "recordId": record,
        "recordStatus": status,
        "recordType": kind,
        "recordDetails": {"isComponent": False, **details},
    }


def _holding(**interest: Any) -> dict[str, Any]:
    return {"subject": "firm-1", "interestedParty": "person-1", "interests": [SHARE | {"share": {"exact": 100}} | interest]}


def _bad_package(
    tmp_path: Path,
    *,
    firm: dict[str, Any] | None = None,
    person: dict[str, Any] | None = None,
    interest: dict[str, Any] | None = None,
    later: tuple[dict[str, Any], ...] = (),
) -> IngestReport:
    """The package, with ``later`` statements (updates of its records, lines 4, 5, ...) after it."""
    statements = [
        _statement(1, "firm-1", "entity", ENTITY | (firm or {})),
        _statement(2, "person-1", "person", PERSON | (person or {})),
        _statement(3, "owns-1", "relationship", _holding(**(interest or {}))),
        *later,
    ]
    source = tmp_path / "bods.jsonl"
    source.write_text("".join(json.dumps(s) + "\n" for s in statements), encoding="utf-8")
    report = ingest(tmp_path / "case.graphinv", [source], dataset="bods")
    assert report.files[0].kind == "bods" and report.rejected_total == 0, report.rejections
    assert report.files[0].kept == 3
    return report


def _stored(tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The firm node and the OWNS link as the case file holds them."""
    with CaseFile(tmp_path / "case.graphinv") as opened:
        (firm,) = [n for n in opened.nodes() if n["name"] == "Dana Firm Ltd"]
        (owns,) = [link for link in opened.links() if link["rel"] == "OWNS"]
    return firm, owns


def test_a_share_written_as_text_is_read_as_the_number(tmp_path: Path) -> None:
    report = _bad_package(tmp_path, interest={"share": {"exact": "50"}})
    assert report.warnings == []
    _, owns = _stored(tmp_path)
    assert owns["share_pct"] == 50.0 and "raw_share" not in owns
    assert _owners(load_graph(tmp_path / "case.graphinv"), "Dana Firm Ltd") == {"Ana Example": (50.0, 50.0)}


@pytest.mark.parametrize(
    ("share", "raw", "reason"),
    [
        ({"exact": True}, '{"exact": true}', "exact True is not a number"),
        ({"exact": "half"}, '{"exact": "half"}', "exact 'half' is not a number"),
        ({"minimum": 75, "maximum": 25}, '{"minimum": 75, "maximum": 25}', "the minimum 75 is above the maximum 25"),
    ],
)
def test_a_share_that_cannot_be_read_keeps_the_link_with_the_share_unknown_and_the_raw_value(
    tmp_path: Path, share: dict[str, Any], raw: str, reason: str
) -> None:
    report = _bad_package(tmp_path, interest={"share": share})
    assert report.files[0].warned == 1
    assert report.warnings == [
        f"bods.jsonl:3: recordDetails.interests[0].share: {reason}, so the share is unknown; kept as raw_share"
    ]
    _, owns = _stored(tmp_path)
    assert owns["raw_share"] == raw and owns["start_date"] == "2016-04-06"
    assert not {"share_pct", "share_min", "share_max"} & set(owns)
    (row,) = ubo(load_graph(tmp_path / "case.graphinv"), "Dana Firm Ltd").rows
    assert row.owner.name == "Ana Example" and row.share_known is False


def test_a_founding_date_that_is_not_a_date_is_kept_raw_and_reported(tmp_path: Path) -> None:
    report = _bad_package(tmp_path, firm={"foundingDate": "03/09/2019"})
    assert report.warnings == [
        "bods.jsonl:1: recordDetails.foundingDate: not an ISO date (YYYY-MM-DD): '03/09/2019'; kept as raw_incorporation_date"
    ]
    firm, owns = _stored(tmp_path)
    assert firm["raw_incorporation_date"] == "03/09/2019" and "incorporation_date" not in firm
    assert owns["share_pct"] == 100.0  # the rest of the package is read as usual
    result = CliRunner().invoke(app, ["ingest", str(tmp_path / "cli.graphinv"), str(tmp_path / "bods.jsonl")])
    assert result.exit_code == 0, result.output
    assert "warning: bods.jsonl:1: recordDetails.foundingDate: not an ISO date" in result.output


def test_an_interest_start_date_that_does_not_exist_is_kept_raw_and_reported(tmp_path: Path) -> None:
    report = _bad_package(tmp_path, interest={"startDate": "2016-13-45"})
    assert report.files[0].warned == 1
    assert report.warnings == [
        "bods.jsonl:3: recordDetails.interests[0].startDate: no such date: '2016-13-45' (month must be in 1..12); kept as raw_start_date"
    ]
    _, owns = _stored(tmp_path)
    assert owns["raw_start_date"] == "2016-13-45" and "start_date" not in owns
    assert owns["share_pct"] == 100.0


def test_a_pep_start_date_that_is_not_a_date_is_kept_raw_and_reported(tmp_path: Path) -> None:
    exposure = {"status": "isPep", "details": [{"reason": "deputy minister", "startDate": "2016-13-45"}]}
    report = _bad_package(tmp_path, person={"politicalExposure": exposure})
    assert report.warnings == [
        (
            "bods.jsonl:2: recordDetails.politicalExposure.details[0].startDate: no such date: '2016-13-45' "
            "(month must be in 1..12); kept as raw_pep_start_date"
        )
    ]
    with CaseFile(tmp_path / "case.graphinv") as opened:
        (person,) = [n for n in opened.nodes() if n["name"] == "Ana Example"]
    assert person["flags"] == ["PEP"] and person["raw_pep_start_date"] == "2016-13-45"


def test_a_closing_statement_date_that_is_not_a_date_leaves_the_record_open_and_is_kept_raw(tmp_path: Path) -> None:
    closing = (
        _statement(4, "owns-1", "relationship", _holding(), date="2021-02-30", status="closed"),
        _statement(5, "firm-1", "entity", ENTITY, date="2021-13-01", status="closed"),
    )
    report = _bad_package(tmp_path, later=closing)
    assert report.warnings == [
        "bods.jsonl:5: statementDate: no such date: '2021-13-01' (month must be in 1..12); kept as raw_closed_date",
        "bods.jsonl:4: statementDate: no such date: '2021-02-30' (day is out of range for month); kept as raw_end_date",
    ]
    firm, owns = _stored(tmp_path)
    assert firm["bods_record_status"] == "closed" and firm["raw_closed_date"] == "2021-13-01" and "closed_date" not in firm
    assert owns["bods_record_status"] == "closed" and owns["raw_end_date"] == "2021-02-30" and "end_date" not in owns
    assert owns["start_date"] == "2016-04-06" and owns["share_pct"] == 100.0


@pytest.mark.parametrize(
    ("earlier", "raw", "reason"),
    [
        ({"startDate": "2016-13-45"}, {"raw_start_date": "2016-13-45"}, "startDate: no such date: '2016-13-45' (month must be in 1..12)"),
        ({"share": {"exact": "half"}}, {"raw_share": '{"exact": "half"}'}, "share: exact 'half' is not a number, so the share is unknown"),
    ],
)
def test_a_value_that_cannot_be_read_in_an_earlier_statement_of_a_record_is_kept_raw(
    tmp_path: Path, earlier: dict[str, Any], raw: dict[str, str], reason: str
) -> None:
    update = _statement(4, "owns-1", "relationship", _holding(share={"exact": 50}), date="2021-01-01", status="updated")
    report = _bad_package(tmp_path, interest=earlier, later=(update,))
    assert report.warnings == [
        f"bods.jsonl:4: recordDetails.interests[0].{reason} in statement 'statement-3' on line 3; kept as {next(iter(raw))}"
    ]
    _, owns = _stored(tmp_path)
    assert {k: owns[k] for k in raw} == raw
    assert (owns["share_pct"], owns["start_date"]) == (50.0, "2016-04-06")  # the latest statement's


def test_a_declared_indirect_interest_date_that_is_not_a_date_is_kept_raw(tmp_path: Path) -> None:
    indirect = {"directOrIndirect": "indirect", "startDate": "2016-13-45"}
    path = tmp_path / "case.graphinv"
    statements = [
        _statement(1, "firm-1", "entity", ENTITY),
        _statement(2, "person-1", "person", PERSON),
        _statement(3, "owns-1", "relationship", _holding(**indirect)),
    ]
    source = tmp_path / "bods.jsonl"
    source.write_text("".join(json.dumps(s) + "\n" for s in statements), encoding="utf-8")
    report = ingest(path, [source], dataset="bods")
    assert report.warnings == [
        "bods.jsonl:3: recordDetails.interests[0].startDate: no such date: '2016-13-45' (month must be in 1..12); kept as raw_start_date"
    ]
    with CaseFile(path) as opened:
        (firm,) = [n for n in opened.nodes() if n["name"] == "Dana Firm Ltd"]
    (declared,) = firm["declared_owners"]
    assert declared["raw_start_date"] == "2016-13-45" and "start_date" not in declared and declared["share_pct"] == 100.0


def test_a_0_2_replacement_with_a_date_that_is_not_a_date_names_the_statement_that_ends_the_record(tmp_path: Path) -> None:
    # 0.2 has no record status: o2, naming another owner, replaces o1, so o1 ends on o2's date.
    def owns(sid: str, person: str, date: str, **more: Any) -> dict[str, Any]:
        parties = {"subject": {"describedByEntityStatement": "e1"}, "interestedParty": {"describedByPersonStatement": person}}
        interests = [{"type": "shareholding", "share": {"exact": 100}}]
        return {"statementID": sid, "statementType": "ownershipOrControlStatement", "statementDate": date, **parties, "interests": interests, **more}

    def person(sid: str, name: str) -> dict[str, Any]:
        return {"statementID": sid, "statementType": "personStatement", "personType": "knownPerson", "names": [{"fullName": name}]}

    statements = [
        {"statementID": "e1", "statementType": "entityStatement", "entityType": "registeredEntity", "name": "Dana Firm Ltd"},
        person("p1", "Ana Example"),
        person("p2", "Bea Example"),
        owns("o1", "p1", "2020-01-01"),
        owns("o2", "p2", "2021-02-30", replacesStatements=["o1"]),
    ]
    source = tmp_path / "bods.jsonl"
    source.write_text("".join(json.dumps(s) + "\n" for s in statements), encoding="utf-8")
    report = ingest(tmp_path / "case.graphinv", [source], dataset="bods")
    assert report.warnings == [
        "bods.jsonl:4: statementDate: no such date: '2021-02-30' (day is out of range for month) in statement 'o2' on line 5; kept as raw_end_date"
    ]
    with CaseFile(tmp_path / "case.graphinv") as opened:
        ended = {link["bods_record"]: link for link in opened.links()}["o1"]
    assert ended["bods_record_status"] == "closed" and ended["raw_end_date"] == "2021-02-30" and "end_date" not in ended
