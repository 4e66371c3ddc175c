"""Beneficial Ownership Data Standard packages (0.4, and 0.2/0.3) as owners, controllers and firms.

A package is read whole (``records()``): statements are grouped by the record they describe, so a
record that was updated or closed becomes one node or link carrying its latest state, its start
and end dates and its history. Direct interests become links; a declared *indirect* interest is
not a link (the chain it summarises is in the graph already, and ubo computes it) but is kept on
the owned firm as ``declared_owners``, and where the chain's shares leave exactly one answer the
share it implies is written on the chain link (``share_implied_by``). Unknown and anonymous owners
become explicit unknown-owner nodes, one per statement, never dropped and never merged. A value
that cannot be read (a share "half", a date "03/09/2019") does not reject its statement: it is kept
as ``raw_<field>`` and reported as a warning (``BadValue``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from graphinv.exc import RecordError
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
from graphinv.model import NODE_KINDS, Address, Company, HasAddress, OfficerOf, Owns, Person, address_key, check_date

__all__ = ["BodsRow", "read_bods", "map_bods", "sniff_bods", "SHARE_INTERESTS", "OFFICER_INTERESTS", "implied_shares"]

#: Interests that are a share of the firm (the share goes on the OWNS link).
SHARE_INTERESTS = frozenset({"shareholding", "votingRights", "rightsToSurplusAssetsOnDissolution", "rightsToProfitOrIncome"})
#: Interests that are an office in the firm: OFFICER_OF with the interest as role.
OFFICER_INTERESTS = frozenset({"boardMember", "boardChair", "seniorManagingOfficial"})
# Every other interest (trustee, settlor, nominee, otherInfluenceOrControl, ...) is control
# without a share: an OWNS link whose share is unknown, naming the interest.

_KEBAB = re.compile(r"-([a-z])")


def _interest_type(value: Any) -> str:
    text = str(value or "").strip()
    return _KEBAB.sub(lambda m: m.group(1).upper(), text) if text else ""


@dataclass
class _Statement:
    """One statement, the same shape whatever the BODS version."""

    line: int
    text: str
    sid: str
    record: str
    rtype: str  # entity | person | relationship
    status: str
    date: str
    details: dict[str, Any]
    replaces: list[str]
    nested: bool = False  # 0.4: the details are under recordDetails
    closed_by: _Statement | None = None  # 0.2: the statement whose date ends this record


@dataclass
class _Relation:
    record: str
    owner: str | None  # record id of the interested party, None when inline unknown
    subject: str
    share: float | None  # exact shareholding, when stated
    components: tuple[str, ...]
    indirect: list[dict[str, Any]]
    direct: bool


@dataclass
class _Package:
    """What the whole file says, for the row mappers: record kinds, names, declarations."""

    kinds: dict[str, str] = field(default_factory=dict)  # record → Company | Person
    names: dict[str, str] = field(default_factory=dict)
    declared: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # subject record → declarations
    implied: dict[str, tuple[float, str]] = field(default_factory=dict)  # relationship record → (share, statement)


@dataclass(slots=True)
class BodsRow(Row):
    """One BODS record (all its statements), latest state first in ``states``."""

    states: list[_Statement] = field(default_factory=list)
    package: _Package | None = None


def _normalise(line: int, text: str, data: Any) -> _Statement | RecordError:
    if not isinstance(data, dict):
        return RecordError("*", "expected a BODS statement (a JSON object)")
    sid = str(data.get("statementId") or data.get("statementID") or "")
    if not sid:
        return RecordError("statementId", "missing value: every BODS statement has a statementId")
    if "recordType" in data:
        rtype = str(data["recordType"])
    else:
        rtype = {"entityStatement": "entity", "personStatement": "person", "ownershipOrControlStatement": "relationship"}.get(
            str(data.get("statementType", "")), ""
        )
    if rtype not in ("entity", "person", "relationship"):
        return RecordError("recordType", f"unknown statement type {data.get('recordType') or data.get('statementType')!r}")
    details = data.get("recordDetails") if isinstance(data.get("recordDetails"), dict) else data
    record = str(data.get("recordId") or sid)
    status = str(data.get("recordStatus") or ("updated" if data.get("replacesStatements") else "new"))
    date = str(data.get("statementDate") or "")
    replaces = [str(r) for r in data.get("replacesStatements") or []]
    return _Statement(line, text, sid, record, rtype, status, date, details, replaces, details is not data)


def _same_parties(old: _Statement, new: _Statement) -> bool:
    if old.rtype != new.rtype:
        return False
    if old.rtype != "relationship":
        return True
    return _ref(old.details.get("subject")) == _ref(new.details.get("subject")) and _ref(old.details.get("interestedParty")) == _ref(
        new.details.get("interestedParty")
    )


def _ref(value: Any) -> str | None:
    """A reference to a record (0.4: its id; 0.2: {describedBy...Statement: id}); None if inline."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in ("describedByEntityStatement", "describedByPersonStatement"):
            if value.get(key):
                return str(value[key])
    return None


