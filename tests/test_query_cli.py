"""`graphinv query` as a user meets it: DESIGN §5's JSON shapes, csv and tables, clean errors,
and one name per investigation in Python, on the command line and in DESIGN §5."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURE, REPO
from typer.testing import CliRunner

import graphinv.query
from graphinv import ingest
from graphinv.cli import app
from graphinv.query import INVESTIGATIONS

runner = CliRunner()

DESIGN = REPO.parent / "shared" / "DESIGN.md"
ENTITY_KEYS = {"id", "name", "kind", "tax_id", "flagged"}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "graphinv", "query", *args], capture_output=True, text=True, env=env, check=False
    )


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("query-cli") / "case.graphinv"
    ingest(path, [FIXTURE], dataset="precursor-case")
    return str(path)


def query_json(case: str, *args: str) -> list[dict]:
    result = run(case, *args, "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert isinstance(rows, list)
    return rows


def assert_entity(value: object) -> None:
    assert isinstance(value, dict) and ENTITY_KEYS <= set(value), value
    assert isinstance(value["flagged"], bool) and isinstance(value["id"], str)


def assert_entities(values: object) -> None:
    assert isinstance(values, list)
    for value in values:
        assert_entity(value)


# investigation -> (REFs and options, keys every row has, how to check the entities in a row)
SHAPES = {
    "shared-addresses": (["--flagged"], {"address", "entities"}, lambda r: assert_entities(r["entities"])),
    "shared-owners": (
        ["--flagged"],
        {"owner", "companies"},
        lambda r: (assert_entity(r["owner"]), assert_entities(r["companies"])),
    ),
    "cluster": (
        ["--around", "C037", "--hops", "2"],
        {"entities", "links", "flagged"},
        lambda r: (assert_entities(r["entities"]), assert_entities(r["flagged"])),
    ),
    "ubo": (["C037", "--threshold", "25"], {"owner", "effective_pct", "paths"}, lambda r: assert_entity(r["owner"])),
    "path": (
        ["P018", "C037", "--max-hops", "4"],
        {"length", "entities", "links"},
        lambda r: assert_entities(r["entities"]),
    ),
    "freeze-list": (
        ["--around", "C014", "--around", "C037", "--min-share", "25"],
        {"entity", "reason", "accounts"},
        lambda r: (assert_entity(r["entity"]), assert_entities(r["accounts"])),
    ),
    "new-importers": (
        ["--chemical", "4-Piperidona", "--since", "2019-01-01"],
        {"company", "first_import", "shipments", "quantity_kg"},
        lambda r: assert_entity(r["company"]),
    ),
    "risk": (["--top", "5"], {"entity", "score", "reasons"}, lambda r: assert_entity(r["entity"])),
}


def test_one_name_per_investigation_in_python_on_the_command_line_and_in_design() -> None:
    # Every investigation, DESIGN's and any review tool added beside them (matches), has one name:
    # kebab-case on the command line, the same in snake_case in Python.
    for name, func in INVESTIGATIONS.items():
        assert func.__name__ == name.replace("-", "_")
        assert getattr(graphinv.query, func.__name__) is func
    assert set(SHAPES) <= set(INVESTIGATIONS)
    if not DESIGN.exists():
        pytest.skip(f"{DESIGN} is not part of this checkout")
    text = DESIGN.read_text(encoding="utf-8")
    section = text[text.index("## 5.") : text.index("## 6.")]
    listed = re.search(r"Investigations \(same name.*?\):\s*(.*?)\. With", section, re.DOTALL)
    assert listed is not None
    design = re.findall(r"`([a-z-]+)`", listed.group(1))
    assert design == [n for n in INVESTIGATIONS if n in design] == sorted(SHAPES, key=design.index)
    assert set(design) <= set(INVESTIGATIONS)
    table = re.findall(r"^\| `([a-z-]+)[ `]", section, re.MULTILINE)
    assert table == design  # DESIGN's JSON-shape table names the same investigations, in order


@pytest.mark.parametrize("investigation", sorted(SHAPES))
def test_json_rows_have_design_s_shape(case: str, investigation: str) -> None:
    args, keys, check = SHAPES[investigation]
    rows = query_json(case, investigation, *args)
    assert rows, f"{investigation} answered nothing on the fixture"
    for row in rows:
        assert keys <= set(row), (investigation, set(row))
        check(row)


def test_json_answers_are_the_fixture_s(case: str) -> None:
    owners = {r["owner"]["bundle_id"]: r["effective_pct"] for r in query_json(case, "ubo", "C037", "--threshold", "25")}
    assert owners == {"P003": 43.2, "P017": 36.0}
    chain = query_json(case, "ubo", "C037", "--threshold", "40")[0]["paths"][0]
    assert len(chain) == 4
    freeze = query_json(
        case,
        "freeze-list",
        *[a for f in ("C014", "C037", "C052", "C068", "C081", "C117", "C129") for a in ("--around", f)],
    )
    assert len(freeze) == 19
    top = query_json(case, "risk", "--top", "7")
    assert {r["entity"]["bundle_id"] for r in top} == {"C014", "C037", "C052", "C068", "C081", "C117", "C129"}
    assert all(isinstance(r["score"], float) and r["reasons"] for r in top)
    steps = query_json(case, "path", "P018", "C037")[0]["links"]
    assert steps[0]["text"].endswith("(precursor-case:family.csv:9)")


def test_csv_and_table_formats(case: str) -> None:
    result = run(
        case, "new-importers", "--chemical", "4-P", "--since", "2019-01-01", "--established", "--format", "csv"
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    by_first = {r["first_shipment"]: r for r in rows}
    assert by_first["S0159"]["company"].startswith("C014 ") and by_first["S0159"]["shipments"] == "5"
    assert "Nantong Silverkite" in by_first["S0184"]["exporters"]
    table = run(case, "shared-owners", "--officers")
    assert table.returncode == 0 and "P066 Arturo Cienfuegos Mena" in table.stdout
    hubs = run(case, "shared-addresses", "--max-degree", "8")
    assert "hub (only its flagged firms and persons named):" in hubs.stdout and "9 firms and persons" in hubs.stdout
    head = run(case, "shared-owners", "--officers", "--limit", "1")
    assert head.returncode == 0, head.stderr
    assert "P066 Arturo Cienfuegos Mena" in head.stdout and "the first 1 are shown" in head.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ubo"], "ubo takes 1 REF, got 0"),
        (["ubo", "C037", "--hops", "2"], "ubo does not take --hops"),
        (["cluster", "C037"], "use --around REF"),
        (["shared-adress"], "No such investigation: 'shared-adress' (available: shared-addresses"),
        (["new-importers", "--since", "2019-01-01"], "new-importers needs --chemical"),
        (["new-importers", "--chemical", "acetona", "--since", "2019-01-01"], "Unknown chemical 'acetona'"),
        (["ubo", "P003"], "not a Company"),
        (["path", "C014", "Nobody Atall"], "No entity matches REF 'Nobody Atall'"),
        (["ubo", "C037", "--as-of", "2021-02-30"], "no such date: '2021-02-30'"),
        (["risk", "--format", "xml"], "Unknown query format 'xml'"),
    ],
)
def test_mistakes_are_clean_messages(case: str, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["query", case, *args], terminal_width=200)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and message in result.stderr, result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_missing_case_is_a_clean_error(tmp_path: Path) -> None:
    result = run(str(tmp_path / "none.graphinv"), "risk")
    assert result.returncode == 1 and "No such case file" in result.stderr
