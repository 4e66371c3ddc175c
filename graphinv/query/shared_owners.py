"""shared-owners: persons or firms that own (or, with officers, run) two or more firms."""

from __future__ import annotations

import datetime as dt
import operator
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import networkx as nx
import numpy as np

from graphinv.query._arrays import arrays, first_rows, is_current_links
from graphinv.query._graph import (
    DEFAULT_MAX_DEGREE,
    Entities,
    as_of_date,
    check_count,
    evidence,
    hub_note,
    investigation,
    in_force,
    is_current,
    link_order,
    nodes_of_kind,
    same_as,
)
from graphinv.query.results import Entity, Evidence, Hub, QueryResult, Row, build, labels

__all__ = ["SharedOwner", "SharedOwners", "shared_owners"]


class SharedOwner(Row):
    """An owner (or officer) and the firms it holds (or serves), with the links that say so.

    ``count`` is how many firms it holds. A hub (more than ``max_degree`` firms: a nominee
    service, a fund) lists only its flagged firms in ``companies``, and links only to those."""

    owner: Entity
    rel: Literal["OWNS", "OFFICER_OF"]
    count: int
    companies: tuple[Entity, ...]
    flagged: tuple[Entity, ...]
    hub: bool
    links: tuple[Evidence, ...]

    columns: ClassVar[tuple[str, ...]] = ("owner", "as", "hub", "count", "flagged", "companies")

    def flat(self) -> dict[str, Any]:
        return {
            "owner": self.owner.label,
            "as": "owner" if self.rel == "OWNS" else "officer",
            "hub": self.hub,
            "count": self.count,
            "flagged": labels(self.flagged),
            "companies": labels(self.companies),
        }


class SharedOwners(QueryResult):
    investigation: ClassVar[str] = "shared-owners"
    rows: tuple[SharedOwner, ...] = ()
    total: int = 0

    def hub_line(self, hub: Hub) -> str:
        return f"hub (only its flagged firms named): {hub.entity.label} - {hub.degree:,} firms"


@investigation
def shared_owners(
    graph: nx.MultiDiGraph,
    *,
    flagged: bool = False,
    officers: bool = False,
    as_of: str | dt.date | None = None,
    max_degree: int | None = DEFAULT_MAX_DEGREE,
    include_possible: bool = False,
    limit: int | None = None,
) -> SharedOwners:
    """Owners (persons or firms) of two or more firms on ``as_of`` (default today), any share.

    With ``officers``, also officers who serve two or more firms. With ``flagged``, only owners
    with at least one flagged firm among theirs. An owner or officer of more than ``max_degree``
    firms (a nominee service, a fund) is a hub: listed after the others with ``hub`` set, naming
    only its flagged firms (``max_degree=None``: no hubs, every firm named).
    With ``include_possible``, owners joined by POSSIBLY_SAME_AS count as one. With ``limit``,
    only the first ``limit`` rows are made (``total`` says how many there are): a registry has
    hundreds of thousands of shared owners and officers, and those of the most firms come first.
    """
    limit = None if limit is None else check_count(limit, "limit")
    max_degree = None if max_degree is None else check_count(max_degree, "max_degree")
    day = as_of_date(as_of)
    aliases = same_as(graph) if include_possible else {}
    rels = ("OWNS", "OFFICER_OF") if officers else ("OWNS",)
    entity = Entities(graph)
    if limit is not None and not aliases:
        return _head(graph, rels, day, flagged, max_degree, limit, entity)
    # First what orders the rows (most firms first, hubs last), then rows only for those shown.
    found: list[tuple[tuple[Any, ...], str, dict[str, list[dict[str, Any]]]]] = []
    for rel in rels:
        if aliases:
            held, count, flagged_of = _held_with_aliases(graph, rel, day, max_degree, aliases)
        else:
            held, count, flagged_of = _held(graph, rel, _holdings(graph, rel, day, flagged, max_degree))
        for owner, firms in held.items():
            flagged_count = flagged_of[owner]
            if flagged and not flagged_count:
                continue
            hub = max_degree is not None and count[owner] > max_degree
            key = (hub, -count[owner], -flagged_count, rel != "OWNS", entity.name(owner), owner)
            found.append((key, rel, firms))
    found.sort(key=_first)
    hubs = [Hub(entity=entity(key[5]), degree=-key[1]) for key, _, _ in found if key[0]]
    notes = [hub_note(len(hubs), max_degree, "firms")] if hubs else []
    if limit is not None and len(found) > limit:
        notes.append(f"{len(found):,} shared owners; the first {limit:,} are shown")
    rows = [
        _row(graph, entity, owner, rel, -count, hub, firms, aliases, day)
        for (hub, count, _, _, _, owner), rel, firms in found[:limit]
    ]
    return SharedOwners(rows=tuple(rows), hubs=tuple(hubs), notes=tuple(notes), total=len(found))