def _unspecified(value: Any) -> dict[str, Any] | None:
    if isinstance(value, dict) and _ref(value) is None:
        inner = value.get("unspecified") if isinstance(value.get("unspecified"), dict) else value
        return {"reason": str(inner.get("reason") or "unknown"), "description": str(inner.get("description") or "")}
    return None


_SHARE_KEYS = (
    ("exact", "exact"),
    ("minimum", "min"),
    ("exclusiveMinimum", "min"),
    ("maximum", "max"),
    ("exclusiveMaximum", "max"),
)


def _read_share(interest: dict[str, Any]) -> tuple[dict[str, float], str | None]:
    """The stated share as numbers (exact, min, max), or nothing and the reason it cannot be read."""
    share = interest.get("share")
    if share is None:
        return {}, None
    if not isinstance(share, dict):
        return {}, f"not an object with exact, minimum or maximum: {share!r}"
    out: dict[str, float] = {}
    for key, target in _SHARE_KEYS:
        value = share.get(key)
        if value is None:
            continue
        number = _number(value)
        if number is None:
            return {}, f"{key} {value!r} is not a number"
        if not 0 <= number <= 100:
            return {}, f"{key} {value!r} is not a percentage between 0 and 100"
        out.setdefault(target, number)
    if out.get("min", 0.0) > out.get("max", 100.0):
        return {}, f"the minimum {out['min']:g} is above the maximum {out['max']:g}"
    return out, None


def _number(value: Any) -> float | None:
    """A number, or a number written as text ("50": BODS producers write both); a bool is not one."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _share(interest: dict[str, Any]) -> dict[str, float]:
    return _read_share(interest)[0]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


@dataclass
class _Raw:
    """The values of a statement that could not be read, for one node or link: each is kept on it
    as ``raw_<field>`` and reported as a warning, so nothing is dropped and the statement is kept."""

    statement: _Statement
    props: dict[str, str] = field(default_factory=dict)
    bad: list[BadValue] = field(default_factory=list)
    earlier: bool = False  # a statement the record's latest one restates: the warning names it

    def path(self, key: str, interest: dict[str, Any] | None = None) -> str:
        """The field's JSON path in the statement: ``recordDetails.interests[0].share`` (0.4)."""
        prefix = "recordDetails." if self.statement.nested else ""
        if interest is not None:
            index = next(n for n, i in enumerate(self.statement.details.get("interests") or []) if i is interest)
            prefix += f"interests[{index}]."
        return prefix + key

    def keep(self, column: str, target: str, value: Any, reason: str, statement: _Statement | None = None) -> None:
        """Keep ``value`` as ``raw_<target>`` and report it; ``statement``: the one it is from, when
        that is not the statement whose line the warning gives."""
        key = f"raw_{target}"
        self.props[key] = _join(self.props.get(key), _text(value))
        statement = statement or (self.statement if self.earlier else None)
        where = f" in statement {statement.sid!r} on line {statement.line}" if statement else ""
        self.bad.append(BadValue(column, f"{reason}{where}; kept as {key}"))

    def share(self, interest: dict[str, Any], target: str) -> dict[str, float]:
        share, reason = _read_share(interest)
        if reason is not None:
            self.keep(self.path("share", interest), target, interest["share"], f"{reason}, so the share is unknown")
        return share

    def date(self, key: str, target: str, interest: dict[str, Any] | None = None) -> str | None:
        """The date in ``key`` of the statement's details (or of one of its interests)."""
        value = (self.statement.details if interest is None else interest).get(key)
        return self.check_date(value, self.path(key, interest), target)

    def check_date(self, value: Any, path: str, target: str, statement: _Statement | None = None) -> str | None:
        """``value`` as an ISO date, or None (kept as ``raw_<target>`` when it is not one)."""
        if not value:
            return None
        try:
            return check_date(str(value)[:10])
        except ValueError as exc:
            self.keep(path, target, value, str(exc), statement)
            return None


