"""Interactive HTML exploration: one self-contained vis-network page of the graph around some entities.

The page needs no network: vis-network (the copy pyvis ships) and every style and script are
inlined, and a Content-Security-Policy forbids any fetch. pyvis's own template is not used: even
with ``cdn_resources="in_line"`` it links Bootstrap from a CDN (DESIGN §7), it hands vis-network
string titles that are rendered as HTML, and its ``add_edge`` scans every node and edge already
added (quadratic at 10,000 nodes). Data reaches the page only as JSON in a non-executed script
element, and the page's script writes it into the document with ``textContent``, never as markup.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import importlib.util
import json
import math
import os
import textwrap
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import networkx as nx

from graphinv.exc import MissingExtraError, RefError
from graphinv.export.files import write_file
from graphinv.model import LINK_KINDS, NODE_KINDS
from graphinv.store import CaseFile, load_graph
from graphinv.store.refs import RefIndex

__all__ = [
    "DEFAULT_MAX_DEGREE",
    "DEFAULT_MAX_NODES",
    "GraphWidget",
    "Neighbourhood",
    "explore",
    "find_refs",
    "graph_data",
    "graph_widget",
    "link_caption",
    "neighbourhood",
    "page",
]

#: Above this many entities a page still renders, but the browser needs longer to lay it out.
DEFAULT_MAX_NODES = 1000
#: A node linked to more distinct firms and persons than this is shown but not walked through:
#: a formation agent's office or a nominee service would otherwise pull in unrelated firms.
#: The same threshold as the investigations' hub rule (graphinv.query), so the two agree.
DEFAULT_MAX_DEGREE = 12

_PARTY_KINDS = frozenset({"Company", "Person"})
_POSSIBLY = "POSSIBLY_SAME_AS"
# When the node cap bites, entities of these kinds are kept first (flagged ones before all).
_KIND_RANK = {"Company": 0, "Person": 1, "Account": 2, "Address": 3, "Shipment": 4}
_ASSETS = Path(__file__).resolve().parent / "assets"


# -- the neighbourhood ----------------------------------------------------------------------------


@dataclass
class Neighbourhood:
    """The entities within ``hops`` links of the seeds, what was left out of it and why."""

    seeds: tuple[str, ...]
    hops: int
    max_nodes: int
    max_degree: int | None
    include_possible: bool
    distance: dict[str, int] = field(default_factory=dict)
    #: nodes shown but not walked through, with how many firms and persons they link
    hubs: dict[str, int] = field(default_factory=dict)
    #: the distance at which the node cap stopped the walk, and how many entities it left out there
    capped_at: int | None = None
    capped_out: int = 0
    #: whether entities lie beyond the last distance walked
    beyond: bool = False
    #: for each shown node, how many of its links lead to entities not shown
    hidden_links: dict[str, int] = field(default_factory=dict)
    #: for each shown node but the seeds, the node the walk reached it from
    parent: dict[str, str] = field(default_factory=dict)

    def notes(self, graph: nx.MultiDiGraph) -> list[str]:
        """What was left out and why, in words an analyst can act on."""
        out: list[str] = []
        if self.capped_at is not None:
            out.append(
                f"Node cap of {self.max_nodes:,} reached: {self.capped_out:,} entities at distance "
                f"{self.capped_at} are not shown (flagged entities, firms and persons were kept first). "
                "Raise --max-nodes to see them."
            )
        for hub, degree in sorted(self.hubs.items(), key=lambda kv: (-kv[1], kv[0])):
            attrs = graph._node[hub]
            out.append(
                f"Hub not expanded: {_display_name(attrs)} ({attrs.get('kind', '')}) links {degree:,} firms and "
                f"persons, more than {self.max_degree}; {self.hidden_links.get(hub, 0):,} of its links are not followed."
            )
        if self.beyond and self.capped_at is None:
            shown = sum(1 for n, d in self.distance.items() if d == self.hops and self.hidden_links.get(n))
            out.append(
                f"Distance: only entities within {self.hops} link{'s' if self.hops != 1 else ''} of the starting "
                f"entities are shown; {shown:,} entities at the edge have more links (raise --hops)."
            )
        return out


def _party_degree(graph: nx.MultiDiGraph, node: str, limit: int) -> int:
    """Distinct firms and persons a node links, a shipment counting as its other parties.

    A firm's own shipments and accounts never make it a hub, only its ties to others do. Counting
    stops past ``limit``: a real hub may link hundreds of thousands of firms.
    """
    nodes, succ, pred = graph._node, graph._succ, graph._pred
    seen: set[str] = set()
    for adjacency in (succ[node], pred[node]):
        for other in adjacency:
            kind = nodes[other].get("kind")
            if kind in _PARTY_KINDS:
                seen.add(other)
            elif kind == "Shipment":
                for party in (*succ[other], *pred[other]):
                    if party != node and nodes[party].get("kind") in _PARTY_KINDS:
                        seen.add(party)
            if len(seen) > limit:
                return len(seen)
    return len(seen)


def _adjacent(graph: nx.MultiDiGraph, node: str, include_possible: bool) -> list[str]:
    """The node's neighbours read as undirected, sorted so the walk is the same in every run."""
    found: set[str] = set()
    for adjacency in (graph._succ[node], graph._pred[node]):
        for other, keys in adjacency.items():
            if include_possible or any(rel != _POSSIBLY for rel in keys):
                found.add(other)
    found.discard(node)
    return sorted(found)


