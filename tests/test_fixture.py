"""The fictional precursor case: reproducible from its generator, and ingested as fixtures/README.md says."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from conftest import FIXTURE, REPO
from graphinv import CaseFile, ingest


@pytest.fixture(scope="module")
def fixture_case(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    case = tmp_path_factory.mktemp("fixture") / "case.graphinv"
    report = ingest(case, [FIXTURE])
    return case, report


@pytest.fixture(scope="module")
def nodes(fixture_case: tuple[Path, object]) -> list[dict]:
    with CaseFile(fixture_case[0]) as opened:
        return list(opened.nodes())


@pytest.fixture(scope="module")
def links(fixture_case: tuple[Path, object]) -> list[dict]:
    with CaseFile(fixture_case[0]) as opened:
        return list(opened.links())


def test_generator_reproduces_the_committed_bundle(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(REPO / "fixtures" / "make_precursor_case.py"), str(tmp_path)], check=True, capture_output=True)
    committed = sorted(p.name for p in FIXTURE.glob("*.csv"))
    assert sorted(p.name for p in tmp_path.glob("*.csv")) == committed
    for name in committed:
        assert (tmp_path / name).read_bytes() == (FIXTURE / name).read_bytes(), name


def test_row_counts_and_the_three_deliberate_bad_rows(fixture_case: tuple[Path, object]) -> None:
    _, report = fixture_case
    counts = {f.file: (f.read, f.kept) for f in report.files}
    assert counts == {
        "companies.csv": (160, 159),
        "persons.csv": (247, 247),
        "ownership.csv": (238, 237),
        "officers.csv": (219, 219),
        "family.csv": (31, 31),
        "accounts.csv": (290, 290),
        "flags.csv": (54, 54),
        "shipments.csv": (434, 433),
    }
    assert [r.split(": ")[0:2] for r in report.rejections] == [
        ["companies.csv:149", "incorporation_date"],
        ["ownership.csv:13", "owner_id"],
        ["shipments.csv:114", "quantity_kg"],
    ]
    assert "'2019-02-30'" in report.rejections[0]
    assert "'P999'" in report.rejections[1]
    assert "'12O'" in report.rejections[2]


def test_every_record_arrives_with_its_source(nodes: list[dict], links: list[dict]) -> None:
    registry = [n for n in nodes if "bundle_id" in n]
    by_kind = Counter(n["kind"] for n in registry)
    assert by_kind == {"Company": 159, "Person": 247, "Account": 290, "Shipment": 433}
    files = {"Company": "companies.csv", "Person": "persons.csv", "Account": "accounts.csv", "Shipment": "shipments.csv"}
    for node in registry:
        assert node["sources"][0].startswith(f"precursor-case:{files[node['kind']]}:"), node
    assert all(n["sources"] for n in nodes)
    assert all(l["sources"] and all(s.startswith("precursor-case:") for s in l["sources"]) for l in links)
    assert sum(1 for n in registry if "website" in n) == 9


def test_the_watchlists(nodes: list[dict]) -> None:
    flagged = {n["bundle_id"]: n for n in nodes if n["flagged"] and "bundle_id" in n}
    companies = sorted(k for k, n in flagged.items() if n["kind"] == "Company")
    assert len(companies) == 50
    assert {"C006", "C014", "C037", "C052", "C068", "C081", "C117", "C129"} <= set(companies)
    assert all(flagged[c]["flags"] == ["DEA-2021-precursor-referral"] for c in companies)
    persons = sorted(k for k, n in flagged.items() if n["kind"] == "Person")
    assert persons == ["P004", "P112", "P137"]
    # C037 is on the list twice (by id and by tax id): one flag name, two reasons, both sources.
    assert len(flagged["C037"]["flag_reasons"]) == 2


def test_links_by_kind(nodes: list[dict], links: list[dict]) -> None:
    rels = Counter(l["rel"] for l in links)
    assert rels["OWNS"] == 237 and rels["OFFICER_OF"] == 219 and rels["FAMILY"] == 31 and rels["HOLDS"] == 290
    assert Counter(l["relation"] for l in links if l["rel"] == "FAMILY")["spouse"] == 19
    ids = {n["id"]: n for n in nodes}
    bundle = {n.get("bundle_id"): n["id"] for n in nodes if n["kind"] != "Address"}
    owns = {(ids[l["source"]].get("bundle_id"), ids[l["target"]]["bundle_id"]): l["share_pct"] for l in links if l["rel"] == "OWNS" and "share_pct" in l}
    assert owns[("P003", "C095")] == 80 and owns[("C095", "C103")] == 60 and owns[("C103", "C037")] == 90
    # Until resolution exists, customs rows with a tax id link to their registry firm; the 33
    # rows without one keep the clerk's spelling on a party node.
    importers = [ids[l["source"]] for l in links if l["rel"] == "IMPORTED"]
    assert sum(1 for n in importers if "bundle_id" in n) == 400
    assert sum(1 for n in importers if n.get("registered") is False) == 33
    c014 = [l for l in links if l["rel"] == "IMPORTED" and l["source"] == bundle["C014"]]
    assert len(c014) >= 5


def test_shipments_carry_their_canonical_chemical(nodes: list[dict]) -> None:
    shipments = [n for n in nodes if n["kind"] == "Shipment"]
    chemicals = Counter(n.get("chemical") for n in shipments)
    # fixtures/README.md §7: 35 new-importer rows + 28 (C006) + 17 (C027), in four spellings.
    assert chemicals["4-piperidone"] == 80
    spellings = {n["product"] for n in shipments if n.get("chemical") == "4-piperidone"}
    assert {"4-Piperidona", "4 PIPERIDONA MONOHIDRATO CLORHIDRATO", "4-piperidone hydrochloride", "Piperidin-4-one"} <= spellings
    assert chemicals["1-boc-4-piperidone"] == 9  # C129 3 + C083 6: a different chemical
