"""Mappings: a foreign shareholder register read as bundle rows, errors that name the mapping line."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import write_csv
from graphinv import CaseFile, SourceError, StrictIngestError, ingest

REGISTER = """\
name: registro
files:
  - match: "*.csv"
    delimiter: ";"
    targets:
      - kind: companies
        columns:
          id: rfc_empresa
          name: razon_social
          tax_id: rfc_empresa
          incorporation_date: {column: fecha_constitucion, date: ["%d/%m/%Y", excel]}
          address: {template: "{calle} {numero}, Col. {colonia}"}
          jurisdiction: {value: MX}
      - kind: persons
        when: {column: tipo_socio, equals: F}
        columns:
          id: rfc_socio
          name: socio
      - kind: ownership
        columns:
          owner_id: rfc_socio
          company_id: rfc_empresa
          share_pct: {column: participacion, decimal: ",", share: fraction}
"""


def _register(tmp_path: Path, rows: list[list[str]]) -> tuple[Path, Path]:
    mapping = tmp_path / "registro.yml"
    mapping.write_text(REGISTER, encoding="utf-8")
    data = tmp_path / "data" / "socios.csv"
    data.parent.mkdir(parents=True, exist_ok=True)
    lines = ["rfc_empresa;razon_social;fecha_constitucion;calle;numero;colonia;rfc_socio;socio;tipo_socio;participacion"]
    lines += [";".join(r) for r in rows]
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return mapping, data


def test_one_register_row_makes_a_firm_its_owner_and_the_share(tmp_path: Path) -> None:
    mapping, data = _register(tmp_path, [
        ["QFN150312AB1", "Química Fina del Norte", "12/03/2015", "Calle Cedro", "14", "Santa Rosa", "MASR700101AB1", "Rogelio Martínez", "F", "0,6"],
        ["TCE180101XY2", "Transportes Cedro", "43101", "Calle Cedro", "", "Santa Rosa", "QFN150312AB1", "", "M", "1"],
    ])
    case = tmp_path / "case.graphinv"
    report = ingest(case, [data], mapping=mapping, dataset="registro")
    assert report.rejected_total == 0 and report.files[0].kind == "mapping:registro"
    with CaseFile(case) as opened:
        nodes = {n.get("bundle_id") or n["name"]: n for n in opened.nodes()}
        links = opened.links()
    firm = nodes["QFN150312AB1"]
    assert (firm["name"], firm["incorporation_date"], firm["jurisdiction"]) == ("Química Fina del Norte", "2015-03-12", "MX")
    assert nodes["TCE180101XY2"]["incorporation_date"] == "2018-01-01"  # an Excel serial date
    assert nodes["MASR700101AB1"]["kind"] == "Person"
    shares = {(l["source"], l["target"]): l["share_pct"] for l in links if l["rel"] == "OWNS"}
    assert shares == {(nodes["MASR700101AB1"]["id"], firm["id"]): 60.0, (firm["id"], nodes["TCE180101XY2"]["id"]): 100.0}
    addresses = sorted(n["text"] for n in nodes.values() if n["kind"] == "Address")
    assert addresses == ["Calle Cedro 14, Col. Santa Rosa", "Calle Cedro, Col. Santa Rosa"]
    assert all(s.startswith("registro:socios.csv:") for l in links for s in l["sources"])


def test_a_bad_value_names_the_foreign_column_and_the_mapping_line(tmp_path: Path) -> None:
    mapping, data = _register(tmp_path, [
        ["QFN150312AB1", "Química Fina", "31/02/2015", "C", "1", "X", "P1", "Ana", "F", "0,5"],
        ["QFN150312AB2", "Otra", "01/03/2015", "C", "1", "X", "P2", "Luis", "F", "60"],
        ["QFN150312AB3", "Buena", "01/03/2015", "C", "1", "X", "P3", "Eva", "F", "0,25"],
    ])
    report = ingest(tmp_path / "case.graphinv", [data], mapping=mapping)
    assert report.rejected_total == 2 and report.files[0].kept == 1
    first, second = report.rejections
    assert first.startswith("socios.csv:2: fecha_constitucion: date '31/02/2015' does not match")
    assert "(companies.incorporation_date, mapping registro.yml:11)" in first
    assert second.startswith("socios.csv:3: participacion: share '60' is over 1") and "registro.yml:23" in second


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("share_pct: {column: participacion", "share_pct: {colum: participacion"), "registro.yml:23: unknown option 'colum' for column share_pct (did you mean 'column'?)"),
        (("name: socio", "name: socia"), "registro.yml:18: column 'socia' is not in socios.csv"),
        (("kind: ownership", "kind: owners"), "registro.yml:19: target kind 'owners'"),
        (("          owner_id: rfc_socio\n", ""), "registro.yml:20: target ownership needs 'owner_id'"),
    ],
)
def test_a_mapping_mistake_names_its_line(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    mapping, data = _register(tmp_path, [["A", "B", "01/01/2020", "C", "1", "X", "P", "Q", "F", "0,5"]])
    mapping.write_text(REGISTER.replace(*change), encoding="utf-8")
    with pytest.raises(SourceError) as caught:
        ingest(tmp_path / "case.graphinv", [data], mapping=mapping)
    assert message in str(caught.value)
    assert not (tmp_path / "case.graphinv").exists()


def test_changing_the_mapping_reingests_the_same_file(tmp_path: Path) -> None:
    mapping, data = _register(tmp_path, [["A1", "Alfa", "01/01/2020", "C", "1", "X", "P", "Q", "F", "0,5"]])
    case = tmp_path / "case.graphinv"
    ingest(case, [data], mapping=mapping)
    assert ingest(case, [data], mapping=mapping).files[0].unchanged
    mapping.write_text(REGISTER.replace("value: MX", "value: GT"), encoding="utf-8")
    assert not ingest(case, [data], mapping=mapping).files[0].unchanged
    with CaseFile(case) as opened:
        assert next(n for n in opened.nodes() if n.get("bundle_id") == "A1")["jurisdiction"] == "GT"


def test_excel_sheet_through_a_mapping(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    import datetime as dt

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Accionistas"
    sheet.append(["Empresa", "Nombre", "Alta", "Socio", "Porcentaje"])
    sheet.append(["E1", "Alfa SA", dt.datetime(2019, 5, 2), "S1", 0.35])
    path = tmp_path / "registro.xlsx"
    book.save(path)
    mapping = tmp_path / "x.yml"
    mapping.write_text(
        "sheet: Accionistas\ntargets:\n"
        "  - kind: companies\n    columns: {id: Empresa, name: Nombre, incorporation_date: Alta}\n"
        "  - kind: persons\n    columns: {id: Socio, name: Socio}\n"
        "  - kind: ownership\n    columns: {owner_id: Socio, company_id: Empresa, share_pct: {column: Porcentaje, share: fraction}}\n",
        encoding="utf-8",
    )
    case = tmp_path / "case.graphinv"
    report = ingest(case, [path], mapping=mapping, dataset="x")
    assert report.rejected_total == 0
    with CaseFile(case) as opened:
        (link,) = [l for l in opened.links() if l["rel"] == "OWNS"]
        firm = next(n for n in opened.nodes() if n.get("bundle_id") == "E1")
    assert link["share_pct"] == 35.0 and firm["incorporation_date"] == "2019-05-02"
    assert link["sources"] == ["x:registro.xlsx:2"]


@pytest.mark.parametrize("name", ["kek-media-ownership.yml", "uk-companies-house-psc.yml", "gleif-lei.yml", "icij-power-players.yml"])
def test_shipped_mappings_parse(name: str) -> None:
    from graphinv.ingest.mapping import load_mapping

    mapping = load_mapping(Path(__file__).resolve().parents[1] / "fixtures" / "mappings" / name)
    assert mapping.sections and all(s.targets for s in mapping.sections)


FIRMS = """\
name: firmas
targets:
  - kind: companies
    columns: {id: id, name: name}
  - kind: ownership
    when: {column: owner, empty: false}
    columns: {owner_id: owner, company_id: id, share_pct: {column: share, share: percent}}
