"""The bundle fast path stores exactly what the per-row path stores, row for row, rejects included.

Each bundle is ingested three ways: through the per-row path (pydantic model per row), through
the fast path in this process, and through the fast path with its forked parse worker. The case
files must hold the same statements (in the same order: the first statement of a node wins),
links, flags, rejections, source counts and indexes; the reports and rejects files must match.
"""

from __future__ import annotations

import importlib
import os
import random
import sqlite3
from pathlib import Path

import pytest

from conftest import FIXTURE, write_csv
from graphinv import StrictIngestError, ingest
from graphinv.ingest import rejects_path

fast = importlib.import_module("graphinv.ingest.fast")

WAYS = ("per-row", "fast", "fast+worker")


def ingest_as(way: str, monkeypatch: pytest.MonkeyPatch, case: Path, sources: list[Path], **options: object):
    with monkeypatch.context() as mp:
        if way == "per-row":
            mp.setattr(fast, "KERNELS", {})
        elif way == "fast":
            mp.setattr(fast, "WORKER_MIN_BYTES", 1 << 62)
        else:
            mp.setattr(fast, "WORKER_MIN_BYTES", 0)
            mp.delenv("GRAPHINV_WORKERS", raising=False)
        return ingest(case, sources, **options)


def contents(case: Path) -> dict[str, list[tuple]]:
    db = sqlite3.connect(case)
    try:
        return {
            "statement": db.execute("SELECT source_id, line, id, kind, tax_key, name_key, props FROM statement ORDER BY rowid").fetchall(),
            "link": db.execute("SELECT * FROM link ORDER BY source_id, line, rel, src, dst").fetchall(),
            "flag": db.execute("SELECT * FROM flag ORDER BY source_id, line, entity_id").fetchall(),
            "reject": db.execute("SELECT * FROM reject ORDER BY source_id, line, col").fetchall(),
            "source": db.execute(
                "SELECT id, dataset, file, kind, sha256, rows_read, rows_kept, rows_rejected FROM source ORDER BY id"
            ).fetchall(),
            "index": sorted(db.execute("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index'").fetchall()),
            "meta": db.execute("SELECT key, value FROM meta WHERE key IN ('schema_version', 'version') ORDER BY key").fetchall(),
        }
    finally:
        db.close()


def assert_same_three_ways(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sources: list[Path], **options: object) -> dict:
    results = {}
    for way in WAYS:
        case = tmp_path / way / "case.graphinv"
        case.parent.mkdir()
        report = ingest_as(way, monkeypatch, case, sources, **options)
        rejects = rejects_path(case)
        results[way] = (
            contents(case),
            [(f.file, f.read, f.kept, f.rejected) for f in report.files],
            report.rejections,
            rejects.read_text(encoding="utf-8") if rejects.exists() else None,
        )
    expected = results["per-row"]
    for way in WAYS[1:]:
        got = results[way]
        for table in expected[0]:
            assert got[0][table] == expected[0][table], f"{way}: table {table} differs"
        assert got[1:] == expected[1:], way
    return expected[0]


def test_the_fixture_case_is_stored_identically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stored = assert_same_three_ways(tmp_path, monkeypatch, [FIXTURE], dataset="precursor-case")
    assert len(stored["statement"]) > 1000 and stored["reject"]


# -- a bundle with every kind of bad row, and valid values only the per-row path reads -------------


