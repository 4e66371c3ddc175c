"""REF lookup: an entity named by its id, its bundle id, its tax id or its name."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from graphinv.model import fold, tax_key

__all__ = ["RefIndex"]


class RefIndex:
    """Finds the entities a REF names, in the order a person means them.

    An exact id (or an id that resolution merged away) wins; then a bundle id; then a tax id;
    then a name, with case, accents and spacing ignored (other spellings in ``aliases`` count).
    """

    def __init__(self, nodes: Iterable[Mapping[str, Any]]) -> None:
        self.names: dict[str, str] = {}
        self._ids: dict[str, str] = {}
        self._bundle: dict[str, set[str]] = {}
        self._tax: dict[str, set[str]] = {}
        self._name: dict[str, set[str]] = {}
        for node in nodes:
            node_id = node["id"]
            self.names[node_id] = str(node.get("name", node_id))
            self._ids[node_id] = node_id
            for merged in node.get("merged_ids", ()):
                self._ids[merged] = node_id
            if node.get("bundle_id"):
                self._bundle.setdefault(str(node["bundle_id"]), set()).add(node_id)
            if node.get("tax_id"):
                self._tax.setdefault(tax_key(str(node["tax_id"])), set()).add(node_id)
            if node.get("kind") in ("Address", "Shipment"):
                continue
            for name in (node.get("name"), *node.get("aliases", ())):
                if name:
                    self._name.setdefault(fold(str(name)), set()).add(node_id)

    def find(self, ref: str) -> list[str]:
        """Every entity the REF could mean at the first level that matches anything, sorted."""
        ref = ref.strip()
        if ref in self._ids:
            return [self._ids[ref]]
        for table, key in ((self._bundle, ref), (self._tax, tax_key(ref)), (self._name, fold(ref))):
            found = table.get(key)
            if found:
                return sorted(found)
        return []

    def similar(self, ref: str, limit: int = 5) -> list[str]:
        """Names that start like the REF, to suggest when nothing matched."""
        key = fold(ref)[:4]
        return sorted({self.names[i] for k, ids in self._name.items() if k.startswith(key) for i in ids})[:limit]
