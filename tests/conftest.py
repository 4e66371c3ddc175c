"""Shared test helpers: real case files in tmp_path, real CSV bundles written on the fly."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from neo4j_server import bolt_server, engine_target, playbook_case  # noqa: F401  (session fixtures of the Neo4j tests)

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "fixtures" / "precursor-case"


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(header)
        out.writerows(rows)
    return path


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Graph caches go to a per-session folder, never the developer's own cache."""
    monkeypatch.setenv("GRAPHINV_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "graph-cache"))


@pytest.fixture(scope="session")
def resolved_fixture_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture story ingested and resolved once per session; tests that change a case copy it."""
    from graphinv import ingest, resolve

    folder = tmp_path_factory.mktemp("resolved-fixture")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRAPHINV_CACHE_DIR", str(folder / "cache"))
        path = folder / "precursor.graphinv"
        ingest(path, [FIXTURE], dataset="precursor-case")
        resolve(path)
    return path


@pytest.fixture
def small_bundle(tmp_path: Path) -> Path:
    """A tiny story: a firm, its owner and his spouse, an account, a flag and two shipments."""
    folder = tmp_path / "small"
    write_csv(
        folder / "companies.csv",
        ["id", "name", "tax_id", "incorporation_date", "address", "employees", "website"],
        [
            ["C1", "Química Fina del Norte, S.A. de C.V.", "QFN150312AB1", "2015-03-12", "Calle Cedro 14, Col. Santa Rosa", "12", "qfn.example"],
            ["C2", "Transportes Cedro, S.C.", "TCE180101XY2", "2018-01-01", "CALLE CEDRO 14 COL SANTA ROSA", "3", ""],
        ],
    )
    write_csv(
        folder / "persons.csv",
        ["id", "name", "tax_id", "birth_date"],
        [["P1", "Rogelio Martínez Soto", "MASR700101AB1", "1970-01-01"], ["P2", "Claudia Fuentes Ríos", "FURC710203CD4", ""]],
    )
    write_csv(folder / "ownership.csv", ["owner_id", "company_id", "share_pct"], [["P1", "C1", "60"], ["C1", "C2", "100"]])
    write_csv(folder / "officers.csv", ["person_id", "company_id", "role"], [["P2", "C1", "administradora única"]])
    write_csv(folder / "family.csv", ["person_id", "relative_id", "relation"], [["P1", "P2", "spouse"]])
    write_csv(
        folder / "accounts.csv",
        ["id", "holder_id", "bank", "number", "status", "frozen_date"],
        [["A1", "C1", "Banco Ficticio", "0123-4567", "active", ""], ["A2", "P1", "Banco Ficticio", "9999", "frozen", "2021-06-01"]],
    )
    write_csv(
        folder / "flags.csv",
        ["entity_ref", "list", "reason", "date"],
        [["C1", "DEA-2021", "referral", "2021-03-01"], ["TCE180101XY2", "DEA-2021", "", ""], ["claudia fuentes rios", "PEP", "", ""]],
    )
    write_csv(
        folder / "shipments.csv",
        ["id", "date", "importer", "importer_tax_id", "exporter", "exporter_country", "product", "quantity_kg"],
        [
            ["S1", "2019-05-02", "QUIMICA FINA DEL NORTE SA DE CV", "QFN-150312-AB1", "Hebei Example Chem", "CN", "4-Piperidona", "450"],
            ["S2", "2019-07-09", "Quimica Fina Norte", "", "Hebei Example Chem", "CN", "4-piperidone hydrochloride", "300.5"],
        ],
    )
    return folder


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """In CI every dependency is installed by .ci/run and shared/ lies beside the clone, so a
    test that skips there hides a broken set-up: count it as a failure."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where nothing may be missing: {report.longrepr}"