def _join(old: str | None, text: str) -> str:
    """Raw values of one field from several statements, each once."""
    if not old:
        return text
    return old if text in old.split("; ") else f"{old}; {text}"


def _level(interest: dict[str, Any]) -> str:
    return str(interest.get("directOrIndirect") or interest.get("interestLevel") or "unknown")


def read_bods(path: Path, progress: Callable[[int], None] | None = None) -> Iterator[Row]:
    """Every record of a BODS package (a JSON array or JSON lines of statements)."""
    statements: list[_Statement] = []
    for item in read_json_records(path, progress):
        if item.error is not None:
            yield BodsRow(item.line, {}, [item.text], item.error)
            continue
        found = _normalise(item.line, item.text, item.data)
        if isinstance(found, RecordError):
            yield BodsRow(item.line, {}, [item.text], found)
            continue
        statements.append(found)
    # 0.2 has no record ids: a statement that replaces another of the same parties continues its
    # record (Chris Taggart 100% → 50%); a replaced statement nobody continues has ended.
    root: dict[str, str] = {}
    by_sid = {s.sid: s for s in statements}
    continued: set[str] = set()
    ended: dict[str, _Statement] = {}
    for s in statements:
        for old in s.replaces:
            previous = by_sid.get(old)
            if old not in continued and (previous is None or _same_parties(previous, s)):
                root[s.sid] = root.get(old, old)
                continued.add(old)
                break
    for s in statements:
        for old in s.replaces:
            if old not in continued:
                ended.setdefault(root.get(old, old), s)
    records: dict[str, list[_Statement]] = {}
    for s in statements:
        if s.record == s.sid:
            s.record = root.get(s.sid, s.sid)
        records.setdefault(s.record, []).append(s)
    for record, closer in ended.items():
        if record in records:
            last = max(records[record], key=lambda s: (s.date, s.line))
            records[record].append(
                _Statement(
                    last.line, last.text, last.sid, record, last.rtype, "closed", closer.date, last.details, [], last.nested, closer
                )
            )
    package = _package(records, root)
    for record, states in records.items():
        states = sorted(states, key=lambda s: (s.date, s.line))[::-1]
        latest = states[0]
        values = {}
        if latest.rtype == "relationship":
            subject = _ref(latest.details.get("subject"))
            owner = _ref(latest.details.get("interestedParty"))
            values = {"subject": root.get(subject, subject) if subject else "", "interested_party": root.get(owner, owner) if owner else ""}
        yield BodsRow(latest.line, {k: v for k, v in values.items() if v}, [latest.text], states=states, package=package)


