"""path: the shortest connections between two entities, every link explained with its source."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any, ClassVar

import networkx as nx

from graphinv.query._graph import (
    DEFAULT_MAX_DEGREE,
    HubCheck,
    check_count,
    evidence,
    investigation,
    links_between,
    neighbours,
)
from graphinv.query.refs import resolve_ref
from graphinv.query.results import Entity, Evidence, QueryResult, Row

__all__ = ["Connection", "Paths", "path"]


class Connection(Row):
    """One shortest connection: the entities in order and, between each two, every link that joins
    them, as sentences with their sources."""

    length: int
    entities: tuple[Entity, ...]
    links: tuple[Evidence, ...]

    columns: ClassVar[tuple[str, ...]] = ("length", "entities", "explanation")

    def flat(self) -> dict[str, Any]:
        return {
            "length": self.length,
            "entities": " > ".join(e.label for e in self.entities),
            "explanation": [l.text for l in self.links],
        }


class Paths(QueryResult):
    investigation: ClassVar[str] = "path"
    rows: tuple[Connection, ...] = ()
    source: Entity
    target: Entity
    total: int = 0


@investigation
def path(
    graph: nx.MultiDiGraph,
    source: str,
    target: str,
    *,
    max_hops: int = 6,
    max_degree: int | None = DEFAULT_MAX_DEGREE,
    include_possible: bool = False,
    limit: int = 10,
) -> Paths:
    """The shortest connections (up to ``limit`` of them; ``total`` says how many exist) between
    two REFs within ``max_hops`` links, links read in both directions.

    A connection never passes through a hub (a node linked to more than ``max_degree`` firms and
    persons), which would join any two firms registered by the same agent; the hubs avoided are
    listed (``max_degree=None``: walk through everything). POSSIBLY_SAME_AS links are walked only
    with ``include_possible``.
    """
    max_hops = check_count(max_hops, "max_hops")
    limit = check_count(limit, "limit")
    a = resolve_ref(graph, source)
    b = resolve_ref(graph, target)
    ends = {"source": Entity.of(graph, a), "target": Entity.of(graph, b)}
    if a == b:
        row = Connection(length=0, entities=(ends["source"],), links=())
        return Paths(rows=(row,), total=1, **ends)
    is_hub = HubCheck(graph, max_degree, exempt=(a, b))
    dist_f: dict[str, int] = {a: 0}
    dist_b: dict[str, int] = {b: 0}
    par_f: dict[str, list[str]] = {a: []}
    par_b: dict[str, list[str]] = {b: []}
    front_f, front_b = [a], [b]
    depth_f = depth_b = 0
    meets: list[str] = []
    while depth_f + depth_b < max_hops and front_f and front_b:
        forward = len(front_f) <= len(front_b)
        if forward:
            front_f = _expand(graph, front_f, dist_f, par_f, depth_f, is_hub, include_possible)
            depth_f += 1
            meets = [n for n in front_f if dist_b.get(n) == depth_b]
        else:
            front_b = _expand(graph, front_b, dist_b, par_b, depth_b, is_hub, include_possible)
            depth_b += 1
            meets = [n for n in front_b if dist_f.get(n) == depth_f]
        if meets:
            break
    if not meets:
        note = f"no connection within {max_hops} links"
        if is_hub.found:
            note += " that avoids hubs (raise max_degree to walk through them)"
        return Paths(rows=(), total=0, hubs=is_hub.hubs(), notes=(note,), **ends)

    total = 0
    counts_f: dict[str, int] = {}
    counts_b: dict[str, int] = {}
    for m in meets:
        total += _count(m, par_f, counts_f) * _count(m, par_b, counts_b)
    rows = []
    for nodes in _enumerate(sorted(meets), par_f, par_b, limit):
        links: list[Evidence] = []
        for x, y in itertools.pairwise(nodes):
            links += [evidence(graph, l) for l in links_between(graph, x, y, include_possible=include_possible)]
        rows.append(
            Connection(length=len(nodes) - 1, entities=tuple(Entity.of(graph, n) for n in nodes), links=tuple(links))
        )
    notes = () if total <= limit else (f"{total} shortest connections; the first {limit} are shown",)
    return Paths(rows=tuple(rows), total=total, hubs=is_hub.hubs(), notes=notes, **ends)


def _expand(
    graph: nx.MultiDiGraph,
    frontier: list[str],
    dist: dict[str, int],
    parents: dict[str, list[str]],
    depth: int,
    is_hub: HubCheck,
    include_possible: bool,
) -> list[str]:
    nxt: list[str] = []
    level = depth + 1
    for node in frontier:
        for other, _, _ in neighbours(graph, node, include_possible=include_possible):
            seen = dist.get(other)
            if seen is None:
                if is_hub(other):
                    continue
                dist[other] = level
                parents[other] = [node]
                nxt.append(other)
            elif seen == level and node not in parents[other]:
                parents[other].append(node)
    return nxt


def _count(node: str, parents: dict[str, list[str]], memo: dict[str, int]) -> int:
    if node in memo:
        return memo[node]
    ps = parents[node]
    total = 1 if not ps else sum(_count(p, parents, memo) for p in ps)
    memo[node] = total
    return total


def _chains(node: str, parents: dict[str, list[str]]) -> Iterator[list[str]]:
    """Every chain from ``node`` back to the walk's start, in sorted order, lazily."""
    ps = parents[node]
    if not ps:
        yield [node]
        return
    for p in sorted(ps):
        for rest in _chains(p, parents):
            yield [node, *rest]


def _enumerate(
    meets: list[str], par_f: dict[str, list[str]], par_b: dict[str, list[str]], limit: int
) -> Iterator[list[str]]:
    produced = 0
    for m in meets:
        for head in _chains(m, par_f):
            for tail in _chains(m, par_b):
                yield [*reversed(head), *tail[1:]]
                produced += 1
                if produced >= limit:
                    return
