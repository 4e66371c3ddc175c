"""The explore page and the report as files: self-contained, stable, escaped, and the CLI around them.

What they do in a browser is tested in tests/test_html.py.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest
from conftest import write_csv

import graphinv
from graphinv.exc import RefError
from graphinv.export.html import explore, find_refs, graph_data, link_caption, neighbourhood
from graphinv.export.report import report, write_demo_pages


@pytest.fixture
def case(resolved_fixture_case: Path) -> Path:
    """The fixture story, ingested and resolved (customs spellings become the firms' aliases)."""
    return resolved_fixture_case


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "graphinv", *args], capture_output=True, text=True, check=False)


def test_edge_captions_say_what_each_link_is(case: Path) -> None:
    graph = graphinv.load_graph(case)
    p003 = find_refs(graph, ["P003"])[0]
    data = graph_data(graph, neighbourhood(graph, [p003], hops=1))
    names = {n["id"]: n["name"] for n in data["nodes"]}
    said = {(names[e["from"]], names[e["to"]], e["label"]) for e in data["edges"]}
    assert ("Rodrigo Villaseñor Ibarra", "Mariana Quintero Lozano", "spouse") in said
    assert ("Rodrigo Villaseñor Ibarra", "Grupo Inversor Calzada, S.A. de C.V.", "owns 80%") in said
    assert any(label == "sibling" for *_, label in said)
    assert link_caption({"rel": "OWNS", "share_pct": 35.0, "end_date": "2019-01-01"}) == "owns 35% (until 2019-01-01)"
    assert link_caption({"rel": "OFFICER_OF", "role": "administrator"}) == "officer: administrator"
    shipment = {"quantity_kg": 450.0, "chemical": "4-piperidone", "product": "4-Piperidona", "date": "2019-05-02"}
    assert link_caption({"rel": "IMPORTED"}, shipment) == "imported 450 kg 4-piperidone 2019-05-02"
    assert link_caption({"rel": "IMPORTED"}, {"quantity_kg": 300.5, "product": "citric acid", "date": "2019-07-09"}) == (
        "imported 300.5 kg citric acid 2019-07-09"
    )


def test_page_is_self_contained_and_the_same_for_the_same_input(case: Path, tmp_path: Path) -> None:
    first = explore(case, ["C037", "C014"], hops=2, output=tmp_path / "a.html").read_bytes()
    second = explore(case, ["C037", "C014"], hops=2, output=tmp_path / "b.html").read_bytes()
    assert first == second, "the layout and the file must not change between runs"
    text = first.decode("utf-8")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", text), "a resource is fetched from the network"
    assert "<link" not in text and "<script src" not in text
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)"', text)
    assert csp and "default-src 'none'" in csp.group(1) and "connect-src 'none'" in csp.group(1)
    assert "improvedLayout: false" in text and "forceAtlas2Based" in text and "randomSeed" in text


def test_the_walk_never_copies_the_graph(case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    graph = graphinv.load_graph(case)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("explore copied the graph")

    for name in ("ego_graph", "subgraph_view", "induced_subgraph"):
        monkeypatch.setattr(nx, name, refuse)
    for name in ("copy", "subgraph", "edge_subgraph", "to_undirected", "reverse"):
        monkeypatch.setattr(nx.MultiDiGraph, name, refuse)
    assert explore(graph, ["C129"], hops=3, output=tmp_path / "c.html").exists()


def test_refs_that_name_nothing_or_several_are_errors_that_help(case: Path) -> None:
    graph = graphinv.load_graph(case)
    with pytest.raises(RefError, match="No entity matches REF 'Quimica Fina'.*Química Fina del Norte"):
        find_refs(graph, ["Quimica Fina"])
    assert find_refs(graph, ["QFN170312AB1"]) == find_refs(graph, ["química fina del norte, s.a. de c.v."])


def test_cli_explore_and_report(case: Path, tmp_path: Path) -> None:
    out = tmp_path / "ring.html"
    result = run("explore", str(case), "--around", "C014", "--around", "DRG180521K47", "--hops", "1", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert str(out) in result.stdout and out.stat().st_size > 100_000
    missing = run("explore", str(case), "--around", "Nadie", "-o", str(tmp_path / "x.html"))
    assert missing.returncode == 1 and missing.stderr.startswith("error: No entity matches REF 'Nadie'")
    assert "Traceback" not in missing.stderr and not (tmp_path / "x.html").exists()
    both = run("report", str(case), "-o", str(tmp_path / "r.html"), "--around", "C014", "--flagged")
    assert both.returncode == 1 and "either --around" in both.stderr

    md = tmp_path / "report.md"
    result = run("report", str(case), "-o", str(md), "--flagged", "--format", "md")
    assert result.returncode == 0, result.stderr
    text = md.read_text(encoding="utf-8")
    assert "## New importers of 4-piperidone since 2019-01-01 (5)" in text
    importers = text.split("## New importers of 4-piperidone", 1)[1].split("\n## ", 1)[0]
    row = next(line for line in importers.splitlines() if line.startswith("| ⚑ C014 Química Fina del Norte"))
    assert "| 2019-03-18 |" in row and "| 8 | 13,600 |" in row and "precursor-case:shipments.csv:" in row
    assert "| precursor-case:companies.csv | 149 | incorporation\\_date |" in text
    for title in ("Shared addresses", "Shared owners", "Freeze list, with accounts", "Risk ranking, with reasons",
                  "Ownership chains, with effective shares", "Sources ingested", "Rejected rows", "Resolution decisions"):
        assert f"## {title}" in text or f"### {title}" in text, title
    # Each record of a decision as its source spelled it, not the merged node's one name twice.
    decisions = text.split("Resolution decisions", 1)[1].split("\n## ", 1)[0]
    assert "| QUIMICA DEL NORTE SA DE CV \\[co-" in decisions and "| Química del Norte, S.A. de C.V. \\[co-" in decisions


def test_markdown_escapes_data(tmp_path: Path) -> None:
    folder = tmp_path / "b"
    write_csv(folder / "companies.csv", ["id", "name"], [["X1", "<img src=x onerror=alert(1)> | *bold*"], ["X2", "Plain"]])
    write_csv(folder / "persons.csv", ["id", "name"], [["Q1", "[link](javascript:alert(2))"]])
    write_csv(folder / "ownership.csv", ["owner_id", "company_id", "share_pct"], [["Q1", "X1", "50"], ["Q1", "X2", "50"]])
    write_csv(folder / "flags.csv", ["entity_ref", "list"], [["X1", "DEA"]])
    path = tmp_path / "b.graphinv"
    graphinv.ingest(path, [folder])
    text = report(path, tmp_path / "b.md", format="md").read_text(encoding="utf-8")
    assert "<img" not in text and "&lt;img src=x onerror=alert(1)&gt; \\| \\*bold\\*" in text
    assert "\\[link\\](javascript:alert(2))" in text and "[link](" not in text


def test_demo_pages(case: Path, tmp_path: Path) -> None:
    explore_path, report_path = write_demo_pages(case, tmp_path / "demo")
    assert explore_path.name == "explore.html" and report_path.name == "report.html"
    page = explore_path.read_text(encoding="utf-8")
    assert "Who is behind the new 4-piperidone importers" in page
    assert "Together: 35 shipments" in report_path.read_text(encoding="utf-8")
