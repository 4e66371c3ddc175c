"""shared-addresses: addresses that two or more firms or persons give, largest first, hubs apart."""

from __future__ import annotations

import operator
from collections.abc import Iterable
from typing import Any, ClassVar

import networkx as nx
import numpy as np

from graphinv.query._arrays import arrays, first_rows
from graphinv.query._graph import (
    DEFAULT_MAX_DEGREE,
    PARTY_KINDS,
    Entities,
    check_count,
    evidence,
    flagged_nodes,
    hub_note,
    investigation,
    nodes_of_kind,
    same_as,
)
from graphinv.query.results import Entity, Evidence, Hub, QueryResult, Row, labels

__all__ = ["SharedAddress", "SharedAddresses", "shared_addresses"]


class SharedAddress(Row):
    """One building (or, with ``include_possible``, a group of possibly-same addresses) and who uses it.

    ``count`` is how many firms and persons give it. A hub (more than ``max_degree`` of them: a
    formation agent's office) lists only the flagged ones in ``entities``, and links only theirs."""

    address: str
    address_ids: tuple[str, ...]
    count: int
    entities: tuple[Entity, ...]
    flagged: tuple[Entity, ...]
    hub: bool
    links: tuple[Evidence, ...]

    columns: ClassVar[tuple[str, ...]] = ("address", "hub", "count", "flagged", "entities")

    def flat(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "hub": self.hub,
            "count": self.count,
            "flagged": labels(self.flagged),
            "entities": labels(self.entities),
        }


class SharedAddresses(QueryResult):
    investigation: ClassVar[str] = "shared-addresses"
    rows: tuple[SharedAddress, ...] = ()
    total: int = 0

    def hub_line(self, hub: Hub) -> str:
        return f"hub (only its flagged firms and persons named): {hub.entity.label} - {hub.degree:,} firms and persons"


@investigation
def shared_addresses(
    graph: nx.MultiDiGraph,
    *,
    flagged: bool = False,
    max_degree: int | None = DEFAULT_MAX_DEGREE,
    include_possible: bool = False,
    limit: int | None = None,
) -> SharedAddresses:
    """Addresses given by two or more firms or persons, each with who gives it and the source rows.

    With ``flagged``, only addresses where at least one of them is flagged. An address given by
    more than ``max_degree`` firms and persons (a formation agent's virtual office) is a hub: it is
    listed after the leads with ``hub`` set, naming only its flagged firms and persons, not as a
    lead (``max_degree=None``: no hubs, everyone named).
    With ``include_possible``, addresses joined by POSSIBLY_SAME_AS count as one. With ``limit``,
    only the first ``limit`` rows are made (``total`` says how many there are): a registry shares
    hundreds of thousands of addresses, and the largest come first.
    """
    limit = None if limit is None else check_count(limit, "limit")
    max_degree = None if max_degree is None else check_count(max_degree, "max_degree")
    nodes = graph._node
    groups: dict[str, list[str]] = {}
    aliases = same_as(graph) if include_possible else {}
    preds = graph._pred
    head = limit is not None and not aliases
    addresses: Iterable[str]
    total = 0
    hub_degrees: list[tuple[str, int]] = []
    if head:
        # Only the addresses of the rows shown, in order: from the link arrays.
        addresses, total, hub_degrees = _first_addresses(graph, flagged, max_degree, limit or 0)
    elif flagged and not aliases:
        # Only addresses a flagged entity gives can qualify: start from those, not every address.
        addresses = dict.fromkeys(
            a for n in flagged_nodes(graph) for a, keys in graph._succ[n].items() if "HAS_ADDRESS" in keys
        )
    elif not aliases:
        # Only addresses with two or more links in can qualify (most have one): from the arrays.
        arr = arrays(graph)
        shared = (arr.kind == arr.kind_code("Address")) & (arr.in_count >= 2)
        addresses = [arr.ids[i] for i in np.flatnonzero(shared).tolist()]
    else:
        addresses = nodes_of_kind(graph, "Address")
    for address in addresses:
        if len(preds[address]) < 2 and address not in aliases:
            continue  # most addresses have one holder: skip them before any work
        groups.setdefault(aliases.get(address, address), []).append(address)
    # First what orders the rows (largest first, hubs last), then rows only for those shown.
    found: list[tuple[tuple[Any, ...], str, list[str], dict[str, None], list[dict[str, Any]], int]] = []
    hubs: list[Hub] = []
    for rep, members in groups.items():
        holders: dict[str, None] = {}
        links: list[dict[str, Any]] = []
        for address in members:
            for holder, keys in graph._pred[address].items():
                attrs = keys.get("HAS_ADDRESS")
                if attrs is not None and nodes[holder].get("kind") in PARTY_KINDS:
                    holders.setdefault(holder, None)
                    links.append(attrs)
        count = len(holders)
        if count < 2:
            continue
        is_hub = max_degree is not None and count > max_degree
        if is_hub:
            holders = {h: None for h in holders if nodes[h].get("flagged")}
            links = [l for l in links if l["source"] in holders]
            flagged_count = len(holders)
        else:
            flagged_count = sum(1 for h in holders if nodes[h].get("flagged"))
        if flagged and not flagged_count:
            continue
        text = _address_text(nodes, rep)
        found.append(
            ((is_hub, -count, -flagged_count, text, tuple(sorted(members))), rep, members, holders, links, count)
        )
        if is_hub and not head:
            hubs.append(Hub(entity=Entity.of(graph, rep), degree=count))
    found.sort(key=_first)
    if head:
        hubs = [Hub(entity=Entity.of(graph, a), degree=d) for a, d in hub_degrees]
    else:
        total = len(found)
    hubs.sort(key=lambda h: (-h.degree, h.entity.name, h.entity.id))
    notes = [hub_note(len(hubs), max_degree, "firms and persons")] if hubs else []
    if limit is not None and total > limit:
        notes.append(f"{total:,} shared addresses; the first {limit:,} are shown")
    entity = Entities(graph)
    rows: list[SharedAddress] = []
    for (is_hub, _, _, text, address_ids), rep, members, holders, links, count in found[:limit]:
        entities = sorted((entity(h) for h in holders), key=_entity_order)
        if include_possible and len(members) > 1:
            for address in members:
                for other, keys in graph._succ[address].items():
                    if other in members and "POSSIBLY_SAME_AS" in keys:
                        links.append(keys["POSSIBLY_SAME_AS"])
        rows.append(
            SharedAddress(
                address=text,
                address_ids=address_ids,
                count=count,
                entities=tuple(entities),
                flagged=tuple(e for e in entities if e.flagged),
                hub=is_hub,
                links=tuple(
                    evidence(graph, l) for l in sorted(links, key=lambda l: (l["source"], l["target"], l["rel"]))
                ),
            )
        )
    return SharedAddresses(rows=tuple(rows), hubs=tuple(hubs), notes=tuple(notes), total=total)


