"""freeze-list: the entities a freeze order must name, why each is there, and every account they hold."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import networkx as nx
import numpy as np

from graphinv.exc import GraphinvError
from graphinv.query._arrays import arrays, gather
from graphinv.query._graph import (
    Entities,
    as_of_date,
    evidence,
    flagged_firms,
    in_force,
    investigation,
    is_current,
    link_order,
    same_as,
)
from graphinv.query.refs import resolve_refs
from graphinv.query.results import Account, Entity, Evidence, QueryResult, Row, build
from graphinv.query.ubo import direct_stakes, limit_notes, ownership, stakes

__all__ = ["FreezeEntry", "FreezeList", "freeze_list"]

Role = Literal["named", "chain", "owner", "spouse", "officer"]
_ROLE_ORDER = {"named": 0, "chain": 1, "owner": 2, "spouse": 3, "officer": 4}


class FreezeEntry(Row):
    """One entity to name in the order: why (``role`` and ``reasons``, a watch list with the rows
    that state it), through which chains or family links, and its accounts (with those already
    frozen marked); ``links`` are the evidence of all of it, the HOLDS links of its accounts too."""

    entity: Entity
    role: Role
    reason: str
    reasons: tuple[str, ...]
    accounts: tuple[Account, ...]
    paths: tuple[tuple[str, ...], ...]
    links: tuple[Evidence, ...]

    columns: ClassVar[tuple[str, ...]] = ("entity", "kind", "role", "reason", "accounts")

    def flat(self) -> dict[str, Any]:
        return {
            "entity": self.entity.label,
            "kind": self.entity.kind,
            "role": self.role,
            "reason": list(self.reasons),
            "accounts": [a.label for a in self.accounts],
        }


class FreezeList(QueryResult):
    investigation: ClassVar[str] = "freeze-list"
    rows: tuple[FreezeEntry, ...] = ()
    as_of: str
    min_share: float


@dataclass
class _Entry:
    role: str
    reasons: list[str] = field(default_factory=list)
    paths: list[tuple[str, ...]] = field(default_factory=list)
    links: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)

    def add(
        self, role: str, reason: str | None, paths: Sequence[tuple[str, ...]] = (), links: Sequence[dict[str, Any]] = ()
    ) -> None:
        if _ROLE_ORDER[role] < _ROLE_ORDER[self.role]:
            self.role = role
        if reason and reason not in self.reasons:
            self.reasons.append(reason)
        for path in paths:
            if path not in self.paths:
                self.paths.append(path)
        for link in links:
            self.links[(link["rel"], link["source"], link["target"])] = link


def _pct(value: float) -> str:
    return f"{round(value, 2):g}%"


@investigation
def freeze_list(
    graph: nx.MultiDiGraph,
    *,
    flagged: bool = False,
    around: Sequence[str] | None = None,
    min_share: float = 25.0,
    spouses: bool = True,
    officers: bool = False,
    as_of: str | dt.date | None = None,
    include_possible: bool = False,
) -> FreezeList:
    """The entities a freeze order must name, starting from the firms ``around`` names (REFs) or,
    with ``flagged`` (the default when no REF is given), from every flagged firm.

    It adds every owner whose effective share (ubo, on ``as_of``) in one of those firms is at least
    ``min_share``, every firm on those owners' ownership chains, and (unless ``spouses`` is False)
    the spouses of the persons so added; with ``officers``, the current officers of every firm on
    the list. Each entry says why, with the chains and links, and lists every account it holds.
    Owners whose share is unknown are not listed (a freeze order needs a known stake); the notes
    name them.
    """
    if around and flagged:
        raise GraphinvError("Give either flagged=True or around=[REF, ...], not both")
    if not 0.0 <= min_share <= 100.0:
        raise GraphinvError(f"min_share must be a percentage between 0 and 100, got {min_share!r}")
    day = as_of_date(as_of)
    if around:
        seeds = resolve_refs(graph, around, kinds=("Company", "Person"))
    else:
        seeds = flagged_firms(graph)
    aliases = same_as(graph) if include_possible else None
    entries: dict[str, _Entry] = {}

    def add(
        node: str,
        role: str,
        reason: str | None,
        paths: Sequence[tuple[str, ...]] = (),
        links: Sequence[dict[str, Any]] = (),
    ) -> None:
        entry = entries.get(node)
        if entry is None:
            entry = entries[node] = _Entry(role=role)
        entry.add(role, reason, paths, links)

    entity = Entities(graph)  # each node read once, however many entries and sentences name it
    name = entity.name
    said: dict[tuple[str, str, str], Evidence] = {}  # a chain's links are listed by every firm on it

    def worded(link: dict[str, Any]) -> Evidence:
        key = (link["rel"], link["source"], link["target"])
        found = said.get(key)
        if found is None:
            found = said[key] = evidence(graph, link, name)
        return found

    def listed(node: str) -> str:
        """Its watch-list entries with the rows that state them ("DEA-2021 (2021-03-01) - ... [flags.csv:5]")."""
        return "; ".join(graph._node[node].get("flag_reasons") or entity(node).flags)

    for seed in seeds:
        add(seed, "named", f"flagged: {listed(seed)}" if entity(seed).flags else "named in the request")

    notes: list[str] = []
    # Per entity and seed firm: its effective share, through which firms, on whose chains it lies.
    owns: dict[str, dict[str, tuple[float, tuple[str, ...]]]] = {}
    chain_of: dict[str, dict[str, set[str]]] = {}
    below: dict[str, dict[str, float]] = {}
    company_seeds = sorted((s for s in seeds if entity(s).kind == "Company"), key=lambda s: (name(s), s))
    owners_read: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for seed in company_seeds:
        found = None if aliases else direct_stakes(graph, seed, day, owners_read)
        if found is None:
            walked = ownership(graph, seed, day, aliases=aliases, owners=owners_read)
            notes += limit_notes(walked, entity(seed).label)
            found = stakes(graph, day, walked)
        for row in found:
            owner = row.owner
            if row.effective_pct is not None and row.effective_pct >= min_share:
                via = () if row.direct_pct is not None else next((p[1:-1] for p in row.paths if len(p) > 2), ())
                owns.setdefault(owner, {})[seed] = (row.effective_pct, via)
                stake_links = row.links
                add(owner, "owner", None, row.paths, stake_links)
                for chain in row.paths:
                    for firm in chain[1:-1]:
                        add(firm, "chain", None, [chain], stake_links)
                        if row.ultimate:
                            chain_of.setdefault(firm, {}).setdefault(seed, set()).add(owner)
            elif not row.share_known and (row.max_pct or 0.0) >= min_share:
                notes.append(
                    f"{entity(owner).label} owns an unknown share of {name(seed)} "
                    f"(at most {_pct(row.max_pct or 0.0)}): "
                    "not listed; establish the share"
                )
            elif row.effective_pct:
                below.setdefault(owner, {})[seed] = row.effective_pct

    if spouses:
        persons = [n for n, e in entries.items() if e.role in ("named", "owner") and entity(n).kind == "Person"]
        married = _spouses(graph, persons)
        for person in persons:
            for spouse, link in married.get(person, ()):
                add(spouse, "spouse", f"spouse of {name(person)}", [(spouse, person)], [link])

    if officers:
        for firm in [n for n in entries if entity(n).kind == "Company"]:
            for officer, keys in sorted(graph._pred[firm].items()):
                link = keys.get("OFFICER_OF")
                if link is not None and is_current(link, day):
                    link = in_force(link, day)
                    role = link.get("role") or "officer"
                    add(officer, "officer", f"{role} of {name(firm)}", [(officer, firm)], [link])

    held = _accounts(graph, list(entries))
    built = []
    for node, entry in entries.items():
        reasons = list(entry.reasons)
        for seed, (pct, via) in owns.get(node, {}).items():
            through = f" through {' > '.join(name(n) for n in via)}" if via else ""
            reasons.append(f"owns {_pct(pct)} of {name(seed)}{through}")
        for seed, owners in chain_of.get(node, {}).items():
            whose = ", ".join(name(o) for o in sorted(owners, key=lambda o: (name(o), o)))
            reasons.append(f"on the ownership chain of {whose} to {name(seed)}")
        if entity(node).flags and entry.role != "named":
            reasons.append(f"on a watch list: {listed(node)}")
        for seed, pct in below.get(node, {}).items():
            reasons.append(f"also owns {_pct(pct)} of {name(seed)} (below {_pct(min_share)})")
        holds = held.get(node)  # most entries hold no account or one: no sort to set up then
        accounts = [Account.of(graph, a) for a in holds] if holds else []
        if len(accounts) > 1:
            accounts.sort(key=lambda a: (a.bundle_id or "", a.number or "", a.id))
        # The links that put it on the list, and those that say it holds each account.
        links = list(entry.links.values())
        if holds:
            links += [graph._succ[node][a]["HOLDS"] for a in holds]
        if len(links) > 1:
            links.sort(key=link_order)
        built.append(
            build(
                FreezeEntry,
                {
                    "entity": entity(node),
                    "role": entry.role,
                    "reason": "; ".join(reasons),
                    "reasons": tuple(reasons),
                    "accounts": tuple(accounts),
                    "paths": tuple(entry.paths),
                    "links": tuple(worded(l) for l in links),
                },
            )
        )
    built.sort(key=lambda e: (_ROLE_ORDER[e.role], e.entity.kind != "Company", e.entity.name, e.entity.id))
    return FreezeList(rows=tuple(built), as_of=day, min_share=min_share, notes=tuple(dict.fromkeys(notes)))


def _accounts(graph: nx.MultiDiGraph, holders: list[str]) -> dict[str, list[str]]:
    """The accounts each holder holds (HOLDS links out), from the graph's arrays: a firm's links out
    include every shipment it imported or exported, read one by one otherwise."""
    arr = arrays(graph)
    holds = arr.rel_code("HOLDS")
    if holds < 0 or not holders:
        return {}
    at = np.fromiter((arr.pos[n] for n in holders), dtype=np.int64, count=len(holders))
    owner, entry = gather(arr.indptr, arr.adj, at)
    link = arr.adj_link[entry]
    keep = (arr.rel[link] == holds) & (arr.src[link] == owner)
    found: dict[str, list[str]] = {}
    ids = arr.ids
    for holder, account in zip(owner[keep].tolist(), arr.dst[link[keep]].tolist()):
        found.setdefault(ids[holder], []).append(ids[account])
    return found


def _spouses(graph: nx.MultiDiGraph, persons: list[str]) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Each person's spouses with the FAMILY link that says so, by spouse id (a link out before one
    in), from the graph's arrays."""
    arr = arrays(graph)
    if not persons:
        return {}
    at = np.fromiter((arr.pos[n] for n in persons), dtype=np.int64, count=len(persons))
    person, entry = gather(arr.indptr, arr.adj, at)
    link = arr.adj_link[entry]
    other = arr.adj[entry]
    keep = arr.spouse[link] & (other != person)
    ids, succ = arr.ids, graph._succ
    found: dict[str, list[tuple[str, int, dict[str, Any]]]] = {}
    for p, o, l in zip(person[keep].tolist(), other[keep].tolist(), link[keep].tolist()):
        out = int(arr.src[l]) == p
        source, target = (ids[p], ids[o]) if out else (ids[o], ids[p])
        found.setdefault(ids[p], []).append((ids[o], 0 if out else 1, succ[source][target]["FAMILY"]))
    return {p: [(o, attrs) for o, _, attrs in sorted(links, key=lambda x: x[:2])] for p, links in found.items()}