def _package(records: dict[str, list[_Statement]], root: dict[str, str]) -> _Package:
    package = _Package()
    relations: list[_Relation] = []
    for record, states in records.items():
        latest = max(states, key=lambda s: (s.date, s.line))
        if latest.rtype in ("entity", "person"):
            package.kinds[record] = "Company" if latest.rtype == "entity" else "Person"
            package.names[record] = _entity_name(latest) if latest.rtype == "entity" else _person_name(latest)
            continue
        d = latest.details
        subject = _ref(d.get("subject"))
        owner = _ref(d.get("interestedParty"))
        interests = [i for i in d.get("interests") or [] if isinstance(i, dict)]
        indirect = [i for i in interests if _level(i) == "indirect"]
        direct = [i for i in interests if _level(i) != "indirect"]
        shares = [_share(i).get("exact") for i in direct if _interest_type(i.get("type")) == "shareholding"]
        components = tuple(root.get(c, c) for c in d.get("componentRecords") or d.get("componentStatementIDs") or [])
        relations.append(
            _Relation(
                record=record,
                owner=root.get(owner, owner) if owner else None,
                subject=root.get(subject, subject) if subject else "",
                share=next((s for s in shares if s is not None), None),
                components=components,
                indirect=indirect,
                direct=bool(direct) or not interests,
            )
        )
    for rel in relations:
        for interest in rel.indirect:
            declaration = {
                "owner_record": rel.owner,
                "owner_name": package.names.get(rel.owner or "", "unknown owner"),
                "interest": _interest_type(interest.get("type")) or "unknown",
                "beneficial": bool(interest.get("beneficialOwnershipOrControl")),
                "statement_record": rel.record,
            }
            share, reason = _read_share(interest)
            if reason is not None:
                declaration["raw_share"] = _text(interest["share"])
            if "exact" in share:
                declaration["share_pct"] = share["exact"]
            if "min" in share:
                declaration["share_min"] = share["min"]
            if "max" in share:
                declaration["share_max"] = share["max"]
            for key, target in (("startDate", "start_date"), ("endDate", "end_date")):
                if day := _date(interest.get(key)):
                    declaration[target] = day
                elif interest.get(key):
                    declaration[f"raw_{target}"] = _text(interest[key])
            package.declared.setdefault(rel.subject, []).append(declaration)
            if "exact" in share and rel.owner:
                implied = implied_shares(rel, share["exact"], [r for r in relations if r.direct])
                for edge, value in implied.items():
                    package.implied.setdefault(edge, (value, rel.record))
    return package


def implied_shares(declaration: _Relation, declared: float, edges: list[_Relation], max_depth: int = 12) -> dict[str, float]:
    """The shares of the chain links a declared indirect share pins down, by record.

    The chains are the simple paths of direct links from the owner to the firm (those listed as
    the declaration's components, when it lists them). With ``k`` = what the chains with known
    shares carry and the unknown links as unknowns: one unknown link gets (declared - k) / (what
    its chains carry per percent); several get 100% only when nothing less adds up to the declared
    share. Anything else is left unknown: never a guess.
    """
    if declaration.owner is None:
        return {}
    components = set(declaration.components)
    usable = [e for e in edges if e.owner and (not components or e.record in components)]
    out_edges: dict[str, list[_Relation]] = {}
    for e in usable:
        out_edges.setdefault(e.owner or "", []).append(e)
    paths: list[list[_Relation]] = []

    def walk(node: str, path: list[_Relation], seen: set[str]) -> None:
        if len(path) > max_depth:
            return
        for e in out_edges.get(node, []):
            if e.subject in seen:
                continue
            if e.subject == declaration.subject:
                if path:  # the direct holding is not part of the declared indirect one
                    paths.append([*path, e])
                continue
            walk(e.subject, [*path, e], seen | {e.subject})

    walk(declaration.owner, [], {declaration.owner})
    if not paths:
        return {}
    target = declared / 100.0
    known = sum(_product(p) for p in paths if all(e.share is not None for e in p))
    unknown = {e.record for p in paths for e in p if e.share is None}
    if len(unknown) == 1:
        record = next(iter(unknown))
        per_unit = sum(_product([e for e in p if e.record != record]) for p in paths if any(e.record == record for e in p))
        if per_unit <= 0:
            return {}
        value = (target - known) / per_unit * 100.0
        return {record: round(value, 6)} if -1e-9 <= value <= 100.0 + 1e-9 else {}
    if unknown:
        most = sum(_product([e for e in p if e.share is not None]) for p in paths)
        if abs(most - target) < 1e-9:
            return {record: 100.0 for record in unknown}
    return {}


