"""The typed pieces every investigation's result is made of: entities, evidence links, hubs."""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar, get_args

import networkx as nx
from pydantic import BaseModel, ConfigDict

__all__ = ["Account", "Entity", "Evidence", "Hub", "QueryResult", "Row", "build", "entity_fields", "label", "labels"]

_FROZEN = ConfigDict(frozen=True)

_M = TypeVar("_M", bound=BaseModel)


_new = object.__new__
_set = object.__setattr__
_FIELDS_SET: dict[type, set[str]] = {}


def build(cls: type[_M], values: dict[str, Any]) -> _M:
    """A model from values that already have its fields' exact types (every field given, in order),
    without validation: what ``cls(**values)`` makes, at a fraction of the cost. The investigations
    build tens of thousands of entities and evidence links from the graph, whose values were
    validated at ingest; tests/test_query_indexes.py checks the two agree.

    All models of a class share one ``__pydantic_fields_set__`` (every field): the models are
    frozen, so nothing adds to it, and pydantic copies it before changing a copy's."""
    fields_set = _FIELDS_SET.get(cls)
    if fields_set is None:
        fields_set = _FIELDS_SET[cls] = set(cls.model_fields)
    model = _new(cls)
    _set(model, "__dict__", values)
    _set(model, "__pydantic_fields_set__", fields_set)
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    return model


def _str_or_none(value: Any) -> str | None:
    return value if value is None or type(value) is str else str(value)


class Entity(BaseModel):
    """A node as a result names it: enough to identify it and to judge it at a glance."""

    model_config = _FROZEN

    id: str
    name: str
    kind: str
    tax_id: str | None = None
    flagged: bool = False
    bundle_id: str | None = None
    flags: tuple[str, ...] = ()

    @classmethod
    def of(cls, graph: nx.MultiDiGraph, node_id: str) -> Entity:
        fields = entity_fields(graph, node_id)
        return build(Entity, fields) if cls is Entity else cls(**fields)

    @property
    def label(self) -> str:
        """How a table names the entity: its bundle id (if any) and its name."""
        return f"{self.bundle_id} {self.name}" if self.bundle_id else self.name


def entity_fields(graph: nx.MultiDiGraph, node_id: str) -> dict[str, Any]:
    """An Entity's fields for a node, in order, typed as validation would make them."""
    attrs = graph._node[node_id]
    flags = attrs.get("flags")
    return {
        "id": node_id,
        "name": str(attrs.get("name") or node_id),
        "kind": str(attrs.get("kind", "")),
        "tax_id": _str_or_none(attrs.get("tax_id")),
        "flagged": bool(attrs.get("flagged", False)),
        "bundle_id": _str_or_none(attrs.get("bundle_id")),
        "flags": tuple(str(f) for f in flags) if flags else (),
    }


class Account(Entity):
    """An account a freeze order must name, with its bank, number and whether it is frozen already."""

    bank: str | None = None
    number: str | None = None
    status: str | None = None
    frozen_date: str | None = None

    @classmethod
    def of(cls, graph: nx.MultiDiGraph, node_id: str) -> Account:
        fields = entity_fields(graph, node_id)
        attrs = graph._node[node_id]
        fields["bank"] = _str_or_none(attrs.get("bank"))
        fields["number"] = _str_or_none(attrs.get("number"))
        fields["status"] = _str_or_none(attrs.get("status"))
        fields["frozen_date"] = _str_or_none(attrs.get("frozen_date"))
        return build(Account, fields)

    @property
    def label(self) -> str:
        text = self.bundle_id or self.number or self.name
        if self.status == "frozen":
            text += f" (frozen {self.frozen_date})" if self.frozen_date else " (frozen)"
        return text


class Evidence(BaseModel):
    """One link that makes an answer true, in words, with the source rows that state it."""

    model_config = _FROZEN

    rel: str
    source: str
    target: str
    sources: tuple[str, ...] = ()
    props: dict[str, Any] = {}
    text: str


class Hub(BaseModel):
    """A node linked to so many firms or persons (a formation agent's office, a nominee service)
    that walking through it would join unrelated firms; investigations report it and stop there."""

    model_config = _FROZEN

    entity: Entity
    degree: int


class Row(BaseModel):
    """One row of an investigation's answer. ``flat()`` gives the columns of csv and tables: scalars,
    or lists of strings for multi-valued cells."""

    model_config = _FROZEN

    #: The keys of ``flat()``, in order: the header of csv and tables, also for an answer without rows.
    columns: ClassVar[tuple[str, ...]] = ()

    def flat(self) -> dict[str, Any]:
        raise NotImplementedError


class QueryResult(BaseModel):
    """What an investigation returns: its rows (the JSON array of DESIGN §5), the hubs it stopped
    at, and notes on anything it had to leave out."""

    model_config = _FROZEN

    investigation: ClassVar[str] = ""
    rows: tuple[Row, ...] = ()
    hubs: tuple[Hub, ...] = ()
    notes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.rows)

    def json_rows(self) -> list[dict[str, Any]]:
        """The rows as DESIGN §5's JSON array."""
        return [row.model_dump(mode="json") for row in self.rows]

    def flat_rows(self) -> list[dict[str, Any]]:
        """The rows as flat records (csv, tables)."""
        return [row.flat() for row in self.rows]

    @classmethod
    def columns(cls) -> tuple[str, ...]:
        """The keys of ``flat_rows()``'s records, known without a row (its row class's ``columns``)."""
        row = get_args(cls.model_fields["rows"].annotation)[0]
        return row.columns  # type: ignore[no-any-return]

    def hub_line(self, hub: Hub) -> str:
        """How the answer names a hub it stopped at, and what its degree counts."""
        return f"hub (not walked through): {hub.entity.label} - {hub.degree:,} firms and persons"


def label(entity: Entity) -> str:
    return entity.label


def labels(entities: tuple[Entity, ...] | list[Entity]) -> list[str]:
    """Entities as a multi-valued cell of ``flat()`` (csv joins it with "; ", tables one a line)."""
    return [e.label for e in entities]
