"""REF lookup: an entity named by its id, its bundle id, its tax id or its name."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from graphinv.model import fold, tax_key

__all__ = ["RefIndex"]

#: One id, or the set of ids sharing a key (rare: kept compact for registries of millions).
_Ids = str | set[str]


def _add(table: dict[str, _Ids], key: str, node_id: str) -> None:
    found = table.get(key)
    if found is None:
        table[key] = node_id
    elif isinstance(found, str):
        if found != node_id:
            table[key] = {found, node_id}
    else:
        found.add(node_id)


def _ids(found: _Ids) -> list[str]:
    return [found] if isinstance(found, str) else sorted(found)


class _Names(Mapping[str, str]):
    """Every node's display name, read from the nodes themselves (no copy of millions of names)."""

    def __init__(self, nodes: Mapping[str, Mapping[str, Any]]) -> None:
        self._nodes = nodes

    def __getitem__(self, node_id: str) -> str:
        return str(self._nodes[node_id].get("name", node_id))

    def __iter__(self) -> Iterator[str]:
        return iter(self._nodes)

    def __len__(self) -> int:
        return len(self._nodes)


class RefIndex:
    """Finds the entities a REF names, in the order a person means them.

    An exact id (or an id that resolution merged away) wins; then a bundle id; then a tax id;
    then a name, with case, accents and spacing ignored (other spellings in ``aliases`` count).
    Given ``by_id`` (the nodes keyed by id, e.g. a graph's), ids and names are read from it
    rather than copied.
    """

    def __init__(
        self, nodes: Iterable[Mapping[str, Any]], *, by_id: Mapping[str, Mapping[str, Any]] | None = None
    ) -> None:
        self._by_id = by_id
        self._names: dict[str, str] = {}
        self._ids: dict[str, str] = {}
        self._bundle: dict[str, _Ids] = {}
        self._tax: dict[str, _Ids] = {}
        self._name: dict[str, _Ids] = {}
        copy = by_id is None
        for node in nodes:
            node_id = node["id"]
            if copy:
                self._names[node_id] = str(node.get("name", node_id))
                self._ids[node_id] = node_id
            for merged in node.get("merged_ids", ()):
                self._ids[merged] = node_id
            bundle = node.get("bundle_id")
            if bundle:
                _add(self._bundle, str(bundle), node_id)
            tax = node.get("tax_id")
            if tax:
                _add(self._tax, tax_key(str(tax)), node_id)
            if node.get("kind") in ("Address", "Shipment"):
                continue
            name = node.get("name")
            if name:
                _add(self._name, fold(str(name)), node_id)
            for alias in node.get("aliases", ()):
                if alias:
                    _add(self._name, fold(str(alias)), node_id)

    @property
    def names(self) -> Mapping[str, str]:
        """Every indexed entity's display name by id."""
        return self._names if self._by_id is None else _Names(self._by_id)

    def find(self, ref: str) -> list[str]:
        """Every entity the REF could mean at the first level that matches anything, sorted."""
        ref = ref.strip()
        if self._by_id is not None and ref in self._by_id:
            return [ref]
        if ref in self._ids:
            return [self._ids[ref]]
        for table, key in ((self._bundle, ref), (self._tax, tax_key(ref)), (self._name, fold(ref))):
            found = table.get(key)
            if found:
                return _ids(found)
        return []

    def similar(self, ref: str, limit: int = 5) -> list[str]:
        """Names that start like the REF, to suggest when nothing matched."""
        key = fold(ref)[:4]
        names = self.names
        return sorted({names[i] for k, ids in self._name.items() if k.startswith(key) for i in _ids(ids)})[:limit]
