"""GLEIF (real): the ultimate parent computed from direct consolidation links equals the declared one."""

from __future__ import annotations

import json
from pathlib import Path

from _realdata import MAPPINGS, realdata
from graphinv import ingest, load_graph
from graphinv.query import ubo


def test_computed_ultimate_parent_matches_the_declared_one(tmp_path: Path) -> None:
    folder = realdata("gleif-lei-relationships", "input")
    case = tmp_path / "gleif.graphinv"
    report = ingest(case, [folder / "lei-updates-data2.json", folder / "rr-updates-data2.json"], mapping=MAPPINGS / "gleif-lei.yml")
    assert report.rejected_total == 0
    graph = load_graph(case)
    by_lei = {attrs["lei"]: node for node, attrs in graph.nodes(data=True) if attrs.get("lei")}
    declared = {
        r["Relationship"]["StartNode"]["NodeID"]: r["Relationship"]["EndNode"]["NodeID"]
        for r in json.loads((folder / "rr-updates-data2.json").read_text())
        if r["Relationship"]["RelationshipType"] == "IS_ULTIMATELY_CONSOLIDATED_BY"
    }
    # MONOOVA FX -> MONOOVA GLOBAL PAYMENTS -> MONEYTECH GROUP (two hops), and two one-hop cases.
    assert len(declared) == 3
    for child, parent in declared.items():
        result = ubo(graph, by_lei[child])
        ultimate = [row.owner.id for row in result.rows if row.ultimate]
        assert ultimate == [by_lei[parent]], (child, [r.owner.name for r in result.rows])
    fx = ubo(graph, by_lei["98450051BS9C610A8T78"])
    assert [len(p) for p in fx.rows[0].paths] == [3]  # the chain runs through MONOOVA GLOBAL PAYMENTS
    assert fx.rows[0].owner.name == "MONEYTECH GROUP LIMITED"
