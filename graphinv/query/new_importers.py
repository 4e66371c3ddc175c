"""new-importers: firms whose first import of a watched chemical falls on or after a date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, ClassVar

import networkx as nx

from graphinv.exc import GraphinvError
from graphinv.query._graph import check_option_date, day_key, evidence, investigation, nodes_of_kind, same_as
from graphinv.query.results import Entity, Evidence, QueryResult, Row
from graphinv.resolve.chemicals import canonical_chemical, find_chemical, lexicon
from graphinv.store.graph import graph_index, register_index

__all__ = [
    "Importer",
    "NewImporters",
    "chemical_imports",
    "chemical_shipments",
    "latest_shipment_date",
    "new_importers",
    "shipment_chemical",
]


class Importer(Row):
    """A firm's imports of the chemical: first date and shipment, count, kilograms, suppliers,
    and the IMPORTED links (with their customs rows) that make it true."""

    company: Entity
    chemical: str
    first_import: str | None
    first_shipment: Entity
    last_import: str | None
    shipments: int
    quantity_kg: float
    years: tuple[int, ...]
    exporters: tuple[Entity, ...]
    new: bool
    links: tuple[Evidence, ...]

    columns: ClassVar[tuple[str, ...]] = (
        "company",
        "first_import",
        "first_shipment",
        "shipments",
        "quantity_kg",
        "last_import",
        "new",
        "exporters",
    )

    def flat(self) -> dict[str, Any]:
        return {
            "company": self.company.label,
            "first_import": self.first_import or "",
            "first_shipment": self.first_shipment.bundle_id or self.first_shipment.id,
            "shipments": self.shipments,
            "quantity_kg": self.quantity_kg,
            "last_import": self.last_import or "",
            "new": self.new,
            "exporters": [e.name for e in self.exporters],
        }


class NewImporters(QueryResult):
    investigation: ClassVar[str] = "new-importers"
    rows: tuple[Importer, ...] = ()
    chemical: str
    since: str


def shipment_chemical(attrs: dict[str, Any]) -> str | None:
    """The canonical chemical of a shipment: as ingest recorded it, else read from its product."""
    chemical = attrs.get("chemical")
    if chemical:
        return str(chemical)
    return canonical_chemical(attrs.get("product"), attrs.get("hs_code"))


@dataclass
class _Imports:
    shipments: list[tuple[str, str]] = field(default_factory=list)  # (date, shipment id)
    links: list[dict[str, Any]] = field(default_factory=list)
    kg: float = 0.0


def _lexicon_key() -> str:
    return repr(lexicon())


def _shipments_by_chemical(graph: nx.MultiDiGraph) -> tuple[str, dict[str, tuple[str, ...]]]:
    """Per chemical (first seen first), its shipments in graph order; with the lexicon it was read by."""
    nodes = graph._node
    found: dict[str, list[str]] = {}
    for shipment in nodes_of_kind(graph, "Shipment"):
        chemical = shipment_chemical(nodes[shipment])
        if chemical is not None:
            found.setdefault(chemical, []).append(shipment)
    return _lexicon_key(), {c: tuple(s) for c, s in found.items()}


register_index("query.chemicals", _shipments_by_chemical)


def chemical_shipments(graph: nx.MultiDiGraph) -> dict[str, tuple[str, ...]]:
    """The shipments of each chemical (indexed once per graph and cached with it: reading half a
    million product texts takes seconds), re-read if the lexicon changed since."""
    key, found = graph_index(graph, "query.chemicals")
    if key != _lexicon_key():
        key, found = _shipments_by_chemical(graph)
    return found  # type: ignore[no-any-return]


def _latest_shipment(graph: nx.MultiDiGraph) -> str:
    nodes = graph._node
    return max((str(nodes[s].get("date") or "") for s in nodes_of_kind(graph, "Shipment")), default="")


register_index("query.latest_shipment", _latest_shipment)


def latest_shipment_date(graph: nx.MultiDiGraph) -> str:
    """The latest shipment date in the case ("" if none): the case's own "now" (indexed once per graph)."""
    return graph_index(graph, "query.latest_shipment")  # type: ignore[no-any-return]


def chemical_imports(
    graph: nx.MultiDiGraph, chemicals: set[str] | None = None, *, aliases: dict[str, str] | None = None
) -> dict[str, dict[str, _Imports]]:
    """Per chemical (of ``chemicals``, or every known one), per importer: its shipments."""
    nodes = graph._node
    found: dict[str, dict[str, _Imports]] = {}
    for chemical, shipments in chemical_shipments(graph).items():
        if chemicals is not None and chemical not in chemicals:
            continue
        for shipment in shipments:
            _add_imports(graph, found, chemical, shipment, nodes[shipment], aliases)
    return found


def _add_imports(
    graph: nx.MultiDiGraph,
    found: dict[str, dict[str, _Imports]],
    chemical: str,
    shipment: str,
    attrs: dict[str, Any],
    aliases: dict[str, str] | None,
) -> None:
    for importer, keys in graph._pred[shipment].items():
        link = keys.get("IMPORTED")
        if link is None:
            continue
        key = aliases.get(importer, importer) if aliases else importer
        entry = found.setdefault(chemical, {}).setdefault(key, _Imports())
        entry.shipments.append((str(attrs.get("date") or ""), shipment))
        entry.links.append(link)
        entry.kg += float(attrs.get("quantity_kg") or 0.0)