def _head(
    graph: nx.MultiDiGraph,
    rels: tuple[str, ...],
    day: str,
    flagged: bool,
    max_degree: int | None,
    limit: int,
    entity: Entities,
) -> SharedOwners:
    """``shared_owners`` cut to its first ``limit`` rows, ordered from the link arrays: only the rows
    shown are read from the graph."""
    arr = arrays(graph)
    holdings = {rel: _holdings(graph, rel, day, flagged, max_degree) for rel in rels}
    chosen, total, hub_degrees = _first_owners(graph, holdings, limit, entity)
    held: dict[str, _Held] = {}
    for rel, h in holdings.items():
        only = np.zeros(len(arr.ids), dtype=bool)
        only[[at for r, at in chosen if r == rel]] = True
        held[rel] = _held(graph, rel, h, only)[0]
    rows = []
    for rel, at in chosen:
        owner, count = arr.ids[at], int(holdings[rel].firms[at])
        hub = max_degree is not None and count > max_degree
        rows.append(_row(graph, entity, owner, rel, count, hub, held[rel][owner], {}, day))
    hubs = [Hub(entity=entity(owner), degree=count) for owner, count in hub_degrees]
    notes = [hub_note(len(hubs), max_degree, "firms")] if hubs else []
    if total > limit:
        notes.append(f"{total:,} shared owners; the first {limit:,} are shown")
    return SharedOwners(rows=tuple(rows), hubs=tuple(hubs), notes=tuple(notes), total=total)


def _row(
    graph: nx.MultiDiGraph,
    entity: Entities,
    owner: str,
    rel: str,
    count: int,
    hub: bool,
    firms: dict[str, list[dict[str, Any]]],
    aliases: dict[str, str],
    day: str,
) -> SharedOwner:
    companies = sorted(map(entity, firms), key=_by_name)
    links = [in_force(l, day) for f in firms.values() for l in f]  # a share or role as it stood on ``day``
    if aliases:
        links += _same_as_links(graph, owner, aliases)
    links.sort(key=link_order)
    return build(
        SharedOwner,
        {
            "owner": entity(owner),
            "rel": rel,
            "count": count,
            "companies": tuple(companies),
            "flagged": tuple(c for c in companies if c.flagged),
            "hub": hub,
            "links": tuple(evidence(graph, l, entity.name) for l in links),
        },
    )


#: Each owner's firms, each with the links that say so (one per firm, more with aliases).
_Held = dict[str, dict[str, list[dict[str, Any]]]]


@dataclass
class _Holdings:
    """Who holds which firms by one kind of link on one day, over the graph's arrays."""

    src: np.ndarray  # per current link: its owner's position
    dst: np.ndarray  # per current link: its firm's position
    keep: np.ndarray  # per current link: a row names it
    firms: np.ndarray  # per node: firms it holds
    flagged_firms: np.ndarray  # per node: flagged firms a row names
    owner: np.ndarray  # per node: has a row
    hub: np.ndarray  # per node: has a hub's row


def _holdings(graph: nx.MultiDiGraph, rel: str, day: str, flagged: bool, max_degree: int | None) -> _Holdings:
    """The persons and firms that hold two or more firms by ``rel`` links current on ``day`` (with
    ``flagged``, only those holding a flagged firm), and the links their rows name: of a hub only
    those to flagged firms. A registry has millions of owners, most of one firm, and a nominee's
    hundreds of firms would otherwise each be read only to be left out."""
    arr = arrays(graph)
    links = arr.links_of(rel)
    # A firm's stake in itself is no other firm held.
    links = links[is_current_links(arr, links, day) & (arr.src[links] != arr.dst[links])]
    src, dst = arr.src[links].astype(np.int64), arr.dst[links].astype(np.int64)
    n = len(arr.ids)
    firms = np.bincount(src, minlength=n)
    owner = (firms >= 2) & arr.party()
    to_flagged = arr.flagged[dst]
    if flagged:
        holds_flagged = np.zeros(n, dtype=bool)
        holds_flagged[src[to_flagged]] = True
        owner &= holds_flagged
    hub = owner & (firms > max_degree) if max_degree is not None else np.zeros(n, dtype=bool)
    keep = owner[src] & (~hub[src] | to_flagged)
    flagged_firms = np.bincount(src[keep & to_flagged], minlength=n)
    return _Holdings(src, dst, keep, firms, flagged_firms, owner, hub)


