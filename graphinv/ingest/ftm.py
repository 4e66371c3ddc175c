"""FollowTheMoney entity JSON lines (Aleph, OpenSanctions exports) as graph nodes, links and flags.

``records()`` reads the file twice: a first pass indexes every entity's id and schema, so a link
may name an entity that comes later in the file; the second pass yields, for each entity, one row
for the entity itself and one for each reference it holds to an address or a shipment party, so
a reference to an entity that is not there rejects that reference alone (with the file's line),
not the entity. Referenced entities are never invented. Rows go through the bundle's own row
mappers wherever a bundle kind fits (docs/sources.md has the coverage table). A date or number
the adapter maps that cannot be read (a startDate "2016-13-45") does not reject its entity: as for
BODS, it is kept as ``raw_<field>`` and reported as a warning (``BadValue``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from graphinv.exc import RecordError
from graphinv.ingest.bundle import RELATIONS, map_account, map_company, map_family, map_officer, map_ownership, map_person
from graphinv.ingest.core import (
    Adapter,
    BadValue,
    Context,
    Flag,
    Item,
    LinkStatement,
    NodeStatement,
    RefSpec,
    register,
    validation_error,
)
from graphinv.ingest.csvfile import Row
from graphinv.ingest.jsonfile import first_char, read_head, read_json_records
from graphinv.model import (
    NODE_KINDS,
    RESERVED_PROPERTIES,
    Address,
    Exported,
    HasAddress,
    Holds,
    Imported,
    Node,
    Shipment,
    address_key,
    check_date,
    name_key,
)

__all__ = ["FTM_NODE_SCHEMATA", "FTM_LINK_SCHEMATA", "FtmRow", "read_ftm", "sniff_ftm", "snake"]

#: FtM schemata read as nodes, and the graph kind each becomes.
FTM_NODE_SCHEMATA: dict[str, str] = {
    "Company": "Company",
    "Organization": "Company",
    "LegalEntity": "Company",
    "PublicBody": "Company",
    "Person": "Person",
    "Address": "Address",
    "BankAccount": "Account",
    "EconomicActivity": "Shipment",
}
#: FtM schemata read as links (or, for Sanction, as a flag on the sanctioned entity).
FTM_LINK_SCHEMATA: dict[str, str] = {
    "Ownership": "OWNS (HOLDS when the asset is a BankAccount)",
    "Directorship": "OFFICER_OF",
    "Family": "FAMILY",
    "Associate": "FAMILY (relation other)",
    "Representation": "OFFICER_OF (role: representative)",
    "Sanction": "flag",
}

_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")


def snake(name: str) -> str:
    """An FtM property name as a graph property name: ``incorporationDate`` → ``incorporation_date``."""
    return _CAMEL.sub(r"_\1", name).lower()


@dataclass
class _Entry:
    schema: str
    kind: str | None
    address_id: str | None = None


@dataclass
class _Index:
    """What the first pass learned: every entity's schema, and Ownership statements per pair."""

    entries: dict[str, _Entry] = field(default_factory=dict)
    pairs: dict[tuple[str, str], list[tuple[str, str]]] = field(default_factory=dict)


@dataclass(slots=True)
class FtmRow(Row):
    """An entity line, or one reference of it (``part`` names the property; ``target`` the id)."""

    entity: dict[str, Any] | None = None
    part: str = "entity"
    target: str = ""
    index: _Index | None = None


def _props(entity: dict[str, Any]) -> dict[str, list[str]]:
    raw = entity.get("properties") or {}
    out: dict[str, list[str]] = {}
    for key, values in raw.items():
        if isinstance(values, list):
            cleaned = [str(v).strip() for v in values if v is not None and str(v).strip()]
        elif values is not None and str(values).strip():
            cleaned = [str(values).strip()]
        else:
            cleaned = []
        if cleaned:
            out[key] = cleaned
    return out


def _address_text(props: dict[str, list[str]]) -> str:
    if props.get("full"):
        return props["full"][0]
    parts = [
        " ".join(props.get("street", [])[:1] + props.get("street2", [])[:1]),
        " ".join(props.get("postalCode", [])[:1] + props.get("city", [])[:1]),
        (props.get("region") or props.get("state") or [""])[0],
        (props.get("country") or [""])[0],
    ]
    return ", ".join(p for p in parts if p)