def _messy_bundle(folder: Path, seed: int = 5, n: int = 2100) -> Path:
    """A bundle of a few thousand rows (more than one batch) salted with awkward and bad rows."""
    rnd = random.Random(seed)
    words = ["Química", "Fina", "NORTE", "del", "Ñandú", "Straße", "Œuvre", "ﬁnanzas", "İstanbul", "ΣΟΦΙΑ", "de", "C.V.", "S.A."]

    def name() -> str:
        return " ".join(rnd.choice(words) for _ in range(rnd.randint(1, 4)))

    def date() -> str:
        return rnd.choice(["2019-05-02", "2020-02-29", "1999", "2001-07", "", "2021-02-30", "21-01-01", "2020-13", "２０２０-01-01", "2019-5-2"])

    companies = []
    for i in range(n):
        employees = rnd.choice(["12", "0", "007", "", "+5", "1_000", " 5 ", "5.0", "-3", "x", "١٢", "1000000001", "123456789012345678901"])
        companies.append([
            f"C{i}" if rnd.random() > 0.01 else rnd.choice(["", "  "]),
            name() if rnd.random() > 0.02 else "",
            rnd.choice(["QFN150312AB1", "qfn-150312-ab1", "", "ÑAN 010101 ÑÑ1", f"T{i:05d}"]),
            rnd.choice(["", f"R-{i}"]),
            rnd.choice(["MX", "mx", ""]),
            date(),
            rnd.choice(["Calle Cedro 14, Col. Santa Rosa", "CALLE CEDRO 14 COL SANTA ROSA", "", "Av. Reforma #5 – Int. 3", "  ¼ Straße  "]),
            rnd.choice(["active", "", "dissolved"]),
            employees,
            rnd.choice(["", "chemicals"]),
            rnd.choice(["", "x.example", "y"]),  # an extra column
            rnd.choice(["", "k"]),  # 'kind' is reserved: kept as raw_kind
        ])
    companies.insert(5, ["C-multi", "Two\nLines SA", "", "", "", "", "", "", "", "", "", ""])
    companies.append(["C1", "Duplicate id SA", "", "", "", "", "Calle Cedro 14, Col. Santa Rosa", "", "3", "", "", ""])
    companies.append(["C-self", "Self Holding SA", "", "", "", "", "", "", "", "", "", ""])  # links to itself below
    write_csv(
        folder / "companies.csv",
        ["id", "name", "tax_id", "registration_number", "jurisdiction", "incorporation_date", "address", "status", "employees", "industry", "website", "Kind"],
        companies,
    )
    # Persons: a header in another order, missing optional columns, an id shared with a company.
    persons = [[rnd.choice(["", "1980-01-01", "1980-02-30"]), f"P{i}" if i % 50 else f"C{i}", name() if rnd.random() > 0.02 else ""] for i in range(n)]
    persons.append(["", "P-self", "Ana Self"])
    write_csv(folder / "persons.csv", ["birth_date", "id", "name"], persons)

    def ref() -> str:
        r = rnd.random()
        if r < 0.03:
            return rnd.choice(["", "NOPE", "C-unknown"])
        return rnd.choice([f"C{rnd.randrange(n)}", f"P{rnd.randrange(n)}", f"C{rnd.randrange(0, n, 50)}"])

    ownership = [[ref(), f"C{rnd.randrange(n)}" if rnd.random() > 0.02 else rnd.choice(["", "P1", "C-x"]),
                  rnd.choice(["60", "100.00", "0", "35%", " 5", "1e2", "140", "-1", "x", "", "33.333333333333333333", ".5", "5.", "-0", "-0%"]),
                  date(), date(), rnd.choice(["", "note"])] for _ in range(n)]
    # Links from an id to itself: treasury shares are kept, a firm is not its own officer, nor
    # a person their own relative.
    ownership += [["C-self", "C-self", "12", "", "", ""], ["P-self", "P-self", "", "", "", ""]]
    write_csv(folder / "ownership.csv", ["owner_id", "company_id", "share_pct", "start_date", "end_date", "source"], ownership)
    officers = [[ref(), f"C{rnd.randrange(n)}", rnd.choice(["", "director", "administradora única"]), date(), date()] for _ in range(n)]
    officers += [["C-self", "C-self", "director", "", ""], ["P-self", "P-self", "", "", ""]]
    write_csv(folder / "officers.csv", ["person_id", "company_id", "role", "start_date", "end_date"], officers)
    family = [[f"P{rnd.randrange(n)}", rnd.choice([f"P{rnd.randrange(n)}", "C3", ""]),
               rnd.choice(["spouse", "Esposa", "HERMANO", "", "neighbour", "  wife "])] for _ in range(n // 2)]
    family += [["P-self", "P-self", "spouse"], ["P-self", " P-self ", "neighbour"], ["NOPE", "NOPE", ""]]
    write_csv(folder / "family.csv", ["person_id", "relative_id", "relation"], family)
    accounts = [[f"A{i}" if i % 97 else "", rnd.choice([ref(), ""]), rnd.choice(["Banco Ficticio", ""]), rnd.choice(["0123-4567", ""]),
                 rnd.choice(["active", "FROZEN", "seized", "", "Active"]), date()] for i in range(n)]
    write_csv(folder / "accounts.csv", ["id", "holder_id", "bank", "number", "status", "frozen_date"], accounts)
    flags = [[rnd.choice(["C1", "QFN150312AB1", "química fina", "Nobody", "A5", ""]), rnd.choice(["DEA", ""]), "", date()] for _ in range(60)]
    write_csv(folder / "flags.csv", ["entity_ref", "list", "reason", "date"], flags)
    shipments = [[f"S{i}" if i % 89 else "", date(), rnd.choice(["QUIMICA FINA DEL NORTE SA DE CV", "Quimica Fina Norte", ""]),
                  rnd.choice(["QFN-150312-AB1", "", "ZZZ999"]), rnd.choice(["Hebei Example Chem", "", "Ñandú Ltd"]), rnd.choice(["CN", "", "in"]),
                  rnd.choice(["4-Piperidona", "4-piperidone hydrochloride", "Hidróxido de sodio", "", "NPP"]), rnd.choice(["2933.39", "", "2815.11"]),
                  rnd.choice(["450", "3547.0", "-1", "1e3", "", "x", "0.5", "-0"]), rnd.choice(["1980.00", "", "12,5", "-0.0"]), "Manzanillo", "CN", ""]
                 for i in range(n)]
    write_csv(
        folder / "shipments.csv",
        ["id", "date", "importer", "importer_tax_id", "exporter", "exporter_country", "product", "hs_code", "quantity_kg", "value_usd", "port", "origin_country", "bill_of_lading"],
        shipments,
    )
    # Structural damage: wrong column counts, stray bytes, blank lines, a broken quote.
    for file in ("persons.csv", "family.csv"):  # blank lines above the header
        (folder / file).write_bytes(b"\n ,, \n\n" + (folder / file).read_bytes())
    with open(folder / "companies.csv", "ab") as handle:
        handle.write(b"C9001,Too Many SA,,,,,,,,,,,EXTRA\n\n")
        handle.write(b"C9002,Caf\xe9 Latin-1 SA,,,,,,,,,,\n")
        handle.write(b"C9003,Still Fine SA,,,,,,,,,,\n")
    with open(folder / "officers.csv", "ab") as handle:
        handle.write(b"P1,C1\n,,,,\nP2,C2,\"unterminated role,,\n")
    return folder


def test_bad_rows_of_every_kind_are_rejected_identically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = _messy_bundle(tmp_path / "messy-ñ")
    stored = assert_same_three_ways(tmp_path, monkeypatch, [bundle])
    reasons = " ".join(r[3] for r in stored["reject"])
    for expected in ("missing value", "not an ISO date", "no such date", "unknown reference", "ambiguous reference",
                     "less than or equal to 100", "greater than or equal to 0", "unknown relation", "'active' or 'frozen'",
                     "expected 12 columns", "not UTF-8", "valid integer"):
        assert expected in reasons, expected
    assert "name: missing value" in " ".join(f"{r[2]}: {r[3]}" for r in stored["reject"])
    assert "at least 1 character" not in reasons  # pydantic's words for an empty name
    assert "cannot be their own relative ('P-self'" in reasons and "cannot be its own officer ('C-self'" in reasons
    assert any(row[2] == "OWNS" and row[3] == row[4] for row in stored["link"])  # treasury shares are kept
    kept = {row[3] for row in stored["statement"]}
    assert kept == {"Company", "Person", "Address", "Account", "Shipment"}


def test_a_second_ingest_into_a_bigger_case_is_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Into a case that already holds more than is coming, indexes are kept up to date row by row."""
    first = _messy_bundle(tmp_path / "first", seed=1)
    second = _messy_bundle(tmp_path / "second", seed=2, n=300)
    for way in WAYS:
        case = tmp_path / way / "case.graphinv"
        case.parent.mkdir()
        ingest_as(way, monkeypatch, case, [first])
        ingest_as(way, monkeypatch, case, [second], dataset="first")  # same dataset: references reach the first bundle
    expected = contents(tmp_path / "per-row" / "case.graphinv")
    for way in WAYS[1:]:
        assert contents(tmp_path / way / "case.graphinv") == expected, way


def test_strict_failure_of_a_bulk_load_leaves_the_case_and_its_indexes_as_they_were(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = tmp_path / "case.graphinv"
    small = tmp_path / "small"
    write_csv(small / "companies.csv", ["id", "name"], [["C1", "Uno SA"]])
    ingest(case, [small])
    before = case.read_bytes()
    with pytest.raises(StrictIngestError):
        ingest_as("fast+worker", monkeypatch, case, [_messy_bundle(tmp_path / "big")], strict=True)
    assert case.read_bytes() == before
    assert len(contents(case)["index"]) == len(contents(tmp_path / "case.graphinv")["index"]) >= 4


# -- the keys the fast path computes with memos are the keys the plain definitions give -----------


def test_word_by_word_folding_gives_the_same_keys_as_folding_the_whole_text() -> None:
    import re
    import unicodedata

    from graphinv.model import address_key, fold, tax_key

    combining = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")

    def fold_whole(text: str) -> str:  # fold() as it was before the memos
        if not text.isascii():
            text = combining.sub("", unicodedata.normalize("NFKD", text))
        return " ".join(text.casefold().split())

    def address_whole(text: str) -> str:
        return " ".join(re.sub(r"[^\w]+", " ", fold_whole(text)).split())

    def tax_whole(text: str) -> str:
        return re.sub(r"[^0-9A-Z&Ñ]", "", unicodedata.normalize("NFC", text).upper())

    rnd = random.Random(3)
    # Letters, combining marks, every kind of space, characters that decompose into a space plus a
    # mark (¨ ´), ligatures, final sigma, dotted I, full-width and mathematical letters.
    alphabet = [chr(c) for c in range(0x20, 0x250)] + [chr(c) for c in range(0x300, 0x370)] + list(
        " \t\n\u00a0\u2002\u3000\u00a8\u00b4\u0345ßﬁİΣσς,.-_/#&Ññ\u1e9e\u2160\uff21\U0001d400\U0001f600\u212a"
    )
    for _ in range(60_000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 14)))
        assert fold(text) == fold_whole(text), repr(text)
        assert address_key(text) == address_whole(text), repr(text)
        assert tax_key(text) == tax_whole(text), repr(text)
        ascii_text = "".join(chr(rnd.randint(0x20, 0x7E)) for _ in range(rnd.randint(0, 14)))
        assert tax_key(ascii_text) == tax_whole(ascii_text), repr(ascii_text)
        assert address_key(ascii_text) == address_whole(ascii_text), repr(ascii_text)


def test_the_worker_pipe_holds_a_whole_batch(tmp_path: Path) -> None:
    fcntl = pytest.importorskip("fcntl")
    if not hasattr(fcntl, "F_GETPIPE_SZ"):
        pytest.skip("pipe sizes are a Linux feature")
    fast = importlib.import_module("graphinv.ingest.fast")
    read_fd, write_fd = os.pipe()
    try:
        assert fcntl.fcntl(write_fd, fcntl.F_GETPIPE_SZ) == 1 << 16  # what the worker had before
        fast._widen(write_fd)
        assert fcntl.fcntl(write_fd, fcntl.F_GETPIPE_SZ) >= 1 << 20  # a prepared batch is 0.3-1.3 MB
    finally:
        os.close(read_fd)
        os.close(write_fd)