def _product(path: list[_Relation]) -> float:
    value = 1.0
    for e in path:
        value *= (e.share if e.share is not None else 100.0) / 100.0
    return value


# -- mapping one record ----------------------------------------------------------------------------


def _entity_name(s: _Statement) -> str:
    d = s.details
    if d.get("name"):
        return str(d["name"])
    for name in d.get("names") or []:
        if isinstance(name, dict) and name.get("fullName"):
            return str(name["fullName"])
    unspecified = d.get("unspecifiedEntityDetails") or {}
    return f"Unknown entity ({unspecified.get('reason') or 'not named'})"


def _person_name(s: _Statement) -> str:
    d = s.details
    names = [n for n in d.get("names") or [] if isinstance(n, dict)]
    names.sort(key=lambda n: 0 if n.get("type") in ("legal", "individual") else 1)
    for name in names:
        full = name.get("fullName") or " ".join(str(name[k]) for k in ("givenName", "familyName") if name.get(k))
        if full:
            return str(full)
    unspecified = d.get("unspecifiedPersonDetails") or {}
    kind = "Anonymous person" if d.get("personType") == "anonymousPerson" else "Unknown person"
    return f"{kind} ({unspecified.get('reason') or 'not named'})"


def _date(value: Any) -> str | None:
    if not value:
        return None
    text = str(value)[:10]
    try:
        return check_date(text)
    except ValueError:
        return None


def _code(value: Any) -> str | None:
    if isinstance(value, dict):
        return str(value.get("code") or value.get("name") or "") or None
    return str(value) if value else None


def _addresses(holder: str, details: dict[str, Any]) -> list[Item]:
    items: list[Item] = []
    for address in details.get("addresses") or []:
        if not isinstance(address, dict) or not address.get("address"):
            continue
        parts = [str(address["address"]), str(address.get("postCode") or ""), _code(address.get("country")) or ""]
        text = ", ".join(p for p in parts if p)
        key = address_key(text)
        if key:
            address_id = Address.make_id(key)
            items += [NodeStatement(address_id, Address.label, {"name": text, "text": text, "normalized": key}), LinkStatement(HasAddress.rel, holder, address_id)]
    return items


def _history(states: list[_Statement]) -> list[str]:
    return [f"{s.date or '?'} {s.status} (statement {s.sid})" for s in reversed(states)]


