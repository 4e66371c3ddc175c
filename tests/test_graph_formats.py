"""GraphML and GEXF export: networkx reads them back with kinds, flags and link properties intact."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import FIXTURE

from graphinv import ingest, load_graph
from graphinv.export.graph_formats import read_graph, write_gexf, write_graphml


@pytest.mark.parametrize(("suffix", "writer"), [("graphml", write_graphml), ("gexf", write_gexf)])
def test_round_trip_keeps_kinds_flags_and_link_properties(tmp_path: Path, suffix: str, writer: object) -> None:
    case = tmp_path / "case.graphinv"
    ingest(case, [FIXTURE])
    original = load_graph(case)
    path = tmp_path / f"case.{suffix}"
    assert writer(case, path) == original.number_of_nodes() + original.number_of_edges()  # type: ignore[operator]
    back = read_graph(path)
    assert back.number_of_nodes() == original.number_of_nodes()
    assert back.number_of_edges() == original.number_of_edges()
    for node, attrs in original.nodes(data=True):
        got = back.nodes[node]
        assert got["kind"] == attrs["kind"] and got["name"] == attrs["name"]
        assert (
            got["flags"] == attrs["flags"] and got["flagged"] is attrs["flagged"] and got["sources"] == attrs["sources"]
        )
    for source, target, rel, attrs in original.edges(keys=True, data=True):
        got = back.get_edge_data(source, target, key=rel)
        assert got is not None and got["rel"] == rel
        for key, value in attrs.items():
            if key not in ("source", "target"):
                assert got[key] == value, (rel, key)


def test_gexf_is_what_gephi_reads(tmp_path: Path) -> None:
    case = tmp_path / "case.graphinv"
    ingest(case, [FIXTURE])
    path = tmp_path / "case.gexf"
    write_gexf(case, path)
    ns = {"g": "http://www.gexf.net/1.2draft"}
    root = ET.parse(path).getroot()
    assert root.get("version") == "1.2"
    declared = {
        (a.get("title"), a.getparent() if False else None) for a in root.iterfind(".//g:attributes/g:attribute", ns)
    }
    titles = {t for t, _ in declared}
    assert {"kind", "flags", "flagged", "share_pct", "rel"} <= titles
    types = {a.get("type") for a in root.iterfind(".//g:attributes/g:attribute", ns)}
    assert types <= {"string", "boolean", "integer", "long", "double", "float"}
    assert all(n.get("label") for n in root.iterfind(".//g:nodes/g:node", ns))


@pytest.mark.parametrize(("suffix", "writer"), [("graphml", write_graphml), ("gexf", write_gexf)])
def test_characters_xml_cannot_hold_are_written_escaped_and_read_back(
    tmp_path: Path, suffix: str, writer: object
) -> None:
    folder = tmp_path / "bundle"
    folder.mkdir()
    # U+FFFE in a cell, Excel's in-cell line break (\x0b) and \x01 in names, a carriage return,
    # and a literal backslash-u that must not be taken for an escape.
    (folder / "companies.csv").write_bytes(
        'id,name,note\nC1,Alfa,\ufffe\nC2,Beta\x0bTab,ok\nC3,Gam\x01ma,"C:\\users\\u0041 \\\\u000b\r\nend"\n'.encode()
    )
    case = tmp_path / "case.graphinv"
    ingest(case, [folder])
    original = load_graph(case)
    names = {attrs["name"]: attrs for _, attrs in original.nodes(data=True)}
    assert {"Alfa", "Beta\x0bTab", "Gam\x01ma"} <= set(names)
    assert names["Alfa"]["note"] == "\ufffe" and names["Gam\x01ma"]["note"] == "C:\\users\\u0041 \\\\u000b\r\nend"
    path = tmp_path / f"case.{suffix}"
    writer(case, path)  # type: ignore[operator]
    ET.parse(path)  # well-formed XML 1.0, as Gephi needs
    text = path.read_text(encoding="utf-8")
    assert "Beta\\u000bTab" in text and "\\u005c" in text  # visible, documented escapes
    back = read_graph(path)
    assert set(back.nodes) == set(original.nodes)  # the node is its id (GEXF keeps no separate "id")
    for node, attrs in original.nodes(data=True):
        got = back.nodes[node]
        for key, value in attrs.items():
            if key != "id":
                assert got[key] == value, (node, key)
