"""cluster: the neighbourhood of flagged firms (or given REFs), split into connected groups."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import networkx as nx
import numpy as np

from graphinv.exc import GraphinvError
from graphinv.query._arrays import arrays, gather, unique
from graphinv.query._graph import (
    DEFAULT_MAX_DEGREE,
    HubCheck,
    evidence,
    flagged_firms,
    investigation,
    neighbours,
)
from graphinv.query.refs import resolve_refs
from graphinv.query.results import Entity, Evidence, Hub, QueryResult, Row, build, entity_fields, labels

__all__ = ["COMMUNITY_MIN_SIZE", "Cluster", "Group", "Member", "cluster"]

#: Groups at least this large get Louvain community labels; smaller ones are read at a glance.
COMMUNITY_MIN_SIZE = 40


class Member(Entity):
    """An entity of a group: how many hops from the nearest starting point, and its community."""

    hops: int
    community: int | None = None


class Group(Row):
    """One connected group of the neighbourhood: its members, the links among them (with sources),
    its flagged members, where it started, and the hubs the walk stopped at."""

    entities: tuple[Member, ...]
    links: tuple[Evidence, ...]
    flagged: tuple[Entity, ...]
    seeds: tuple[Entity, ...]
    communities: int
    hubs: tuple[Hub, ...]

    def flat(self) -> dict[str, Any]:
        kinds: dict[str, int] = {}
        for e in self.entities:
            kinds[e.kind] = kinds.get(e.kind, 0) + 1
        return {
            "size": len(self.entities),
            "kinds": ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())),
            "flagged": labels(self.flagged),
            "seeds": labels(self.seeds),
            "links": len(self.links),
            "communities": self.communities,
            "hubs": labels([h.entity for h in self.hubs]),
        }


class Cluster(QueryResult):
    investigation: ClassVar[str] = "cluster"
    rows: tuple[Group, ...] = ()


@investigation
def cluster(
    graph: nx.MultiDiGraph,
    *,
    around: Sequence[str] | None = None,
    hops: int = 2,
    max_degree: int | None = DEFAULT_MAX_DEGREE,
    include_possible: bool = False,
    community_min_size: int = COMMUNITY_MIN_SIZE,
) -> Cluster:
    """Everything within ``hops`` links of the REFs in ``around`` (default: every flagged firm),
    links read in both directions, split into connected groups, most flagged members first.

    The walk never passes through a hub (a node linked to more than ``max_degree`` firms and
    persons: a formation agent's office, a nominee service); hubs are listed per group, not made
    members, unless they are starting points (``max_degree=None``: no hubs). Groups of at least
    ``community_min_size`` members get Louvain community labels (seeded, so stable run to run).
    """
    if hops < 0:
        raise GraphinvError(f"hops must be 0 or more, got {hops!r}")
    if around:
        seeds = resolve_refs(graph, around)
    else:
        seeds = flagged_firms(graph)
    is_hub = HubCheck(graph, max_degree, exempt=seeds)
    if len(seeds) >= _ARRAY_SEEDS and not include_possible:
        distance, hub_touch, links, root = _walk_arrays(graph, seeds, hops, max_degree, is_hub)
    else:
        distance, hub_touch, links, root = _walk(graph, seeds, hops, is_hub, include_possible)
    grouped: dict[str, list[str]] = {}
    for node in sorted(distance):
        grouped.setdefault(root[node], []).append(node)
    group_links: dict[str, list[dict[str, Any]]] = {}
    for key, attrs in sorted(links.items()):
        group_links.setdefault(root[attrs["source"]], []).append(attrs)

    seed_set = set(seeds)
    hubs_of: dict[str, list[str]] = {}
    for hub, via in hub_touch.items():
        for group_root in {root[v] for v in via}:
            hubs_of.setdefault(group_root, []).append(hub)
    rows = []
    for group_root, group in grouped.items():
        glinks = group_links.get(group_root, [])
        labels_of = _communities(group, glinks) if len(group) >= community_min_size else {}
        entities = sorted(
            (
                build(Member, {**entity_fields(graph, n), "hops": distance[n], "community": labels_of.get(n)})
                for n in group
            ),
            key=lambda m: (m.hops, m.kind, m.name, m.id),
        )
        flagged = tuple(Entity.of(graph, m.id) for m in entities if m.flagged)
        group_hubs = sorted(
            (
                build(Hub, {"entity": Entity.of(graph, h), "degree": is_hub.found[h]})
                for h in hubs_of.get(group_root, ())
            ),
            key=lambda h: (-h.degree, h.entity.name, h.entity.id),
        )
        rows.append(
            Group(
                entities=tuple(entities),
                links=tuple(evidence(graph, l) for l in glinks),
                flagged=flagged,
                seeds=tuple(Entity.of(graph, m.id) for m in entities if m.id in seed_set),
                communities=len(set(labels_of.values())),
                hubs=tuple(group_hubs),
            )
        )
    rows.sort(key=lambda g: (-len(g.flagged), -len(g.entities), g.entities[0].id if g.entities else ""))
    return Cluster(rows=tuple(rows), hubs=is_hub.hubs())


#: From this many starting points the walk runs over the graph's arrays (numpy): with every
#: flagged firm of a registry as seeds it reads millions of links.
_ARRAY_SEEDS = 64

_Walk = tuple[dict[str, int], dict[str, set[str]], dict[tuple[str, str, str], dict[str, Any]], dict[str, str]]


def _walk(graph: nx.MultiDiGraph, seeds: Sequence[str], hops: int, is_hub: HubCheck, include_possible: bool) -> _Walk:
    """Breadth-first from the seeds, stopping at hubs: each member's distance, the members each hub
    touches, the links among members, and each member's group (its smallest member id)."""
    distance: dict[str, int] = {s: 0 for s in seeds}
    frontier = list(seeds)
    hub_touch: dict[str, set[str]] = {}
    for level in range(1, hops + 1):
        nxt: list[str] = []
        for node in frontier:
            for other, _, _ in neighbours(graph, node, include_possible=include_possible):
                if other in distance:
                    continue
                if is_hub(other):
                    hub_touch.setdefault(other, set()).add(node)
                    continue
                distance[other] = level
                nxt.append(other)
        frontier = nxt
    # Members at the last level are not expanded; still record which known hubs they touch, so
    # every group next to a hub lists it.
    for node in frontier:
        for other, _, _ in neighbours(graph, node, include_possible=include_possible):
            if other not in distance and other in is_hub.found:
                hub_touch.setdefault(other, set()).add(node)

    members = set(distance)
    parent: dict[str, str] = {n: n for n in members}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    links: dict[tuple[str, str, str], dict[str, Any]] = {}
    for node in members:
        for other, rel, attrs in neighbours(graph, node, include_possible=include_possible):
            if other in members:
                links[(rel, attrs["source"], attrs["target"])] = attrs
                ra, rb = find(node), find(other)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
    return distance, hub_touch, links, {n: find(n) for n in members}


def _walk_arrays(
    graph: nx.MultiDiGraph, seeds: Sequence[str], hops: int, max_degree: int | None, is_hub: HubCheck
) -> _Walk:
    """``_walk`` over the graph's arrays (no POSSIBLY_SAME_AS links), level by level: the same
    members, hubs, links and groups (tests check the two agree)."""
    arr = arrays(graph)
    ids, n = arr.ids, len(arr.ids)
    start = np.fromiter((arr.pos[s] for s in seeds), dtype=np.int64, count=len(seeds))
    dist = np.full(n, -1, dtype=np.int64)
    dist[start] = 0
    hub = np.zeros(n, dtype=bool)
    if max_degree is not None:
        hub = arr.party_degree > max_degree
        hub[start] = False  # starting points are never hubs
    found = np.zeros(n, dtype=bool)
    touch: list[tuple[np.ndarray, np.ndarray]] = []
    frontier = unique(start)
    for level in range(1, hops + 1):
        owner, entry = gather(arr.indptr, arr.adj, frontier)
        other = arr.adj[entry].astype(np.int64)
        at_hub = hub[other]
        found[other[at_hub]] = True
        touch.append((owner[at_hub], other[at_hub]))
        fresh = unique(other[~at_hub & (dist[other] < 0)])
        dist[fresh] = level
        frontier = fresh
    owner, entry = gather(arr.indptr, arr.adj, frontier)
    other = arr.adj[entry].astype(np.int64)
    last = found[other] & (dist[other] < 0)
    touch.append((owner[last], other[last]))

    members = np.flatnonzero(dist >= 0)
    owner, entry = gather(arr.indptr, arr.adj, members)
    inside = dist[arr.adj[entry]] >= 0
    link_ids = unique(arr.adj_link[entry[inside]])
    a, b = arr.src[link_ids].astype(np.int64), arr.dst[link_ids].astype(np.int64)
    # Groups: connected components of the members by those links (min-label propagation with
    # pointer jumping, over the members' own numbering; a label is a member's number).
    local = np.full(n, -1, dtype=np.int64)
    local[members] = np.arange(len(members))
    la, lb = local[a], local[b]
    label = np.arange(len(members), dtype=np.int64)
    while len(la):
        low = np.minimum(label[la], label[lb])
        new = label.copy()
        np.minimum.at(new, la, low)
        np.minimum.at(new, lb, low)
        new = new[new]
        if np.array_equal(new, label):
            break
        label = new
    member_ids = [ids[i] for i in members.tolist()]
    root = {node: member_ids[g] for node, g in zip(member_ids, label.tolist())}
    distance = dict(zip(member_ids, dist[members].tolist()))
    for h in np.flatnonzero(found).tolist():
        is_hub.found[ids[h]] = int(arr.party_degree[h])
    hub_touch: dict[str, set[str]] = {}
    if touch:
        pairs = unique(np.concatenate([o * n + h for o, h in touch]))
        for key in pairs.tolist():
            hub_touch.setdefault(ids[key % n], set()).add(ids[key // n])
    succ, rels = graph._succ, arr.rels
    links: dict[tuple[str, str, str], dict[str, Any]] = {}
    for u, v, r in zip(a.tolist(), b.tolist(), arr.rel[link_ids].tolist()):
        attrs = succ[ids[u]][ids[v]][rels[r]]
        links[(rels[r], attrs["source"], attrs["target"])] = attrs
    return distance, hub_touch, links, root


def _communities(group: list[str], links: list[dict[str, Any]]) -> dict[str, int]:
    """Louvain communities of a group, numbered largest first (ties by smallest id), seeded."""
    simple = nx.Graph()
    simple.add_nodes_from(group)
    simple.add_edges_from((l["source"], l["target"]) for l in links if l["source"] != l["target"])
    found = nx.community.louvain_communities(simple, seed=0)
    ordered = sorted((sorted(c) for c in found), key=lambda c: (-len(c), c[0]))
    return {node: i for i, members in enumerate(ordered, start=1) for node in members}
