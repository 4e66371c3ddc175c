"""The typed pieces every investigation's result is made of: entities, evidence links, hubs."""

from __future__ import annotations

from typing import Any, ClassVar

import networkx as nx
from pydantic import BaseModel, ConfigDict

__all__ = ["Account", "Entity", "Evidence", "Hub", "QueryResult", "Row", "label", "labels"]

_FROZEN = ConfigDict(frozen=True)


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
        attrs = graph._node[node_id]
        return cls(
            id=node_id,
            name=str(attrs.get("name") or node_id),
            kind=str(attrs.get("kind", "")),
            tax_id=attrs.get("tax_id"),
            flagged=bool(attrs.get("flagged", False)),
            bundle_id=attrs.get("bundle_id"),
            flags=tuple(attrs.get("flags") or ()),
        )

    @property
    def label(self) -> str:
        """How a table names the entity: its bundle id (if any) and its name."""
        return f"{self.bundle_id} {self.name}" if self.bundle_id else self.name


class Account(Entity):
    """An account a freeze order must name, with its bank, number and whether it is frozen already."""

    bank: str | None = None
    number: str | None = None
    status: str | None = None
    frozen_date: str | None = None

    @classmethod
    def of(cls, graph: nx.MultiDiGraph, node_id: str) -> Account:
        attrs = graph._node[node_id]
        base = Entity.of(graph, node_id).model_dump()
        return cls(
            **base,
            bank=attrs.get("bank"),
            number=attrs.get("number"),
            status=attrs.get("status"),
            frozen_date=attrs.get("frozen_date"),
        )

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


def label(entity: Entity) -> str:
    return entity.label


def labels(entities: tuple[Entity, ...] | list[Entity]) -> list[str]:
    """Entities as a multi-valued cell of ``flat()`` (csv joins it with "; ", tables one a line)."""
    return [e.label for e in entities]
