"""Reading helpers shared by the investigations: neighbours, evidence, validity dates, hubs, indexes.

The graph is read-only and shared by every caller, so anything cached about it is kept here in
weak maps keyed by the graph object, never written into the graph.
"""

from __future__ import annotations

import datetime as dt
import functools
import numbers
import operator
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import networkx as nx
import numpy as np

from graphinv.exc import GraphinvError
from graphinv.model import LINK_KINDS, check_date, day_key, last_day
from graphinv.perf import gc_paused
from graphinv.query._arrays import GraphArrays, arrays
from graphinv.query.results import Entity, Evidence, Hub, build, entity_fields
from graphinv.store.casefile import link_in_period
from graphinv.store.graph import graph_index, register_index

__all__ = [
    "DEFAULT_MAX_DEGREE",
    "PARTY_KINDS",
    "POSSIBLY_SAME_AS",
    "Entities",
    "HubCheck",
    "as_of_date",
    "check_count",
    "check_option_date",
    "day_key",
    "evidence",
    "flagged_firms",
    "flagged_nodes",
    "hub_degree",
    "hub_note",
    "in_force",
    "investigation",
    "is_current",
    "is_registered_company",
    "link_order",
    "links_between",
    "neighbours",
    "nodes_of_kind",
    "same_as",
]

_F = TypeVar("_F", bound=Callable[..., Any])


def investigation(func: _F) -> _F:
    """Run an investigation with the cyclic GC paused: it allocates many small objects that form no
    cycles, and each collection would rescan the whole loaded graph (seconds at registry scale).
    A large answer is then kept out of the collector's sight (see ``gc_paused``)."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        with gc_paused(keep_young_over=_YOUNG_ANSWER):
            return func(*args, **kwargs)

    return run  # type: ignore[return-value]


#: New tracked objects past which an investigation's answer is frozen rather than collected: below
#: it the next collection is over in a few milliseconds.
_YOUNG_ANSWER = 100_000

#: The order an answer lists its evidence links in: by kind, then source, then target.
link_order = operator.itemgetter("rel", "source", "target")

POSSIBLY_SAME_AS = "POSSIBLY_SAME_AS"
PARTY_KINDS = frozenset({"Company", "Person"})

#: An address, officer or owner linked to more firms and persons than this is a hub. Registered
#: offices of ordinary firms hold a handful of firms (a group and its subsidiaries, a family's
#: firms); a formation agent's virtual office or a nominee director holds dozens to thousands.
DEFAULT_MAX_DEGREE = 12


def neighbours(
    graph: nx.MultiDiGraph, node: str, *, include_possible: bool = False
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every link of a node read as undirected: (the other end, relationship, link attributes).

    POSSIBLY_SAME_AS links are skipped unless ``include_possible``: an uncertain match must never
    silently join two entities.
    """
    for other, keys in graph._succ[node].items():
        for rel, attrs in keys.items():
            if rel != POSSIBLY_SAME_AS or include_possible:
                yield other, rel, attrs
    for other, keys in graph._pred[node].items():
        for rel, attrs in keys.items():
            if rel != POSSIBLY_SAME_AS or include_possible:
                yield other, rel, attrs


def links_between(graph: nx.MultiDiGraph, a: str, b: str, *, include_possible: bool = False) -> list[dict[str, Any]]:
    """Every link between two nodes in either direction, in a stable order."""
    found = [attrs for rel, attrs in graph._succ[a].get(b, {}).items() if rel != POSSIBLY_SAME_AS or include_possible]
    if a != b:
        found += [
            attrs for rel, attrs in graph._pred[a].get(b, {}).items() if rel != POSSIBLY_SAME_AS or include_possible
        ]
    return sorted(found, key=link_order)


def _name(graph: nx.MultiDiGraph, node_id: str) -> str:
    return str(graph._node[node_id].get("name") or node_id)


_PROPS_SKIP = frozenset({"rel", "source", "target", "sources"})
#: Per link kind: its class, its field names and their defaults (read once: the class properties
#: are slow to read).
_KINDS: dict[str, tuple[type, frozenset[str], dict[str, Any]]] = {}