def _map_party(row: BodsRow, ctx: Context, package: _Package) -> list[Item]:
    latest = row.states[0]
    d = latest.details
    record = latest.record
    props: dict[str, Any] = {"bundle_id": record, "bods_record_status": latest.status, "bods_statement_id": latest.sid}
    if len(row.states) > 1:
        props["bods_history"] = _history(row.states)
    items: list[Item] = []
    raw = _Raw(latest)
    if latest.status == "closed":
        props["closed_date"] = raw.check_date(latest.date, "statementDate", "closed_date", latest.closed_by)
    if latest.rtype == "entity":
        etype = d.get("entityType")
        etype_name = str(etype.get("type") if isinstance(etype, dict) else etype or "")
        unspecified = d.get("unspecifiedEntityDetails")
        identifiers = [i for i in d.get("identifiers") or [] if isinstance(i, dict) and i.get("id")]
        fields: dict[str, Any] = {
            "name": _entity_name(latest),
            "registration_number": str(identifiers[0]["id"]) if identifiers else None,
            "jurisdiction": _code(d.get("jurisdiction") or d.get("incorporatedInJurisdiction")),
            "incorporation_date": raw.date("foundingDate", "incorporation_date"),
        }
        props["entity_type"] = etype_name or None
        if isinstance(etype, dict) and etype.get("subtype"):
            props["entity_subtype"] = str(etype["subtype"])
        if identifiers:
            props["identifiers"] = [f"{i.get('scheme') or i.get('schemeName') or '?'}:{i['id']}" for i in identifiers]
        if d.get("dissolutionDate"):
            props["dissolution_date"] = str(d["dissolutionDate"])
        if etype_name in ("anonymousEntity", "unknownEntity") or unspecified:
            props["unknown"] = True
            props["unknown_reason"] = str((unspecified or {}).get("reason") or etype_name)
        declared = package.declared.get(record)
        if declared:
            props["declared_owners"] = [_declaration(d, package, ctx) for d in declared]
        node_id = Company.make_id(ctx.dataset, record)
        node: Company | Person = Company(id=node_id, **{k: v for k, v in fields.items() if v}, **{k: v for k, v in props.items() if v is not None})
    else:
        ptype = str(d.get("personType") or "knownPerson")
        unspecified = d.get("unspecifiedPersonDetails")
        nationalities = [c for c in (_code(n) for n in d.get("nationalities") or []) if c]
        birth = raw.date("birthDate", "birth_date")
        fields = {"name": _person_name(latest), "birth_date": birth, "nationality": ", ".join(nationalities) or None}
        props["person_type"] = ptype
        if ptype != "knownPerson" or unspecified:
            props["unknown"] = True
            props["unknown_reason"] = str((unspecified or {}).get("reason") or ptype)
            if (unspecified or {}).get("description"):
                props["unknown_description"] = str(unspecified["description"])
        residencies = [c for c in (_code(t) for t in d.get("taxResidencies") or []) if c]
        if residencies:
            props["tax_residencies"] = residencies
        node_id = Person.make_id(ctx.dataset, record)
        node = Person(id=node_id, **{k: v for k, v in fields.items() if v}, **{k: v for k, v in props.items() if v is not None})
        exposure = d.get("politicalExposure") if isinstance(d.get("politicalExposure"), dict) else {}
        if exposure.get("status") == "isPep" or d.get("hasPepStatus") is True:
            where = "politicalExposure.details" if exposure.get("details") else "pepStatusDetails"
            details = exposure.get("details") or d.get("pepStatusDetails") or []
            reason = "; ".join(str(x.get("reason")) for x in details if isinstance(x, dict) and x.get("reason")) or None
            starts = [
                raw.check_date(x.get("startDate"), raw.path(f"{where}[{n}].startDate"), "pep_start_date")
                for n, x in enumerate(details)
                if isinstance(x, dict)
            ]
            start = next((s for s in starts if s), None)
            items.append(Flag(entity_id=node_id, list="PEP", reason=reason, date=start))
    for key, value in raw.props.items():
        setattr(node, key, value)
    return [node, *_addresses(node.id, d), *items, *raw.bad]


def _declaration(declaration: dict[str, Any], package: _Package, ctx: Context) -> dict[str, Any]:
    out = dict(declaration)
    owner = out.pop("owner_record")
    if owner and owner in package.kinds:
        out["owner"] = NODE_KINDS[package.kinds[owner]].make_id(ctx.dataset, owner)
    out["statement_record"] = out.pop("statement_record")
    return out


def _party_id(record: str, package: _Package, ctx: Context, column: str, kinds: tuple[str, ...]) -> str:
    kind = package.kinds.get(record)
    if kind is not None:
        if kind not in kinds:
            raise RecordError(column, f"{record!r} is a {kind.lower()} statement, which cannot be the {column} here")
        return NODE_KINDS[kind].make_id(ctx.dataset, record)
    try:
        return ctx.local(record, kinds, column)
    except RecordError:
        raise RecordError(
            column, f"unknown record {record!r}: no entity or person statement in the package or dataset {ctx.dataset!r} describes it; "
            "ingest the package that does first, in the same dataset"
        ) from None


