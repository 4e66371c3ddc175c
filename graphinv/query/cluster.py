"""cluster: the neighbourhood of flagged firms (or given REFs), split into connected groups."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any, ClassVar

import networkx as nx
import numpy as np

from graphinv.query._arrays import arrays, gather, unique
from graphinv.query._graph import (
    DEFAULT_MAX_DEGREE,
    HubCheck,
    check_count,
    evidence,
    flagged_firms,
    flagged_nodes,
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

    columns: ClassVar[tuple[str, ...]] = ("size", "kinds", "flagged", "seeds", "links", "communities", "hubs")

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
    total: int = 0


@investigation
def cluster(
    graph: nx.MultiDiGraph,
    *,
    around: Sequence[str] | None = None,
    hops: int = 2,
    max_degree: int | None = DEFAULT_MAX_DEGREE,
    include_possible: bool = False,
    community_min_size: int = COMMUNITY_MIN_SIZE,
    limit: int | None = None,
) -> Cluster:
    """Everything within ``hops`` links of the REFs in ``around`` (default: every flagged firm),
    links read in both directions, split into connected groups, most flagged members first.

    The walk never passes through a hub (a node linked to more than ``max_degree`` firms and
    persons: a formation agent's office, a nominee service); hubs are listed per group, not made
    members, unless they are starting points (``max_degree=None``: no hubs). Groups of at least
    ``community_min_size`` members get Louvain community labels (seeded, so stable run to run).
    With ``limit``, only the first ``limit`` groups are made (``total`` says how many there are):
    around every flagged firm of a registry there are thousands.
    """
    hops = check_count(hops, "hops", minimum=0)
    limit = None if limit is None else check_count(limit, "limit")
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
    total = len(grouped)
    if limit is not None and total > limit:
        grouped = _first_groups(graph, grouped, distance, limit)
    group_links: dict[str, list[dict[str, Any]]] = {}
    if len(grouped) < total:
        links = {k: attrs for k, attrs in links.items() if root[attrs["source"]] in grouped}
    for key in sorted(links):  # the keys alone: comparing (key, attrs) pairs costs twice as much
        attrs = links[key]
        group_links.setdefault(root[attrs["source"]], []).append(attrs)

    seed_set = set(seeds)
    hubs_of: dict[str, list[str]] = {}
    for hub, via in hub_touch.items():
        for group_root in {root[v] for v in via}:
            hubs_of.setdefault(group_root, []).append(hub)
    # Each node's entity fields are read once (at registry scale every node read is a cache miss):
    # its Member, its Entity when flagged or a seed, and the names its links are worded with.
    fields = {n: entity_fields(graph, n) for group in grouped.values() for n in group}
    names = {n: f["name"] for n, f in fields.items()}
    rows = []
    for group_root, group in grouped.items():
        glinks = group_links.get(group_root, [])
        labels_of = _communities(group, glinks) if len(group) >= community_min_size else {}
        order = sorted(group, key=lambda n: (distance[n], fields[n]["kind"], fields[n]["name"], n))
        flagged = tuple(build(Entity, {**fields[n]}) for n in order if fields[n]["flagged"])
        started = tuple(build(Entity, {**fields[n]}) for n in order if n in seed_set)
        for n in order:
            member = fields[n]  # becomes the Member's fields: Entity's, then these two
            member["hops"] = distance[n]
            member["community"] = labels_of.get(n)
        group_hubs = sorted(
            (
                build(Hub, {"entity": Entity.of(graph, h), "degree": is_hub.found[h]})
                for h in hubs_of.get(group_root, ())
            ),
            key=lambda h: (-h.degree, h.entity.name, h.entity.id),
        )
        rows.append(
            build(
                Group,
                {
                    "entities": tuple(build(Member, fields[n]) for n in order),
                    "links": tuple(evidence(graph, l, names.__getitem__) for l in glinks),
                    "flagged": flagged,
                    "seeds": started,
                    "communities": len(set(labels_of.values())),
                    "hubs": tuple(group_hubs),
                },
            )
        )
    rows.sort(key=lambda g: (-len(g.flagged), -len(g.entities), g.entities[0].id if g.entities else ""))
    notes = (f"{total:,} groups; the first {limit:,} are shown",) if limit is not None and total > limit else ()
    return Cluster(rows=tuple(rows), hubs=is_hub.hubs(), notes=notes, total=total)


def _first_groups(
    graph: nx.MultiDiGraph, grouped: dict[str, list[str]], distance: dict[str, int], limit: int
) -> dict[str, list[str]]:
    """The ``limit`` groups that come first (most flagged members, then most members, then the id
    of the first member: the nearest, by kind, name and id), found before any is built."""
    flagged = set(flagged_nodes(graph))  # a registry's node dicts are read only for the starting points

    def by_kind_and_name(node: str) -> tuple[str, str, str]:
        fields = entity_fields(graph, node)
        return fields["kind"], fields["name"], node

    def key(group: list[str]) -> tuple[int, int, str]:
        # Its rows start with its nearest member, by kind, name and id (the members' order): one of
        # the starting points (hops 0), of which every group holds at least one.
        first = min(by_kind_and_name(n) for n in group if not distance[n])
        return -sum(1 for n in group if n in flagged), -len(group), first[2]

    keys = {group_root: key(group) for group_root, group in grouped.items()}
    return {r: grouped[r] for r in sorted(grouped, key=keys.__getitem__)[:limit]}


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
    found = louvain(group, [(l["source"], l["target"]) for l in links if l["source"] != l["target"]], seed=0)
    ordered = sorted((sorted(c) for c in found), key=lambda c: (-len(c), c[0]))
    return {node: i for i, members in enumerate(ordered, start=1) for node in members}


_Adjacency = dict[Any, dict[Any, int]]


def louvain(nodes: list[str], edges: list[tuple[str, str]], *, seed: int) -> list[set[str]]:
    """``nx.community.louvain_communities(G, seed=seed)`` of the simple graph ``G`` with ``nodes``
    (in order) and ``edges``: the same steps in the same order over plain dicts, so the same
    communities (tests check it against networkx), at a third of the cost (no graph views,
    no dispatch). Every weight is a whole number, so every sum is exact in any order."""
    rng = random.Random(seed)
    simple: _Adjacency = {u: {} for u in nodes}
    for u, v in edges:
        simple[u][v] = 1
        simple[v][u] = 1
    partition = [{u} for u in nodes]
    if not any(simple.values()):
        return partition
    mod = _modularity(simple, partition)
    adj: _Adjacency = {u: {} for u in simple}
    for u, v, w in _edge_list(simple):
        adj[u][v] = w
        adj[v][u] = w
    m = sum(_degrees(adj).values()) / 2
    merged: dict[Any, set[str]] | None = None
    partition, inner, improvement = _one_level(adj, merged, m, partition, rng)
    improvement = True
    while improvement:
        found = [s.copy() for s in partition]
        new_mod = _modularity(adj, inner)
        if new_mod - mod <= 0.0000001:
            return found
        mod = new_mod
        adj, merged = _merged_graph(adj, merged, inner)
        partition, inner, improvement = _one_level(adj, merged, m, partition, rng)
    return found


def _edge_list(adj: _Adjacency) -> list[tuple[Any, Any, int]]:
    """Each edge once, in networkx's order (by first end, then that end's neighbours)."""
    seen: set[Any] = set()
    found = []
    for u, nbrs in adj.items():
        for v, w in nbrs.items():
            if v not in seen:
                found.append((u, v, w))
        seen.add(u)
    return found


def _degrees(adj: _Adjacency) -> dict[Any, int]:
    return {u: sum(nbrs.values()) + (u in nbrs and nbrs[u]) for u, nbrs in adj.items()}


def _modularity(adj: _Adjacency, communities: list[set[Any]]) -> float:
    degree = _degrees(adj)
    deg_sum = sum(degree.values())
    m = deg_sum / 2
    norm = 1 / deg_sum**2
    com_of = {u: i for i, comm in enumerate(communities) for u in comm}
    inside = [0] * len(communities)  # twice each link inside, once each loop
    total = [0] * len(communities)
    for u, nbrs in adj.items():
        c = com_of[u]
        total[c] += degree[u]
        for v, w in nbrs.items():
            if com_of[v] == c:
                inside[c] += w if v != u else 2 * w
    # networkx's expression and order of summation, so the same float
    return sum(inside[i] // 2 / m - 1 * total[i] * total[i] * norm for i in range(len(communities)))


def _one_level(
    adj: _Adjacency, merged: dict[Any, set[str]] | None, m: float, partition: list[set[str]], rng: random.Random
) -> tuple[list[set[str]], list[set[Any]], bool]:
    node2com = {u: i for i, u in enumerate(adj)}
    inner = [{u} for u in adj]
    degrees = _degrees(adj)
    stot = list(degrees.values())
    nbrs = {u: {v: w for v, w in adj[u].items() if v != u} for u in adj}
    rand_nodes = list(adj)
    rng.shuffle(rand_nodes)
    twice_m2 = 2 * m**2
    nb_moves = 1
    improvement = False
    while nb_moves > 0:
        nb_moves = 0
        for u in rand_nodes:
            best_mod = 0.0
            best_com = node2com[u]
            weights2com: dict[int, float] = {}
            for nbr, wt in nbrs[u].items():
                com = node2com[nbr]
                weights2com[com] = weights2com.get(com, 0.0) + wt
            if best_com not in weights2com:
                weights2com[best_com] = 0.0  # networkx reads it from a defaultdict, adding it last
            degree = degrees[u]
            stot[best_com] -= degree
            remove_cost = -weights2com[best_com] / m + (stot[best_com] * degree) / twice_m2
            for nbr_com, weight in weights2com.items():
                gain = remove_cost + weight / m - (stot[nbr_com] * degree) / twice_m2
                if gain > best_mod:
                    best_mod = gain
                    best_com = nbr_com
            stot[best_com] += degree
            if best_com != node2com[u]:
                moved = {u} if merged is None else merged[u]
                partition[node2com[u]].difference_update(moved)
                inner[node2com[u]].remove(u)
                partition[best_com].update(moved)
                inner[best_com].add(u)
                improvement = True
                nb_moves += 1
                node2com[u] = best_com
    return list(filter(len, partition)), list(filter(len, inner)), improvement


def _merged_graph(
    adj: _Adjacency, merged: dict[Any, set[str]] | None, inner: list[set[Any]]
) -> tuple[_Adjacency, dict[int, set[str]]]:
    """One node per community (numbered in order), holding its members; links summed."""
    node2com: dict[Any, int] = {}
    members: dict[int, set[str]] = {}
    for i, part in enumerate(inner):
        found: set[str] = set()
        for node in part:
            node2com[node] = i
            found.update({node} if merged is None else merged[node])
        members[i] = found
    out: _Adjacency = {i: {} for i in members}
    for u, v, w in _edge_list(adj):
        a, b = node2com[u], node2com[v]
        total = w + out[a].get(b, 0)
        out[a][b] = total
        out[b][a] = total
    return out, members