def _priority(graph: nx.MultiDiGraph, node: str) -> tuple[int, int, str]:
    attrs = graph._node[node]
    return (0 if attrs.get("flagged") else 1, _KIND_RANK.get(str(attrs.get("kind")), 9), node)


def neighbourhood(
    graph: nx.MultiDiGraph,
    seeds: Sequence[str],
    *,
    hops: int = 2,
    max_nodes: int = DEFAULT_MAX_NODES,
    max_degree: int | None = DEFAULT_MAX_DEGREE,
    include_possible: bool = False,
) -> Neighbourhood:
    """Walk out from the seeds breadth-first over successors and predecessors (never copying the
    graph), up to ``hops`` links, stopping at hubs and at ``max_nodes`` entities."""
    if hops < 0:
        raise ValueError(f"hops must be 0 or more, got {hops!r}")
    if max_nodes < 1:
        raise ValueError(f"max_nodes must be at least 1, got {max_nodes!r}")
    seeds = tuple(dict.fromkeys(seeds))
    hood = Neighbourhood(
        seeds=seeds, hops=hops, max_nodes=max_nodes, max_degree=max_degree, include_possible=include_possible
    )
    distance = hood.distance
    for seed in sorted(seeds, key=lambda n: _priority(graph, n))[:max_nodes]:
        distance[seed] = 0
    if len(seeds) > max_nodes:
        hood.capped_at, hood.capped_out = 0, len(seeds) - max_nodes
    frontier = [s for s in seeds if s in distance]
    adjacent: dict[str, list[str]] = {}
    depth = 0
    while frontier and depth < hops and hood.capped_at is None:
        candidates: dict[str, str] = {}
        for node in frontier:
            if node not in hood.seeds and max_degree is not None:
                degree = _party_degree(graph, node, max_degree)
                if degree > max_degree:
                    hood.hubs[node] = _party_degree(graph, node, 10**9)
                    continue
            adjacent[node] = others = _adjacent(graph, node, include_possible)
            for other in others:
                if other not in distance:
                    candidates.setdefault(other, node)
        if not candidates:
            break
        depth += 1
        layer = list(candidates)
        room = max_nodes - len(distance)
        if len(layer) > room:
            layer.sort(key=lambda n: _priority(graph, n))
            hood.capped_at, hood.capped_out = depth, len(layer) - room
            layer = layer[:room]
        for node in layer:
            distance[node] = depth
            hood.parent[node] = candidates[node]
        frontier = layer
    for node in distance:
        others = adjacent.get(node) or _adjacent(graph, node, include_possible)
        hidden = sum(1 for other in others if other not in distance)
        if hidden:
            hood.hidden_links[node] = hidden
            if distance[node] == hops and node not in hood.hubs:
                hood.beyond = True
    return hood