"""


def test_a_bad_byte_rejects_its_own_line_and_no_other(tmp_path: Path) -> None:
    # 399 rows of ~60 bytes: the bad byte sits far past the decoder's first 8 KB chunk.
    lines = [b"id,name,owner,share"]
    for i in range(1, 400):
        name = b"Compa\xf1\xeda 300" if i == 300 else b"Empresa Numero %d Sociedad Anonima de Capital Variable" % i
        lines.append(b"%d,%s,%s,10" % (i, name, b"1" if i > 1 else b""))
    data = tmp_path / "firms.csv"
    data.write_bytes(b"\n".join(lines) + b"\n")
    mapping = tmp_path / "firmas.yml"
    mapping.write_text(FIRMS, encoding="utf-8")
    case = tmp_path / "case.graphinv"
    report = ingest(case, [data], mapping=mapping, dataset="firmas")
    assert (report.files[0].read, report.files[0].kept, report.rejected_total) == (399, 398, 1)
    (message,) = report.rejections
    assert message.startswith("firms.csv:301: name: bytes that are not UTF-8: b'Compa\\xf1\\xeda 300'; ")
    assert "encoding: latin-1" in message
    with CaseFile(case) as opened:
        firms = {n["bundle_id"]: n for n in opened.nodes() if n["kind"] == "Company"}
        sources = {l["sources"][0] for l in opened.links() if l["rel"] == "OWNS"}
    assert len(firms) == 398 and "300" not in firms and firms["399"]["name"].startswith("Empresa Numero 399 ")
    assert "firmas:firms.csv:400" in sources and "firmas:firms.csv:301" not in sources


def test_a_quote_never_closed_rejects_its_row_and_keeps_the_rest_as_its_raw_text(tmp_path: Path) -> None:
    data = tmp_path / "firms.csv"
    text = 'id,name,sector\nC0,Cero,Retail\nC1,Alfa,"Chemicals\nC2,Beta,Retail\nC3,Gamma,Retail\n'
    data.write_text(text, encoding="utf-8")
    mapping = tmp_path / "firmas.yml"
    mapping.write_text("targets:\n- kind: companies\n  columns: {id: id, name: name, sector: sector}\n")
    case = tmp_path / "case.graphinv"
    report = ingest(case, [data], mapping=mapping)
    assert (report.files[0].read, report.files[0].kept, report.rejected_total) == (2, 1, 1)
    (message,) = report.rejections
    assert message == (
        "firms.csv:3: sector: a quoted field opened in this row is never closed, "
        "so the rest of the file (lines 4-5) is inside it; close the quote"
    )
    with CaseFile(case) as opened:
        assert [n["bundle_id"] for n in opened.nodes() if n["kind"] == "Company"] == ["C0"]
        (rejected,) = opened.rejections()
    assert rejected.raw == 'C1,Alfa,"Chemicals\nC2,Beta,Retail\nC3,Gamma,Retail\n"'
    with pytest.raises(StrictIngestError, match="firms.csv:3: sector: a quoted field"):
        ingest(tmp_path / "strict.graphinv", [data], mapping=mapping, strict=True)


def test_excel_dates_out_of_range_are_rejected_and_a_bare_year_stays_a_year(tmp_path: Path) -> None:
    data = tmp_path / "firms.csv"
    rows = [["C1", "43101"], ["C2", "3000000"], ["C3", "inf"], ["C4", "2019"], ["C5", "12/03/2015"], ["C6", "0"]]
    data.write_text("id,alta\n" + "".join(f"{i},{alta}\n" for i, alta in rows), encoding="utf-8")
    mapping = tmp_path / "firmas.yml"
    mapping.write_text(
        "targets:\n- kind: companies\n  columns:\n    id: id\n    name: id\n"
        '    incorporation_date: {column: alta, date: ["%d/%m/%Y", excel]}\n',
        encoding="utf-8",
    )
    case = tmp_path / "case.graphinv"
    report = ingest(case, [data], mapping=mapping)
    fits = "does not match '%d/%m/%Y' or 'excel'"
    excel = f"{fits} (an Excel serial is a day number from 1 to 2958465)"
    where = "(companies.incorporation_date, mapping firmas.yml:6)"
    assert report.rejections == [
        f"firms.csv:3: alta: date '3000000' {excel} {where}",
        f"firms.csv:4: alta: date 'inf' {fits} {where}",
        f"firms.csv:7: alta: date '0' {excel} {where}",
    ]
    with CaseFile(case) as opened:
        dates = {n["bundle_id"]: n.get("incorporation_date") for n in opened.nodes() if n["kind"] == "Company"}
    assert dates == {"C1": "2018-01-01", "C4": "2019", "C5": "2015-03-12"}


@pytest.mark.parametrize(
    ("decimal", "cells", "bad"),
    [
        (",", ["1.234.567,5", "12,5", "1 234,5", "-1.234", "7%"], "a decimal comma: '12.5' (a dot only separates"),
        (".", ["1,234,567.5", "12.5", "1 234.5", "-1,234", "7%"], "a decimal point: '1,5' (a comma only separates"),
    ],
)
def test_a_decimal_mark_never_takes_the_other_mark_for_thousands_unless_it_groups_three_digits(
    tmp_path: Path, decimal: str, cells: list[str], bad: str
) -> None:
    bad_cell = "12.5" if decimal == "," else "1,5"
    data = tmp_path / "firms.csv"
    write_csv(data, ["id", "capital"], [[f"C{i}", cell] for i, cell in enumerate([*cells, bad_cell])])
    mapping = tmp_path / "firmas.yml"
    capital = f"{{column: capital, decimal: '{decimal}'}}"
    mapping.write_text(f"targets:\n- kind: companies\n  columns: {{id: id, name: id, capital: {capital}}}\n")
    case = tmp_path / "case.graphinv"
    report = ingest(case, [data], mapping=mapping)
    (message,) = report.rejections
    assert message.startswith(f"firms.csv:7: capital: not a number with {bad}")
    with CaseFile(case) as opened:
        capital = {n["bundle_id"]: n["capital"] for n in opened.nodes() if n["kind"] == "Company"}
    assert capital == {"C0": "1234567.5", "C1": "12.5", "C2": "1234.5", "C3": "-1234", "C4": "7%"}


def test_shares_keep_every_digit_they_were_given(tmp_path: Path) -> None:
    data = tmp_path / "firms.csv"
    write_csv(data, ["id", "owner", "pct", "frac"], [["C1", "C2", "33.33333333", "0.3333333333"]])
    mapping = tmp_path / "firmas.yml"
    mapping.write_text(
        "targets:\n"
        "- kind: companies\n  columns: {id: id, name: id}\n"
        "- kind: companies\n  columns: {id: owner, name: owner}\n"
        "- kind: ownership\n  columns: {owner_id: owner, company_id: id, share_pct: {column: pct, share: percent}}\n"
        "- kind: ownership\n  columns:\n    owner_id: id\n    company_id: owner\n"
        "    share_pct: {column: frac, share: fraction}\n",
        encoding="utf-8",
    )
    case = tmp_path / "case.graphinv"
    assert ingest(case, [data], mapping=mapping).rejected_total == 0
    with CaseFile(case) as opened:
        shares = sorted(l["share_pct"] for l in opened.links() if l["rel"] == "OWNS")
    assert shares == [33.33333333, 33.33333333]


def test_a_lookup_table_with_an_unreadable_row_stops_the_run(tmp_path: Path) -> None:
    # A lookup row read past in silence would leave every data row that needs it without its value.
    (tmp_path / "firms.csv").write_text("id,sector_code\nC1,01\nC2,02\n", encoding="utf-8")
    (tmp_path / "sectors.csv").write_bytes(b"code,label\n01,Mining\n02,Miner\xeda\n")
    mapping = tmp_path / "firmas.yml"
    mapping.write_text(
        "lookups:\n  sector: {file: sectors.csv, key: code, value: label}\n"
        "targets:\n- kind: companies\n"
        "  columns: {id: id, name: id, industry: {lookup: {table: sector, column: sector_code}}}\n",
        encoding="utf-8",
    )
    with pytest.raises(SourceError) as caught:
        ingest(tmp_path / "case.graphinv", [tmp_path / "firms.csv"], mapping=mapping)
    assert str(caught.value).startswith(
        "mapping firmas.yml:2: lookup 'sector': sectors.csv:3: label: bytes that are not UTF-8: b'Miner\\xeda'; "
    )


def test_blank_lines_above_a_mapped_header_are_skipped_and_lines_keep_their_numbers(tmp_path: Path) -> None:
    row = ["QFN150312AB1", "Química Fina del Norte", "12/03/2015", "Calle Cedro", "14", "Santa Rosa", "MASR700101AB1"]
    mapping, data = _register(tmp_path, [[*row, "Rogelio Martínez", "F", "0,6x"]])
    data.write_text("\n;;;\n" + data.read_text(encoding="utf-8"), encoding="utf-8")
    report = ingest(tmp_path / "case.graphinv", [data], mapping=mapping, dataset="registro")
    assert [r.split(": ")[0] for r in report.rejections] == ["socios.csv:4"]  # the row, on its physical line