def _index(path: Path) -> _Index:
    index = _Index()
    for record in read_json_records(path):
        data = record.data
        if record.error is not None or not isinstance(data, dict) or not data.get("id") or not data.get("schema"):
            continue
        schema = str(data["schema"])
        kind = FTM_NODE_SCHEMATA.get(schema)
        entry = _Entry(schema, kind)
        props = _props(data)
        if kind == "Address":
            text = _address_text(props)
            entry.address_id = Address.make_id(address_key(text)) if address_key(text) else None
        index.entries.setdefault(str(data["id"]), entry)
        if schema == "Ownership":
            for owner in props.get("owner", []):
                for asset in props.get("asset", []):
                    index.pairs.setdefault((owner, asset), []).append((str(data["id"]), ";".join(props.get("percentage", []))))
    return index


#: References an entity holds that become links of their own rows.
_NODE_REFS: dict[str, tuple[str, ...]] = {
    "Company": ("addressEntity",),
    "Person": ("addressEntity",),
    "Shipment": ("receiver", "sender"),
}


def read_ftm(path: Path, progress: Callable[[int], None] | None = None) -> Iterator[Row]:
    """Every entity of an FtM JSON-lines (or JSON array) file, and each address/party reference."""
    index = _index(path)
    for record in read_json_records(path, progress):
        if record.error is not None:
            yield FtmRow(record.line, {}, [record.text], record.error)
            continue
        entity = record.data
        if not isinstance(entity, dict) or not entity.get("id") or not entity.get("schema"):
            yield FtmRow(record.line, {}, [record.text], RecordError("*", "not an FtM entity: expected an object with 'id', 'schema' and 'properties'"))
            continue
        props = _props(entity)
        values = {key: props[key][0] for key in _REFS if key in props}
        yield FtmRow(record.line, values, [record.text], entity=entity, index=index)
        kind = FTM_NODE_SCHEMATA.get(str(entity["schema"]))
        for prop in _NODE_REFS.get(kind or "", ()):
            for target in props.get(prop, []):
                yield FtmRow(record.line, {prop: target}, [record.text], entity=entity, part=prop, target=target, index=index)


_LOCAL = partial(RefSpec, "local")
_PARTY = ("Company", "Person")
_REFS: dict[str, RefSpec] = {
    "owner": _LOCAL(_PARTY),
    "asset": _LOCAL(("Company", "Account")),
    "director": _LOCAL(_PARTY),
    "organization": _LOCAL(("Company",)),
    "person": _LOCAL(("Person",)),
    "relative": _LOCAL(("Person",)),
    "associate": _LOCAL(("Person",)),
    "agent": _LOCAL(_PARTY),
    "client": _LOCAL(_PARTY),
    "entity": _LOCAL(("Company", "Person", "Account")),
    "receiver": _LOCAL(_PARTY),
    "sender": _LOCAL(_PARTY),
}


class _FtmContext:
    """Answers references from the file's own index first (any order in the file), then from
    what earlier files of the dataset stated; bundle column names become FtM property names."""

    def __init__(self, ctx: Context, index: _Index, names: dict[str, str]) -> None:
        self._ctx = ctx
        self._index = index
        self._names = names
        self.dataset = ctx.dataset

    def local(self, value: str, kinds: tuple[str, ...], column: str) -> str:
        value = value.strip()
        prop = self._names.get(column, column)
        entry = self._index.entries.get(value)
        if entry is not None:
            if entry.kind in kinds and entry.kind is not None:
                return NODE_KINDS[entry.kind].make_id(self.dataset, value)
            what = " or ".join(k.lower() for k in kinds)
            raise RecordError(prop, f"{value!r} is a {entry.schema}, which cannot be the {prop} here (expected a {what})")
        try:
            return self._ctx.local(value, kinds, prop)
        except RecordError as exc:
            raise RecordError(prop, f"{exc.reason.split(':')[0]}: no entity with this id in the file or dataset {self.dataset!r}; the entity is referenced but missing") from None

    def company_by_tax(self, value: str) -> str | None:
        return self._ctx.company_by_tax(value)