def _kind(rel: str) -> tuple[type, frozenset[str], dict[str, Any]]:
    found = _KINDS.get(rel)
    if found is None:
        cls = LINK_KINDS[rel]  # LookupError for a kind the model does not know
        defaults = dict(cls.model_construct(source="", target="").__dict__)
        found = _KINDS[rel] = (cls, frozenset(cls.model_fields), defaults)
    return found


def _sentence(rel: str, source: str, target: str, props: dict[str, Any], source_name: str, target_name: str) -> str:
    """The link kind's ``explain``, called on its model made with ``build`` from every field's
    value (no validation): the graph's values were validated at ingest, and ``model_construct``
    costs more than the whole explanation."""
    try:
        cls, known, defaults = _kind(rel)
        values = defaults.copy()
        values["source"] = source
        values["target"] = target
        for k, v in props.items():
            if k in known:
                values[k] = v
        link: Any = build(cls, values)
        return link.explain(source_name, target_name)  # type: ignore[no-any-return]
    except (LookupError, AttributeError, TypeError, ValueError):
        return f"{source_name} {rel.lower().replace('_', ' ')} {target_name}"


def evidence(graph: nx.MultiDiGraph, attrs: dict[str, Any], name: Callable[[str], str] | None = None) -> Evidence:
    """A link as evidence: the sentence its kind explains it with, and its sources appended.

    ``name``: a node's display name (``Entity.name``) when the caller has already read it (at
    registry scale each read of a node is a cache miss)."""
    rel, source, target = attrs["rel"], attrs["source"], attrs["target"]
    sources = attrs.get("sources")
    sources = tuple(sources) if sources else ()
    props = {k: v for k, v in attrs.items() if k not in _PROPS_SKIP and v is not None}
    if name is None:
        nodes = graph._node
        source_name = str(nodes[source].get("name") or source)
        target_name = str(nodes[target].get("name") or target)
    else:
        source_name, target_name = name(source), name(target)
    sentence = _sentence(rel, source, target, props, source_name, target_name)
    end = props.get("end_date")
    if end:
        sentence += f" (until {end})"
    if sources:
        sentence += f" ({'; '.join(sources)})"
    return build(
        Evidence, {"rel": rel, "source": source, "target": target, "sources": sources, "props": props, "text": sentence}
    )


