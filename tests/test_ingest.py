"""Canonical bundle ingest: facts arrive with sources, bad rows are reported and skipped, runs are atomic."""

from __future__ import annotations

import csv
import math
import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import write_csv

from graphinv import CaseFile, Company, Person, SourceError, StrictIngestError, ingest, resolve
from graphinv.export import write_jsonl
from graphinv.ingest import rejects_path


def nodes_by_bundle_id(case: Path) -> dict[str, dict]:
    with CaseFile(case) as opened:
        return {n["bundle_id"]: n for n in opened.nodes() if "bundle_id" in n}


def links(case: Path) -> list[dict]:
    with CaseFile(case) as opened:
        return list(opened.links())


def test_every_fact_arrives_with_its_source(tmp_path: Path, small_bundle: Path) -> None:
    case = tmp_path / "case.graphinv"
    report = ingest(case, [small_bundle])

    assert report.rejected_total == 0
    assert {f.file: (f.read, f.kept) for f in report.files}["companies.csv"] == (2, 2)
    nodes = nodes_by_bundle_id(case)
    c1 = nodes["C1"]
    assert c1["name"] == "Química Fina del Norte, S.A. de C.V."
    assert c1["employees"] == 12
    assert c1["website"] == "qfn.example"  # unknown extra column kept as a property
    assert c1["id"] == Company.make_id("small", "C1")
    assert c1["sources"] == ["small:companies.csv:2", "small:flags.csv:2"]
    assert c1["flagged"] is True and c1["flags"] == ["DEA-2021"]
    assert nodes["C2"]["flags"] == ["DEA-2021"]  # flagged by tax id written without dashes
    assert nodes["P2"]["flags"] == ["PEP"]  # flagged by name, case and accents ignored
    assert nodes["P1"]["flagged"] is False

    by_rel = {(l["rel"], l["source"], l["target"]): l for l in links(case)}
    p1, p2, c2 = (nodes[k]["id"] for k in ("P1", "P2", "C2"))
    owns = by_rel[("OWNS", p1, c1["id"])]
    assert owns["share_pct"] == 60.0 and owns["sources"] == ["small:ownership.csv:2"]
    assert by_rel[("OWNS", c1["id"], c2)]["share_pct"] == 100.0
    assert by_rel[("FAMILY", p1, p2)]["relation"] == "spouse"
    assert by_rel[("OFFICER_OF", p2, c1["id"])]["role"] == "administradora única"
    assert by_rel[("HOLDS", p1, nodes["A2"]["id"])]["sources"] == ["small:accounts.csv:3"]
    assert nodes["A2"]["status"] == "frozen" and nodes["A2"]["frozen_date"] == "2021-06-01"


def test_both_spellings_of_one_building_share_an_address_node(tmp_path: Path, small_bundle: Path) -> None:
    case = tmp_path / "case.graphinv"
    ingest(case, [small_bundle])
    with CaseFile(case) as opened:
        addresses = [n for n in opened.nodes() if n["kind"] == "Address"]
    assert len(addresses) == 1
    assert addresses[0]["text"] == "Calle Cedro 14, Col. Santa Rosa"  # as first seen
    assert addresses[0]["sources"] == ["small:companies.csv:2", "small:companies.csv:3"]


def test_customs_parties_link_by_tax_id_and_are_kept_as_typed_otherwise(tmp_path: Path, small_bundle: Path) -> None:
    case = tmp_path / "case.graphinv"
    ingest(case, [small_bundle])
    nodes = nodes_by_bundle_id(case)
    imported = {l["target"]: l["source"] for l in links(case) if l["rel"] == "IMPORTED"}
    assert imported[nodes["S1"]["id"]] == nodes["C1"]["id"]  # tax id QFN-150312-AB1 matches QFN150312AB1
    with CaseFile(case) as opened:
        party = next(n for n in opened.nodes() if n["id"] == imported[nodes["S2"]["id"]])
    assert party["name"] == "Quimica Fina Norte" and party["registered"] is False
    assert nodes["S2"]["importer"] == "Quimica Fina Norte"  # the clerk's spelling stays on the shipment
    exporters = {l["source"] for l in links(case) if l["rel"] == "EXPORTED"}
    assert len(exporters) == 1  # one foreign exporter, named the same way twice


def test_reingest_is_a_no_op(tmp_path: Path, small_bundle: Path) -> None:
    case = tmp_path / "case.graphinv"
    ingest(case, [small_bundle])
    with CaseFile(case) as opened:
        before = (opened.version, list(opened.nodes()), list(opened.links()))
    again = ingest(case, [small_bundle])
    assert all(f.unchanged for f in again.files)
    assert again.changed is False
    with CaseFile(case) as opened:
        assert (opened.version, list(opened.nodes()), list(opened.links())) == before