def resolve_chemical(name: str) -> str:
    chemical = find_chemical(name)
    if chemical is None:
        known = ", ".join(c.name for c in lexicon())
        raise GraphinvError(
            f"Unknown chemical {name!r}: give a name, synonym, short form or CAS number of one of: {known}"
        )
    return chemical.name


@investigation
def new_importers(
    graph: nx.MultiDiGraph,
    *,
    chemical: str,
    since: str | dt.date,
    until: str | dt.date | None = None,
    established: bool = False,
    include_possible: bool = False,
) -> NewImporters:
    """Firms whose first import of ``chemical`` (any name, synonym, short form or CAS number of the
    precursor lexicon) falls on or after ``since``, earliest first, with first date and shipment,
    shipment count, kilograms and suppliers. A shipment's chemical is the one ingest recorded, else
    the lexicon's reading of its product text, so every spelling and salt counts.

    ``until`` ignores shipments after that date, and undated ones. ``established`` also lists the
    firms that imported it before ``since`` (``new`` False), after the new ones. With
    ``include_possible``, importers joined by POSSIBLY_SAME_AS (a customs spelling and a registry
    firm) count as one.

    A shipment dated only by year or month counts as the first day of that period (``2019`` as
    2019-01-01); ``since`` or ``until`` given as a year or month is the whole period (``until="2019"``:
    through 2019-12-31). The first import is the earliest dated shipment: undated ones count in
    ``shipments`` and ``quantity_kg`` only, and the notes name the firms that have some.
    """
    name = resolve_chemical(chemical)
    since_day = check_option_date(since, "since")
    until_day = check_option_date(until, "until", end=True)
    aliases = same_as(graph) if include_possible else None
    imports = chemical_imports(graph, {name}, aliases=aliases).get(name, {})
    rows = []
    undated: list[Entity] = []
    for importer, entry in imports.items():
        # (day, date as given, shipment): a vague date counts as its first day (day_key). With
        # ``until``, an undated shipment is left out: nothing places it before that day.
        kept_shipments = sorted(
            (day_key(d), d, s) for d, s in entry.shipments if not until_day or (d and day_key(d) <= until_day)
        )
        if not kept_shipments:
            continue
        dated = [s for s in kept_shipments if s[1]]
        kept = {s for _, _, s in kept_shipments}
        # The first import is the earliest dated one: an undated shipment counts in the totals
        # but cannot be said to come first.
        first_date = dated[0][1] if dated else None
        is_new = bool(dated) and dated[0][0] >= (since_day or "")
        if not is_new and not established:
            continue
        company = Entity.of(graph, importer)
        if len(dated) < len(kept_shipments):
            undated.append(company)
        links = [l for l in entry.links if l["target"] in kept]
        if aliases:
            links += _same_as_links(graph, importer, aliases)
        kg = sum(float(graph._node[s].get("quantity_kg") or 0.0) for s in kept)
        exporters = sorted(
            {e for s in kept for e, keys in graph._pred[s].items() if "EXPORTED" in keys},
            key=lambda e: (str(graph._node[e].get("name")), e),
        )
        rows.append(
            Importer(
                company=company,
                chemical=name,
                first_import=first_date,
                first_shipment=Entity.of(graph, (dated or kept_shipments)[0][2]),
                last_import=dated[-1][1] if dated else None,
                shipments=len(kept),
                quantity_kg=round(kg, 3),
                years=tuple(sorted({int(d[:4]) for _, d, _ in dated if d[:4].isdigit()})),
                exporters=tuple(Entity.of(graph, e) for e in exporters),
                new=is_new,
                links=tuple(
                    evidence(graph, l)
                    for l in sorted(
                        links,
                        key=lambda l: (day_key(str(graph._node[l["target"]].get("date") or "")), l["target"], l["rel"]),
                    )
                ),
            )
        )
    rows.sort(key=lambda r: (not r.new, day_key(r.first_import or "9999"), r.company.name, r.company.id))
    notes = []
    if undated:
        undated.sort(key=lambda e: (e.name, e.id))
        shown = ", ".join(e.label for e in undated[:5]) + (f" and {len(undated) - 5} more" if len(undated) > 5 else "")
        notes.append(
            f"{len(undated)} firm(s) have undated shipments of {name}, counted in shipments and kg "
            f"but never as the first import: {shown}"
        )
    return NewImporters(rows=tuple(rows), chemical=name, since=since_day or "", notes=tuple(notes))


def _same_as_links(graph: nx.MultiDiGraph, rep: str, aliases: dict[str, str]) -> list[dict[str, Any]]:
    members = {n for n, r in aliases.items() if r == rep}
    return [
        keys["POSSIBLY_SAME_AS"]
        for m in members
        for o, keys in graph._succ[m].items()
        if o in members and "POSSIBLY_SAME_AS" in keys
    ]
