r"""GraphML and GEXF export (``--format graphml|gexf``) for Gephi, yEd and networkx.

Both formats hold only scalar attributes, so list and object values (``flags``, ``sources``,
``aliases``, ``share_history``, ...) are written as JSON text, and the graph attribute
``json_attributes`` names every attribute written so; :func:`read_graph` reads a file back and
decodes them. Each attribute has one type across the file (a column of mixed numbers and text is
written as text). Nodes carry ``label`` (the name, which Gephi shows) and ``kind``; edges carry
``rel`` (also as ``label``) and their properties; the edge key is the relationship type.

XML 1.0 cannot hold some characters even escaped (C0 controls such as Excel's in-cell line break
``\x0b``, U+FFFE, U+FFFF, lone surrogates), and a parser turns a carriage return in element text
into a line feed. Each such character is written as the text ``\uXXXX`` (its code point in
hex), and a backslash that comes before ``u`` as ``\u005c``, so :func:`read_graph` turns every
``\uXXXX`` back and a round trip is lossless.
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
from pathlib import Path
from typing import IO, Any

import networkx as nx

from graphinv.export.files import write_file
from graphinv.store import CaseFile, project

__all__ = ["JSON_ATTRIBUTES", "read_graph", "to_simple_graph", "write_gexf", "write_graphml"]

JSON_ATTRIBUTES = "json_attributes"
_SKIP_EDGE = frozenset({"source", "target"})
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff]|\\(?=u)")
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def _xml_text(text: str) -> str:
    return _UNSAFE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def _unescape(text: str) -> str:
    return _ESCAPE.sub(lambda found: chr(int(found.group(1), 16)), text)


def _columns(rows: list[dict[str, Any]], skip: frozenset[str] = frozenset()) -> tuple[dict[str, type], set[str]]:
    types: dict[str, set[type]] = {}
    encoded: set[str] = set()
    for row in rows:
        for key, value in row.items():
            if key in skip or value is None:
                continue
            if isinstance(value, (list, tuple, dict)):
                encoded.add(key)
                types.setdefault(key, set()).add(str)
            else:
                types.setdefault(key, set()).add(type(value))
    chosen: dict[str, type] = {}
    for key, found in types.items():
        if found == {bool}:
            chosen[key] = bool
        elif found <= {int}:
            chosen[key] = int
        elif found <= {int, float}:
            chosen[key] = float
        else:
            chosen[key] = str
    return chosen, encoded


def _cell(value: Any, kind: type) -> Any:
    if isinstance(value, (list, tuple, dict)):
        return _xml_text(json.dumps(value, ensure_ascii=False, sort_keys=True))
    if kind is str:
        return _xml_text(value if isinstance(value, str) else json.dumps(value))
    if kind is float:
        return float(value)
    return value


def to_simple_graph(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """The projected graph with every attribute a scalar of one type per attribute name, and every
    text as XML 1.0 can hold it."""
    node_rows = [attrs for _, attrs in graph.nodes(data=True)]
    edge_rows = [attrs for _, _, attrs in graph.edges(data=True)]
    node_types, node_json = _columns(node_rows)
    edge_types, edge_json = _columns(edge_rows, _SKIP_EDGE)
    out = nx.MultiDiGraph()
    out.graph[JSON_ATTRIBUTES] = ",".join(sorted(node_json | edge_json))
    for key in ("case", "case_id", "version"):
        if key in graph.graph:
            out.graph[key] = _xml_text(str(graph.graph[key]))
    for node_id, attrs in graph.nodes(data=True):
        row = {k: _cell(v, node_types[k]) for k, v in attrs.items() if v is not None and k in node_types}
        row.setdefault("label", _xml_text(str(attrs.get("name") or node_id)))
        out.add_node(_xml_text(node_id), **row)
    for source, target, key, attrs in graph.edges(keys=True, data=True):
        row = {k: _cell(v, edge_types[k]) for k, v in attrs.items() if v is not None and k in edge_types}
        row.setdefault("label", key)
        out.add_edge(_xml_text(source), _xml_text(target), key=key, **row)
    return out


def _write(case: str | os.PathLike[str], output: str | os.PathLike[str] | IO[bytes], writer: Any) -> int:
    with CaseFile(case) as opened:
        graph = to_simple_graph(project(opened))
    count = graph.number_of_nodes() + graph.number_of_edges()
    if output == "-":
        writer(graph, sys.stdout.buffer)
        return count
    if not isinstance(output, (str, os.PathLike)):
        writer(graph, output)
        return count
    write_file(output, lambda handle: writer(graph, handle))
    return count


def write_graphml(case: str | os.PathLike[str], output: str | os.PathLike[str] | IO[bytes]) -> int:
    """Write the case as GraphML; returns nodes + links written."""
    return _write(case, output, lambda g, h: nx.write_graphml(g, h, encoding="utf-8", named_key_ids=True))


def write_gexf(case: str | os.PathLike[str], output: str | os.PathLike[str] | IO[bytes]) -> int:
    """Write the case as GEXF 1.2 (Gephi's own format); returns nodes + links written."""
    return _write(case, output, _gexf)


def _gexf(graph: nx.MultiDiGraph, handle: Any) -> None:
    # GEXF keeps no graph attributes, so the JSON-encoded attribute names go in the file's meta
    # description, where Gephi shows them too.
    buffer = io.BytesIO()
    nx.write_gexf(graph, buffer, encoding="utf-8", version="1.2draft")
    text = buffer.getvalue().decode("utf-8")
    note = f"<description>{JSON_ATTRIBUTES}={graph.graph.get(JSON_ATTRIBUTES, '')}</description>"
    text = text.replace("</creator>", "</creator>" + note, 1)
    handle.write(text.encode("utf-8"))


def read_graph(path: str | os.PathLike[str]) -> nx.MultiDiGraph:
    """Read a graphinv GraphML or GEXF file back, JSON-encoded attributes decoded again."""
    path = Path(path)
    if path.suffix.lower() == ".gexf":
        graph = nx.MultiDiGraph(nx.read_gexf(path, relabel=False))
        found = re.search(
            rf"<description>{JSON_ATTRIBUTES}=([^<]*)</description>",
            path.read_text(encoding="utf-8", errors="replace")[:4096],
        )
        graph.graph[JSON_ATTRIBUTES] = found.group(1) if found else ""
    else:
        graph = nx.read_graphml(path, force_multigraph=True)
    encoded = set(filter(None, str(graph.graph.get(JSON_ATTRIBUTES, "")).split(",")))
    _decode(graph.graph, set())
    for _, attrs in graph.nodes(data=True):
        _decode(attrs, encoded)
    for _, _, attrs in graph.edges(data=True):
        _decode(attrs, encoded)
    renamed = {node: _unescape(node) for node in graph if "\\u" in node}
    if renamed:
        nx.relabel_nodes(graph, renamed, copy=False)
    return graph


def _decode(attrs: dict[str, Any], encoded: set[str]) -> None:
    for key, value in attrs.items():
        if not isinstance(value, str):
            continue
        # The XML escapes are undone first: they apply to a JSON text as to any other.
        attrs[key] = value = _unescape(value)
        if key in encoded and value[:1] in ("[", "{"):
            try:
                attrs[key] = json.loads(value)
            except ValueError:
                pass