def _held(
    graph: nx.MultiDiGraph, rel: str, holdings: _Holdings, only: np.ndarray | None = None
) -> tuple[_Held, dict[str, int], dict[str, int]]:
    """Each owner's firms as its row names them (of the owners in ``only``, a mask over the
    nodes, if given), with how many firms it holds and how many of those named are flagged."""
    arr, h = arrays(graph), holdings
    keep, hub = (h.keep, h.hub) if only is None else (h.keep & only[h.src], h.hub & only)
    ids, succ = arr.ids, graph._succ
    held: _Held = {ids[o]: {} for o in np.flatnonzero(hub).tolist()}  # a hub may name no firm
    for o, f in zip(h.src[keep].tolist(), h.dst[keep].tolist()):
        who, firm = ids[o], ids[f]
        held.setdefault(who, {})[firm] = [succ[who][firm][rel]]
    at = [arr.pos[o] for o in held]
    return held, dict(zip(held, h.firms[at].tolist())), dict(zip(held, h.flagged_firms[at].tolist()))


def _first_owners(
    graph: nx.MultiDiGraph, holdings: dict[str, _Holdings], limit: int, entity: Entities
) -> tuple[list[tuple[str, int]], int, list[tuple[str, int]]]:
    """The (relationship, owner position) of the first ``limit`` rows in order, how many rows
    there are, and every hub's (owner id, firms) in row order: from the counts alone, names read
    only where counts tie around the cut (and for the hubs)."""
    arr = arrays(graph)
    ids, n = arr.ids, len(arr.ids)
    rels = list(holdings)
    items, keys = [], []
    for r, h in enumerate(holdings.values()):
        at = np.flatnonzero(h.owner)
        items.append(r * n + at)
        keys.append(np.stack([h.hub[at].astype(np.int64), -h.firms[at], -h.flagged_firms[at], np.full(len(at), r)]))
    every, ordered = np.concatenate(items), np.concatenate(keys, axis=1)

    def name(item: int) -> tuple[str, str]:
        owner = ids[item % n]
        return entity.name(owner), owner

    chosen = first_rows(ordered, every, limit, name)
    hubs = sorted(
        (tuple(k), name(i), i) for k, i in zip(ordered[:, ordered[0] == 1].T.tolist(), every[ordered[0] == 1].tolist())
    )
    return [(rels[i // n], i % n) for i in chosen], len(every), [(ids[i % n], -k[1]) for k, _, i in hubs]


def _held_with_aliases(
    graph: nx.MultiDiGraph, rel: str, day: str, max_degree: int | None, aliases: dict[str, str]
) -> tuple[_Held, dict[str, int], dict[str, int]]:
    """``_held`` with owners joined by POSSIBLY_SAME_AS counted as one (their representative)."""
    succ, nodes = graph._succ, graph._node
    held: _Held = {}
    for owner in (o for kind in ("Person", "Company") for o in nodes_of_kind(graph, kind)):
        targets = succ[owner]
        if len(targets) < 2 and owner not in aliases:
            continue
        for firm, keys in targets.items():
            attrs = keys.get(rel)
            if attrs is not None and firm != owner and is_current(attrs, day):
                held.setdefault(aliases.get(owner, owner), {}).setdefault(firm, []).append(attrs)
    count = {owner: len(firms) for owner, firms in held.items() if len(firms) >= 2}
    for owner, n in count.items():
        if max_degree is not None and n > max_degree:
            held[owner] = {f: links for f, links in held[owner].items() if nodes[f].get("flagged")}
    kept = {owner: held[owner] for owner in count}
    return kept, count, {o: sum(1 for f in firms if nodes[f].get("flagged")) for o, firms in kept.items()}


#: Companies in a row: by name, then id.
_by_name = operator.attrgetter("name", "id")
_first = operator.itemgetter(0)


def _same_as_links(graph: nx.MultiDiGraph, rep: str, aliases: dict[str, str]) -> list[dict[str, Any]]:
    members = {n for n, r in aliases.items() if r == rep}
    found = []
    for member in members:
        for other, keys in graph._succ[member].items():
            if other in members and "POSSIBLY_SAME_AS" in keys:
                found.append(keys["POSSIBLY_SAME_AS"])
    return found