def test_a_changed_source_replaces_what_it_said(tmp_path: Path, small_bundle: Path) -> None:
    case = tmp_path / "case.graphinv"
    ingest(case, [small_bundle])
    write_csv(small_bundle / "ownership.csv", ["owner_id", "company_id", "share_pct"], [["P1", "C1", "75"]])
    report = ingest(case, [small_bundle / "ownership.csv"])
    assert report.changed and report.files[0].kept == 1
    owns = [l for l in links(case) if l["rel"] == "OWNS"]
    assert [(l["share_pct"], l["sources"]) for l in owns] == [(75.0, ["small:ownership.csv:2"])]


def test_ids_are_stable_across_runs_and_cases(tmp_path: Path, small_bundle: Path) -> None:
    ingest(tmp_path / "a.graphinv", [small_bundle])
    ingest(tmp_path / "b.graphinv", [small_bundle])
    ids_a = sorted(n["id"] for n in CaseFile(tmp_path / "a.graphinv").nodes())
    ids_b = sorted(n["id"] for n in CaseFile(tmp_path / "b.graphinv").nodes())
    assert ids_a == ids_b
    # The recipe is a hash of the natural keys, the same on every machine and Python version.
    assert (
        Company.make_id("small", "C1")
        == "co-" + __import__("hashlib").blake2b(b"Company\x1fsmall\x1fC1", digest_size=8).hexdigest()
    )
    assert Person.make_id("small", "P1") != Company.make_id("small", "P1")


BAD_ROWS = [
    ("companies.csv", ["id", "name", "employees"], [["", "No Id SA", "3"]], "id", "missing value"),
    ("companies.csv", ["id", "name", "employees"], [["C9", "", "3"]], "name", "missing value: every row needs one"),
    ("persons.csv", ["id", "name"], [["P9", "  "]], "name", "missing value: every row needs one"),
    ("companies.csv", ["id", "name", "employees"], [["C9", "Bad Number SA", "doce"]], "employees", "valid integer"),
    (
        "companies.csv",
        ["id", "name", "employees"],
        [["C9", "Typo SA", "123456789012345678901"]],
        "employees",
        "less than or equal",
    ),
    (
        "companies.csv",
        ["id", "name", "incorporation_date"],
        [["C9", "Bad Date SA", "2019-02-30"]],
        "incorporation_date",
        "no such date",
    ),
    (
        "companies.csv",
        ["id", "name", "incorporation_date"],
        [["C9", "Bad Date SA", "03/02/2019"]],
        "incorporation_date",
        "not an ISO date",
    ),
    (
        "ownership.csv",
        ["owner_id", "company_id", "share_pct"],
        [["P404", "C1", "10"]],
        "owner_id",
        "unknown reference 'P404'",
    ),
    # JSON has no infinity: kept, it would be stored as null, the number lost.
    (
        "shipments.csv",
        ["id", "date", "importer", "quantity_kg"],
        [["S9", "2020-01-01", "Foo", "inf"]],
        "quantity_kg",
        "finite number",
    ),
    (
        "shipments.csv",
        ["id", "date", "importer", "value_usd"],
        [["S9", "2020-01-01", "Foo", "1e400"]],
        "value_usd",
        "finite number",
    ),
    (
        "ownership.csv",
        ["owner_id", "company_id", "share_pct"],
        [["P1", "C1", "140"]],
        "share_pct",
        "less than or equal to 100",
    ),
    (
        "family.csv",
        ["person_id", "relative_id", "relation"],
        [["P1", "P2", "neighbour"]],
        "relation",
        "unknown relation",
    ),
    ("flags.csv", ["entity_ref", "list"], [["Nobody SA", "DEA"]], "entity_ref", "unknown reference"),
    ("accounts.csv", ["id", "holder_id", "status"], [["A9", "C1", "seized"]], "status", "'active' or 'frozen'"),
]


