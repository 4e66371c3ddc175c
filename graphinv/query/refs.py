"""REF resolution: the entity a user means by an id, a bundle id, a tax id or a name."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

import networkx as nx

from graphinv.exc import RefError
from graphinv.model import fold, tax_key
from graphinv.store.graph import graph_index, register_index
from graphinv.store.refs import RefIndex as StoreRefIndex

__all__ = ["RefIndex", "resolve_ref", "resolve_refs"]


class RefIndex(StoreRefIndex):
    """The store's REF index over one graph's nodes (the same REFs work in every command), with
    suggestions that tolerate typos when nothing matches."""

    def __init__(self, graph: nx.MultiDiGraph) -> None:
        # The nodes, not the graph: the index is kept beside the graph, which it must not keep alive.
        super().__init__(graph._node.values(), by_id=graph._node)

    def closest(self, ref: str, limit: int = 5) -> list[str]:
        """Names that look like the REF (a typo, a missing word), to suggest when nothing matched."""
        key = fold(ref)
        words = sorted((w for w in key.split() if len(w) >= 3), key=len, reverse=True)
        probe = words[0][:5] if words else key[:4]
        nodes = self._by_id or {}
        small = len(nodes) <= 50_000
        pool: dict[str, str] = {}
        for node_id, attrs in nodes.items():
            if attrs.get("kind") in ("Shipment", "Account"):
                continue
            text = fold(str(attrs.get("name", node_id)))
            # In a registry of millions only names sharing the REF's longest word are compared.
            if small or probe in text:
                pool.setdefault(text, node_id)
                if len(pool) >= 20_000:
                    break
        matches = difflib.get_close_matches(key, sorted(pool), n=limit, cutoff=0.6)
        return [self._display(pool[m]) for m in matches]

    def _display(self, node_id: str) -> str:
        attrs = (self._by_id or {})[node_id]
        bundle = attrs.get("bundle_id")
        return f"{attrs.get('name', node_id)} ({bundle or node_id})"


register_index("query.refs", RefIndex)


def _index(graph: nx.MultiDiGraph) -> RefIndex:
    """The graph's REF index: built once when the graph is loaded and cached with it, so a REF is
    a dictionary look-up (a scan of a million-firm registry's nodes takes seconds)."""
    return graph_index(graph, "query.refs")  # type: ignore[no-any-return]


def _scan(graph: nx.MultiDiGraph, ref: str) -> list[str]:
    """A REF's entities by passes over the nodes in the index's order (an id merged away, a
    bundle id, a tax id, a name): what the index answers, without it (tests check they agree)."""
    bundle: list[str] = []
    for node_id, attrs in graph._node.items():
        if attrs.get("bundle_id") == ref:
            bundle.append(node_id)
        merged = attrs.get("merged_ids")
        if merged and ref in merged:
            return [node_id]
    if bundle:
        return sorted(bundle)
    key = tax_key(ref)
    if not key:
        return []
    found = []
    for node_id, attrs in graph._node.items():
        tax_id = attrs.get("tax_id")
        if tax_id and len(tax_id) >= len(key) and tax_key(str(tax_id)) == key:
            found.append(node_id)
    if found:
        return sorted(found)
    name = fold(ref)
    if not name:
        return []
    first = name[0]
    for node_id, attrs in graph._node.items():
        if attrs.get("kind") in ("Address", "Shipment"):
            continue  # as the store's index: an address or a shipment is named by its id
        for text in (attrs.get("name"), *(attrs.get("aliases") or ())):
            # Folding is the costly part: compare the first letter, folded alone, before the rest.
            if (
                text
                and (text[0].lower() if text[0].isascii() else fold(text[0])[:1]) == first
                and fold(str(text)) == name
            ):
                found.append(node_id)
                break
    return sorted(found)


def _describe(graph: nx.MultiDiGraph, node_id: str) -> str:
    attrs = graph._node[node_id]
    parts = [str(attrs.get("kind", "?"))]
    if attrs.get("bundle_id"):
        parts.append(str(attrs["bundle_id"]))
    if attrs.get("tax_id"):
        parts.append(f"tax id {attrs['tax_id']}")
    if attrs.get("registered") is False:
        parts.append("customs party")
    return f"{node_id} {attrs.get('name', '')!s} ({', '.join(parts)})"


def resolve_ref(graph: nx.MultiDiGraph, ref: str, *, kinds: Sequence[str] | None = None) -> str:
    """The id of the one entity a REF names, optionally of the given kinds.

    Raises RefError when it names none (with the closest names) or several (with the candidates).
    """
    if not isinstance(ref, str) or not ref.strip():
        raise RefError(f"Empty REF {ref!r}: give an entity id, a bundle id, a tax id or a name")
    found = [ref.strip()] if ref.strip() in graph._node else _index(graph).find(ref)
    if kinds is not None:
        wrong = [n for n in found if graph._node[n].get("kind") not in kinds]
        found = [n for n in found if n not in wrong]
        if wrong and not found:
            if len(wrong) == 1:
                raise RefError(f"REF {ref!r} names {_describe(graph, wrong[0])}, not a {' or '.join(kinds)}")
            shown = "; ".join(_describe(graph, n) for n in wrong[:10])
            raise RefError(
                f"REF {ref!r} names {len(wrong)} entities, none a {' or '.join(kinds)}: {shown}. "
                f"Give the id of a {' or '.join(kinds)}."
            )
    if len(found) == 1:
        return found[0]
    if not found:
        close = _index(graph).closest(ref)
        hint = f" (closest names: {'; '.join(close)})" if close else ""
        raise RefError(f"No entity matches REF {ref!r}{hint}. Give an entity id, a bundle id, a tax id or a name.")
    shown = "; ".join(_describe(graph, n) for n in found[:10])
    more = f"; and {len(found) - 10} more" if len(found) > 10 else ""
    raise RefError(f"REF {ref!r} is ambiguous: it names {len(found)} entities: {shown}{more}. Give one of their ids.")


def resolve_refs(graph: nx.MultiDiGraph, refs: Iterable[str], *, kinds: Sequence[str] | None = None) -> tuple[str, ...]:
    """Several REFs, each resolved; duplicates kept once, in the order given."""
    seen: dict[str, None] = {}
    for ref in refs:
        seen.setdefault(resolve_ref(graph, ref, kinds=kinds), None)
    return tuple(seen)
