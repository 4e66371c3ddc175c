"""The case as a networkx MultiDiGraph, the object every investigation reads, cached per case revision."""

from __future__ import annotations

import dataclasses
import gc
import os
import pickle
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import networkx as nx
import numpy as np

from graphinv.perf import gc_paused
from graphinv.store.casefile import CaseFile

__all__ = ["LOAD_STEPS", "cache_dir", "graph_index", "index_seconds", "load_graph", "project", "register_index"]

_MEMORY: dict[tuple[str, int], nx.MultiDiGraph] = {}

#: Per-graph indexes (name -> builder), registered by the layers that read them (the query layer
#: registers its own on import). Each is built once when a case's graph is projected and pickled
#: with it, so a later process loads it instead of rebuilding it (seconds to minutes at registry
#: scale). The graph is shared and read-only: indexes live beside it, never inside it.
_BUILDERS: dict[str, Callable[[nx.MultiDiGraph], Any]] = {}
_INDEXES: weakref.WeakKeyDictionary[nx.MultiDiGraph, dict[str, Any]] = weakref.WeakKeyDictionary()
_SECONDS: weakref.WeakKeyDictionary[nx.MultiDiGraph, dict[str, float]] = weakref.WeakKeyDictionary()
#: Bump when a projection of the same case revision would differ (4: links stated for several
#: periods carry them), so caches written by an older graphinv are projected again.
_FORMAT = "graphinv-graph/4"
#: The cache file's first bytes: a file of another format (an older cache was one pickle of the
#: whole graph) is told apart without unpickling any of it.
_MAGIC = f"{_FORMAT}\n".encode()


def register_index(name: str, build: Callable[[nx.MultiDiGraph], Any]) -> None:
    """Have every loaded graph carry ``build(graph)`` under ``name`` (built once, cached with it).

    ``build`` must only read the graph and return a picklable value made of plain containers,
    numpy arrays and the graph's own strings. It may hold the graph's node dict itself (the cache
    keeps a reference to it, not a copy), but no other dict of the graph: the cache would read
    that back as a copy.
    """
    _BUILDERS[name] = build


def graph_index(graph: nx.MultiDiGraph, name: str) -> Any:
    """A registered index of the graph: the one loaded with it, else built now (and kept in memory)."""
    indexes = _INDEXES.get(graph)
    if indexes is None:
        indexes = _INDEXES[graph] = {}
    if name not in indexes:
        with gc_paused(keep_young_over=0):  # an index lives as long as its graph
            started = time.perf_counter()
            indexes[name] = _BUILDERS[name](graph)
            _SECONDS.setdefault(graph, {})[name] = time.perf_counter() - started
    return indexes[name]


def index_seconds(graph: nx.MultiDiGraph) -> dict[str, float]:
    """How long each index of the graph took to build in this process (empty when all were loaded)."""
    return dict(_SECONDS.get(graph, {}))


def _build_indexes(graph: nx.MultiDiGraph) -> bool:
    """Build every registered index the graph lacks; whether any was missing."""
    missing = [name for name in _BUILDERS if name not in _INDEXES.get(graph, {})]
    for name in missing:
        graph_index(graph, name)
    return bool(missing)


def project(case: CaseFile) -> nx.MultiDiGraph:
    """Build the graph: nodes keyed by id with their properties, edges keyed by relationship type.

    A link whose end is no longer stated by any source (its file was re-ingested without that
    row) stays in the case but is left out of the graph and counted in ``graph["dangling_links"]``.
    """
    with gc_paused(keep_young_over=0):  # the graph lives on: no collection need walk it
        return _project(case)