@dataclass
class _Raw:
    """The dates and numbers of one entity that could not be read: each is kept on its node or
    link as ``raw_<field>`` and reported as a warning, so the entity is kept and nothing is lost."""

    entity: dict[str, Any]
    props: dict[str, str] = field(default_factory=dict)
    bad: list[BadValue] = field(default_factory=list)

    def path(self, prop: str, value: str) -> str:
        """The value's JSON path in the entity: ``properties.startDate[0]``."""
        given = (self.entity.get("properties") or {}).get(prop)
        if not isinstance(given, list):
            return f"properties.{prop}"
        index = next((n for n, v in enumerate(given) if v is not None and str(v).strip() == value), 0)
        return f"properties.{prop}[{index}]"

    def keep(self, prop: str, value: str, target: str | None, reason: str) -> None:
        """Keep ``value`` as ``raw_<target>`` (or, with no target, nowhere) and report it."""
        if target is None:
            self.bad.append(BadValue(self.path(prop, value), reason))
            return
        self.props[f"raw_{target}"] = value
        self.bad.append(BadValue(self.path(prop, value), f"{reason}; kept as raw_{target}"))

    def date(self, props: dict[str, list[str]], names: tuple[str, ...], target: str | None) -> str | None:
        """The first of the ``names`` properties that is given, as an ISO date."""
        prop = next((n for n in names if props.get(n)), None)
        if prop is None:
            return None
        value = props[prop][0]
        try:
            return check_date(value[:10] if "T" in value else value)
        except ValueError as exc:
            self.keep(prop, value, target, str(exc) if target else f"{exc}; the flag is kept without a date")
            return None

    def share(self, value: str) -> str | None:
        """A percentage as the model reads it ("35", "35 %"), or None, keeping it as ``raw_share``."""
        text = value.strip().removesuffix("%").strip()
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if math.isfinite(number) and 0 <= number <= 100:
            return value
        what = "a number" if not math.isfinite(number) else "a percentage between 0 and 100"
        self.keep("percentage", value, "share", f"{value!r} is not {what}, so the share is unknown")
        return None


def _first(props: dict[str, list[str]], *names: str) -> str | None:
    for name in names:
        if props.get(name):
            return props[name][0]
    return None


def _name(entity: dict[str, Any], props: dict[str, list[str]]) -> str:
    names = props.get("name", [])
    caption = str(entity.get("caption") or "").strip()
    if caption and (caption in names or not names):
        return caption
    if names:
        return names[0]
    person = " ".join(props.get("firstName", [])[:1] + props.get("lastName", [])[:1])
    return person or f"{entity['schema']} {entity['id']}"


def _extras(props: dict[str, list[str]], used: set[str], model: type | None) -> dict[str, Any]:
    fields = model.model_fields if model is not None else {}
    out: dict[str, Any] = {}
    for key, values in props.items():
        if key in used:
            continue
        name = snake(key)
        if name in RESERVED_PROPERTIES or name in fields or name in ("bundle_id", "address"):
            name = f"raw_{name}"
        out[name] = values[0] if len(values) == 1 else values
    return out


def _set(item: Node, extras: dict[str, Any]) -> None:
    for key, value in extras.items():
        setattr(item, key, value)