def _map_relationship(row: BodsRow, ctx: Context, package: _Package) -> list[Item]:
    latest = row.states[0]
    d = latest.details
    record = latest.record
    subject_ref = row.values.get("subject")
    if not subject_ref:
        raise RecordError("subject", "missing value: a relationship statement names its subject")
    subject = _party_id(subject_ref, package, ctx, "subject", ("Company",))
    interests = [i for i in d.get("interests") or [] if isinstance(i, dict)]
    direct = [i for i in interests if _level(i) != "indirect"]
    declared = _Raw(latest)  # the indirect ones are kept on the firm as declared_owners
    for interest in interests:
        if _level(interest) == "indirect":
            declared.share(interest, "share")
            declared.date("startDate", "start_date", interest)
            declared.date("endDate", "end_date", interest)
    items: list[Item] = [*declared.bad]
    if interests and not direct:
        return items
    owner_ref = row.values.get("interested_party")
    if owner_ref:
        owner = _party_id(owner_ref, package, ctx, "interestedParty", ("Person", "Company"))
    else:
        unspecified = _unspecified(d.get("interestedParty")) or {"reason": "interestedPartyNotGiven", "description": ""}
        owner = Person.make_id(ctx.dataset, "unknown-owner", record)
        subject_name = package.names.get(subject_ref, subject_ref)
        props: dict[str, Any] = {
            "name": f"Unknown owner of {subject_name} ({unspecified['reason']})",
            "unknown": True,
            "unknown_reason": unspecified["reason"],
            "bundle_id": f"unknown-owner:{record}",
        }
        if unspecified["description"]:
            props["unknown_description"] = unspecified["description"]
        items.append(NodeStatement(owner, Person.label, props))
    officer = [i for i in direct if _interest_type(i.get("type")) in OFFICER_INTERESTS]
    owning = [i for i in direct if _interest_type(i.get("type")) not in OFFICER_INTERESTS]
    common = _link_common(row, latest)
    if owning or not direct:
        raw = _Raw(latest)
        items += [_owns(owner, subject, owning, common, package.implied.get(record), raw), *raw.bad]
    if officer:
        roles = sorted({_interest_type(i.get("type")) for i in officer})
        raw = _Raw(latest)
        starts = [s for s in (raw.date("startDate", "start_date", i) for i in officer) if s]
        ends = [e for e in (raw.date("endDate", "end_date", i) for i in officer) if e]
        fields: dict[str, Any] = {"role": ", ".join(roles), **common, **raw.props}
        if starts:
            fields["start_date"] = min(starts)
        if ends and len(ends) == len(officer):
            fields["end_date"] = max(ends)
        items += [OfficerOf(source=owner, target=subject, **fields), *raw.bad]
    return items


def _link_common(row: BodsRow, latest: _Statement) -> dict[str, Any]:
    common: dict[str, Any] = {"bods_record": latest.record, "bods_statement_id": latest.sid, "bods_record_status": latest.status}
    if len(row.states) > 1:
        common["bods_history"] = _history(row.states)
    return common


def _owns(
    owner: str,
    subject: str,
    interests: list[dict[str, Any]],
    common: dict[str, Any],
    implied: tuple[float, str] | None,
    raw: _Raw,
) -> Owns:
    fields: dict[str, Any] = dict(common)
    fields["interests"] = [f"{_interest_type(i.get('type')) or 'unknown'} ({_level(i)})" for i in interests] or ["unknown"]
    fields["beneficial"] = any(bool(i.get("beneficialOwnershipOrControl")) for i in interests)
    by_type = {_interest_type(i.get("type")): i for i in interests}
    share = raw.share(by_type["shareholding"], "share") if "shareholding" in by_type else {}
    if "exact" in share:
        fields["share_pct"] = share["exact"]
    elif "min" in share:
        # A band (PSC's "more than 25% but not more than 50%"): the share is at least its lower end.
        fields["share_pct"] = share["min"]
    if "min" in share or "max" in share:
        fields["share_min"] = share.get("min", share.get("exact"))
        fields["share_max"] = share.get("max", share.get("exact"))
    voting = raw.share(by_type["votingRights"], "voting") if "votingRights" in by_type else {}
    if "exact" in voting:
        fields["voting_pct"] = voting["exact"]
    if "min" in voting or "max" in voting:
        fields["voting_min"] = voting.get("min")
        fields["voting_max"] = voting.get("max")
    if "share_pct" not in fields and implied is not None:
        fields["share_pct"] = implied[0]
        fields["share_implied_by"] = implied[1]
    starts = [s for s in (raw.date("startDate", "start_date", i) for i in interests) if s]
    ends = [e for e in (raw.date("endDate", "end_date", i) for i in interests) if e]
    if starts:
        fields["start_date"] = min(starts)
    if ends and len(ends) == len(interests):
        fields["end_date"] = max(ends)
    fields.update(raw.props)
    return Owns(source=owner, target=subject, **{k: v for k, v in fields.items() if v is not None})


