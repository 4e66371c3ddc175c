"""The explore page and the case report, opened in a real headless Chromium.

Debian's chromium (installed by .ci/run, never downloaded by the test tool), driven by Playwright's
Python package with ``executable_path``. One browser for the whole session; Playwright gives it a
fresh, empty profile (its own --user-data-dir). Each page gets its own context, and every page is
checked for console errors and for requests that leave file://.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from conftest import FIXTURE, write_csv

# On a developer's machine without a browser these tests skip; in CI (.ci/run installs Chromium
# and Playwright) a missing browser must fail the run, not silently skip it.
IN_CI = bool(os.environ.get("CI"))
if IN_CI:
    import playwright.sync_api as sync_api
else:
    sync_api = pytest.importorskip("playwright.sync_api")

import graphinv
from graphinv.export.html import explore
from graphinv.export.report import report
from graphinv.resolve import resolve

CHROMIUM = os.environ.get("GRAPHINV_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
FLAG_RED = "#d62728"
RING = ["C014", "C037", "C052", "C068", "C081", "C117", "C129"]
HUB_FIRMS_UNRELATED = ["C017", "C024", "C028", "C046", "C059", "C061", "C082", "C097", "C107", "C108", "C123", "C160"]

pytestmark = pytest.mark.skipif(
    not IN_CI and not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM} (.ci/run installs Debian's chromium)"
)


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def case(resolved_fixture_case: Path) -> Path:
    """The fixture story, ingested and resolved (customs spellings become the firms' aliases)."""
    return resolved_fixture_case


@pytest.fixture
def graph(case: Path) -> nx.MultiDiGraph:
    return graphinv.load_graph(case)


@pytest.fixture
def ids(graph: nx.MultiDiGraph) -> dict[str, str]:
    """Bundle id (C014, P003, A017, S0184) → node id."""
    return {str(a["bundle_id"]): n for n, a in graph.nodes(data=True) if a.get("bundle_id")}


@dataclass
class Opened:
    page: Any
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.errors == [], self.errors
        assert self.dialogs == [], f"a script from the data ran: {self.dialogs}"
        outside = [u for u in self.requests if not u.startswith(("file://", "data:", "blob:", "about:"))]
        assert outside == [], f"requests outside file://: {outside}"
        assert any(u.startswith("file://") for u in self.requests)

    def nodes(self) -> list[dict[str, Any]]:
        return self.page.evaluate(
            "() => graphinv.nodes.get().map(n => ({id: n.id, label: n.label, kind: n.kind, flagged: n.flagged,"
            " border: n.color.border, borderWidth: n.borderWidth, hidden: !!n.hidden}))"
        )

    def edges(self) -> list[dict[str, Any]]:
        return self.page.evaluate("() => graphinv.edges.get().map(e => ({from: e.from, to: e.to, rel: e.rel, label: e.label}))")

    def click_node(self, node_id: str) -> None:
        """A real mouse click on the node where the canvas draws it."""
        self.page.evaluate("(id) => graphinv.network.focus(id, {scale: 1.4, animation: false})", node_id)
        point = self.page.evaluate(
            """(id) => { const p = graphinv.network.canvasToDOM(graphinv.network.getPositions([id])[id]);
                        const r = document.getElementById('gi-canvas').getBoundingClientRect();
                        return {x: r.left + p.x, y: r.top + p.y}; }""",
            node_id,
        )
        self.page.mouse.click(point["x"], point["y"])


@pytest.fixture
def open_page(browser: Any) -> Iterator[Any]:
    contexts: list[Any] = []

    def opener(path: Path, *, wait_ready: bool = True, height: int = 1000) -> Opened:
        context = browser.new_context(viewport={"width": 1500, "height": height})
        contexts.append(context)
        page = context.new_page()
        opened = Opened(page)
        page.on("console", lambda m: opened.errors.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: opened.errors.append(f"page error: {e}"))
        page.on("request", lambda r: opened.requests.append(r.url))
        page.on("dialog", lambda d: (opened.dialogs.append(d.message), d.dismiss()))
        page.goto(path.as_uri())
        if wait_ready:
            # A function, not a string: the page's CSP forbids eval, which string predicates use.
            page.wait_for_function("() => window.graphinv && window.graphinv.ready", polling=100, timeout=60_000)
        return opened

    yield opener
    for context in contexts:
        context.close()


def expected_neighbourhood(graph: nx.MultiDiGraph, seed: str, hops: int) -> tuple[set[str], int]:
    """An independent oracle (networkx's own BFS on a view without uncertain matches): the nodes
    within ``hops`` and the number of links among them."""
    certain = nx.subgraph_view(graph, filter_edge=lambda u, v, k: k != "POSSIBLY_SAME_AS")
    nodes = set(nx.single_source_shortest_path_length(certain.to_undirected(as_view=True), seed, cutoff=hops))
    links = sum(1 for u, v, k in graph.edges(keys=True) if u in nodes and v in nodes and k != "POSSIBLY_SAME_AS")
    return nodes, links


# -- the explore page -------------------------------------------------------------------------


def test_explore_page_draws_the_neighbourhood_with_flags_and_captions(
    tmp_path: Path, case: Path, graph: nx.MultiDiGraph, ids: dict[str, str], open_page: Any
) -> None:
    # Within 2 links of C037 no hub is met (P066 runs 10 firms, the Marinos building holds 4), so
    # the page must show exactly what a plain breadth-first walk finds.
    path = explore(case, ["C037"], hops=2, output=tmp_path / "c037.html")
    opened = open_page(path)
    want_nodes, want_links = expected_neighbourhood(graph, ids["C037"], 2)
    nodes = opened.nodes()
    assert {n["id"] for n in nodes} == want_nodes
    assert len(nodes) == len(want_nodes)
    assert len(opened.edges()) == want_links
    shown = {n["id"] for n in nodes}
    # The documented story around C037: its holdings chain, the nominee and his firms, the building.
    for ref in ("C103", "C095", "P017", "P066", "A050", "A051", "C068", "C081", "C117", "C014", "C129", "S0184"):
        assert ids[ref] in shown, ref

    by_id = {n["id"]: n for n in nodes}
    flagged = {n["id"] for n in nodes if n["flagged"]}
    assert flagged == {n for n in shown if graph.nodes[n].get("flagged")}
    assert {ids[r] for r in ("C014", "C037", "C068", "C081", "C117", "C129")} <= flagged
    assert ids["C103"] not in flagged and ids["C095"] not in flagged
    for node in nodes:
        if node["flagged"]:
            assert node["label"].startswith("\u2691 ") and node["border"] == FLAG_RED and node["borderWidth"] >= 4, node
        else:
            assert "\u2691" not in node["label"] and node["border"] != FLAG_RED, node
    assert by_id[ids["C037"]]["label"].replace("\n", " ") == "\u2691 Distribuidora Reactiva del Golfo, S. de R.L. de C.V."

    labels = {(e["from"], e["to"], e["rel"]): e["label"] for e in opened.edges()}
    assert labels[(ids["C103"], ids["C037"], "OWNS")] == "owns 90%"
    assert labels[(ids["P066"], ids["C037"], "OWNS")] == "owns 10%"
    assert labels[(ids["P066"], ids["C037"], "OFFICER_OF")].startswith("officer: Administrador")
    assert labels[(ids["C037"], ids["S0184"], "IMPORTED")] == "imported 1,000 kg 4-piperidone 2019-09-23"

    # The legend names every kind drawn, and the flag marker.
    legend = opened.page.inner_text(".gi-legend")
    for text in ("Company", "Person", "Address", "Bank account", "Shipment", "red ring: on a watchlist"):
        assert text in legend
    opened.assert_clean()


def test_search_finds_a_firm_by_a_customs_spelling_and_clicking_shows_sources(
    tmp_path: Path, case: Path, ids: dict[str, str], open_page: Any
) -> None:
    path = explore(case, ["C037"], hops=2, output=tmp_path / "c037.html")
    opened = open_page(path)
    page = opened.page
    # A customs clerk's typo, with no tax id on the row: only resolution ties it to C014.
    page.fill("#gi-search", "quimica fna del norte")
    page.wait_for_selector("#gi-results button")
    results = page.locator("#gi-results button")
    assert results.count() == 1
    text = results.first.inner_text()
    assert "Química Fina del Norte, S.A. de C.V." in text
    assert "QUIMICA FNA DEL NORTE, S.A. DE C.V." in text
    results.first.click()
    assert page.inner_text(".gi-name") == "\u2691 Química Fina del Norte, S.A. de C.V."
    assert "precursor-case:companies.csv:15" in page.inner_text("#gi-node-sources")
    assert page.evaluate("() => graphinv.network.getSelectedNodes()") == [ids["C014"]]

    # A real click on a node on the canvas opens its panel: properties, flag reason, sources.
    opened.click_node(ids["C037"])
    page.wait_for_function("() => document.querySelector('.gi-name') && document.querySelector('.gi-name').textContent.includes('Reactiva')", polling=50)
    panel = page.inner_text("#gi-details")
    assert "DRG180521K47" in panel
    assert "On a watchlist: DEA-2021-precursor-referral" in panel
    sources = page.inner_text("#gi-node-sources")
    assert "precursor-case:companies.csv:38" in sources
    assert "precursor-case:flags.csv:" in sources
    assert "owns 90%" in panel and "Tenedora Robledal" in panel
    # Each link in the panel cites the row that states it.
    assert "precursor-case:ownership.csv:62" in panel
    opened.assert_clean()


def test_filters_and_physics_freeze(tmp_path: Path, case: Path, open_page: Any) -> None:
    path = explore(case, ["C037"], hops=2, output=tmp_path / "c037.html")
    opened = open_page(path)
    page = opened.page
    visible = "() => graphinv.nodes.get({filter: n => !n.hidden})"
    total = page.evaluate(f"() => ({visible})().length")
    page.select_option("#gi-flag-filter", "flagged")
    shown = page.evaluate(f"() => ({visible})().map(n => n.flagged)")
    assert shown and all(shown)
    page.select_option("#gi-flag-filter", "all")
    page.uncheck("#gi-kind-filters input[data-kind=Shipment]")
    kinds = page.evaluate(f"() => ({visible})().map(n => n.kind)")
    assert "Shipment" not in kinds and len(kinds) < total
    hidden_edges = page.evaluate("() => graphinv.edges.get({filter: e => e.rel === 'IMPORTED' && !e.hidden}).length")
    assert hidden_edges == 0
    page.check("#gi-kind-filters input[data-kind=Shipment]")
    assert page.evaluate(f"() => ({visible})().length") == total

    # Settled pages are frozen (nothing drifts while an analyst reads); the button lets it move.
    assert page.evaluate("() => graphinv.frozen") is True
    before = page.evaluate("() => graphinv.network.getPositions()")
    page.wait_for_timeout(400)
    assert page.evaluate("() => graphinv.network.getPositions()") == before
    page.click("#gi-physics")
    assert page.evaluate("() => graphinv.frozen") is False
    page.click("#gi-physics")
    opened.assert_clean()


def test_hubs_are_shown_not_expanded_and_the_cap_says_what_it_left_out(
    tmp_path: Path, case: Path, graph: nx.MultiDiGraph, ids: dict[str, str], open_page: Any
) -> None:
    opened = open_page(explore(case, ["C129"], hops=2, output=tmp_path / "c129.html"))
    shown = {n["id"]: n for n in opened.nodes()}
    hub = next(n for n in shown if graph.nodes[n]["kind"] == "Address" and "880" in graph.nodes[n]["name"])
    assert "hub" in shown[hub]["label"]
    assert ids["C060"] not in shown
    for ref in HUB_FIRMS_UNRELATED:
        assert ids[ref] not in shown, f"{ref} was pulled in through the hub address"
    notes = opened.page.inner_text("#gi-notes")
    assert "Hub not expanded" in notes and "16 firms and persons" in notes
    opened.assert_clean()

    capped = open_page(explore(case, ["C037"], hops=3, max_nodes=40, output=tmp_path / "capped.html"))
    nodes = capped.nodes()
    assert len(nodes) == 40
    assert ids["C037"] in {n["id"] for n in nodes}
    assert "Node cap of 40 reached" in capped.page.inner_text("#gi-notes")
    capped.assert_clean()


@pytest.fixture
def xss_case(tmp_path: Path) -> Path:
    """A tiny bundle whose every text is an attempt to run a script."""
    folder = tmp_path / "xss"
    write_csv(
        folder / "companies.csv",
        ["id", "name", "tax_id", "address", "industry", "website"],
        [
            ["X1", "<img src=x onerror=alert(1)>", "XSS010101AA1", "<svg onload=alert(2)>", "</script><script>alert(3)</script>", "javascript:alert(4)"],
            ["X2", '"><iframe srcdoc="<script>alert(5)</script>">', "XSS020202BB2", "<svg onload=alert(2)>", "", ""],
        ],
    )
    write_csv(folder / "persons.csv", ["id", "name"], [["Q1", "<b onmouseover=alert(6)>Bold</b>"]])
    write_csv(folder / "ownership.csv", ["owner_id", "company_id", "share_pct"], [["Q1", "X1", "50"], ["Q1", "X2", "50"]])
    write_csv(folder / "flags.csv", ["entity_ref", "list", "reason", "date"], [["X1", "<i>DEA</i>", "<img src=y onerror=alert(7)>", "2021-03-01"]])
    write_csv(
        folder / "shipments.csv",
        ["id", "date", "importer", "importer_tax_id", "exporter", "product", "quantity_kg"],
        [["S1", "2020-01-01", "<img src=x onerror=alert(1)>", "XSS010101AA1", "<script>alert(8)</script>", "<script>alert(9)</script>", "10"]],
    )
    path = tmp_path / "xss.graphinv"
    graphinv.ingest(path, [folder], dataset="xss")
    resolve(path)
    return path


INJECTED = "() => document.querySelectorAll('img, iframe, b, i, svg:not(.gi-swatch), [onerror], [onload], [onmouseover]').length"


def test_values_from_data_stay_text_in_the_explore_page(tmp_path: Path, xss_case: Path, open_page: Any) -> None:
    path = explore(xss_case, ["X1"], hops=2, output=tmp_path / "xss.html")
    source = path.read_text(encoding="utf-8")
    assert "<img src=x" not in source and "<script>alert" not in source and "</script><script>" not in source
    opened = open_page(path)
    page = opened.page
    labels = {n["label"].replace("\n", " ") for n in opened.nodes()}
    assert "\u2691 <img src=x onerror=alert(1)>" in labels
    assert "<b onmouseover=alert(6)>Bold</b>" in labels
    # Every place data is written: search results, the panel (properties, flags, links), the hover card.
    page.fill("#gi-search", "<img")
    page.wait_for_selector("#gi-results button")
    assert "<img src=x onerror=alert(1)>" in page.inner_text("#gi-results")
    page.click("#gi-results button")
    assert page.inner_text(".gi-name") == "\u2691 <img src=x onerror=alert(1)>"
    panel = page.inner_text("#gi-details")
    assert "</script><script>alert(3)</script>" in panel
    assert "<img src=y onerror=alert(7)>" in panel and "<i>DEA</i>" in panel
    for node in opened.nodes():
        opened.click_node(node["id"])
        point = page.evaluate(
            "(id) => { const p = graphinv.network.canvasToDOM(graphinv.network.getPositions([id])[id]);"
            " const r = document.getElementById('gi-canvas').getBoundingClientRect(); return {x: r.left + p.x, y: r.top + p.y}; }",
            node["id"],
        )
        page.mouse.move(point["x"] + 1, point["y"] + 1)
    page.wait_for_timeout(300)
    assert page.evaluate(INJECTED) == 0
    assert page.evaluate("() => document.title").startswith("Around <img src=x")
    opened.assert_clean()


def test_values_from_data_stay_text_in_the_report(tmp_path: Path, xss_case: Path, open_page: Any) -> None:
    path = report(xss_case, tmp_path / "xss-report.html")
    source = path.read_text(encoding="utf-8")
    assert "<img src=x" not in source and "<script>alert" not in source
    opened = open_page(path)
    page = opened.page
    assert page.evaluate(INJECTED) == 0
    owners = page.eval_on_selector_all("table[data-finding=shared-owners] tbody tr", "rows => rows.map(r => r.textContent)")
    assert any("<b onmouseover=alert(6)>Bold</b>" in r and "<img src=x onerror=alert(1)>" in r for r in owners)
    opened.assert_clean()


# -- the report -------------------------------------------------------------------------------


def _ref(cell: str) -> str:
    """The bundle id a table cell starts with ("⚑ C014 Química …" → "C014")."""
    return cell.replace("\u2691", "").split()[0]


def _rows(page: Any, finding: str) -> list[list[str]]:
    return page.eval_on_selector_all(
        f"table[data-finding={finding}] tbody tr", "rows => rows.map(r => Array.from(r.cells).map(c => c.textContent))"
    )


def test_report_shows_every_finding_with_the_documented_answers(
    tmp_path: Path, case: Path, ids: dict[str, str], open_page: Any
) -> None:
    path = report(case, tmp_path / "report.html", flagged=True)
    opened = open_page(path)
    page = opened.page
    for finding in ("shared-addresses", "shared-owners", "freeze-list", "new-importers", "risk", "ownership"):
        rows = _rows(page, finding)
        assert rows, finding
        for row in rows:
            # Every row cites the source rows that make it true.
            assert "precursor-case:" in row[-1], (finding, row)

    addresses = {row[0]: row for row in _rows(page, "shared-addresses")}
    cedro = next(row for text, row in addresses.items() if "Cedro" in text)
    assert all(ref in cedro[1] for ref in ("C014", "C052", "C095", "C103"))
    marinos = next(row for text, row in addresses.items() if "Marinos" in text)
    assert all(ref in marinos[2] for ref in ("C037", "C068", "C081", "C117"))
    hub = next(row for text, row in addresses.items() if "880" in text)
    assert "hub: 16" in hub[3]

    owners = {_ref(row[0]): row for row in _rows(page, "shared-owners")}
    assert all(ref in owners["P003"][1] for ref in ("C014", "C095", "C117"))
    assert all(ref in owners["P025"][1] for ref in ("C014", "C052"))
    assert all(ref in owners["P071"][1] for ref in ("C081", "C129"))

    importers = [row[:5] for row in _rows(page, "new-importers")]
    assert [(_ref(r[0]), r[1], r[2].split()[0], r[3], r[4]) for r in importers] == [
        ("C014", "2019-03-18", "S0159", "8", "13,600"),
        ("C081", "2019-06-04", "S0166", "7", "8,900"),
        ("C037", "2019-09-23", "S0184", "8", "13,900"),
        ("C052", "2020-01-14", "S0205", "6", "7,100"),
        ("C068", "2020-05-27", "S0236", "6", "5,650"),
    ]
    assert "Together: 35 shipments, 49,150 kg." in page.inner_text("#new-importers")

    ranked = [_ref(row[1]) for row in _rows(page, "risk")]
    assert set(RING) <= set(ranked)
    if "C006" in ranked:
        assert ranked.index("C006") >= 10 and ranked.index("C006") > max(ranked.index(r) for r in RING)

    chains = {(_ref(row[0]), _ref(row[1])): row for row in _rows(page, "ownership")}
    assert chains[("C037", "P003")][2] == "43.2%"
    assert "P003 Rodrigo Villaseñor Ibarra —80%→ C095" in chains[("C037", "P003")][3]
    assert "—60%→ C103" in chains[("C037", "P003")][3] and "—90%→ C037" in chains[("C037", "P003")][3]
    assert chains[("C037", "P017")][2] == "36%"
    assert chains[("C037", "P004")][2] == "10.8%"
    assert chains[("C052", "P025")][2] == "80%"
    assert chains[("C052", "P003")][2] == "12%"
    assert chains[("C068", "P052")][2] == "70%"
    assert chains[("C117", "P052")][2] == "28%"

    # The case summary: what was read from where, the three bad rows, the resolution decisions.
    sources = _rows(page, "sources")
    assert sorted(r[1] for r in sources) == sorted(p.name for p in FIXTURE.glob("*.csv"))
    rejected = {(r[0].split(":")[-1], r[1], r[2]) for r in _rows(page, "rejected")}
    assert rejected == {("companies.csv", "149", "incorporation_date"), ("ownership.csv", "13", "owner_id"), ("shipments.csv", "114", "quantity_kg")}
    assert _rows(page, "resolution"), "resolution decisions are listed"

    # The graph of the flagged clusters is embedded and live; the ring is in it, flagged.
    nodes = {n["id"]: n for n in opened.nodes()}
    for ref in RING:
        assert nodes[ids[ref]]["flagged"] and nodes[ids[ref]]["label"].startswith("\u2691")
    opened.assert_clean()


def test_report_around_the_ring_gives_the_documented_freeze_list(tmp_path: Path, case: Path, open_page: Any) -> None:
    path = report(case, tmp_path / "ring.html", around=RING)
    opened = open_page(path)
    rows = _rows(opened.page, "freeze-list")
    entities = sorted(_ref(row[0]) for row in rows)
    assert entities == sorted(RING + ["C095", "C103", "P003", "P017", "P025", "P041", "P052", "P071", "P004", "P018", "P026", "P053"])
    accounts = {_ref(row[0]): row[2] for row in rows}
    assert "A017" in accounts["C014"] and "frozen 2022-02-10" in accounts["C014"]
    assert all(a in accounts["P003"] for a in ("A207", "A208", "A209"))
    assert "A210" in accounts["P004"] and "A211" in accounts["P004"]
    text = opened.page.inner_text("#freeze-list")
    for account in ("A007", "A008", "A009", "A233"):
        assert account not in text
    opened.assert_clean()
