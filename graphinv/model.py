"""The graph schema (DESIGN §3): node and link kinds, their deterministic ids, keys and captions.

The class is the single source of the Neo4j label or relationship type, of the id recipe and of
the caption. Nothing here does I/O.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import re
import unicodedata
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, computed_field

__all__ = [
    "Node",
    "Company",
    "Person",
    "Address",
    "Account",
    "Shipment",
    "Link",
    "Owns",
    "OfficerOf",
    "Family",
    "HasAddress",
    "Holds",
    "Imported",
    "Exported",
    "PossiblySameAs",
    "NODE_KINDS",
    "LINK_KINDS",
    "RESERVED_PROPERTIES",
    "make_id",
    "fold",
    "name_key",
    "tax_key",
    "address_key",
    "check_date",
    "day_key",
    "last_day",
    "IsoDate",
]


_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def _fold(text: str) -> str:
    if not text.isascii():
        text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    return " ".join(text.casefold().split())


# Word-by-word memos: ingest folds millions of names and addresses made of a few thousand words.
# Folding is word-local (no whitespace decomposes to or from anything else, and casefold has no
# context), so joining the folded words gives exactly what folding the whole text gives.
_MEMO_LIMIT = 200_000
_FOLDED: dict[str, str] = {}
_ADDRESS_WORDS: dict[str, str] = {}


def fold(text: str) -> str:
    """Case- and accent-insensitive form of a text, whitespace collapsed."""
    if text.isascii():
        return " ".join(text.casefold().split())
    parts = []
    for word in text.split():
        folded = _FOLDED.get(word)
        if folded is None:
            if len(_FOLDED) >= _MEMO_LIMIT:
                _FOLDED.clear()
            folded = _FOLDED[word] = _fold(word)
        if folded:
            parts.append(folded)
    return " ".join(parts)


def name_key(text: str) -> str:
    """The key under which a name is looked up "exactly" (case, accents and spacing ignored)."""
    return fold(text)


_NON_ALNUM = re.compile(r"[^0-9A-Z&Ñ]")


def tax_key(text: str) -> str:
    """Tax ids compare without spaces, dashes and dots, in upper case (RFC keeps '&' and 'Ñ')."""
    if text.isascii():
        upper = text.upper()  # ASCII is its own NFC form
        return upper if upper.isalnum() else _NON_ALNUM.sub("", upper)
    return _NON_ALNUM.sub("", unicodedata.normalize("NFC", text).upper())


_PUNCT = re.compile(r"[^\w]+")


def address_key(text: str) -> str:
    """A first, conservative address key: folded, punctuation as spaces."""
    # Word by word, like fold(): a run of word characters never spans whitespace.
    parts = []
    for word in text.split():
        key = _ADDRESS_WORDS.get(word)
        if key is None:
            if len(_ADDRESS_WORDS) >= _MEMO_LIMIT:
                _ADDRESS_WORDS.clear()
            key = _ADDRESS_WORDS[word] = " ".join(_PUNCT.sub(" ", _fold(word)).split())
        if key:
            parts.append(key)
    return " ".join(parts)


def make_id(prefix: str, *keys: str) -> str:
    """A stable id: the same natural keys give the same id in every run and on every machine."""
    digest = hashlib.blake2b("\x1f".join(keys).encode("utf-8"), digest_size=8).hexdigest()
    return f"{prefix}-{digest}"


_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def check_date(value: str) -> str:
    """Dates are ISO strings: YYYY-MM-DD, or YYYY-MM / YYYY when the source is that vague."""
    if len(value) == 10 and value[4] == "-" and value[7] == "-" and value[:4].isdigit():
        try:
            dt.date.fromisoformat(value)
            return value
        except ValueError:
            pass
    if not _DATE.match(value):
        raise ValueError(f"not an ISO date (YYYY-MM-DD): {value!r}")
    parts = [int(p) for p in value.split("-")] + [1, 1]
    try:
        dt.date(parts[0], parts[1], parts[2])
    except ValueError as exc:
        raise ValueError(f"no such date: {value!r} ({exc})") from None
    return value


def day_key(value: str) -> str:
    """A date as it is compared and ordered: a vague one (``2019``, ``2019-05``, which sources
    allow) stands for the first day of its period (``2019-01-01``, ``2019-05-01``). The text shown
    is the one given; only comparisons read the key."""
    if len(value) == 4:
        return value + "-01-01"
    if len(value) == 7:
        return value + "-01"
    return value


def last_day(value: str) -> str:
    """The last day of a date's period (a checked date: ``2019`` is 2019-12-31, ``2020-02`` is
    2020-02-29): where an "until" given as a year or month ends."""
    if len(value) == 10:
        return value
    year, month = int(value[:4]), int(value[5:7]) if len(value) == 7 else 12
    return f"{value[:4]}-{month:02d}-{calendar.monthrange(year, month)[1]:02d}"


def _percent(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip().removesuffix("%").strip()
    return value


def _unsigned(value: float) -> float:
    # "-0" parses as -0.0, which passes ge=0 and would be stored as -0.0: zero has no sign.
    return value + 0.0


IsoDate = Annotated[str, AfterValidator(check_date)]
MAX_EMPLOYEES = 1_000_000_000
Percent = Annotated[
    float, BeforeValidator(_percent), Field(ge=0, le=100, allow_inf_nan=False), AfterValidator(_unsigned)
]
# "inf" and "1e400" parse as floats, and JSON has no infinity: the case would store null.
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False), AfterValidator(_unsigned)]

#: Properties that the graph owns (the fields every node has, and those ingest, the case file
#: and the projection write: a node's bundle id, its other spellings, its flags' reasons, the ids
#: merged into it, whether a registry states it, its party degree); a source column of the same
#: name is kept under ``raw_<name>``, so it neither clashes with nor passes for one of them.
RESERVED_PROPERTIES = frozenset(
    {
        # every node's and link's own
        "id", "kind", "name", "flagged", "flags", "sources", "rel", "source", "target", "type",
        # written by ingest, the case file and the projection
        "bundle_id", "aliases", "flag_reasons", "merged_ids", "registered", "party_degree", "periods",
    }
)  # fmt: skip


class Node(BaseModel):
    """An entity of the graph. Unknown source columns are kept as extra properties."""

    model_config = ConfigDict(extra="allow")

    label: ClassVar[str]
    id_prefix: ClassVar[str]

    id: str
    name: str = Field(min_length=1)
    flagged: bool = False
    flags: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def kind(self) -> str:
        return self.label

    @classmethod
    def make_id(cls, *keys: str) -> str:
        return make_id(cls.id_prefix, cls.label, *keys)


class Company(Node):
    label = "Company"
    id_prefix = "co"

    tax_id: str | None = None
    registration_number: str | None = None
    jurisdiction: str | None = None
    incorporation_date: IsoDate | None = None
    status: str | None = None
    # The bound keeps a typo out of the case (and every count within a 64-bit integer for SQLite
    # and JSON readers): no employer has a billion staff.
    employees: int | None = Field(default=None, ge=0, le=MAX_EMPLOYEES)
    industry: str | None = None


class Person(Node):
    label = "Person"
    id_prefix = "pe"

    tax_id: str | None = None
    birth_date: IsoDate | None = None
    nationality: str | None = None


class Address(Node):
    label = "Address"
    id_prefix = "ad"

    text: str
    normalized: str
    city: str | None = None
    state: str | None = None
    country: str | None = None
    postal_code: str | None = None


class Account(Node):
    label = "Account"
    id_prefix = "ac"

    bank: str | None = None
    number: str | None = None
    status: Literal["active", "frozen"] | None = None
    frozen_date: IsoDate | None = None


class Shipment(Node):
    label = "Shipment"
    id_prefix = "sh"

    date: IsoDate | None = None
    product: str | None = None
    chemical: str | None = None
    hs_code: str | None = None
    quantity_kg: NonNegative | None = None
    value_usd: NonNegative | None = None
    port: str | None = None
    origin_country: str | None = None
    bill_of_lading: str | None = None


class Link(BaseModel):
    """A relationship. ``ends`` names the roles of source and target (owner → asset)."""

    model_config = ConfigDict(extra="allow")

    rel: ClassVar[str]
    ends: ClassVar[tuple[str, str]]
    source_kinds: ClassVar[tuple[str, ...]]
    target_kinds: ClassVar[tuple[str, ...]]
    undirected: ClassVar[bool] = False

    source: str
    target: str
    sources: list[str] = Field(default_factory=list)

    def caption(self) -> str:
        """What the link says, as an edge label ("owns 35%", "spouse")."""
        return self.rel.lower().replace("_", " ")

    def explain(self, source_name: str, target_name: str) -> str:
        """The link as a sentence an analyst can read out."""
        return f"{source_name} {self.caption()} {target_name}"


def _pct(value: float) -> str:
    return f"{value:g}%"


class Owns(Link):
    rel = "OWNS"
    ends = ("owner", "asset")
    source_kinds = ("Person", "Company")
    target_kinds = ("Company",)

    share_pct: Percent | None = None
    start_date: IsoDate | None = None
    end_date: IsoDate | None = None

    def caption(self) -> str:
        return f"owns {_pct(self.share_pct)}" if self.share_pct is not None else "owns (share unknown)"

    def explain(self, source_name: str, target_name: str) -> str:
        share = f"{_pct(self.share_pct)} of" if self.share_pct is not None else "an unknown share of"
        return f"{source_name} owns {share} {target_name}"


class OfficerOf(Link):
    rel = "OFFICER_OF"
    ends = ("officer", "organization")
    source_kinds = ("Person", "Company")
    target_kinds = ("Company",)

    role: str | None = None
    start_date: IsoDate | None = None
    end_date: IsoDate | None = None

    def caption(self) -> str:
        return f"officer: {self.role}" if self.role else "officer"

    def explain(self, source_name: str, target_name: str) -> str:
        return f"{source_name} is {self.role or 'an officer'} of {target_name}"


Relation = Literal["spouse", "parent", "child", "sibling", "other"]


class Family(Link):
    rel = "FAMILY"
    ends = ("person", "relative")
    source_kinds = ("Person",)
    target_kinds = ("Person",)
    undirected = True

    relation: Relation = "other"

    def caption(self) -> str:
        return self.relation

    def explain(self, source_name: str, target_name: str) -> str:
        # "X is the parent of Y" would be ambiguous in the undirected reading, so name the row's roles.
        if self.relation == "spouse":
            return f"{source_name} is the spouse of {target_name}"
        if self.relation == "sibling":
            return f"{source_name} is a sibling of {target_name}"
        if self.relation == "other":
            return f"{source_name} is a relative of {target_name}"
        return f"{target_name} is the {self.relation} of {source_name}"


class HasAddress(Link):
    rel = "HAS_ADDRESS"
    ends = ("holder", "address")
    source_kinds = ("Company", "Person")
    target_kinds = ("Address",)

    def caption(self) -> str:
        return "address"

    def explain(self, source_name: str, target_name: str) -> str:
        return f"{source_name} is registered at {target_name}"


class Holds(Link):
    rel = "HOLDS"
    ends = ("holder", "account")
    source_kinds = ("Company", "Person")
    target_kinds = ("Account",)

    def caption(self) -> str:
        return "holds"

    def explain(self, source_name: str, target_name: str) -> str:
        return f"{source_name} holds account {target_name}"


class Imported(Link):
    rel = "IMPORTED"
    ends = ("importer", "shipment")
    source_kinds = ("Company",)
    target_kinds = ("Shipment",)

    def caption(self) -> str:
        return "imported"

    def explain(self, source_name: str, target_name: str) -> str:
        return f"{source_name} imported {target_name}"


class Exported(Link):
    rel = "EXPORTED"
    ends = ("exporter", "shipment")
    source_kinds = ("Company",)
    target_kinds = ("Shipment",)

    def caption(self) -> str:
        return "exported"

    def explain(self, source_name: str, target_name: str) -> str:
        return f"{source_name} exported {target_name}"


class PossiblySameAs(Link):
    rel = "POSSIBLY_SAME_AS"
    ends = ("entity", "candidate")
    source_kinds = ("Company", "Person", "Address", "Account", "Shipment")
    target_kinds = source_kinds
    undirected = True

    score: float = Field(ge=0, le=1)
    reason: str

    def caption(self) -> str:
        return f"possibly same ({self.score:.2f})"

    def explain(self, source_name: str, target_name: str) -> str:
        return f"{source_name} may be the same as {target_name} ({self.reason}, score {self.score:.2f})"


NODE_KINDS: dict[str, type[Node]] = {cls.label: cls for cls in (Company, Person, Address, Account, Shipment)}
LINK_KINDS: dict[str, type[Link]] = {
    cls.rel: cls for cls in (Owns, OfficerOf, Family, HasAddress, Holds, Imported, Exported, PossiblySameAs)
}