# -- REFs -----------------------------------------------------------------------------------------

_REF_INDEXES: weakref.WeakKeyDictionary[nx.MultiDiGraph, RefIndex] = weakref.WeakKeyDictionary()


def find_refs(graph: nx.MultiDiGraph, refs: Iterable[str]) -> tuple[str, ...]:
    """The node ids that REFs name (id, bundle id, tax id or name); an unknown or ambiguous REF
    is an error that says what it could mean."""
    found: dict[str, None] = {}
    for ref in (str(r) for r in refs):
        if ref in graph._node:
            found.setdefault(ref, None)
            continue
        index = _REF_INDEXES.get(graph)
        if index is None:
            index = _REF_INDEXES[graph] = RefIndex(graph._node.values())
        ids = index.find(ref)
        if not ids:
            close = index.similar(ref)
            hint = f" (names that start alike: {'; '.join(close)})" if close else ""
            raise RefError(f"No entity matches REF {ref!r}{hint}. Give an entity id, a bundle id, a tax id or a name.")
        if len(ids) > 1:
            shown = "; ".join(f"{i} {_display_name(graph._node[i])} ({graph._node[i].get('kind')})" for i in ids[:10])
            raise RefError(f"REF {ref!r} is ambiguous: it names {len(ids)} entities: {shown}. Give one of their ids.")
        found.setdefault(ids[0], None)
    if not found:
        raise RefError("No REF given: name at least one entity to explore around (--around REF)")
    return tuple(found)


# -- page data ------------------------------------------------------------------------------------

# Node properties that the page shows in their own places (or never).
_NODE_SKIP = frozenset(
    {"id", "kind", "name", "flagged", "flags", "flag_reasons", "sources", "aliases", "merged_ids", "registered"}
)
_LINK_SKIP = frozenset({"rel", "source", "target", "sources"})


def _display_name(attrs: dict[str, Any]) -> str:
    return str(attrs.get("name") or attrs.get("id") or "")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if not value.is_integer() else f"{value:,.0f}"
    if isinstance(value, (list, tuple)):
        return "; ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_text(v)}" for k, v in value.items())
    return str(value)


def _kg(value: Any) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return ""
    return f"{number:,.1f}".removesuffix(".0") + " kg"


@cache
def _fields(kind: str) -> tuple[str, ...]:
    # pydantic's model_fields is a property that rebuilds a dict on every access: read it once.
    cls = NODE_KINDS.get(kind) or LINK_KINDS.get(kind)
    return tuple(cls.model_fields) if cls is not None else ()


def link_caption(attrs: dict[str, Any], shipment: dict[str, Any] | None = None) -> str:
    """An edge label: the model's caption ("owns 35%", "spouse"), and for a shipment link what moved
    and when ("imported 450 kg 4-piperidone 2019-05-02")."""
    rel = str(attrs.get("rel", ""))
    cls = LINK_KINDS.get(rel)
    try:
        if cls is None:
            raise LookupError(rel)
        known = _fields(rel)
        fields = {k: v for k, v in attrs.items() if k in known and k not in ("source", "target")}
        caption = cls.model_construct(
            source=attrs.get("source", ""), target=attrs.get("target", ""), **fields
        ).caption()
    except (LookupError, AttributeError, TypeError, ValueError):
        caption = rel.lower().replace("_", " ")
    if rel in ("IMPORTED", "EXPORTED") and shipment is not None:
        what = shipment.get("chemical") or shipment.get("product")
        parts = [caption, _kg(shipment.get("quantity_kg")), str(what or ""), str(shipment.get("date") or "")]
        caption = " ".join(p for p in parts if p)
    if attrs.get("end_date"):
        caption += f" (until {attrs['end_date']})"
    return caption


