"""The canonical CSV bundle (DESIGN §4): one adapter per file, each a pure row → items mapping."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from graphinv.exc import RecordError
from graphinv.ingest.core import Adapter, Context, Flag, Item, LinkStatement, NodeStatement, RefSpec, register
from graphinv.ingest.csvfile import Row, read_csv
from graphinv.ingest.fast import KERNELS
from graphinv.ingest.fast import run as _fast_run
from graphinv.resolve.chemicals import canonical_chemical
from graphinv.model import (
    RESERVED_PROPERTIES,
    Account,
    Address,
    Company,
    Family,
    HasAddress,
    Holds,
    Imported,
    Exported,
    OfficerOf,
    Owns,
    Person,
    Shipment,
    address_key,
    check_date,
    name_key,
    tax_key,
)

__all__ = ["BUNDLE_COLUMNS", "REQUIRED_COLUMNS", "RELATIONS"]

#: The columns each bundle file knows; any other column is kept as a property.
BUNDLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "companies": ("id", "name", "tax_id", "registration_number", "jurisdiction", "incorporation_date", "address", "status", "employees", "industry"),
    "persons": ("id", "name", "tax_id", "birth_date", "nationality", "address"),
    "ownership": ("owner_id", "company_id", "share_pct", "start_date", "end_date"),
    "officers": ("person_id", "company_id", "role", "start_date", "end_date"),
    "family": ("person_id", "relative_id", "relation"),
    "accounts": ("id", "holder_id", "bank", "number", "status", "frozen_date"),
    "flags": ("entity_ref", "list", "reason", "date"),
    "shipments": (
        "id", "date", "importer", "importer_tax_id", "exporter", "exporter_country", "product", "hs_code",
        "quantity_kg", "value_usd", "port", "origin_country", "bill_of_lading",
    ),
}

#: Words registries and clerks use for a family tie, onto DESIGN's five relations.
RELATIONS: dict[str, str] = {
    **{w: "spouse" for w in ("spouse", "wife", "husband", "partner", "esposa", "esposo", "conyuge", "cónyuge")},
    **{w: "parent" for w in ("parent", "father", "mother", "padre", "madre")},
    **{w: "child" for w in ("child", "son", "daughter", "hijo", "hija")},
    **{w: "sibling" for w in ("sibling", "brother", "sister", "hermano", "hermana")},
    "other": "other",
    "relative": "other",
    "pariente": "other",
}


_PLACES: dict[tuple[tuple[str, ...], type | None], dict[str, tuple[bool, str]]] = {}


def _place(known: tuple[str, ...], model: type | None, column: str) -> tuple[bool, str]:
    """Where a column's value goes: (is it a known column, under which key)."""
    fields = model.model_fields if model is not None else {}
    if column in known:
        return True, column
    if column in RESERVED_PROPERTIES or column in fields:
        return False, f"raw_{column}"
    return False, column