def _project(case: CaseFile) -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph(case=str(case.path), case_id=case.case_id, version=case.version, revision=case.revision)
    # networkx's add_edge costs ~20 µs an edge here (checks, factories, dict copies); filling
    # its adjacency dicts directly, exactly as add_edge would, is ~5x faster at registry scale.
    # tests/test_graph_and_export.py checks the result equals the one add_edge builds.
    node, succ, pred = graph._node, graph._succ, graph._pred
    for attrs in case.nodes():
        node_id = attrs["id"]
        node[node_id] = attrs
        succ[node_id] = {}
        pred[node_id] = {}
    dangling = 0
    for link in case.links():
        source, target, rel = link["source"], link["target"], link["rel"]
        if source not in node or target not in node:
            dangling += 1
            continue
        keys = succ[source].get(target)
        if keys is None:
            keys = succ[source][target] = pred[target][source] = {}
        keys[rel] = link
    graph.graph["dangling_links"] = dangling
    # Resolution's decisions travel with the graph, so investigations can review them.
    graph.graph["decisions"] = [dataclasses.asdict(d) for d in case.decisions()]
    return graph


def cache_dir() -> Path:
    """Where projected graphs are kept between runs: this user's cache, never next to the case.

    A case file may come from someone else; a pickle must not, so the cache stays private.
    """
    base = os.environ.get("GRAPHINV_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "graphinv"
    )
    return Path(base) / "graphs"


def load_graph(case: str | os.PathLike[str] | CaseFile, *, status: Callable[[str], None] | None = None) -> nx.MultiDiGraph:
    """The projected graph of a case, rebuilt only when the case changed since it was cached.

    Treat the returned graph as read-only: it is shared by every caller of the same version.
    ``status`` is told what each long step is as it starts (at registry scale, reading the cache
    takes minutes, projecting the case more): see ``LOAD_STEPS``.
    """
    if isinstance(case, CaseFile):
        return _load(case, status)
    with CaseFile(case) as opened:
        return _load(opened, status)


#: What ``load_graph`` tells its ``status`` callback, step by step.
LOAD_STEPS = {
    "read": "Reading the case's cached graph",
    "project": "Projecting the case into a graph (once per change of the case)",
    "index": "Indexing the graph",
    "store": "Caching the graph for the next command",
}


def _load(case: CaseFile, status: Callable[[str], None] | None) -> nx.MultiDiGraph:
    key = (case.case_id, case.revision)
    graph = _MEMORY.get(key)
    if graph is not None:
        return graph
    say = status or (lambda text: None)
    folder = cache_dir()
    cached = folder / f"{key[0]}-{key[1]}.pickle"
    graph = None
    if cached.exists():
        say(LOAD_STEPS["read"])
        graph = _read_cache(cached)
    changed = graph is None
    if graph is None:
        say(LOAD_STEPS["project"])
        graph = project(case)
    if any(name not in _INDEXES.get(graph, {}) for name in _BUILDERS):
        say(LOAD_STEPS["index"])
        _build_indexes(graph)
        changed = True  # also when an index was registered after the graph was cached
    if changed:
        say(LOAD_STEPS["store"])
        _store(folder, cached, key[0], graph)
    graph.graph["case"] = str(case.path)
    _MEMORY.clear()
    _MEMORY[key] = graph
    # Move the graph's millions of long-lived dicts out of the collector's sight, or the next
    # collection an investigation triggers rescans them all; they are still freed by reference
    # counting when the graph is dropped (it holds no reference cycles).
    gc.freeze()
    return graph


#: What writing the cache costs in memory on top of the graph, as a share of the process's resident
#: size: the indexes' pickler remembers every object it wrote (the graph itself goes out in chunks
#: of ``_CHUNK`` objects, each with a memo of its own). Measured at 100k companies: see
#: docs/benchmarks.md, "The graph cache".
_PICKLE_OVERHEAD = 0.25


def _short_of_memory() -> str | None:
    """Why the graph cannot be cached now without running the machine out of memory (None: it can)."""
    try:
        with open("/proc/meminfo") as handle:
            meminfo = dict(line.split(":", 1) for line in handle)
        available = int(meminfo["MemAvailable"].split()[0]) * 1024
        with open("/proc/self/statm") as handle:
            resident = int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, KeyError, ValueError, IndexError):
        return None  # not Linux: no way to tell, so cache as usual
    needed = int(resident * _PICKLE_OVERHEAD)
    if needed < available:
        return None
    return (
        f"not cached: writing it needs about {needed / 2**30:.1f} GB more memory and "
        f"{available / 2**30:.1f} GB is available, so the next load projects the case again"
    )