def map_bods(row: Row, ctx: Context) -> list[Item]:
    """One BODS record (entity, person or relationship, with its updates) as graph items."""
    assert isinstance(row, BodsRow) and row.package is not None
    latest = row.states[0]
    try:
        if latest.rtype == "relationship":
            return _map_relationship_dated(row, ctx, row.package)
        return _map_party(row, ctx, row.package)
    except ValidationError as exc:
        raise validation_error(exc) from None


def _map_relationship_dated(row: BodsRow, ctx: Context, package: _Package) -> list[Item]:
    items = _map_relationship(row, ctx, package)
    latest = row.states[0]
    # An update restates the whole record: the holding began with the first statement's interest,
    # and each change of share dates from its interest's start, or else from the statement. The
    # latest statement's values were read (and reported) above; earlier ones are read here.
    shares: list[tuple[str, float]] = []
    first: dict[bool, str] = {}
    earlier: dict[bool, list[_Raw]] = {False: [], True: []}
    for state in reversed(row.states):
        raws = {office: _Raw(state, earlier=True) for office in (False, True)} if state.sid != latest.sid else None
        for interest in state.details.get("interests") or []:
            if not isinstance(interest, dict) or _level(interest) == "indirect":
                continue
            office = _interest_type(interest.get("type")) in OFFICER_INTERESTS
            raw = raws[office] if raws else None
            start = raw.date("startDate", "start_date", interest) if raw else _date(interest.get("startDate"))
            if start and (office not in first or start < first[office]):
                first[office] = start
            if office or _interest_type(interest.get("type")) != "shareholding":
                continue
            exact = (raw.share(interest, "share") if raw else _share(interest)).get("exact")
            if exact is None:
                continue
            if not shares or shares[-1][1] != exact:
                when = start if start and (not shares or start > shares[-1][0]) else _date(state.date) or start or "?"
                shares.append((when, exact))
        if raws:
            for office, raw in raws.items():
                earlier[office].append(raw)
    closing = _Raw(latest)
    closed = closing.check_date(latest.date, "statementDate", "end_date", latest.closed_by) if latest.status == "closed" else None
    out: list[Item] = []
    bad: list[Item] = []
    for item in items:
        if isinstance(item, (Owns, OfficerOf)):
            earliest = first.get(isinstance(item, OfficerOf))
            if earliest and (item.start_date is None or earliest < item.start_date):
                item.start_date = earliest
            kept = [raw for raw in earlier[isinstance(item, OfficerOf)] if raw.bad]
            if latest.status == "closed" and item.end_date is None:
                # Without a readable end date the link stays open, with the date kept raw.
                item.end_date = closed
                kept.append(closing)
            for raw in kept:
                for key, value in raw.props.items():
                    setattr(item, key, _join(getattr(item, key, None), value))
                bad += [b for b in raw.bad if b not in bad]
            if isinstance(item, Owns) and len(shares) > 1:
                setattr(item, "share_history", [f"{when}: {value:g}%" for when, value in shares])
        out.append(item)
    return out + bad


_HEAD = re.compile(rb'"statementI[dD]"\s*:')
_TYPE = re.compile(rb'"(recordType|statementType)"\s*:')


def sniff_bods(path: Path) -> bool:
    """A BODS package: JSON statements with a statementId and a record or statement type."""
    if first_char(path) not in ("[", "{"):
        return False
    head = read_head(path)
    return bool(_HEAD.search(head)) and bool(_TYPE.search(head))


register(
    Adapter(
        kind="bods",
        records=read_bods,
        map=map_bods,
        refs={"subject": RefSpec("local", ("Company",)), "interested_party": RefSpec("local", ("Person", "Company"))},
        order=6,
        sniff=sniff_bods,
    )
)