def check_count(value: Any, option: str, *, minimum: int = 1) -> int:
    """A whole-number option (hops, limit, top, max_degree) as an int: a float such as 2.5, a bool
    or a text is refused rather than compared or cut (numpy integers are whole numbers)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise GraphinvError(f"{option} must be a whole number, got {value!r}")
    if value < minimum:
        bound = "0 or more" if minimum == 0 else f"at least {minimum}"
        raise GraphinvError(f"{option} must be {bound}, got {value!r}")
    return int(value)


def in_force(attrs: dict[str, Any], as_of: str) -> dict[str, Any]:
    """A link as it stood on ``as_of``. A link that rows state for several periods (a share that
    changed, a new role: ``periods``, see ``casefile.merge_statement``) gives the values of the
    period in force then, or between two periods those of the last one begun, cited by the row
    that states them; any other link is itself."""
    periods = attrs.get("periods")
    if not periods:
        return attrs
    begun = [p for p in periods if not p.get("start_date") or day_key(p["start_date"]) <= as_of] or periods[:1]
    chosen = next((p for p in reversed(begun) if _holds(p, as_of)), begun[-1])
    return link_in_period(attrs, chosen)


def is_current(attrs: dict[str, Any], as_of: str) -> bool:
    """Whether a dated link (ownership, office) holds on ``as_of`` (a day): started, and not yet
    ended; a link stated for several periods, if one of them does. A vague start or end compares
    as its first day (``day_key``): against a full day the plain text comparison gives the same
    answer, so it is read as it is."""
    periods = attrs.get("periods")
    if periods:  # stated for several periods: in force if one of them is (not in a gap between)
        return any(_holds(p, as_of) for p in periods)
    return _holds(attrs, as_of)


def _holds(attrs: dict[str, Any], as_of: str) -> bool:
    start = attrs.get("start_date")
    if start and start > as_of:
        return False
    end = attrs.get("end_date")
    return not end or end > as_of


def _date_text(value: str | dt.date) -> str:
    if isinstance(value, dt.datetime):  # a datetime is a date too: its day, not its isoformat()
        value = value.date()
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def check_option_date(value: str | dt.date | None, option: str, *, end: bool = False) -> str | None:
    """An option's date as a day (YYYY-MM-DD). A year or month given means its whole period: it
    begins on its first day (``since``) or, with ``end``, runs through its last (``until``)."""
    if value is None:
        return None
    try:
        text = check_date(_date_text(value))
    except ValueError as exc:
        raise GraphinvError(f"{option}: {exc}; give a date as YYYY-MM-DD, e.g. 2021-03-15") from None
    return last_day(text) if end else day_key(text)


def as_of_date(as_of: str | dt.date | None) -> str:
    """The day validity is judged on: the one given, else today. A year or month is refused:
    which of its days is meant changes who owns what."""
    if as_of is None:
        return dt.date.today().isoformat()
    day = check_option_date(as_of, "as_of") or ""
    if len(_date_text(as_of)) != 10:
        last = check_option_date(as_of, "as_of", end=True)
        raise GraphinvError(
            f"as_of: ownership and offices are judged on one day, got {as_of!r}; "
            f"give a day as YYYY-MM-DD, e.g. {day} or {last}"
        )
    return day


def _kind_index(graph: nx.MultiDiGraph) -> dict[str, tuple[str, ...]]:
    arr = arrays(graph)  # read off the arrays: a second pass over millions of node dicts costs seconds
    ids = arr.ids
    return {
        kind: tuple(ids[i] for i in np.flatnonzero(arr.kind == code).tolist()) for code, kind in enumerate(arr.kinds)
    }


def _flagged_index(graph: nx.MultiDiGraph) -> tuple[str, ...]:
    arr = arrays(graph)
    return tuple(arr.ids[i] for i in np.flatnonzero(arr.flagged).tolist())


register_index("query.kinds", _kind_index)
register_index("query.flagged", _flagged_index)


def nodes_of_kind(graph: nx.MultiDiGraph, kind: str) -> tuple[str, ...]:
    """The ids of every node of a kind, in graph order (indexed once per graph, cached with it)."""
    return graph_index(graph, "query.kinds").get(kind, ())  # type: ignore[no-any-return]


def flagged_nodes(graph: nx.MultiDiGraph) -> tuple[str, ...]:
    """The ids of every flagged node, in graph order (indexed once per graph, cached with it): the
    flagged-only investigations start from these instead of scanning every firm and person."""
    return graph_index(graph, "query.flagged")  # type: ignore[no-any-return]


def flagged_firms(graph: nx.MultiDiGraph) -> tuple[str, ...]:
    """Flagged registry firms (customs parties are not firms a watch list names), in graph order
    (read off the arrays: a registry flags thousands of firms and persons)."""
    arr = arrays(graph)
    return tuple(arr.ids[i] for i in np.flatnonzero(arr.flagged & arr.registered).tolist())


def is_registered_company(attrs: dict[str, Any]) -> bool:
    """A registry firm, as opposed to a customs party known only from how a clerk typed it."""
    return attrs.get("kind") == "Company" and attrs.get("registered", True) is not False


def hub_degree(graph: nx.MultiDiGraph, node: str, *, limit: int | None = None) -> int:
    """How many distinct firms and persons a node links (a shipment counts as its other parties).

    Counting stops past ``limit``: only whether a node is a hub matters, and a real hub may link
    hundreds of thousands of firms.
    """
    seen: set[str] = set()
    nodes = graph._node
    cap = None if limit is None else limit + 1
    for other, rel, _ in neighbours(graph, node):
        kind = nodes[other].get("kind")
        if kind in PARTY_KINDS:
            seen.add(other)
        elif kind == "Shipment":
            for party, _, _ in neighbours(graph, other):
                if party != node and nodes[party].get("kind") in PARTY_KINDS:
                    seen.add(party)
        if cap is not None and len(seen) >= cap:
            break
    return len(seen)


def hub_note(hubs: int, max_degree: int | None, members: str) -> str:
    """What a listing says when some of its rows are hubs, which name only their flagged members:
    a nominee's hundreds of firms would bury the leads, and cost more than the rest of the answer."""
    return (
        f"{hubs:,} hub(s) with more than {max_degree} {members} name only the flagged ones; "
        "raise max_degree (--max-degree; 0: no hubs) to name them all"
    )