def _store(folder: Path, target: Path, case_id: str, graph: nx.MultiDiGraph) -> None:
    short = _short_of_memory()
    if short is not None:
        graph.graph["cache_note"] = short
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob(f"{case_id}-*.pickle"):
            old.unlink(missing_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as handle:
                _write_cache(handle, graph, _INDEXES.get(graph, {}))
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
    except (OSError, ValueError, pickle.PicklingError):
        # A read-only home, a full disk or an index that will not pickle only costs the next
        # run a rebuild.
        pass


# -- the cache file --------------------------------------------------------------------------------
#
# One pickle of the whole graph needs a memo of every object written: +47% of the process at 100k
# companies, about 7 GB at 1M, which this machine did not have after a 15 GB projection, so at
# that size every process projected the case again (five minutes and more). The cache is instead
# a stream of pickles, each with a memo of its own:
#
#   magic       b"graphinv-graph/4\n", read before anything is unpickled
#   header      {"format", "graph": graph.graph, "nodes": N, "pairs": P}
#   ids, indexes  the node ids in the graph's order with the registered indexes, which share them
#   nodes       attrs chunks, in node order
#   adjacency   numpy arrays: each node's number of successors and predecessors, each successor's
#               node position (in successor order), each predecessor's pair (its place in that order)
#   pairs       chunks of key dicts ({rel: attrs}), one a (node, successor) pair, in successor order
#   end         "end": a file cut short is never read as a graph
#
# Reading rebuilds the adjacency dicts in the order the projection made them, so a cached graph
# iterates exactly as the projected one, and each predecessor entry is the very key dict of its
# successor entry, as networkx has it (tests/test_graph_and_export.py checks both).

_CHUNK = 50_000


def _write_cache(handle: BinaryIO, graph: nx.MultiDiGraph, indexes: dict[str, Any]) -> None:
    def dump(value: Any) -> None:
        pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)

    node, succ, pred = graph._node, graph._succ, graph._pred
    ids = list(node)
    pairs = sum(map(len, succ.values()))
    handle.write(_MAGIC)
    dump({"format": _FORMAT, "graph": graph.graph, "nodes": len(ids), "pairs": pairs})
    _IndexPickler(handle, node).dump((ids, indexes))
    for start in range(0, len(ids), _CHUNK):
        dump([node[n] for n in ids[start : start + _CHUNK]])
    dump(_adjacency(ids, succ, pred, pairs))
    chunk: list[dict[str, Any]] = []
    for nbrs in succ.values():
        chunk += nbrs.values()
        if len(chunk) >= _CHUNK:
            dump(chunk)
            chunk = []
    if chunk:
        dump(chunk)
    dump("end")


def _adjacency(ids: list[str], succ: dict[str, Any], pred: dict[str, Any], pairs: int) -> dict[str, np.ndarray]:
    position = {n: i for i, n in enumerate(ids)}
    n_ids = len(ids)
    succ_count = np.fromiter(map(len, succ.values()), dtype=np.int64, count=n_ids)
    target = np.fromiter((position[v] for nbrs in succ.values() for v in nbrs), dtype=np.int64, count=pairs)
    pred_count = np.fromiter(map(len, pred.values()), dtype=np.int64, count=n_ids)
    source = np.fromiter((position[u] for nbrs in pred.values() for u in nbrs), dtype=np.int64, count=pairs)
    del position
    # Each predecessor entry (u of v) is pair (u, v) of the successor order: match the two codes
    # u * N + v, both sorted (sorted look-ups stay in cache at registry scale).
    code = np.repeat(np.arange(n_ids, dtype=np.int64), succ_count) * n_ids + target
    order = np.argsort(code, kind="stable")
    wanted = source * n_ids + np.repeat(np.arange(n_ids, dtype=np.int64), pred_count)
    asked = np.argsort(wanted, kind="stable")
    pair = np.empty(pairs, dtype=np.int64)
    pair[asked] = order[np.searchsorted(code[order], wanted[asked])]
    if not np.array_equal(code[pair], wanted):
        raise ValueError("the graph's predecessors do not mirror its successors")
    return {"succ_count": succ_count, "target": target, "pred_count": pred_count, "pred_pair": pair}


