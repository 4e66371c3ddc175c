"""shared-owners: persons or firms that own (or, with officers, run) two or more firms."""

from __future__ import annotations

import datetime as dt
import operator
from typing import Any, ClassVar, Literal

import networkx as nx
import numpy as np

from graphinv.exc import GraphinvError
from graphinv.query._arrays import arrays, is_current_links
from graphinv.query._graph import (
    DEFAULT_MAX_DEGREE,
    Entities,
    as_of_date,
    evidence,
    hub_note,
    investigation,
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
    if limit is not None and limit < 1:
        raise GraphinvError(f"limit must be at least 1, got {limit!r}")
    day = as_of_date(as_of)
    aliases = same_as(graph) if include_possible else {}
    nodes = graph._node
    # First what orders the rows (most firms first, hubs last), then rows only for those shown.
    found: list[tuple[tuple[Any, ...], str, dict[str, list[dict[str, Any]]]]] = []
    for rel in ("OWNS", "OFFICER_OF") if officers else ("OWNS",):
        if aliases:
            held, count, flagged_of = _held_with_aliases(graph, rel, day, max_degree, aliases)
        else:
            held, count, flagged_of = _held(graph, rel, day, flagged, max_degree)
        for owner, firms in held.items():
            flagged_count = flagged_of[owner]
            if flagged and not flagged_count:
                continue
            hub = max_degree is not None and count[owner] > max_degree
            name = str(nodes[owner].get("name") or owner)  # Entity.name
            found.append(((hub, -count[owner], -flagged_count, rel != "OWNS", name, owner), rel, firms))
    found.sort(key=_first)
    entity = Entities(graph)
    hubs = [Hub(entity=entity(key[5]), degree=-key[1]) for key, _, _ in found if key[0]]
    notes = [hub_note(len(hubs), max_degree, "firms")] if hubs else []
    if limit is not None and len(found) > limit:
        notes.append(f"{len(found):,} shared owners; the first {limit:,} are shown")
    rows = [_row(graph, entity, key, rel, firms, aliases) for key, rel, firms in found[:limit]]
    return SharedOwners(rows=tuple(rows), hubs=tuple(hubs), notes=tuple(notes), total=len(found))


def _row(
    graph: nx.MultiDiGraph,
    entity: Entities,
    key: tuple[Any, ...],
    rel: str,
    firms: dict[str, list[dict[str, Any]]],
    aliases: dict[str, str],
) -> SharedOwner:
    hub, count, owner = key[0], -key[1], key[5]
    companies = sorted(map(entity, firms), key=_by_name)
    links = [l for f in firms.values() for l in f]
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


def _held(
    graph: nx.MultiDiGraph, rel: str, day: str, flagged: bool, max_degree: int | None
) -> tuple[_Held, dict[str, int], dict[str, int]]:
    """The firms each person or firm holds by ``rel`` links current on ``day``, if two or more,
    with how many and how many of them flagged; with ``flagged`` only owners of a flagged firm; of
    a hub only the flagged firms.

    Read off the graph's arrays: a registry has millions of owners, most of one firm, and a
    nominee's hundreds of firms would otherwise each be read only to be left out."""
    arr = arrays(graph)
    links = arr.links_of(rel)
    links = links[is_current_links(arr, links, day)]
    src, dst = arr.src[links].astype(np.int64), arr.dst[links].astype(np.int64)
    n = len(arr.ids)
    firms = np.bincount(src, minlength=n)
    party = np.isin(arr.kind, [arr.kind_code("Person"), arr.kind_code("Company")])
    owner = (firms >= 2) & party
    if flagged:
        holds_flagged = np.zeros(n, dtype=bool)
        holds_flagged[src[arr.flagged[dst]]] = True
        owner &= holds_flagged
    hub = owner & (firms > max_degree) if max_degree is not None else np.zeros(n, dtype=bool)
    to_flagged = arr.flagged[dst]
    keep = owner[src] & (~hub[src] | to_flagged)
    flagged_firms = np.bincount(src[keep & to_flagged], minlength=n)
    ids, succ = arr.ids, graph._succ
    held: _Held = {ids[o]: {} for o in np.flatnonzero(hub).tolist()}  # a hub may name no firm
    for o, f in zip(src[keep].tolist(), dst[keep].tolist()):
        who, firm = ids[o], ids[f]
        held.setdefault(who, {})[firm] = [succ[who][firm][rel]]
    at = [arr.pos[o] for o in held]
    return held, dict(zip(held, firms[at].tolist())), dict(zip(held, flagged_firms[at].tolist()))


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
            if attrs is not None and is_current(attrs, day):
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