def _values(row: Row, known: tuple[str, ...], model: type | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """Non-empty known values, and the unknown columns as properties (renamed if they clash)."""
    values: dict[str, str] = {}
    extras: dict[str, str] = {}
    # The hot loop of every ingest: placements are looked up in a per-kind dict, not recomputed.
    places = _PLACES.setdefault((known, model), {})
    for column, value in row.values.items():
        value = value.strip()
        if not value:
            continue
        place = places.get(column)
        if place is None:
            place = places[column] = _place(known, model, column)
        if place[0]:
            values[place[1]] = value
        else:
            extras[place[1]] = value
    return values, extras


def _required(values: dict[str, str], column: str) -> str:
    try:
        return values[column]
    except KeyError:
        raise RecordError(column, "missing value: every row needs one") from None


def _address(holder_id: str, text: str) -> list[Item]:
    key = address_key(text)
    address_id = Address.make_id(key)
    return [
        NodeStatement(address_id, Address.label, {"name": text, "text": text, "normalized": key}),
        LinkStatement(HasAddress.rel, holder_id, address_id),
    ]


def _dates(values: dict[str, str], *columns: str) -> dict[str, Any]:
    return {c: values[c] for c in columns if c in values}


def map_company(row: Row, ctx: Context) -> list[Item]:
    known = BUNDLE_COLUMNS["companies"]
    values, extras = _values(row, known, Company)
    local = _required(values, "id")
    _required(values, "name")
    fields = {k: v for k, v in values.items() if k not in ("id", "address")}
    company = Company(id=Company.make_id(ctx.dataset, local), bundle_id=local, **fields, **extras)
    items: list[Item] = [company]
    if "address" in values:
        items += _address(company.id, values["address"])
    return items


def map_person(row: Row, ctx: Context) -> list[Item]:
    known = BUNDLE_COLUMNS["persons"]
    values, extras = _values(row, known, Person)
    local = _required(values, "id")
    _required(values, "name")
    fields = {k: v for k, v in values.items() if k not in ("id", "address")}
    person = Person(id=Person.make_id(ctx.dataset, local), bundle_id=local, **fields, **extras)
    items: list[Item] = [person]
    if "address" in values:
        items += _address(person.id, values["address"])
    return items


def map_ownership(row: Row, ctx: Context) -> list[Item]:
    values, extras = _values(row, BUNDLE_COLUMNS["ownership"], Owns)
    owner = ctx.local(_required(values, "owner_id"), ("Company", "Person"), "owner_id")
    asset = ctx.local(_required(values, "company_id"), ("Company",), "company_id")
    fields = _dates(values, "share_pct", "start_date", "end_date")
    return [Owns(source=owner, target=asset, **fields, **extras)]


def map_officer(row: Row, ctx: Context) -> list[Item]:
    values, extras = _values(row, BUNDLE_COLUMNS["officers"], OfficerOf)
    officer = ctx.local(_required(values, "person_id"), ("Person", "Company"), "person_id")
    organization = ctx.local(_required(values, "company_id"), ("Company",), "company_id")
    if officer == organization:
        reason = f"a firm cannot be its own officer ({values['company_id']!r} on both ends); name the officer"
        raise RecordError("company_id", reason)
    fields = _dates(values, "role", "start_date", "end_date")
    return [OfficerOf(source=officer, target=organization, **fields, **extras)]


def map_family(row: Row, ctx: Context) -> list[Item]:
    values, extras = _values(row, BUNDLE_COLUMNS["family"], Family)
    person = ctx.local(_required(values, "person_id"), ("Person",), "person_id")
    relative = ctx.local(_required(values, "relative_id"), ("Person",), "relative_id")
    if relative == person:
        reason = f"a person cannot be their own relative ({values['relative_id']!r} on both ends); name the relative"
        raise RecordError("relative_id", reason)
    given = values.get("relation", "other")
    relation = RELATIONS.get(name_key(given))
    if relation is None:
        raise RecordError("relation", f"unknown relation {given!r}: use one of spouse, parent, child, sibling, other")
    return [Family(source=person, target=relative, relation=relation, **extras)]


def map_account(row: Row, ctx: Context) -> list[Item]:
    values, extras = _values(row, BUNDLE_COLUMNS["accounts"], Account)
    local = _required(values, "id")
    fields = {k: v for k, v in values.items() if k in ("bank", "number", "frozen_date")}
    if "status" in values:
        fields["status"] = values["status"].lower()
    name = " ".join(v for v in (values.get("bank"), values.get("number")) if v) or local
    account = Account(id=Account.make_id(ctx.dataset, local), name=name, bundle_id=local, **fields, **extras)
    items: list[Item] = [account]
    if "holder_id" in values:
        holder = ctx.local(values["holder_id"], ("Company", "Person"), "holder_id")
        items.append(LinkStatement(Holds.rel, holder, account.id))
    return items


def map_flag(row: Row, ctx: Context) -> list[Item]:
    values, _ = _values(row, BUNDLE_COLUMNS["flags"])
    named = ctx.entities(_required(values, "entity_ref"), "entity_ref")
    date = values.get("date")
    if date is not None:
        try:
            check_date(date)
        except ValueError as exc:
            raise RecordError("date", str(exc)) from None
    listed, reason = values.get("list", ctx.dataset), values.get("reason")
    return [Flag(entity_id=entity, list=listed, reason=reason, date=date) for entity in named]


def _party(name: str, tax_id: str | None, jurisdiction: str | None) -> NodeStatement:
    """A firm known only from how a customs clerk typed it: kept as typed, for resolution."""
    node_id = Company.make_id("customs-party", name_key(name), tax_key(tax_id or ""), (jurisdiction or "").upper())
    props: dict[str, object] = {"name": name, "registered": False}
    if tax_id:
        props["tax_id"] = tax_id
    if jurisdiction:
        props["jurisdiction"] = jurisdiction
    return NodeStatement(node_id, Company.label, props)


_SHIPMENT_FIELDS = ("date", "product", "hs_code", "quantity_kg", "value_usd", "port", "origin_country", "bill_of_lading")


def map_shipment(row: Row, ctx: Context) -> list[Item]:
    values, extras = _values(row, BUNDLE_COLUMNS["shipments"], Shipment)
    local = _required(values, "id")
    fields = {k: values[k] for k in _SHIPMENT_FIELDS if k in values}
    chemical = canonical_chemical(values.get("product"), values.get("hs_code"))
    if chemical is not None:
        fields["chemical"] = chemical
    parties = {k: values[k] for k in ("importer", "importer_tax_id", "exporter", "exporter_country") if k in values}
    name = " ".join(v for v in (values.get("product"), values.get("date")) if v) or local
    shipment = Shipment(id=Shipment.make_id(ctx.dataset, local), name=name, bundle_id=local, **fields, **parties, **extras)
    items: list[Item] = [shipment]
    tax_id = values.get("importer_tax_id")
    importer = ctx.company_by_tax(tax_id) if tax_id else None
    if importer is None and "importer" in values:
        party = _party(values["importer"], tax_id, None)
        items.append(party)
        importer = party.id
    if importer is not None:
        items.append(LinkStatement(Imported.rel, importer, shipment.id))
    if "exporter" in values:
        exporter = _party(values["exporter"], None, values.get("exporter_country"))
        items += [exporter, LinkStatement(Exported.rel, exporter.id, shipment.id)]
    return items


#: The columns a bundle file cannot do without (DESIGN §4: the id, or the two ends of a link).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "companies": ("id",),
    "persons": ("id",),
    "ownership": ("owner_id", "company_id"),
    "officers": ("person_id", "company_id"),
    "family": ("person_id", "relative_id"),
    "accounts": ("id",),
    "flags": ("entity_ref",),
    "shipments": ("id",),
}


