"""OpenSanctions Zala and German party donations (real FtM): load, round-trip, shared addresses."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from followthemoney import model

from _realdata import realdata
from graphinv import CaseFile, ingest, load_graph
from graphinv.export.ftm import write_ftm
from graphinv.query import shared_addresses


def _summary(case: Path) -> tuple[Counter, Counter, dict[str, list[str]], set[tuple[str, str, str]]]:
    with CaseFile(case) as opened:
        nodes = opened.nodes()
        links = opened.links()
    by_id = {n["id"]: n for n in nodes}

    def key(node_id: str) -> str:
        node = by_id[node_id]
        return str(node.get("bundle_id") or node.get("normalized") or node["name"])

    kinds = Counter(n["kind"] for n in nodes)
    rels = Counter(l["rel"] for l in links)
    flags = {key(n["id"]): sorted(n["flags"]) for n in nodes if n["flags"]}
    edges = {(l["rel"], key(l["source"]), key(l["target"])) for l in links}
    return kinds, rels, flags, edges


@pytest.mark.parametrize(
    ("folder", "file", "expected"),
    [
        ("ftm-opensanctions-zala", "entities.ftm.jsonl", {"Company": 11, "Person": 6, "OWNS": 11, "FAMILY": 4, "OFFICER_OF": 3}),
        ("ftm-de-party-donations", "donations.ftm.jsonl", {"Company": 73, "Person": 22, "Address": 88}),
    ],
)
def test_load_and_round_trip_through_ftm(tmp_path: Path, folder: str, file: str, expected: dict[str, int]) -> None:
    source = realdata(folder, file)
    first = tmp_path / "first.graphinv"
    report = ingest(first, [source], dataset=folder)
    kinds, rels, flags, edges = _summary(first)
    assert {k: (kinds | rels)[k] for k in expected} == expected
    reasons = Counter(r.split(": ", 2)[1] for r in report.rejections)
    if folder == "ftm-opensanctions-zala":
        # 16 addressEntity references to addresses outside the slice, and the one Passport.
        assert reasons == {"addressEntity": 16, "schema": 1}
        assert len(flags) == 2 and len(flags["NK-abdzbEBkqyT29GyREbiURZ"]) == 18  # LLC CST: 18 sanctioning authorities
    else:
        # Payments: graphinv's graph has no money-flow link (the report shows the first 200).
        assert report.rejected_total == 290 and set(reasons) == {"schema"}
    exported = tmp_path / "export.ftm.jsonl"
    count = write_ftm(first, exported)
    schemata = Counter()
    for line in exported.read_text(encoding="utf-8").splitlines():
        proxy = model.get_proxy(json.loads(line), cleaned=False)  # raises on an unknown schema or property
        schemata[proxy.schema.name] += 1
    assert sum(schemata.values()) == count
    second = tmp_path / "second.graphinv"
    again = ingest(second, [exported], dataset=folder)
    assert again.rejected_total == 0
    kinds2, rels2, flags2, edges2 = _summary(second)
    assert (kinds2, rels2, flags2) == (kinds, rels, flags)
    assert edges2 == edges


def test_shared_addresses_of_the_donors(tmp_path: Path) -> None:
    case = tmp_path / "donations.graphinv"
    ingest(case, [realdata("ftm-de-party-donations", "donations.ftm.jsonl")])
    rows = shared_addresses(load_graph(case)).rows
    found = {row.address: sorted(e.name for e in row.entities) for row in rows}
    assert len(rows) == 11 and not any(r.hub for r in rows)
    assert found["Seedammweg 55, 61352 Bad Homburg"] == ["Frau Johanna Quandt", "Frau Susanne Klatten", "Herr Stefan Quandt", "Johanna Quandt"]
    # "28 , 80802" and "28, 80802": one building, whatever the spacing.
    assert found["Königinstraße 28 , 80802 München"] == ["Allianz Deutschland AG", "Allianz SE", "Allianz Versicherungs-AG"]
    assert found["Petuelring 130, 80788 München"] == ["Bayerische Motorenwerke (BMW) AG", "Bayerische Motorenwerke AG"]
    assert found["Löffelstraße 22-24, 70597 Stuttgart"] == [
        "Verband der Metall- und Elektroindustrie Baden-Württemberg e.V.", "Verband der Metallindustrie Baden-Württemberg",
    ]


def test_shared_addresses_of_the_zakharov_family(tmp_path: Path) -> None:
    case = tmp_path / "zala.graphinv"
    ingest(case, [realdata("ftm-opensanctions-zala", "entities.ftm.jsonl")])
    graph = load_graph(case)
    found = {row.address: sorted(e.name for e in row.entities) for row in shared_addresses(graph).rows}
    assert found["IZHEVSK, 426008"] == [
        "Alexander Vyacheslavovich ZAKHAROV", "Lavrentiy Aleksandrovich ZAKHAROV", "Maria Aleksandrovna Osetrova",
        "Nikita Aleksandrovich Zakharov", "Svetlana Nikolaevna Zakharova",
    ]
    assert found["Flat 612, Romney House, 47 Marsham Street, London SW1P 3DS"] == ["Lavrentiy Aleksandrovich ZAKHAROV", "Svetlana Nikolaevna Zakharova"]
    assert len(found) == 4
    # The three Zakharov -> LLC CST records (51%, 50%, 48%) are one link that lists all three.
    owns = [a for u, v, k, a in graph.edges(keys=True, data=True) if k == "OWNS" and graph.nodes[v]["name"] == "LLC CST"
            and graph.nodes[u]["name"] == "Alexander Vyacheslavovich ZAKHAROV"]
    assert len(owns) == 1 and sorted(owns[0]["shares_stated"].split("; ")) == ["48", "50", "51"] and len(owns[0]["sources"]) == 3