def _props(attrs: dict[str, Any]) -> list[list[str]]:
    order = [k for k in _fields(str(attrs.get("kind"))) if k not in _NODE_SKIP]
    keys = [k for k in order if k in attrs] + sorted(k for k in attrs if k not in _NODE_SKIP and k not in order)
    out = [[k, _text(attrs[k])] for k in keys if attrs[k] not in (None, "", [], {})]
    out.append(["id", str(attrs.get("id", ""))])
    return out


def _node_label(attrs: dict[str, Any]) -> str:
    kind = attrs.get("kind")
    if kind == "Shipment":
        what = attrs.get("chemical") or attrs.get("product") or "shipment"
        return f"{what}\n{_kg(attrs.get('quantity_kg'))} {attrs.get('date') or ''}".strip()
    if kind == "Account":
        status = " (frozen)" if attrs.get("status") == "frozen" else ""
        return f"{attrs.get('bundle_id') or attrs.get('number') or _display_name(attrs)}{status}"
    # Short lines keep a label about as wide as its node, so neighbours' labels overlap less.
    width, most = (30, 2) if kind == "Address" else (26, 3)
    lines = textwrap.wrap(_display_name(attrs), width, break_long_words=False, break_on_hyphens=False)
    if len(lines) > most:
        lines = lines[:most]
        lines[-1] = lines[-1].rstrip(" ,") + "…"
    return "\n".join(lines)


def _layout(hood: Neighbourhood) -> dict[str, tuple[float, float]]:
    """Seeded starting positions: seeds in the middle, each further distance on a wider ring, every
    node near the one it was reached from. Physics then only has to tidy, and the same input
    always gives the same picture."""
    distance = hood.distance
    children: dict[str | None, list[str]] = {None: []}
    for node in sorted(distance, key=lambda n: (distance[n], n)):
        children.setdefault(hood.parent.get(node), []).append(node)
        children.setdefault(node, [])
    weight: dict[str | None, float] = {}
    for node in sorted(distance, key=lambda n: -distance[n]):
        weight[node] = max(1.0, sum(weight[c] for c in children[node]) ** 0.8)
    weight[None] = sum(weight[c] for c in children[None]) or 1.0
    rings: dict[int, int] = {}
    for d in distance.values():
        rings[d] = rings.get(d, 0) + 1
    radius: dict[int, float] = {}
    previous = 0.0
    for d in sorted(rings):
        if d == 0:
            radius[0] = 0.0 if rings[0] == 1 else max(150.0, rings[0] * 90 / (2 * math.pi))
        else:
            radius[d] = max(previous + 220.0, rings[d] * 38 / (2 * math.pi))
        previous = radius[d]
    positions: dict[str, tuple[float, float]] = {}

    def place(node: str | None, start: float, span: float) -> None:
        kids = children.get(node, [])
        total = sum(weight[c] for c in kids) or 1.0
        at = start
        for kid in kids:
            share = span * weight[kid] / total
            angle = at + share / 2
            r = radius[distance[kid]]
            positions[kid] = (round(r * math.cos(angle), 1), round(r * math.sin(angle), 1))
            place(kid, at, share)
            at += share

    place(None, -math.pi / 2, 2 * math.pi)
    return positions


def _customs_names(graph: nx.MultiDiGraph, node: str) -> list[str]:
    """How customs clerks typed a firm's name on its shipments: searchable even before resolution
    has merged those spellings into the firm's aliases."""
    names: set[str] = set()
    for shipment, keys in graph._succ[node].items():
        attrs = graph._node[shipment]
        if "IMPORTED" in keys and attrs.get("importer"):
            names.add(str(attrs["importer"]))
        if "EXPORTED" in keys and attrs.get("exporter"):
            names.add(str(attrs["exporter"]))
    return sorted(names)


