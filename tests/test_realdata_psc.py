"""UK Companies House PSC (real): every PSC kind becomes an owner or controller, with its share band."""

from __future__ import annotations

import json
from pathlib import Path

from _realdata import MAPPINGS, realdata
from graphinv import CaseFile, ingest


def test_every_psc_kind_maps_with_its_share_band(tmp_path: Path) -> None:
    folder = realdata("uk-companies-house-psc")
    case = tmp_path / "psc.graphinv"
    report = ingest(case, [folder], mapping=MAPPINGS / "uk-companies-house-psc.yml")
    assert report.rejected_total == 0
    with CaseFile(case) as opened:
        links = [l for l in opened.links() if l["rel"] in ("OWNS", "OFFICER_OF")]
        nodes = {n["id"]: n for n in opened.nodes()}
    records = [
        (p.name, r) for p in sorted(folder.glob("psc-data-*.json")) for r in json.loads(p.read_text()) if "company_number" in r
    ]
    assert len(records) == 19  # 9 corporate, 5 individual, 5 other kinds (the README says 18 of 35 lines)
    kinds = {r["data"]["kind"] for _, r in records}
    assert kinds == {
        "individual-person-with-significant-control", "corporate-entity-person-with-significant-control",
        "legal-person-person-with-significant-control", "corporate-entity-beneficial-owner", "legal-person-beneficial-owner",
        "super-secure-person-with-significant-control", "persons-with-significant-control-statement",
    }
    owns = {(l["source"], l["target"]): l for l in links if l["rel"] == "OWNS"}
    controls = {(l["source"], l["target"]): l for l in links if l["rel"] == "OFFICER_OF"}
    for file, record in records:
        data = record["data"]
        found = [l for l in owns.values() if any(s.startswith(f"uk-companies-house-psc:{file}:") for s in l["sources"])
                 and nodes[l["target"]]["registration_number"] == record["company_number"] and l.get("psc_kind") == data["kind"]]
        assert len(found) == 1, (file, data["kind"])
        link = found[0]
        natures = data.get("natures_of_control", [])
        band = next((n for n in natures if n.startswith("ownership-of-shares")), None)
        if band and "-to-" in band:
            low, high = band.removeprefix("ownership-of-shares-").removesuffix("-percent").split("-to-")
            assert (link["share_min"], link["share_max"], link["share_pct"]) == (low, high, float(low)), band
        elif band:  # "more than 25 percent" (overseas entities): a lower bound only
            assert link["share_min"] == "25" and "share_max" not in link
        else:
            assert "share_pct" not in link  # control without a share, or no person at all
        voting = next((n for n in natures if n.startswith("voting-rights")), None)
        if voting:
            assert link["voting_min"] == voting.split("-")[2]
        if any(n.startswith(("right-to-appoint", "significant-influence")) for n in natures):
            assert (link["source"], link["target"]) in controls
        if data.get("ceased_on"):
            assert link["end_date"] == data["ceased_on"]
        owner = nodes[link["source"]]
        if data["kind"].startswith(("super-secure", "persons-with-significant-control-statement")):
            assert owner["unknown"] == "true" and owner["kind"] == "Person"
        elif data["kind"].startswith(("corporate", "legal-person")):
            assert owner["kind"] == "Company" and owner["name"] == data["name"]
        else:
            assert owner["kind"] == "Person" and owner["name"] == data["name"]
    # The cross-file case: "! LTD" (08209948) owned 75-100% by Marc Anthony Feldman, at its own building.
    ltd = next(n for n in nodes.values() if n.get("registration_number") == "08209948" and n["kind"] == "Company")
    assert ltd["name"] == "! LTD"
    owner = next(nodes[s] for (s, t), l in owns.items() if t == ltd["id"] and nodes[s]["name"] == "Mr Marc Anthony Feldman")
    assert owner["kind"] == "Person"