class Entities:
    """Entity models of one investigation's nodes, each built once however many rows name it."""

    def __init__(self, graph: nx.MultiDiGraph) -> None:
        self.graph = graph
        self._made: dict[str, Entity] = {}

    def __call__(self, node: str) -> Entity:
        entity = self._made.get(node)
        if entity is None:
            entity = self._made[node] = build(Entity, entity_fields(self.graph, node))
        return entity

    def name(self, node: str) -> str:
        """The entity's name (read once, however many rows and sentences name it)."""
        entity = self._made.get(node)
        return (self(node) if entity is None else entity).name


class HubCheck:
    """Remembers which nodes are hubs during one investigation (a node's degree is counted once)."""

    def __init__(self, graph: nx.MultiDiGraph, max_degree: int | None, *, exempt: Iterable[str] = ()) -> None:
        self.graph = graph
        self.max_degree = None if max_degree is None else check_count(max_degree, "max_degree")
        self.exempt = set(exempt)
        self._degree: dict[str, int] = {}
        self.found: dict[str, int] = {}

    def __call__(self, node: str) -> bool:
        if self.max_degree is None or node in self.exempt:
            return False
        if node in self._degree:
            return node in self.found
        # A firm's own shipments and accounts never make it a hub; only its ties to others do.
        # Every node's degree is in the graph's arrays (hub_degree() of each, computed at load).
        arr = self._arrays
        degree = int(arr.party_degree[arr.pos[node]])
        self._degree[node] = degree
        if degree > self.max_degree:
            self.found[node] = degree
            return True
        return False

    @functools.cached_property
    def _arrays(self) -> GraphArrays:
        return arrays(self.graph)

    def hubs(self) -> tuple[Hub, ...]:
        hubs = [build(Hub, {"entity": Entity.of(self.graph, n), "degree": d}) for n, d in self.found.items()]
        return tuple(sorted(hubs, key=lambda h: (-h.degree, h.entity.name, h.entity.id)))


_SAME_AS: weakref.WeakKeyDictionary[nx.MultiDiGraph, dict[str, str]] = weakref.WeakKeyDictionary()


def _representative_key(graph: nx.MultiDiGraph, node: str) -> tuple[int, int, str]:
    attrs = graph._node[node]
    return (0 if attrs.get("registered", True) is not False else 1, 0 if attrs.get("bundle_id") else 1, node)


def same_as(graph: nx.MultiDiGraph) -> dict[str, str]:
    """For nodes joined by POSSIBLY_SAME_AS links: each node's representative (a registry entity
    before a customs party, then the smallest id). Nodes with no such link are not in the map."""
    cached = _SAME_AS.get(graph)
    if cached is not None:
        return cached
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for u, nbrs in graph._succ.items():
        for v, keys in nbrs.items():
            if POSSIBLY_SAME_AS in keys:
                ru, rv = find(u), find(v)
                if ru != rv:
                    parent[max(ru, rv)] = min(ru, rv)
    groups: dict[str, list[str]] = {}
    for node in parent:
        groups.setdefault(find(node), []).append(node)
    mapping: dict[str, str] = {}
    for members in groups.values():
        rep = min(members, key=lambda n: _representative_key(graph, n))
        for member in members:
            mapping[member] = rep
    _SAME_AS[graph] = mapping
    return mapping