def graph_data(graph: nx.MultiDiGraph, hood: Neighbourhood, *, title: str = "") -> dict[str, Any]:
    """Everything the page draws, as plain JSON: nodes, links, notes and the starting layout."""
    nodes_attrs = graph._node
    positions = _layout(hood)
    nodes: list[dict[str, Any]] = []
    order = sorted(hood.distance, key=lambda n: (hood.distance[n], n))
    for node in order:
        attrs = nodes_attrs[node]
        x, y = positions.get(node, (0.0, 0.0))
        item: dict[str, Any] = {
            "id": node,
            "kind": str(attrs.get("kind", "")),
            "name": _display_name(attrs),
            "label": _node_label(attrs),
            "distance": hood.distance[node],
            "x": x,
            "y": y,
            "props": _props(attrs),
            "sources": [str(s) for s in attrs.get("sources") or ()],
        }
        if attrs.get("flagged"):
            item["flagged"] = True
            item["flags"] = [str(f) for f in attrs.get("flags") or ()]
            item["flag_reasons"] = [str(r) for r in attrs.get("flag_reasons") or ()]
        if attrs.get("aliases"):
            item["aliases"] = [str(a) for a in attrs["aliases"]]
        if attrs.get("kind") == "Company":
            customs = [n for n in _customs_names(graph, node) if n not in item.get("aliases", ()) and n != item["name"]]
            if customs:
                item["customs_names"] = customs
            if attrs.get("registered") is False:
                item["customs_only"] = True
        for key in ("bundle_id", "tax_id"):
            if attrs.get(key):
                item[key] = str(attrs[key])
        if node in hood.seeds:
            item["seed"] = True
        if node in hood.hubs:
            item["hub"] = hood.hubs[node]
        if hood.hidden_links.get(node):
            item["more"] = hood.hidden_links[node]
        nodes.append(item)
    shown = hood.distance
    edges: list[dict[str, Any]] = []
    for source in order:
        for target, keys in graph._succ[source].items():
            if target not in shown:
                continue
            for rel, attrs in keys.items():
                if rel == _POSSIBLY and not hood.include_possible:
                    continue
                shipment = nodes_attrs[target] if rel in ("IMPORTED", "EXPORTED") else None
                edge: dict[str, Any] = {
                    "id": f"{source}>{target}>{rel}",
                    "from": source,
                    "to": target,
                    "rel": rel,
                    "label": link_caption(attrs, shipment),
                    "sources": [str(s) for s in attrs.get("sources") or ()],
                    "props": [[k, _text(v)] for k, v in attrs.items() if k not in _LINK_SKIP and v not in (None, "")],
                }
                if attrs.get("end_date"):
                    edge["ended"] = True
                edges.append(edge)
    seeds = [_display_name(nodes_attrs[s]) for s in hood.seeds if s in shown]
    return {
        "title": title or "Around " + ", ".join(seeds[:3]) + (f" and {len(seeds) - 3} more" if len(seeds) > 3 else ""),
        "seeds": list(hood.seeds),
        "hops": hood.hops,
        "max_nodes": hood.max_nodes,
        "max_degree": hood.max_degree,
        "notes": hood.notes(graph),
        "nodes": nodes,
        "edges": edges,
    }


# -- the page -------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _vis_network() -> str:
    """vis-network as pyvis ships it (pyvis is only a file source here: it is never imported)."""
    spec = importlib.util.find_spec("pyvis")
    if spec is None or not spec.submodule_search_locations:
        raise MissingExtraError("The HTML export needs pyvis (it ships vis-network): pip install 'pyvis>=0.3.2'")
    for location in spec.submodule_search_locations:
        path = Path(location) / "lib" / "vis-9.1.2" / "vis-network.min.js"
        if path.exists():
            return path.read_text(encoding="utf-8")
    raise MissingExtraError("pyvis is installed without vis-network 9.1.2 (lib/vis-9.1.2): reinstall pyvis 0.3.2")


@cache
def _asset(name: str) -> str:
    return (_ASSETS / name).read_text(encoding="utf-8")