def _first_addresses(
    graph: nx.MultiDiGraph, flagged: bool, max_degree: int | None, limit: int
) -> tuple[list[str], int, list[tuple[str, int]]]:
    """The addresses of the first ``limit`` rows in order, how many rows there are, and every hub
    with its degree, from the link arrays: ordering a registry's hundreds of thousands of shared
    addresses needs only how many firms and persons (and flagged ones) give each, and the address
    text only where those tie."""
    arr = arrays(graph)
    has = arr.links_of("HAS_ADDRESS")
    holder, address = arr.src[has].astype(np.int64), arr.dst[has].astype(np.int64)
    keep = arr.party()[holder] & (arr.kind[address] == arr.kind_code("Address"))
    n = len(arr.ids)
    count = np.bincount(address[keep], minlength=n)
    flagged_count = np.bincount(address[keep & arr.flagged[holder]], minlength=n)
    shared = count >= 2
    if flagged:
        shared &= flagged_count > 0
    at = np.flatnonzero(shared)
    hub = count[at] > max_degree if max_degree is not None else np.zeros(len(at), dtype=bool)
    ids, nodes = arr.ids, graph._node
    hubs = [(ids[i], int(count[i])) for i in at[hub].tolist()]

    def text(i: int) -> tuple[str, str]:
        return _address_text(nodes, ids[i]), ids[i]

    keys = np.stack([hub.astype(np.int64), -count[at], -flagged_count[at]])
    return [ids[i] for i in first_rows(keys, at, limit, text)], len(at), hubs


_first = operator.itemgetter(0)


def _address_text(nodes: dict[str, Any], address: str) -> str:
    """How a row names its building (and, where counts tie, orders it)."""
    attrs = nodes[address]
    return str(attrs.get("text") or attrs.get("name") or address)


def _entity_order(entity: Entity) -> tuple[int, str, str]:
    # Firms before persons, then by name: the order an analyst reads a building in.
    return (0 if entity.kind == "Company" else 1, entity.name, entity.id)