def _meta(entity: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {"ftm_schema": str(entity["schema"])}
    datasets = [str(d) for d in entity.get("datasets") or [] if d]
    if datasets:
        meta["ftm_datasets"] = datasets
    return meta


def _address_items(holder: str, text: str) -> list[Item]:
    key = address_key(text)
    if not key:
        return []
    address_id = Address.make_id(key)
    return [NodeStatement(address_id, Address.label, {"name": text, "text": text, "normalized": key}), LinkStatement(HasAddress.rel, holder, address_id)]


def _call(mapper: Callable[[Row, Any], list[Item]], values: dict[str, str], row: Row, ctx: _FtmContext, names: dict[str, str]) -> list[Item]:
    try:
        return mapper(Row(row.line, {k: v for k, v in values.items() if v}, row.fields), ctx)
    except ValidationError as exc:
        error = validation_error(exc)
        raise RecordError(names.get(error.column, error.column), error.reason) from None
    except RecordError as exc:
        raise RecordError(names.get(exc.column, exc.column), exc.reason) from None


_COMPANY_NAMES = {"tax_id": "taxNumber", "registration_number": "registrationNumber", "incorporation_date": "incorporationDate", "name": "name"}


def _map_party(row: FtmRow, ctx: _FtmContext, entity: dict[str, Any], props: dict[str, list[str]], kind: str) -> list[Item]:
    ftm_id = str(entity["id"])
    used = {"name", "address", "addressEntity"}
    raw = _Raw(entity)
    if kind == "Company":
        values = {
            "id": ftm_id,
            "name": _name(entity, props),
            "tax_id": _first(props, "taxNumber", "innCode", "vatCode"),
            "registration_number": _first(props, "registrationNumber", "ogrnCode", "leiCode"),
            "jurisdiction": _first(props, "jurisdiction", "country"),
            "status": _first(props, "status"),
            "industry": _first(props, "sector", "classification"),
        }
        values["incorporation_date"] = raw.date(props, ("incorporationDate",), "incorporation_date")
        used |= {"taxNumber", "registrationNumber", "status", "sector", "incorporationDate"} & set(props)
        used |= {"jurisdiction"} if "jurisdiction" in props else {"country"} if "country" in props else set()
        mapper = map_company
    else:
        values = {
            "id": ftm_id,
            "name": _name(entity, props),
            "tax_id": _first(props, "taxNumber", "innCode"),
            "nationality": _first(props, "nationality", "citizenship"),
        }
        values["birth_date"] = raw.date(props, ("birthDate",), "birth_date")
        used |= {"taxNumber", "nationality", "birthDate"} & set(props)
        mapper = map_person
    # The first name is the node's; every further spelling stays searchable as an alias.
    others = [n for n in props.get("name", []) if n != values["name"]]
    if others:
        props = {**props, "alias": others + [a for a in props.get("alias", []) if a not in others]}
    items = _call(mapper, values, row, ctx, _COMPANY_NAMES)
    node = items[0]
    assert isinstance(node, Node)
    _set(node, {**_extras(props, used, type(node)), **raw.props, **_meta(entity)})
    for text in props.get("address", []):
        items += _address_items(node.id, text)
    return [*items, *raw.bad]


def _map_address(entity: dict[str, Any], props: dict[str, list[str]]) -> list[Item]:
    text = _address_text(props)
    key = address_key(text)
    if not key:
        raise RecordError("full", "an Address entity with no text (full, street, city, ...)")
    fields = {
        "city": _first(props, "city"),
        "state": _first(props, "region", "state"),
        "country": _first(props, "country"),
        "postal_code": _first(props, "postalCode"),
    }
    used = {"full", "city", "region", "state", "country", "postalCode"}
    node = Address(id=Address.make_id(key), name=text, text=text, normalized=key, **{k: v for k, v in fields.items() if v})
    _set(node, {**_extras(props, used, Address), **_meta(entity), "ftm_id": str(entity["id"])})
    return [node]


def _map_account(row: FtmRow, ctx: _FtmContext, entity: dict[str, Any], props: dict[str, list[str]]) -> list[Item]:
    values = {"id": str(entity["id"]), "bank": _first(props, "bankName"), "number": _first(props, "accountNumber", "iban")}
    items = _call(map_account, values, row, ctx, {"bank": "bankName", "number": "accountNumber"})
    node = items[0]
    assert isinstance(node, Node)
    _set(node, {**_extras(props, {"bankName", "accountNumber"}, type(node)), **_meta(entity)})
    return items


def _map_shipment(ctx: _FtmContext, entity: dict[str, Any], props: dict[str, list[str]]) -> list[Item]:
    ftm_id = str(entity["id"])
    raw = _Raw(entity)
    fields = {
        "date": raw.date(props, ("date", "startDate"), "date"),
        "product": _first(props, "goodsDescription"),
        "hs_code": _first(props, "vedCode"),
        "origin_country": _first(props, "originCountry", "departureCountry"),
    }
    used = {"goodsDescription", "vedCode", "receiver", "sender"}
    used |= {"date"} if props.get("date") else set()
    used |= {"originCountry"} if props.get("originCountry") else set()
    name = str(entity.get("caption") or "").strip() or " ".join(v for v in (fields["product"], fields["date"]) if v) or ftm_id
    node = Shipment(id=Shipment.make_id(ctx.dataset, ftm_id), name=name, bundle_id=ftm_id, **{k: v for k, v in fields.items() if v})
    _set(node, {**_extras(props, used, Shipment), **raw.props, **_meta(entity)})
    return [node, *raw.bad]


def _relation(text: str | None) -> str:
    if not text:
        return "other"
    for word in name_key(text).replace("-", " ").split():
        if word in RELATIONS:
            return RELATIONS[word]
    return "other"


def _link_extras(entity: dict[str, Any], props: dict[str, list[str]], used: set[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, values in props.items():
        if key in used or key == "namesMentioned":
            continue
        name = snake(key)
        out[f"raw_{name}" if name in RESERVED_PROPERTIES else name] = "; ".join(values)
    out["ftm_id"] = str(entity["id"])
    out["ftm_schema"] = str(entity["schema"])
    return out


def _dates(props: dict[str, list[str]], raw: _Raw) -> dict[str, str]:
    out = {}
    for prop, column in (("startDate", "start_date"), ("endDate", "end_date")):
        value = raw.date(props, (prop,), column)
        if value:
            out[column] = value
    return out


def _map_ownership(row: FtmRow, ctx: _FtmContext, entity: dict[str, Any], props: dict[str, list[str]], raw: _Raw) -> list[Item]:
    owners, assets = props.get("owner", []), props.get("asset", [])
    if not owners:
        raise RecordError("owner", "missing value: an Ownership needs an owner")
    if not assets:
        raise RecordError("asset", "missing value: an Ownership needs an asset")
    pairs = [(o, a) for o in owners for a in assets if not (o == a and (len(owners) > 1 or len(assets) > 1))]
    percentages = props.get("percentage", [])
    used = {"owner", "asset", "percentage", "startDate", "endDate"}
    extras = _link_extras(entity, props, used)
    dates = _dates(props, raw)
    single = len(pairs) == 1 and len(percentages) == 1
    share = raw.share(percentages[0]) if single else None
    extras.update(raw.props)
    items: list[Item] = []
    names = {"owner_id": "owner", "company_id": "asset", "share_pct": "percentage", "start_date": "startDate", "end_date": "endDate"}
    for owner, asset in pairs:
        entry = row.index.entries.get(asset) if row.index else None
        if entry is not None and entry.kind == "Account":
            holder = ctx.local(owner, _PARTY, "owner")
            items.append(LinkStatement(Holds.rel, holder, ctx.local(asset, ("Account",), "asset")))
            continue
        values = {"owner_id": owner, "company_id": asset, **dates, **extras}
        if single:
            values["share_pct"] = share or ""  # empty when it cannot be read: kept as raw_share
        elif percentages:
            # FtM merged several holdings into one entity (a mutual holding keyed on the unordered
            # pair): which percentage belongs to which owner is not stated, so none is guessed.
            values["share_unpaired"] = "; ".join(percentages)
        stated = row.index.pairs.get((owner, asset), []) if row.index else []
        if len(stated) > 1:
            values["shares_stated"] = "; ".join(p or "?" for _, p in stated)
            values["ftm_ids"] = "; ".join(i for i, _ in stated)
        items += _call(map_ownership, values, row, ctx, names)
    return [*items, *raw.bad]


def _map_edge(row: FtmRow, ctx: _FtmContext, entity: dict[str, Any], props: dict[str, list[str]]) -> list[Item]:
    schema = str(entity["schema"])
    raw = _Raw(entity)
    if schema == "Ownership":
        return _map_ownership(row, ctx, entity, props, raw)
    if schema == "Directorship":
        used = {"director", "organization", "role", "startDate", "endDate"}
        values = {"person_id": _first(props, "director") or "", "company_id": _first(props, "organization") or "", "role": "; ".join(props.get("role", [])), **_dates(props, raw)}
        values.update(_link_extras(entity, props, used), **raw.props)
        return [*_call(map_officer, values, row, ctx, {"person_id": "director", "company_id": "organization"}), *raw.bad]
    if schema in ("Family", "Associate"):
        other = "relative" if schema == "Family" else "associate"
        relationship = _first(props, "relationship")
        relation = _relation(relationship) if schema == "Family" else "other"
        values = {"person_id": _first(props, "person") or "", "relative_id": _first(props, other) or "", "relation": relation, **_dates(props, raw)}
        values.update(_link_extras(entity, props, {"person", other, "startDate", "endDate"}), **raw.props)
        return [*_call(map_family, values, row, ctx, {"person_id": "person", "relative_id": other}), *raw.bad]
    if schema == "Representation":
        client = _first(props, "client") or ""
        entry = row.index.entries.get(client) if row.index else None
        if entry is not None and entry.kind == "Person":
            raise RecordError("client", f"{client!r} is a Person: graphinv links representatives to firms only (OFFICER_OF)")
        values = {"person_id": _first(props, "agent") or "", "company_id": client, "role": "; ".join(props.get("role", [])) or "representative", **_dates(props, raw)}
        values.update(_link_extras(entity, props, {"agent", "client", "role", "startDate", "endDate"}), **raw.props)
        return [*_call(map_officer, values, row, ctx, {"person_id": "agent", "company_id": "client"}), *raw.bad]
    # Sanction: a flag on the sanctioned entity, named for the list that carries it.
    target = _first(props, "entity")
    if not target:
        raise RecordError("entity", "missing value: a Sanction needs the sanctioned entity")
    entity_id = ctx.local(target, ("Company", "Person", "Account"), "entity")
    datasets = [str(d) for d in entity.get("datasets") or [] if d]
    listing = _first(props, "authority", "program") or (datasets[0] if datasets else ctx.dataset)
    reason = "; ".join(v for v in (_first(props, "program"), _first(props, "reason"), _first(props, "provisions")) if v) or None
    date = raw.date(props, ("listingDate", "startDate"), None)
    return [Flag(entity_id=entity_id, list=listing, reason=reason, date=date), *raw.bad]


def map_ftm(row: Row, ctx: Context) -> list[Item]:
    """One FtM entity, or one of its references, as graph items."""
    assert isinstance(row, FtmRow) and row.entity is not None and row.index is not None
    entity = row.entity
    schema = str(entity["schema"])
    props = _props(entity)
    fctx = _FtmContext(ctx, row.index, {})
    kind = FTM_NODE_SCHEMATA.get(schema)
    if row.part != "entity":
        holder = NODE_KINDS[kind].make_id(ctx.dataset, str(entity["id"])) if kind else ""
        if row.part == "addressEntity":
            entry = row.index.entries.get(row.target)
            if entry is None or entry.kind != "Address":
                what = f"a {entry.schema}" if entry else "missing"
                raise RecordError("addressEntity", f"{row.target!r} is {what}: the address entity is referenced but not in the file")
            if entry.address_id is None:
                raise RecordError("addressEntity", f"{row.target!r} is an Address with no text")
            return [LinkStatement(HasAddress.rel, holder, entry.address_id)]
        party = fctx.local(row.target, ("Company",), row.part)
        rel = Imported.rel if row.part == "receiver" else Exported.rel
        return [LinkStatement(rel, party, holder)]
    if kind in ("Company", "Person"):
        return _map_party(row, fctx, entity, props, kind)
    if kind == "Address":
        return _map_address(entity, props)
    if kind == "Account":
        return _map_account(row, fctx, entity, props)
    if kind == "Shipment":
        return _map_shipment(fctx, entity, props)
    if schema in FTM_LINK_SCHEMATA:
        return _map_edge(row, fctx, entity, props)
    raise RecordError(
        "schema",
        f"{schema} entities have no place in graphinv's graph (DESIGN §3), so this one is not ingested "
        f"(read: {', '.join(sorted(FTM_NODE_SCHEMATA) + sorted(FTM_LINK_SCHEMATA))})",
    )


_HEAD = re.compile(rb'"schema"\s*:\s*"[A-Za-z]+"')


def sniff_ftm(path: Path) -> bool:
    """FtM JSON lines (or an array of FtM entities): objects with 'schema', 'properties' and 'id'."""
    if first_char(path) not in ("{", "["):
        return False
    head = read_head(path)
    return bool(_HEAD.search(head)) and b'"properties"' in head and b'"statementI' not in head


register(Adapter(kind="ftm", records=read_ftm, map=map_ftm, refs=_REFS, order=5, sniff=sniff_ftm))