def _json_for_script(data: Any) -> str:
    # JSON inside <script>: no "<", ">" or "&" may survive, or "</script>" in a name ends the block.
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _hash(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii") + "'"


@dataclass(frozen=True)
class GraphWidget:
    """The interactive graph as pieces of a page: its markup, its scripts and the CSP hashes they need."""

    markup: str
    scripts: tuple[str, ...]
    style: str

    def script_tags(self) -> str:
        return "".join(f"<script>{s}</script>\n" for s in self.scripts)

    def hashes(self) -> list[str]:
        return [_hash(s) for s in self.scripts]


def graph_widget(data: dict[str, Any], *, height: str = "100%") -> GraphWidget:
    """The graph block (toolbar, canvas, side panel) for a page; ``page`` and the report place it."""
    payload = _json_for_script(data)
    markup = (
        f'<div class="gi-widget" id="gi-widget" style="height:{html.escape(height)}">'
        '<div class="gi-toolbar" id="gi-toolbar"></div>'
        '<div class="gi-main"><div class="gi-canvas" id="gi-canvas" role="img" aria-label="graph"></div>'
        '<div class="gi-status" id="gi-status">Laying out the graph…</div>'
        '<aside class="gi-side" id="gi-side"></aside></div>'
        f'<script type="application/json" id="gi-data">{payload}</script>'
        "</div>"
    )
    return GraphWidget(markup=markup, scripts=(_vis_network(), _asset("graph.js")), style=_asset("graph.css"))


def csp(hashes: Iterable[str]) -> str:
    """A policy that lets only our own inline scripts run and forbids every request."""
    return (
        "default-src 'none'; "
        f"script-src {' '.join(hashes)}; "
        "style-src 'unsafe-inline'; img-src data: blob:; font-src data:; "
        "connect-src 'none'; frame-src 'none'; form-action 'none'; base-uri 'none'"
    )


def page(data: dict[str, Any]) -> str:
    """A whole, self-contained explore page."""
    widget = graph_widget(data)
    title = html.escape(str(data.get("title") or "graphinv"))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp(widget.hashes())}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="graphinv">\n'
        f"<title>{title} · graphinv</title>\n"
        f"<style>{_asset('page.css')}\n{widget.style}</style>\n"
        '</head><body class="gi-explore">\n'
        f"{widget.markup}\n{widget.script_tags()}"
        "</body></html>\n"
    )


def write_text(output: str | os.PathLike[str], text: str) -> Path:
    """Write a file whole or not at all (a half-written page is worse than none)."""
    write_file(output, lambda handle: handle.write(text.encode("utf-8")), make_folder=True)
    return Path(output)


def _graph_of(case_or_graph: str | os.PathLike[str] | CaseFile | nx.MultiDiGraph) -> nx.MultiDiGraph:
    if isinstance(case_or_graph, nx.MultiDiGraph):
        return case_or_graph
    return load_graph(case_or_graph)


def explore(
    case_or_graph: str | os.PathLike[str] | CaseFile | nx.MultiDiGraph,
    around: Sequence[str],
    *,
    hops: int = 2,
    max_nodes: int = DEFAULT_MAX_NODES,
    max_degree: int | None = DEFAULT_MAX_DEGREE,
    include_possible: bool = False,
    output: str | os.PathLike[str],
    title: str | None = None,
) -> Path:
    """Write an interactive page of the entities within ``hops`` links of the REFs in ``around``.

    Hubs (more than ``max_degree`` linked firms and persons) are shown but not walked through; at
    most ``max_nodes`` entities are shown (flagged ones, firms and persons first); the page says
    what it left out. With ``include_possible``, uncertain matches (POSSIBLY_SAME_AS) are walked
    and drawn dashed. Returns the path written.
    """
    graph = _graph_of(case_or_graph)
    seeds = find_refs(graph, around)
    hood = neighbourhood(
        graph, seeds, hops=hops, max_nodes=max_nodes, max_degree=max_degree, include_possible=include_possible
    )
    data = graph_data(graph, hood, title=title or "")
    data["generated"] = dt.date.today().isoformat()
    return write_text(output, page(data))
