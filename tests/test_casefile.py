"""The case file: durable, versioned, atomic under SIGKILL, and honest about what it is."""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import write_csv

from graphinv import CaseError, CaseFile, ingest
from graphinv.resolve import resolve
from graphinv.store import SCHEMA_VERSION
from graphinv.store.stream import CaseStream


def test_a_newer_schema_is_refused_with_a_fix(tmp_path: Path, small_bundle: Path) -> None:
    case = tmp_path / "case.graphinv"
    ingest(case, [small_bundle])
    with sqlite3.connect(case) as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    with pytest.raises(CaseError, match=r"written by a newer graphinv .*upgrade graphinv"):
        CaseFile(case)


def test_other_files_are_not_mistaken_for_cases(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE t (x)")
    with pytest.raises(CaseError, match="not a graphinv case file"):
        CaseFile(other)
    text = tmp_path / "notes.txt"
    text.write_text("hello, this is not a database at all" * 100)
    with pytest.raises(CaseError, match="not a graphinv case file"):
        CaseFile(text)
    with pytest.raises(CaseError, match="No such case file"):
        CaseFile(tmp_path / "missing.graphinv")


def test_version_grows_only_with_change(tmp_path: Path, small_bundle: Path) -> None:
    case = tmp_path / "case.graphinv"
    ingest(case, [small_bundle / "companies.csv"])
    first = CaseFile(case).version
    ingest(case, [small_bundle / "companies.csv"])
    assert CaseFile(case).version == first
    ingest(case, [small_bundle])
    assert CaseFile(case).version == first + 1


def _big_bundle(folder: Path, rows: int) -> Path:
    folder.mkdir()
    with open(folder / "companies.csv", "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["id", "name", "tax_id", "address", "employees"])
        for i in range(rows):
            out.writerow(
                [
                    f"K{i}",
                    f"Empresa Número {i}, S.A. de C.V.",
                    f"EMP{i:09d}",
                    f"Calle {i % 977} {i % 31}, Col. Centro",
                    i % 50,
                ]
            )
    return folder


def test_sigkill_in_the_middle_of_an_ingest_leaves_the_case_unchanged(tmp_path: Path, small_bundle: Path) -> None:
    case = tmp_path / "case.graphinv"
    ingest(case, [small_bundle])
    with CaseFile(case) as opened:
        before = (opened.version, list(opened.nodes()), list(opened.links()), opened.sources())
    big = _big_bundle(tmp_path / "big", 400_000)
    journal = case.with_name(case.name + "-journal")
    proc = subprocess.Popen(
        [sys.executable, "-m", "graphinv", "ingest", str(case), str(big)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    # Wait until the transaction has really written to the file (a hot journal exists), then kill.
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.exists() and journal.stat().st_size > 0:
            time.sleep(0.5)
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the ingest finished before it could be killed; make the bundle larger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    with CaseFile(case) as opened:  # opening rolls the hot journal back
        after = (opened.version, list(opened.nodes()), list(opened.links()), opened.sources())
    assert after == before
    with sqlite3.connect(case) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_case_of_the_previous_schema_is_lifted_on_open(tmp_path: Path, small_bundle: Path) -> None:
    case = tmp_path / "case.graphinv"
    ingest(case, [small_bundle])
    with sqlite3.connect(case) as db:  # make it look as schema 1 wrote it
        db.execute("ALTER TABLE decision DROP COLUMN a_name")
        db.execute("ALTER TABLE decision DROP COLUMN b_name")
        db.execute("DELETE FROM meta WHERE key = 'revision'")
        db.execute("ALTER TABLE source DROP COLUMN case_version")
        db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    with CaseFile(case) as opened:
        assert opened.meta("schema_version") == str(SCHEMA_VERSION)
        assert len(opened.revision) == 32
        assert opened.decisions() == []
    from graphinv import resolve

    assert resolve(case).changed  # and it takes new decisions with their names


def test_a_case_of_schema_2_is_lifted_and_reads_rows_that_awaited_references_again(tmp_path: Path) -> None:
    from conftest import write_csv

    folder = tmp_path / "o1"
    write_csv(folder / "ownership.csv", ["owner_id", "company_id", "share_pct"], [["C1", "C2", "40"]])
    write_csv(folder / "companies.csv", ["id", "name"], [["C1", "Alfa SA"], ["C2", "Beta SA"]])
    case = tmp_path / "case.graphinv"
    ingest(case, [folder / "ownership.csv"])
    ingest(case, [folder / "companies.csv"])
    with sqlite3.connect(case) as db:  # make it look as schema 2 wrote it
        db.execute("ALTER TABLE source DROP COLUMN case_version")
        db.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    with CaseFile(case) as opened:
        assert opened.meta("schema_version") == str(SCHEMA_VERSION) == "3"
        assert opened._db.execute("SELECT file, case_version FROM source ORDER BY file").fetchall() == [
            ("companies.csv", 0),
            ("ownership.csv", 0),
        ]
        assert len(list(opened.rejections())) == 1
    # When a migrated source was ingested is not known: its rejected references get another chance.
    again = ingest(case, [folder])
    assert [(f.file, f.unchanged, f.kept) for f in again.files] == [
        ("companies.csv", True, 0),
        ("ownership.csv", False, 1),
    ]
    assert again.rejected_total == 0
    assert ingest(case, [folder]).changed is False


def test_counts_of_an_unresolved_case_are_its_graphs(tmp_path: Path) -> None:
    from collections import Counter

    from conftest import FIXTURE

    from graphinv import load_graph

    case = tmp_path / "case.graphinv"
    ingest(case, [FIXTURE], dataset="precursor-case")
    graph = load_graph(case)
    truth = Counter(d["kind"] for _, d in graph.nodes(data=True))
    truth.update(key for _, _, key in graph.edges(keys=True))
    with CaseFile(case) as opened:
        assert opened._db.execute("SELECT COUNT(*) FROM alias").fetchone()[0] == 0
        counts = opened.counts()
        # The same as counting by stated kind, the way a resolved case is counted.
        by_kind = dict(opened._db.execute("SELECT kind, COUNT(DISTINCT id) FROM statement GROUP BY kind ORDER BY kind"))
    assert counts == dict(truth)
    assert {k: counts[k] for k in by_kind} == by_kind
    kinds = [k for k in counts if k[0].isupper() and not k.isupper()]
    assert kinds == sorted(kinds) and list(counts)[: len(kinds)] == kinds  # kinds first, by name; then links


def test_the_store_floor_bench_writes_every_stored_row_into_the_same_layout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from conftest import FIXTURE, REPO

    case = tmp_path / "case.graphinv"
    report = ingest(case, [FIXTURE])
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import bench_store_floor
    finally:
        sys.path.remove(str(REPO / "bench"))
    read, schema, rows = bench_store_floor._read(case)
    assert read == sum(f.read for f in report.files) > 1000
    copy = tmp_path / "floor.sqlite"
    bench_store_floor._store(copy, schema, rows)
    db, original = sqlite3.connect(copy), sqlite3.connect(case)
    for table in ("statement", "link", "flag"):
        assert (
            db.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3").fetchall()
            == original.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3").fetchall()
        )
    assert {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")} >= {
        "statement_id",
        "statement_tax",
        "statement_name",
    }
    assert bench_store_floor.main([str(case), "--repeat", "1", "--workdir", str(tmp_path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["bundle_rows_read"] == read and out["stored_rows"] == sum(map(len, rows.values()))


def test_a_merged_node_takes_its_registry_records_values_first(tmp_path: Path) -> None:
    # Customs came in first, the registry after: the clerks' spellings are stored first, yet the
    # firm is named and numbered as its registry states it, the spellings its aliases.
    customs = write_csv(tmp_path / "customs" / "shipments.csv", ["id", "date", "importer", "importer_tax_id", "product"], [
        ["S1", "2019-05-01", "QUIMICA DEL NORTE SA DE CV", "QNO-050101-5A1", "4-PIPERIDONE"],
        ["S2", "2019-06-01", "Quimica del Norte", "RFC: QNO0501015A1", "4-PIPERIDONE"],
    ]).parent
    reg = write_csv(tmp_path / "reg" / "companies.csv", ["id", "name", "tax_id", "jurisdiction"], [
        ["C1", "Química del Norte, S.A. de C.V.", "QNO0501015A1", "MX"],
        ["C2", "Química del Norte Logística, S.A. de C.V.", "QNL0501015A2", ""],
    ]).parent
    case = tmp_path / "case.graphinv"
    ingest(case, [customs])
    ingest(case, [reg])
    resolve(case)
    with CaseFile(case) as opened, CaseStream(opened) as stream:
        nodes = opened.nodes()
        streamed = sorted((n for chunk in stream.nodes(chunk=1) for n in chunk), key=lambda n: n["id"])
    firm = next(n for n in nodes if n.get("bundle_id") == "C1")
    assert (firm["name"], firm["tax_id"], firm["jurisdiction"]) == ("Química del Norte, S.A. de C.V.", "QNO0501015A1", "MX")
    assert firm["aliases"] == ["QUIMICA DEL NORTE SA DE CV", "Quimica del Norte"]
    assert "registered" not in firm and len(firm["merged_ids"]) == 3
    assert firm["sources"] == ["reg:companies.csv:2", "customs:shipments.csv:2", "customs:shipments.csv:3"]
    # The stream (Neo4j push, neo4j-admin export) merges the same way.
    for node in streamed:
        del node["party_degree"]
    assert streamed == nodes