class _IndexPickler(pickle.Pickler):
    """Pickles the indexes with the node ids they share; an index that holds the graph's node dict
    (the REF index does) holds a reference to it, not a second copy of every node."""

    def __init__(self, handle: BinaryIO, nodes: dict[str, Any]) -> None:
        super().__init__(handle, protocol=pickle.HIGHEST_PROTOCOL)
        self.nodes = nodes

    def persistent_id(self, obj: Any) -> str | None:
        return _NODES if obj is self.nodes else None


class _IndexUnpickler(pickle.Unpickler):
    def __init__(self, handle: BinaryIO, nodes: dict[str, Any]) -> None:
        super().__init__(handle)
        self.nodes = nodes

    def persistent_load(self, pid: Any) -> Any:
        if pid != _NODES:
            raise pickle.UnpicklingError(f"unknown reference {pid!r}")
        return self.nodes


_NODES = "graph._node"


class _CacheError(Exception):
    """A cache file of another format, or cut short: the case is projected again."""


def _read_cache(path: Path) -> nx.MultiDiGraph | None:
    """The graph cached in ``path`` with its indexes, or None if the file is not a whole cache of
    this format (it is then projected again and overwritten)."""
    try:
        with open(path, "rb") as handle, gc_paused(keep_young_over=0):
            graph, indexes = _read(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError, TypeError, KeyError, IndexError, _CacheError):
        return None
    # Only indexes still registered: one of an older layout is rebuilt under its new name.
    _INDEXES[graph] = {k: v for k, v in indexes.items() if k in _BUILDERS}
    return graph


def _read(handle: BinaryIO) -> tuple[nx.MultiDiGraph, dict[str, Any]]:
    def load() -> Any:
        return pickle.load(handle)  # an unpickler per pickle: each was written with a memo of its own

    if handle.read(len(_MAGIC)) != _MAGIC:
        raise _CacheError("another format")
    header = load()
    if not isinstance(header, dict) or header.get("format") != _FORMAT:
        raise _CacheError("another format")
    graph = nx.MultiDiGraph()
    graph.graph.update(header["graph"])
    node, succ, pred = graph._node, graph._succ, graph._pred
    ids, indexes = _IndexUnpickler(handle, node).load()  # the nodes are filled in next
    attrs: list[dict[str, Any]] = []
    while len(attrs) < len(ids):
        attrs += load()
    for n, a in zip(ids, attrs, strict=True):
        if a.get("id") == n:
            a["id"] = n  # one string for the node's key and its id, as the projection has it
        node[n] = a
    del attrs
    adjacency = load()
    pairs: list[dict[str, Any]] = []
    while len(pairs) < header["pairs"]:
        pairs += load()
    if load() != "end" or len(pairs) != header["pairs"]:
        raise _CacheError("cut short")
    # Gathered by numpy (object arrays), not item by item: at registry scale each is a cache miss.
    id_array = np.array(ids, dtype=object)
    pair_array = np.empty(len(pairs), dtype=object)
    pair_array[:] = pairs
    _fill(succ, ids, adjacency["succ_count"].tolist(), id_array[adjacency["target"]].tolist(), pairs)
    pred_pair = adjacency["pred_pair"]
    sources = np.repeat(np.arange(len(ids), dtype=np.int64), adjacency["succ_count"])[pred_pair]
    _fill(pred, ids, adjacency["pred_count"].tolist(), id_array[sources].tolist(), pair_array[pred_pair].tolist())
    return graph, indexes


def _fill(adjacency: dict[str, Any], ids: list[str], counts: list[int], others: list[str], values: list[Any]) -> None:
    """Each node's neighbour dict, ``counts[i]`` entries of ``others``/``values`` for node ``i``."""
    if len(others) != sum(counts) or len(values) != len(others):
        raise _CacheError("adjacency and links disagree")
    at = 0
    for n, count in zip(ids, counts, strict=True):
        adjacency[n] = dict(zip(others[at : at + count], values[at : at + count])) if count else {}
        at += count
