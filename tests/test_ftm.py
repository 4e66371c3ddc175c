"""FtM entity streams: any order in the file, missing references reported, CLI sniffing and export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from followthemoney import model
from typer.testing import CliRunner

from graphinv import CaseFile, ingest
from graphinv.cli import app


def _write(path: Path, entities: list[dict]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in entities), encoding="utf-8")
    return path


STREAM = [
    # The link comes before the entities it names.
    {
        "id": "own-1",
        "schema": "Ownership",
        "properties": {"owner": ["p-1"], "asset": ["c-1"], "percentage": ["60"], "startDate": ["2019-05-02"]},
    },
    {"id": "own-2", "schema": "Ownership", "properties": {"owner": ["p-9"], "asset": ["c-1"]}},
    {
        "id": "c-1",
        "schema": "Company",
        "properties": {
            "name": ["Química Fina del Norte"],
            "taxNumber": ["QFN150312AB1"],
            "addressEntity": ["a-1", "a-9"],
        },
    },
    {"id": "p-1", "schema": "Person", "properties": {"name": ["Rogelio Martínez"], "birthDate": ["1970-01-01"]}},
    {"id": "a-1", "schema": "Address", "properties": {"full": ["Calle Cedro 14, Santa Rosa"]}},
    {
        "id": "s-1",
        "schema": "Sanction",
        "properties": {"entity": ["c-1"], "authority": ["DEA-2021"], "reason": ["referral"]},
    },
    {"id": "pay-1", "schema": "Payment", "properties": {"payer": ["p-1"], "beneficiary": ["c-1"]}},
]


def test_order_missing_references_and_unsupported_schemata(tmp_path: Path) -> None:
    source = _write(tmp_path / "stream.ftm.jsonl", STREAM)
    case = tmp_path / "case.graphinv"
    report = ingest(case, [source], dataset="ftm")
    assert report.files[0].kind == "ftm"
    assert report.rejections == [
        "stream.ftm.jsonl:2: owner: unknown reference 'p-9': no entity with this id in the file or dataset 'ftm'; the entity is referenced but missing",
        "stream.ftm.jsonl:3: addressEntity: 'a-9' is missing: the address entity is referenced but not in the file",
        (
            "stream.ftm.jsonl:7: schema: Payment entities have no place in graphinv's graph (DESIGN §3), so this one is not ingested "
            "(read: Address, BankAccount, Company, EconomicActivity, LegalEntity, Organization, Person, PublicBody, Associate, "
            "Directorship, Family, Ownership, Representation, Sanction)"
        ),
    ]
    with CaseFile(case) as opened:
        nodes = {n.get("bundle_id") or n["name"]: n for n in opened.nodes()}
        links = opened.links()
    assert len(nodes) == 3  # nothing invented for p-9 or a-9
    firm = nodes["QFN150312AB1" if False else "c-1"]
    assert firm["tax_id"] == "QFN150312AB1" and firm["flags"] == ["DEA-2021"] and firm["ftm_schema"] == "Company"
    (owns,) = [l for l in links if l["rel"] == "OWNS"]
    assert (owns["share_pct"], owns["start_date"], owns["sources"]) == (60.0, "2019-05-02", ["ftm:stream.ftm.jsonl:1"])


def test_cli_recognises_ftm_and_exports_valid_ftm(tmp_path: Path) -> None:
    source = _write(tmp_path / "export-from-aleph.json", STREAM[:6])
    case = tmp_path / "case.graphinv"
    runner = CliRunner()
    result = runner.invoke(app, ["ingest", str(case), str(source), "--dataset", "aleph"])
    assert result.exit_code == 0, result.output
    assert "ftm" in result.output
    out = tmp_path / "out.ftm.jsonl"
    result = runner.invoke(app, ["export", str(case), "--format", "ftm", "-o", str(out)])
    assert result.exit_code == 0, result.output
    entities = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    proxies = {e["id"]: model.get_proxy(e, cleaned=False) for e in entities}
    assert {p.schema.name for p in proxies.values()} == {"Company", "Person", "Address", "Ownership", "Sanction"}
    assert proxies["c-1"].get("taxNumber") == ["QFN150312AB1"]  # FtM ids survive the round trip
    assert proxies["own-1"].get("owner") == ["p-1"] and proxies["own-1"].get("percentage") == ["60"]


def test_every_exported_entity_keeps_its_provenance_in_a_property_of_its_schema(
    tmp_path: Path, small_bundle: Path
) -> None:
    case = tmp_path / "case.graphinv"
    ingest(case, [small_bundle], dataset="small")
    out = tmp_path / "out.ftm.jsonl"
    result = CliRunner().invoke(app, ["export", str(case), "--format", "ftm", "-o", str(out)])
    assert result.exit_code == 0, result.output
    entities = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    schemata = {e["schema"] for e in entities}
    assert {"EconomicActivity", "Ownership", "Family", "Directorship", "BankAccount", "Sanction"} <= schemata
    with CaseFile(case) as opened:
        node_ids = {n["id"] for n in opened.nodes()}
    for entity in entities:
        strict = model.make_entity(entity["schema"])
        for prop, values in entity["properties"].items():
            strict.add(prop, values, cleaned=True)  # raises on a property the schema does not have
        proxy = model.get_proxy(entity)  # drops such a property silently
        text = " ".join(v for prop in ("notes", "summary", "description") for v in proxy.get(prop, quiet=True))
        assert "source small:" in text, (entity["schema"], entity["properties"])
        if entity["schema"] in ("Company", "Person", "Address", "BankAccount", "EconomicActivity"):
            assert any(f"graphinv id {n}" in text for n in node_ids), entity
    (shipment, *_) = [e for e in entities if e["schema"] == "EconomicActivity"]
    proxy = model.get_proxy(shipment)
    assert any(v.startswith("quantity_kg ") for v in proxy.get("description") + proxy.get("summary"))


# -- bytes that are not UTF-8: the entity that holds them is rejected with its line, never misread --


def test_a_json_line_with_bytes_that_are_not_utf8_is_rejected_alone(tmp_path: Path) -> None:
    source = tmp_path / "latin1.ftm.jsonl"
    lines = [
        b'{"id": "c-1", "schema": "Company", "properties": {"name": ["Caf\xe9 del Norte SA"]}}',
        b'{"id": "c-2", "schema": "Company", "properties": {"name": ["Caf\xc3\xa9 del Sur SA"]}}',
    ]
    source.write_bytes(b"\n".join(lines) + b"\n")
    case = tmp_path / "case.graphinv"
    report = ingest(case, [source], dataset="ftm")
    assert report.rejections == [
        "latin1.ftm.jsonl:1: properties.name[0]: bytes that are not UTF-8: b'Caf\\xe9 del Norte SA'; save the file as UTF-8"
    ]
    with CaseFile(case) as opened:
        assert [n["name"] for n in opened.nodes()] == ["Café del Sur SA"]
        (rejected,) = opened.rejections()
    assert "c-1" in rejected.raw and "Caf\ufffd del Norte SA" in rejected.raw  # the rejects file keeps the line


def test_a_json_array_with_bytes_that_are_not_utf8_rejects_only_the_element_that_holds_them(tmp_path: Path) -> None:
    source = tmp_path / "latin1.ftm.json"
    entities = [
        {"id": "c-1", "schema": "Company", "properties": {"name": ["CAFE_NORTE"], "country": ["mx"]}},
        {"id": "c-2", "schema": "Company", "properties": {"name": ["Caf\u00e9 del Sur SA"]}},
    ]
    text = json.dumps(entities, indent=1, ensure_ascii=False).replace("CAFE_NORTE", "Caf\udce9 del Norte SA")
    source.write_bytes(text.encode("utf-8", "surrogateescape"))  # the é of line 7 as Latin-1
    case = tmp_path / "case.graphinv"
    report = ingest(case, [source], dataset="ftm")
    assert report.files[0].kind == "ftm" and (report.files[0].read, report.files[0].kept) == (2, 1)
    assert report.rejections == [
        "latin1.ftm.json:2: properties.name[0]: bytes that are not UTF-8 on line 7: b'Caf\\xe9 del Norte SA'; save the file as UTF-8"
    ]
    with CaseFile(case) as opened:
        assert [n["name"] for n in opened.nodes()] == ["Café del Sur SA"]


# -- dates and numbers that cannot be read: kept raw on the node or link and reported, as for BODS --

BAD_VALUES = [
    {"id": "c-1", "schema": "Company", "properties": {"name": ["Dana Firm Ltd"], "incorporationDate": ["2016-13-45"]}},
    {"id": "p-1", "schema": "Person", "properties": {"name": ["Ana Example"], "birthDate": ["03/09/1970"]}},
    {"id": "p-2", "schema": "Person", "properties": {"name": ["Luis Example"], "birthDate": ["1968-04-02"]}},
    {
        "id": "own-1",
        "schema": "Ownership",
        "properties": {"owner": ["p-1"], "asset": ["c-1"], "percentage": ["60"], "startDate": ["2016-13-45"], "endDate": ["2021-02-30"]},
    },
    {"id": "dir-1", "schema": "Directorship", "properties": {"director": ["p-2"], "organization": ["c-1"], "startDate": "2019/05/02"}},
    {"id": "fam-1", "schema": "Family", "properties": {"person": ["p-1"], "relative": ["p-2"], "relationship": ["wife"], "startDate": ["", "1999-00-01"]}},
    {"id": "s-1", "schema": "Sanction", "properties": {"entity": ["c-1"], "authority": ["DEA-2021"], "listingDate": ["2021-02-30"]}},
    {"id": "ea-1", "schema": "EconomicActivity", "properties": {"goodsDescription": ["acetone"], "date": ["2020-31-01"], "receiver": ["c-1"]}},
]


def test_dates_that_cannot_be_read_are_kept_raw_and_reported(tmp_path: Path) -> None:
    source = _write(tmp_path / "bad.ftm.jsonl", BAD_VALUES)
    case = tmp_path / "case.graphinv"
    report = ingest(case, [source], dataset="ftm")
    assert report.rejections == []
    assert (report.files[0].read, report.files[0].kept, report.files[0].warned) == (9, 9, 8)
    assert report.warnings == [
        "bad.ftm.jsonl:1: properties.incorporationDate[0]: no such date: '2016-13-45' (month must be in 1..12); kept as raw_incorporation_date",
        "bad.ftm.jsonl:2: properties.birthDate[0]: not an ISO date (YYYY-MM-DD): '03/09/1970'; kept as raw_birth_date",
        "bad.ftm.jsonl:4: properties.startDate[0]: no such date: '2016-13-45' (month must be in 1..12); kept as raw_start_date",
        "bad.ftm.jsonl:4: properties.endDate[0]: no such date: '2021-02-30' (day is out of range for month); kept as raw_end_date",
        "bad.ftm.jsonl:5: properties.startDate: not an ISO date (YYYY-MM-DD): '2019/05/02'; kept as raw_start_date",
        "bad.ftm.jsonl:6: properties.startDate[1]: no such date: '1999-00-01' (month must be in 1..12); kept as raw_start_date",
        "bad.ftm.jsonl:7: properties.listingDate[0]: no such date: '2021-02-30' (day is out of range for month); the flag is kept without a date",
        "bad.ftm.jsonl:8: properties.date[0]: no such date: '2020-31-01' (month must be in 1..12); kept as raw_date",
    ]
    with CaseFile(case) as opened:
        nodes = {n["bundle_id"]: n for n in opened.nodes()}
        links = {l["rel"]: l for l in opened.links() if l["rel"] != "IMPORTED"}
    assert nodes["c-1"]["raw_incorporation_date"] == "2016-13-45" and "incorporation_date" not in nodes["c-1"]
    assert nodes["c-1"]["flags"] == ["DEA-2021"]
    assert nodes["p-1"]["raw_birth_date"] == "03/09/1970" and "birth_date" not in nodes["p-1"]
    assert nodes["p-2"]["birth_date"] == "1968-04-02" and "raw_birth_date" not in nodes["p-2"]
    assert nodes["ea-1"]["raw_date"] == "2020-31-01" and "date" not in nodes["ea-1"]
    owns = links["OWNS"]
    assert (owns["share_pct"], owns["raw_start_date"], owns["raw_end_date"]) == (60.0, "2016-13-45", "2021-02-30")
    assert not {"start_date", "end_date"} & set(owns)
    assert links["OFFICER_OF"]["raw_start_date"] == "2019/05/02" and "start_date" not in links["OFFICER_OF"]
    assert links["FAMILY"]["raw_start_date"] == "1999-00-01" and "start_date" not in links["FAMILY"]


@pytest.mark.parametrize(("percentage", "reason"), [("half", "a number"), ("150 %", "a percentage between 0 and 100")])
def test_a_percentage_that_cannot_be_read_keeps_the_ownership_with_the_share_unknown(
    tmp_path: Path, percentage: str, reason: str
) -> None:
    ownership = {"id": "own-1", "schema": "Ownership", "properties": {"owner": ["p-1"], "asset": ["c-1"], "percentage": [percentage]}}
    source = _write(tmp_path / "bad.ftm.jsonl", [*BAD_VALUES[:2], ownership])
    case = tmp_path / "case.graphinv"
    report = ingest(case, [source], dataset="ftm")
    assert report.rejections == []
    assert report.warnings[-1] == (
        f"bad.ftm.jsonl:3: properties.percentage[0]: {percentage!r} is not {reason}, so the share is unknown; kept as raw_share"
    )
    with CaseFile(case) as opened:
        (owns,) = [l for l in opened.links() if l["rel"] == "OWNS"]
    assert owns["raw_share"] == percentage and "share_pct" not in owns and "share_unpaired" not in owns