def _reader(kind: str) -> Callable[[Path, Callable[[int], None] | None], Iterator[Row]]:
    def records(path: Path, progress: Callable[[int], None] | None) -> Iterator[Row]:
        return read_csv(path, required=REQUIRED_COLUMNS[kind], progress=progress)

    return records


_LOCAL = partial(RefSpec, "local")

for _order, (_kind, _map, _refs) in enumerate(
    [
        ("companies", map_company, {}),
        ("persons", map_person, {}),
        ("ownership", map_ownership, {"owner_id": _LOCAL(("Company", "Person")), "company_id": _LOCAL(("Company",))}),
        ("officers", map_officer, {"person_id": _LOCAL(("Person", "Company")), "company_id": _LOCAL(("Company",))}),
        ("family", map_family, {"person_id": _LOCAL(("Person",)), "relative_id": _LOCAL(("Person",))}),
        ("accounts", map_account, {"holder_id": _LOCAL(("Company", "Person"))}),
        ("flags", map_flag, {"entity_ref": RefSpec("entity")}),
        ("shipments", map_shipment, {"importer_tax_id": RefSpec("tax", ("Company",))}),
    ],
    start=1,
):
    register(
        Adapter(
            kind=_kind, records=_reader(_kind), map=_map, file_names=(f"{_kind}.csv",), refs=_refs, order=_order * 10,
            fast=_fast_run if _kind in KERNELS else None,
        )
    )
