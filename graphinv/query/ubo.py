"""ubo: who really owns a firm, multiplying shares along every ownership chain, cycles handled."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, ClassVar

import networkx as nx

from graphinv.exc import GraphinvError
from graphinv.query._graph import as_of_date, evidence, in_force, investigation, is_current, same_as
from graphinv.query.refs import resolve_ref
from graphinv.query.results import Entity, Evidence, QueryResult, Row

__all__ = ["MAX_CHAINS", "MAX_DEPTH", "Ubo", "UboOwner", "ubo"]

#: Chains longer than this are not followed (real registries have chains of 15 and more hops).
MAX_DEPTH = 40
#: A guard against combinatorial blow-up in dense cross-holdings; the result says when it bit.
MAX_CHAINS = 200_000


class UboOwner(Row):
    """An owner's effective share of the firm: the sum over its simple chains of the product of the
    shares along each. ``effective_pct`` counts the chains whose shares are all known (None if
    none is); ``max_pct`` adds what chains through an unknown share could at most carry."""

    owner: Entity
    effective_pct: float | None
    max_pct: float | None
    share_known: bool
    direct_pct: float | None
    ultimate: bool
    paths: tuple[tuple[str, ...], ...]
    links: tuple[Evidence, ...]

    columns: ClassVar[tuple[str, ...]] = ("owner", "kind", "effective_pct", "direct_pct", "ultimate", "paths")

    def flat(self) -> dict[str, Any]:
        return {
            "owner": self.owner.label,
            "kind": self.owner.kind,
            "effective_pct": _pct_text(self),
            "direct_pct": "" if self.direct_pct is None else f"{self.direct_pct:g}",
            "ultimate": self.ultimate,
            "paths": len(self.paths),
        }


def _pct_text(row: UboOwner) -> str:
    if row.share_known:
        return f"{row.effective_pct:g}"
    known = f"{row.effective_pct:g} known" if row.effective_pct is not None else "unknown"
    return f"{known}, up to {row.max_pct:g}" if row.max_pct is not None else known


class Ubo(QueryResult):
    investigation: ClassVar[str] = "ubo"
    rows: tuple[UboOwner, ...] = ()
    firm: Entity
    as_of: str
    cycles: tuple[tuple[str, ...], ...] = ()
    truncated: bool = False  # a limit (MAX_CHAINS chains, MAX_DEPTH links) cut the walk: see the notes


@dataclass
class _Stake:
    known: float = 0.0
    unknown_bound: float = 0.0
    any_known: bool = False
    any_unknown: bool = False
    direct: float | None = None
    paths: list[tuple[str, ...]] = field(default_factory=list)
    links: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)


@dataclass
class _Ownership:
    stakes: dict[str, _Stake]
    cycles: set[tuple[str, ...]]
    truncated: bool  # stopped after max_chains chains
    too_deep: bool  # a chain reached max_depth links with owners further up, not followed
    owners: dict[str, list[tuple[str, dict[str, Any]]]]  # _owners_of() of each firm read


def _owners_of(graph: nx.MultiDiGraph, firm: str, day: str) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for owner, keys in graph._pred[firm].items():
        attrs = keys.get("OWNS")
        if attrs is not None and is_current(attrs, day):
            found.append((owner, in_force(attrs, day)))
    found.sort(key=lambda item: item[0])
    return found


def _owners_read(
    graph: nx.MultiDiGraph, owners: dict[str, list[tuple[str, dict[str, Any]]]], firm: str, day: str
) -> list[tuple[str, dict[str, Any]]]:
    """``_owners_of(firm)``, read once into ``owners`` (each firm's current owners on ``day``)."""
    found = owners.get(firm)
    if found is None:
        found = owners[firm] = _owners_of(graph, firm, day)
    return found


def _only_self_owned(
    graph: nx.MultiDiGraph, owners: dict[str, list[tuple[str, dict[str, Any]]]], firm: str, day: str
) -> bool:
    """Whether a firm has no current owner but itself: a stake in itself (treasury shares) is no
    outside owner, so such a firm ends its chains (is ultimate)."""
    return all(owner == firm for owner, _ in _owners_read(graph, owners, firm, day))


def limit_notes(found: _Ownership, firm_label: str | None = None) -> list[str]:
    """What an answer says when ``ownership`` stopped at ``MAX_CHAINS`` chains or cut chains
    longer than ``MAX_DEPTH`` links (``firm_label``: whose, where an answer covers several firms)."""
    whose = f"{firm_label}: " if firm_label else ""
    notes = []
    if found.truncated:
        notes.append(f"{whose}stopped after {MAX_CHAINS:,} ownership chains: shares are lower bounds")
    if found.too_deep:
        notes.append(
            f"{whose}ownership chains longer than {MAX_DEPTH} links were cut: "
            "the owners further up are not listed and shares through them are lower bounds"
        )
    return notes


def _canonical_cycle(cycle: tuple[str, ...]) -> tuple[str, ...]:
    start = cycle.index(min(cycle))
    return cycle[start:] + cycle[:start]


def ownership(
    graph: nx.MultiDiGraph,
    firm: str,
    day: str,
    *,
    aliases: dict[str, str] | None = None,
    max_depth: int = MAX_DEPTH,
    max_chains: int = MAX_CHAINS,
    owners: dict[str, list[tuple[str, dict[str, Any]]]] | None = None,
) -> _Ownership:
    """Every owner's stake in ``firm`` over all simple chains (no firm visited twice) on ``day``.

    ``owners``: each firm's current owners as read so far on ``day``, shared by the calls of one
    investigation (the freeze list walks up from every flagged firm, and their chains meet)."""
    nodes = graph._node
    if owners is None:
        owners = {}
    stakes: dict[str, _Stake] = {}
    cycles: set[tuple[str, ...]] = set()
    chains = 0
    truncated = too_deep = False
    # (node reached, product so far, all shares known so far, chain from node down to firm, links)
    stack: list[tuple[str, float, bool, tuple[str, ...], tuple[dict[str, Any], ...]]] = [(firm, 1.0, True, (firm,), ())]
    while stack:
        node, product, known, path, links = stack.pop()
        for owner, attrs in _owners_read(graph, owners, node, day):
            if owner in path:
                # A firm owning part of itself through others: the chain stops here, so the
                # stake it holds in itself is never counted (and the walk never loops).
                cycles.add(_canonical_cycle(path[: path.index(owner) + 1]))
                continue
            chains += 1
            if chains > max_chains:
                truncated = True
                stack.clear()
                break
            share = attrs.get("share_pct")
            now_known = known and share is not None
            now_product = product * (float(share) / 100.0 if share is not None else 1.0)
            chain = (owner, *path)
            chain_links = (attrs, *links)
            key = aliases.get(owner, owner) if aliases else owner
            stake = stakes.get(key)
            if stake is None:
                stake = stakes[key] = _Stake()
            if now_known:
                stake.known += now_product
                stake.any_known = True
            else:
                stake.unknown_bound += now_product
                stake.any_unknown = True
            if node == firm and share is not None:
                stake.direct = (stake.direct or 0.0) + float(share)
            stake.paths.append(chain)
            for link in chain_links:
                stake.links[(link["source"], link["target"])] = link
            if nodes[owner].get("kind") == "Company":
                if len(chain) <= max_depth:
                    stack.append((owner, now_product, now_known, chain, chain_links))
                elif _owners_read(graph, owners, owner, day):
                    too_deep = True
    return _Ownership(stakes=stakes, cycles=cycles, truncated=truncated, too_deep=too_deep, owners=owners)


def _said(graph: nx.MultiDiGraph, link: dict[str, Any], said: dict[tuple[str, str], Evidence]) -> Evidence:
    key = (link["source"], link["target"])
    found = said.get(key)
    if found is None:
        found = said[key] = evidence(graph, link)
    return found


def _round(value: float) -> float:
    return round(value * 100.0, 6)


@dataclass
class Stake:
    """An owner's stake as ``owner_rows`` reports it, before the typed row and worded links
    (the freeze list words only the links of the entries it lists)."""

    owner: str
    effective_pct: float | None
    max_pct: float | None
    share_known: bool
    direct_pct: float | None
    ultimate: bool
    paths: list[tuple[str, ...]]
    links: list[dict[str, Any]]


def stakes(graph: nx.MultiDiGraph, day: str, result: _Ownership) -> list[Stake]:
    """Every owner found, largest effective share first, as plain records."""
    rows = []
    nodes = graph._node
    for owner, stake in result.stakes.items():
        ultimate = nodes[owner].get("kind") != "Company" or _only_self_owned(graph, result.owners, owner, day)
        effective = _round(stake.known) if stake.any_known else None
        if stake.any_unknown:
            max_pct: float | None = min(100.0, _round(stake.known + stake.unknown_bound))
        else:
            max_pct = effective
        rows.append(
            Stake(
                owner=owner,
                effective_pct=effective,
                max_pct=max_pct,
                share_known=not stake.any_unknown,
                direct_pct=None if stake.direct is None else round(stake.direct, 6),
                ultimate=ultimate,
                paths=_sorted_paths(stake.paths),
                links=_sorted_links(stake.links),
            )
        )
    _by_stake(graph, rows)
    return rows


def direct_stakes(
    graph: nx.MultiDiGraph,
    firm: str,
    day: str,
    owners: dict[str, list[tuple[str, dict[str, Any]]]],
    *,
    max_chains: int = MAX_CHAINS,
) -> list[Stake] | None:
    """``stakes(graph, day, ownership(graph, firm, day, owners=owners))`` without the chain walk,
    when no current owner of ``firm`` is a firm: each owner's stake is its own share, and every
    owner is ultimate. Most registry firms are held so, by one or two persons. None when an
    owner is a firm (tests check the two agree on every firm)."""
    found = _owners_read(graph, owners, firm, day)
    if len(found) > max_chains:
        return None
    nodes = graph._node
    rows = []
    for owner, attrs in found:
        if nodes[owner].get("kind") == "Company":
            return None
        share = attrs.get("share_pct")
        if share is None:  # as ownership() bounds it: the whole firm, not a guess
            pct, direct, most = None, None, _round(1.0)
        else:
            pct = _round(float(share) / 100.0)
            direct, most = round(float(share), 6), pct
        rows.append(Stake(owner, pct, most, share is not None, direct, True, [(owner, firm)], [attrs]))
    _by_stake(graph, rows)
    return rows


def _by_stake(graph: nx.MultiDiGraph, rows: list[Stake]) -> None:
    """Sort owners largest effective share first, then largest possible share, name and id."""
    nodes = graph._node
    rows.sort(
        key=lambda r: (
            -(r.effective_pct or 0.0),
            -(r.max_pct or 0.0),
            str(nodes[r.owner].get("name") or r.owner),
            r.owner,
        )
    )


def _sorted_paths(paths: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Distinct chains, shortest first (most owners have one: no set or sort for those)."""
    return list(paths) if len(paths) == 1 else sorted(set(paths), key=lambda p: (len(p), p))


def _sorted_links(links: dict[tuple[str, str], dict[str, Any]]) -> list[dict[str, Any]]:
    return list(links.values()) if len(links) == 1 else [links[k] for k in sorted(links)]


def owner_rows(graph: nx.MultiDiGraph, firm: str, day: str, result: _Ownership) -> list[UboOwner]:
    """Every owner found, as rows, largest effective share first."""
    said: dict[tuple[str, str], Evidence] = {}  # a link shared by many owners' chains is worded once
    return [
        UboOwner(
            owner=Entity.of(graph, s.owner),
            effective_pct=s.effective_pct,
            max_pct=s.max_pct,
            share_known=s.share_known,
            direct_pct=s.direct_pct,
            ultimate=s.ultimate,
            paths=tuple(s.paths),
            links=tuple(_said(graph, l, said) for l in s.links),
        )
        for s in stakes(graph, day, result)
    ]


@investigation
def ubo(
    graph: nx.MultiDiGraph,
    ref: str,
    *,
    threshold: float = 0.0,
    as_of: str | dt.date | None = None,
    intermediate: bool = False,
    include_possible: bool = False,
) -> Ubo:
    """The ultimate owners of a firm and their effective shares (0-100) on ``as_of`` (default today).

    Shares multiply along each ownership chain and add up over chains. A chain never visits a firm
    twice, so a cycle (A owns B owns C owns A) neither loops nor inflates: each firm's stake in
    itself is left out, and the cycles met are listed. Ultimate owners are persons and firms with
    no current owner of their own (a firm's stake in itself, treasury shares, is not an owner);
    ``intermediate`` adds the firms on the way. Chains are followed up to ``MAX_DEPTH`` links and
    ``MAX_CHAINS`` chains; ``truncated`` and the notes say when either limit cut the walk. An owner reached only
    through a link without a share has ``effective_pct`` None and ``share_known`` False (never a
    guess), with ``max_pct`` the most it could hold. Rows below ``threshold`` are left out (an
    unknown share is kept while it could reach the threshold).
    """
    if not 0.0 <= threshold <= 100.0:
        raise GraphinvError(f"threshold must be a percentage between 0 and 100, got {threshold!r}")
    firm = resolve_ref(graph, ref, kinds=("Company",))
    day = as_of_date(as_of)
    aliases = same_as(graph) if include_possible else None
    found = ownership(graph, firm, day, aliases=aliases)
    everyone = owner_rows(graph, firm, day, found)
    rows = [
        r
        for r in everyone
        if (intermediate or r.ultimate)
        and ((r.effective_pct or 0.0) >= threshold or (not r.share_known and (r.max_pct or 0.0) >= threshold))
    ]
    notes = []
    for cycle in sorted(found.cycles):
        names = " > ".join(
            str(graph._node[n].get("bundle_id") or graph._node[n].get("name") or n) for n in (*cycle, cycle[0])
        )
        notes.append(f"ownership cycle {names}: a firm's stake in itself through the cycle is not counted")
    notes += limit_notes(found)
    if not any(r.ultimate for r in rows) and found.stakes and not intermediate:
        ultimate = [r for r in everyone if r.ultimate]
        if ultimate:
            # The rows are largest share first: the first ultimate owner is the largest.
            largest = ultimate[0]
            notes.append(
                f"no ultimate owner holds {threshold:g}% or more: the largest, {largest.owner.name}, holds "
                f"{_pct_text(largest)}% (lower the threshold to list it)"
            )
        else:
            notes.append("no ultimate owner: every owner found is itself owned (see intermediate)")
    return Ubo(
        rows=tuple(rows),
        firm=Entity.of(graph, firm),
        as_of=day,
        cycles=tuple(sorted(found.cycles)),
        truncated=found.truncated or found.too_deep,
        notes=tuple(notes),
    )