@pytest.mark.parametrize(("file", "header", "rows", "column", "reason"), BAD_ROWS)
def test_each_kind_of_bad_row_is_reported_and_the_rest_kept(
    tmp_path: Path, small_bundle: Path, file: str, header: list[str], rows: list[list[str]], column: str, reason: str
) -> None:
    target = small_bundle / file
    with open(target, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        good = list(reader)
        columns = list(reader.fieldnames or []) + [h for h in header if h not in (reader.fieldnames or [])]
    good_count = len(good)
    bad = [dict(zip(header, r)) for r in rows]
    write_csv(target, columns, [[r.get(h, "") for h in columns] for r in good + bad])
    case = tmp_path / "case.graphinv"
    report = ingest(case, [small_bundle])

    rep = next(f for f in report.files if f.file == file)
    assert (rep.read, rep.kept, rep.rejected) == (good_count + 1, good_count, 1)
    line = good_count + 2
    assert len(report.rejections) == 1
    message = report.rejections[0]
    assert message.startswith(f"{file}:{line}: {column}: "), message
    assert reason in message
    # The rejects file next to the case has it too, with the raw row, and the case the rest.
    saved = rejects_path(case).read_text(encoding="utf-8")
    assert f"{file},{line},{column}," in saved
    with CaseFile(case) as opened:
        assert [str(r) for r in opened.rejections()] == [message]


def test_a_negative_zero_share_or_amount_is_stored_as_zero(tmp_path: Path, small_bundle: Path) -> None:
    """'-0' parses as -0.0, which is not below zero; stored as such, JSON readers see '-0.0'."""
    ownership = [["P1", "C1", "-0"], ["C1", "C2", "-0.0%"]]
    write_csv(small_bundle / "ownership.csv", ["owner_id", "company_id", "share_pct"], ownership)
    shipments = [["S1", "-0", "-0.00"], ["S2", "0", "-0e3"]]
    write_csv(small_bundle / "shipments.csv", ["id", "quantity_kg", "value_usd"], shipments)
    case = tmp_path / "case.graphinv"
    assert ingest(case, [small_bundle]).rejected_total == 0
    nodes = nodes_by_bundle_id(case)
    amounts = [nodes[s][k] for s in ("S1", "S2") for k in ("quantity_kg", "value_usd")]
    shares = [l["share_pct"] for l in links(case) if l["rel"] == "OWNS"]
    assert amounts + shares == [0.0] * 6
    assert all(math.copysign(1, v) == 1 for v in amounts + shares)
    with sqlite3.connect(case) as db:
        assert not db.execute("SELECT count(*) FROM statement WHERE props LIKE '%-0.0%'").fetchone()[0]
        assert not db.execute("SELECT count(*) FROM link WHERE props LIKE '%-0.0%'").fetchone()[0]


# 'kind' and 'raw_kind' both become raw_kind: the fast path leaves such a header to the per-row path.
@pytest.mark.parametrize("extra", [[], ["kind", "raw_kind"]], ids=["fast path", "per-row path"])
def test_a_link_from_an_id_to_itself(tmp_path: Path, small_bundle: Path, extra: list[str]) -> None:
    """A person is not their own relative, nor a firm its own officer; a firm holding its own
    shares (treasury shares) is real and kept."""
    pad = [""] * len(extra)
    family = [["P1", "P2", "spouse", *pad], ["P1", "P1", "spouse", *pad]]
    write_csv(small_bundle / "family.csv", ["person_id", "relative_id", "relation", *extra], family)
    officers = [["P2", "C1", "director", *pad], ["C2", "C2", "director", *pad]]
    write_csv(small_bundle / "officers.csv", ["person_id", "company_id", "role", *extra], officers)
    ownership = [["P1", "C1", "60", *pad], ["C1", "C1", "5", *pad]]
    write_csv(small_bundle / "ownership.csv", ["owner_id", "company_id", "share_pct", *extra], ownership)
    case = tmp_path / "case.graphinv"
    report = ingest(case, [small_bundle])
    assert report.rejections == [
        "officers.csv:3: company_id: a firm cannot be its own officer ('C2' on both ends); name the officer",
        "family.csv:3: relative_id: a person cannot be their own relative ('P1' on both ends); name the relative",
    ]
    nodes = nodes_by_bundle_id(case)
    c1 = nodes["C1"]["id"]
    same = [(l["rel"], l.get("share_pct")) for l in links(case) if l["source"] == l["target"]]
    assert same == [("OWNS", 5.0)]
    owns = {(l["source"], l["target"]) for l in links(case) if l["rel"] == "OWNS"}
    assert owns == {(nodes["P1"]["id"], c1), (c1, c1)}


def test_a_column_named_like_a_property_the_graph_writes_is_kept_apart(tmp_path: Path) -> None:
    """A registry's own ``bundle_id`` or ``aliases`` column neither crashes the mapper nor is
    overwritten by (or passes for) what ingest and the case file write under that name."""
    folder = tmp_path / "b"
    columns = ["bundle_id", "aliases", "flag_reasons", "merged_ids", "registered", "party_degree", "periods"]
    values = ["zz", "AKA Alpha", "my note", "C7", "false", "3", "2019-2021"]
    write_csv(
        folder / "companies.csv", ["id", "name", *columns], [["C1", "Alfa", *values], ["C1", "Alfa SA", *[""] * 7]]
    )
    write_csv(folder / "persons.csv", ["id", "name", "bundle_id"], [["P1", "Ana", "x1"]])
    write_csv(folder / "accounts.csv", ["id", "holder_id", "bundle_id"], [["A1", "C1", "x2"]])
    write_csv(folder / "shipments.csv", ["id", "importer", "bundle_id"], [["S1", "Alfa", "x3"]])
    report = ingest(tmp_path / "case.graphinv", [folder])
    assert report.rejected_total == 0
    nodes = nodes_by_bundle_id(tmp_path / "case.graphinv")
    alfa = nodes["C1"]
    assert {c: alfa[f"raw_{c}"] for c in columns} == dict(zip(columns, values))
    assert alfa["aliases"] == ["Alfa SA"] and "registered" not in alfa and "merged_ids" not in alfa
    assert (nodes["P1"]["raw_bundle_id"], nodes["A1"]["raw_bundle_id"], nodes["S1"]["raw_bundle_id"]) == (
        "x1",
        "x2",
        "x3",
    )


def test_wrong_column_count_and_undecodable_bytes(tmp_path: Path, small_bundle: Path) -> None:
    target = small_bundle / "companies.csv"
    data = target.read_bytes()
    data += b"C7,Too Many SA,TMS010101AAA,2001-01-01,addr,3,web,EXTRA\n"
    data += b"C8,Caf\xe9 Latin-1 SA,CLS010101AAA,2001-01-01,addr,3,web\n"
    data += b"C9,Still Fine SA,SFS010101AAA,2001-01-01,addr,3,web\n"
    target.write_bytes(data)
    report = ingest(tmp_path / "case.graphinv", [small_bundle])
    assert report.rejections == [
        "companies.csv:4: *: expected 7 columns as in the header, found 8",
        "companies.csv:5: name: bytes that are not UTF-8: b'Caf\\xe9 Latin-1 SA'; save the file as UTF-8",
    ]
    assert "C9" in nodes_by_bundle_id(tmp_path / "case.graphinv")


def test_line_numbers_count_physical_lines_of_multiline_fields(tmp_path: Path) -> None:
    folder = tmp_path / "ml"
    write_csv(
        folder / "companies.csv", ["id", "name", "employees"], [["C1", "Two\nLines SA", "1"], ["C2", "Bad SA", "x"]]
    )
    report = ingest(tmp_path / "case.graphinv", [folder])
    assert report.rejections[0].startswith("companies.csv:4: employees:")


@pytest.mark.parametrize("extra", [[], ["kind", "raw_kind"]], ids=["fast path", "per-row path"])
@pytest.mark.parametrize(
    ("opened", "column"), [('C2,"Beta,Retail', "name"), ('C2,Beta,"Retail', "industry")], ids=["middle column", "last column"]
)
def test_a_quote_never_closed_rejects_its_row_and_keeps_the_rest_as_raw_text(
    tmp_path: Path, extra: list[str], opened: str, column: str
) -> None:
    """csv reads the end of the file as the end of an open quote: the rows after it must not vanish."""
    folder = tmp_path / "q"
    folder.mkdir()
    header = ",".join(["id", "name", "industry", *extra])
    pad = "," * len(extra)
    lines = [header, f"C1,Alfa,Chemicals{pad}", f"{opened}{pad}", f"C3,Gamma,Retail{pad}", f"C4,Delta,Retail{pad}"]
    (folder / "companies.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    case = tmp_path / "case.graphinv"
    report = ingest(case, [folder])
    assert (report.files[0].read, report.files[0].kept, report.files[0].rejected) == (2, 1, 1)
    assert report.rejections == [
        (
            f"companies.csv:3: {column}: a quoted field opened in this row is never closed, so the rest of the file "
            "(lines 4-5) is inside it; close the quote"
        )
    ]
    with CaseFile(case) as opened_case:
        (rejection,) = list(opened_case.rejections())
    assert "C3,Gamma,Retail" in rejection.raw and "C4,Delta,Retail" in rejection.raw  # nothing lost
    assert set(nodes_by_bundle_id(case)) == {"C1"}
    with pytest.raises(StrictIngestError, match="never closed"):
        ingest(tmp_path / "strict.graphinv", [folder], strict=True)


def test_a_closed_quote_ending_in_a_line_break_is_a_value(tmp_path: Path) -> None:
    folder = tmp_path / "q"
    folder.mkdir()
    (folder / "companies.csv").write_text('id,name,note\nC1,Alfa,"two\nlines\n"\n', encoding="utf-8")
    report = ingest(tmp_path / "case.graphinv", [folder])
    assert report.rejected_total == 0
    assert nodes_by_bundle_id(tmp_path / "case.graphinv")["C1"]["note"] == "two\nlines"  # kept (values are stripped)


# 'kind' and 'raw_kind' both become raw_kind: the fast path leaves such a header to the per-row path.
@pytest.mark.parametrize("extra", ["", ",kind,raw_kind"], ids=["fast path", "per-row path"])
def test_blank_lines_before_the_header_are_skipped_and_lines_keep_their_numbers(tmp_path: Path, extra: str) -> None:
    """Spreadsheet exports may open with empty lines, or lines of bare commas, above the header."""
    folder = tmp_path / "b"
    folder.mkdir()
    pad = "," * extra.count(",")
    preamble = "\n  \n,,\n , ,\t\n"  # header on line 5
    (folder / "companies.csv").write_text(
        f"{preamble}id,name,employees{extra}\nC1,Alfa,3{pad}\nC2,Beta,doce{pad}\n", encoding="utf-8"
    )
    (folder / "flags.csv").write_text(f"{preamble}entity_ref,list\nC1,DEA\nNobody,DEA\n", encoding="utf-8")
    case = tmp_path / "case.graphinv"
    report = ingest(case, [folder])
    assert [(f.file, f.read, f.kept) for f in report.files] == [("companies.csv", 2, 1), ("flags.csv", 2, 1)]
    assert [r.split(": ")[0] for r in report.rejections] == ["companies.csv:7", "flags.csv:7"]
    alfa = nodes_by_bundle_id(case)["C1"]
    assert (alfa["employees"], alfa["flags"]) == (3, ["DEA"])
    assert alfa["sources"] == ["b:companies.csv:6", "b:flags.csv:6"]
    # A header that lacks a column after the blank lines is named by its own line.
    (folder / "persons.csv").write_text("\n\nname\nAna\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"persons.csv:3: missing column 'id' \(found: name\)"):
        ingest(case, [folder / "persons.csv"])
    (folder / "persons.csv").write_text("\n , \n\n", encoding="utf-8")
    with pytest.raises(SourceError, match="persons.csv: the file is empty"):
        ingest(case, [folder / "persons.csv"])


def test_headers_in_any_script_keep_their_names(tmp_path: Path) -> None:
    """Header names compare without accents or case, but a Cyrillic or CJK name is a name: an
    extra column keeps it, and a mapping can name it."""
    folder = tmp_path / "b"
    write_csv(folder / "companies.csv", ["id", "name", "Адрес", "Razón Social", "公司名称"], [["C1", "Alfa", "Москва", "Alfa SA", "阿尔法"]])
    ingest(tmp_path / "case.graphinv", [folder])
    alfa = nodes_by_bundle_id(tmp_path / "case.graphinv")["C1"]
    assert (alfa["адрес"], alfa["razon_social"], alfa["公司名称"]) == ("Москва", "Alfa SA", "阿尔法")

    mapping = tmp_path / "reestr.yml"
    mapping.write_text(
        "name: reestr\nfiles:\n  - match: '*.csv'\n    targets:\n      - kind: companies\n"
        "        columns: {id: ИНН, name: Название, address: Адрес, industry: Razón}\n",
        encoding="utf-8",
    )
    data = write_csv(tmp_path / "m" / "reestr.csv", ["ИНН", "Название", "Адрес", "RAZON"], [["7701", "ООО Ромашка", "Москва", "химия"]])
    report = ingest(tmp_path / "mapped.graphinv", [data], mapping=mapping)
    assert report.rejected_total == 0
    firm = nodes_by_bundle_id(tmp_path / "mapped.graphinv")["7701"]
    assert (firm["name"], firm["industry"]) == ("ООО Ромашка", "химия")


def test_strict_writes_nothing_and_removes_a_new_case(tmp_path: Path, small_bundle: Path) -> None:
    write_csv(small_bundle / "family.csv", ["person_id", "relative_id", "relation"], [["P1", "P404", "spouse"]])
    case = tmp_path / "case.graphinv"
    with pytest.raises(StrictIngestError, match=r"family.csv:2: relative_id: unknown reference 'P404'"):
        ingest(case, [small_bundle], strict=True)
    assert not case.exists()
    assert not rejects_path(case).exists()


def test_strict_leaves_an_existing_case_exactly_as_it_was(tmp_path: Path, small_bundle: Path) -> None:
    case = tmp_path / "case.graphinv"
    ingest(case, [small_bundle / "companies.csv"])
    before = case.read_bytes()
    write_csv(small_bundle / "family.csv", ["person_id", "relative_id", "relation"], [["P1", "P404", "spouse"]])
    with pytest.raises(StrictIngestError):
        ingest(case, [small_bundle], strict=True)
    assert case.read_bytes() == before


def test_a_source_that_cannot_be_read_stops_the_run_with_a_fix(tmp_path: Path, small_bundle: Path) -> None:
    (small_bundle / "persons.csv").write_text("name,tax_id\nNo Id Column,X\n", encoding="utf-8")
    case = tmp_path / "case.graphinv"
    with pytest.raises(SourceError, match=r"persons.csv:1: missing column 'id' \(found: name, tax_id\)"):
        ingest(case, [small_bundle])
    assert not case.exists()
    with pytest.raises(SourceError, match="Cannot tell what"):
        ingest(
            case, [small_bundle / "persons.csv", tmp_path / "x.csv"] if (tmp_path / "x.csv").write_text("a\n") else []
        )
    with pytest.raises(SourceError, match="No such file or folder"):
        ingest(case, [tmp_path / "missing"])


def test_kind_option_reads_a_file_with_any_name(tmp_path: Path, small_bundle: Path) -> None:
    case = tmp_path / "case.graphinv"
    renamed = shutil.copy(small_bundle / "companies.csv", tmp_path / "registro_2021.csv")
    report = ingest(case, [renamed], kind="companies", dataset="small")
    assert report.files[0].kept == 2
    assert nodes_by_bundle_id(case)["C1"]["id"] == Company.make_id("small", "C1")


def test_ambiguous_flag_reference_lists_candidates(tmp_path: Path, small_bundle: Path) -> None:
    write_csv(
        small_bundle / "companies.csv",
        ["id", "name"],
        [["C1", "Química Fina del Norte, S.A. de C.V."], ["C2", "QUIMICA FINA DEL NORTE, S.A. DE C.V."]],
    )
    write_csv(small_bundle / "flags.csv", ["entity_ref", "list"], [["Química Fina del Norte, S.A. de C.V.", "DEA"]])
    report = ingest(tmp_path / "case.graphinv", [small_bundle])
    flag_rejects = [r for r in report.rejections if r.startswith("flags.csv")]
    assert (
        len(flag_rejects) == 1 and "ambiguous reference" in flag_rejects[0] and "matches 2 entities" in flag_rejects[0]
    )


SHIPMENT = ["id", "date", "importer", "product", "quantity_kg"]


def test_two_files_of_one_name_in_one_dataset_stop_the_run(tmp_path: Path) -> None:
    # Both folders are called 'customs', so both default to dataset 'customs'.
    old = write_csv(
        tmp_path / "2019" / "customs" / "shipments.csv", SHIPMENT, [["S1", "2019-05-01", "Alfa", "4-piperidone", "100"]]
    )
    new = write_csv(
        tmp_path / "2020" / "customs" / "shipments.csv", SHIPMENT, [["S1", "2020-05-01", "Beta", "4-piperidone", "900"]]
    )
    case = tmp_path / "case.graphinv"
    with pytest.raises(SourceError) as caught:
        ingest(case, [old.parent, new.parent])
    message = str(caught.value)
    assert repr(str(old)) in message and repr(str(new)) in message
    assert "dataset 'customs'" in message and "--dataset" in message
    assert not case.exists()

    write_csv(tmp_path / "x" / "companies.csv", ["id", "name"], [["C1", "Alfa SA"]])
    write_csv(tmp_path / "y" / "companies.csv", ["id", "name"], [["C9", "Omega SA"]])
    with pytest.raises(SourceError, match=r"both file 'companies.csv' of dataset 'reg'"):
        ingest(case, [tmp_path / "x", tmp_path / "y"], dataset="reg")
    assert not case.exists()
    ingest(case, [tmp_path / "x", tmp_path / "x" / "companies.csv"], dataset="reg")  # one file named twice is one file


def test_a_file_from_another_folder_replacing_an_earlier_one_says_so(tmp_path: Path) -> None:
    old = write_csv(
        tmp_path / "2019" / "customs" / "shipments.csv", SHIPMENT, [["S1", "2019-05-01", "Alfa", "4-piperidone", "100"]]
    )
    new = write_csv(
        tmp_path / "2020" / "customs" / "shipments.csv", SHIPMENT, [["S1", "2020-05-01", "Beta", "4-piperidone", "900"]]
    )
    case = tmp_path / "case.graphinv"
    assert ingest(case, [old.parent]).files[0].replaced is None
    report = ingest(case, [new.parent])
    assert report.files[0].replaced == str(old.resolve())
    assert nodes_by_bundle_id(case)["S1"]["date"] == "2020-05-01"
    write_csv(new, SHIPMENT, [["S1", "2020-06-01", "Beta", "4-piperidone", "900"]])
    assert ingest(case, [new.parent]).files[0].replaced is None  # a new version of the same file


def test_a_row_rejected_for_an_unknown_reference_is_read_again_once_the_case_has_it(tmp_path: Path) -> None:
    folder = tmp_path / "o1"
    write_csv(folder / "ownership.csv", ["owner_id", "company_id", "share_pct"], [["C1", "C2", "40"]])
    write_csv(folder / "companies.csv", ["id", "name"], [["C1", "Alfa SA"], ["C2", "Beta SA"]])
    case = tmp_path / "case.graphinv"
    first = ingest(case, [folder / "ownership.csv"])
    assert "ingest the file that defines it first" in first.rejections[0]
    assert ingest(case, [folder / "ownership.csv"]).changed is False  # nothing came in since

    ingest(case, [folder / "companies.csv"])  # the advice followed
    again = ingest(case, [folder / "ownership.csv"])
    assert (again.files[0].unchanged, again.files[0].kept, again.rejected_total) == (False, 1, 0)
    nodes = nodes_by_bundle_id(case)
    assert [(l["source"], l["target"], l["share_pct"]) for l in links(case) if l["rel"] == "OWNS"] == [
        (nodes["C1"]["id"], nodes["C2"]["id"], 40.0)
    ]
    assert not rejects_path(case).exists()
    with CaseFile(case) as opened:
        version = opened.version
    assert ingest(case, [folder]).changed is False  # and from then on the bundle is unchanged
    assert CaseFile(case).version == version


def _bundle_a(folder: Path, companies: list[list[str]]) -> Path:
    write_csv(folder / "companies.csv", ["id", "name"], companies)
    write_csv(folder / "ownership.csv", ["owner_id", "company_id", "share_pct"], [["C1", "C2", "40"]])
    write_csv(folder / "accounts.csv", ["id", "holder_id", "bank"], [["A1", "C2", "Banco Ficticio"]])
    write_csv(folder / "flags.csv", ["entity_ref", "list"], [["A1", "DEA"]])
    return folder


def _exported_links(case: Path, tmp_path: Path) -> dict[str, int]:
    """Links as each export writes them: JSON lines, GraphML and FtM link entities."""
    import json

    from graphinv.export.ftm import write_ftm
    from graphinv.export.graph_formats import read_graph, write_graphml

    write_jsonl(case, tmp_path / "case.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "case.jsonl").read_text().splitlines()]
    ids = {r["id"] for r in rows if r["type"] == "node"}
    jsonl = [r for r in rows if r["type"] == "link"]
    assert all(r["source"] in ids and r["target"] in ids for r in jsonl)
    write_graphml(case, tmp_path / "case.graphml")
    write_ftm(case, tmp_path / "case.ftm")
    ftm = [json.loads(line) for line in (tmp_path / "case.ftm").read_text().splitlines()]
    ftm_ids = {e["id"] for e in ftm}
    owns = [e for e in ftm if e["schema"] == "Ownership"]
    assert all(e["properties"]["owner"][0] in ftm_ids and e["properties"]["asset"][0] in ftm_ids for e in owns)
    return {
        "jsonl": len(jsonl),
        "graphml": read_graph(tmp_path / "case.graphml").number_of_edges(),
        "ftm ownerships": len(owns),
    }


def test_a_replaced_file_leaves_no_link_to_an_entity_it_no_longer_states(tmp_path: Path) -> None:
    folder = _bundle_a(tmp_path / "a", [["C1", "Alfa SA"], ["C2", "Beta SA"]])
    case = tmp_path / "case.graphinv"
    ingest(case, [folder])
    assert _exported_links(case, tmp_path) == {"jsonl": 2, "graphml": 2, "ftm ownerships": 2}  # OWNS, HOLDS

    write_csv(folder / "companies.csv", ["id", "name"], [["C1", "Alfa SA"]])
    report = ingest(case, [folder])
    assert links(case) == []
    assert _exported_links(case, tmp_path) == {"jsonl": 0, "graphml": 0, "ftm ownerships": 0}
    assert [(f.file, f.unchanged, f.reread, f.kept, f.rejected) for f in report.files] == [
        ("companies.csv", False, False, 1, 0),
        ("ownership.csv", False, True, 0, 1),
        ("accounts.csv", False, True, 0, 1),
        ("flags.csv", False, True, 0, 1),  # the account it flagged went with its holder
    ]
    assert report.rejections == [
        (
            "ownership.csv:2: company_id: unknown reference 'C2': no company with this id in dataset 'a'; "
            "ingest the file that defines it first, in the same dataset"
        ),
        (
            "accounts.csv:2: holder_id: unknown reference 'C2': no company or person with this id in dataset 'a'; "
            "ingest the file that defines it first, in the same dataset"
        ),
        (
            "flags.csv:2: entity_ref: unknown reference 'A1': no entity has this id, tax id or name; "
            "check the spelling or ingest the registry that names it first"
        ),
    ]
    assert ingest(case, [folder]).changed is False

    write_csv(folder / "companies.csv", ["id", "name"], [["C1", "Alfa SA"], ["C2", "Beta SA"]])
    back = ingest(case, [folder])
    assert back.rejected_total == 0 and nodes_by_bundle_id(case)["A1"]["flags"] == ["DEA"]
    assert _exported_links(case, tmp_path) == {"jsonl": 2, "graphml": 2, "ftm ownerships": 2}


def test_files_not_given_are_read_again_from_where_they_were_read(tmp_path: Path) -> None:
    folder = _bundle_a(tmp_path / "a", [["C1", "Alfa SA"], ["C2", "Beta SA"]])
    case = tmp_path / "case.graphinv"
    ingest(case, [folder])
    write_csv(folder / "companies.csv", ["id", "name"], [["C1", "Alfa SA"]])
    report = ingest(case, [folder / "companies.csv"])
    assert [(f.file, f.reread, f.rejected) for f in report.files] == [
        ("companies.csv", False, 0),
        ("ownership.csv", True, 1),
        ("accounts.csv", True, 1),
        ("flags.csv", True, 1),
    ]
    assert links(case) == [] and report.rejected_total == 3

    # A file that changed since it was read is not read in its stead: the run stops, nothing written.
    write_csv(folder / "companies.csv", ["id", "name"], [["C1", "Alfa SA"], ["C2", "Beta SA"]])
    ingest(case, [folder])
    before = case.read_bytes()
    write_csv(folder / "ownership.csv", ["owner_id", "company_id", "share_pct"], [["C1", "C2", "45"]])
    write_csv(folder / "companies.csv", ["id", "name"], [["C1", "Alfa SA"]])
    with pytest.raises(
        SourceError,
        match=r"a:ownership.csv names entities that this ingest removes.*changed since: give it in this run too",
    ):
        ingest(case, [folder / "companies.csv"])
    assert case.read_bytes() == before


def test_a_flag_by_tax_id_names_every_record_of_that_tax_id_in_either_order(tmp_path: Path) -> None:
    """A registry and an importers list both state the firm with tax id IOP180911BB2: a watch list
    naming the tax id flags the firm whichever came first (resolution then merges the two), and
    ingesting the same files again changes nothing."""
    registry, importers = tmp_path / "registro", tmp_path / "importadores"
    write_csv(registry / "companies.csv", ["id", "name", "tax_id"], [["C11", "Iópolis SA de CV", "IOP180911BB2"]])
    write_csv(registry / "flags.csv", ["entity_ref", "list"], [["IOP-180911-BB2", "DEA-2021"]])
    write_csv(importers / "companies.csv", ["id", "name", "tax_id"], [["I7", "IOPOLIS SA DE CV", "IOP180911BB2"]])
    for order in ([importers, registry], [registry, importers, registry]):
        case = tmp_path / f"{order[0].name}-first.graphinv"
        for folder in order:
            report = ingest(case, [folder])
            assert report.rejected_total == 0, report.rejections
        resolve(case)
        with CaseFile(case) as opened:
            (firm,) = [n for n in opened.nodes() if n["kind"] == "Company"]  # resolution made them one
            records = {n["bundle_id"]: n["flagged"] for n in opened.nodes(resolved=False) if n["kind"] == "Company"}
        assert firm["flags"] == ["DEA-2021"] and "registro:flags.csv:2" in firm["sources"]
        # Read after both records, the list names both; read before the importers list, the registry's.
        assert records == {"C11": True, "I7": order[0] is importers}
        assert ingest(case, [registry, importers]).changed is False


def test_a_flag_row_naming_two_records_resolution_merges_is_cited_once(tmp_path: Path) -> None:
    registry, importers = tmp_path / "registro", tmp_path / "importadores"
    write_csv(registry / "companies.csv", ["id", "name", "tax_id"], [["C11", "Iópolis SA de CV", "IOP180911BB2"]])
    write_csv(importers / "companies.csv", ["id", "name", "tax_id"], [["I7", "IOPOLIS SA DE CV", "IOP180911BB2"]])
    write_csv(registry / "flags.csv", ["entity_ref", "list"], [["IOP180911BB2", "DEA-2021"]])
    case = tmp_path / "case.graphinv"
    ingest(case, [importers, registry])
    resolve(case)
    with CaseFile(case) as opened:
        (firm,) = [n for n in opened.nodes() if n["kind"] == "Company"]
    assert firm["flag_reasons"] == ["DEA-2021 [registro:flags.csv:2]"]
