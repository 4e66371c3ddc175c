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
from typing import Any

import networkx as nx

from graphinv.perf import gc_paused
from graphinv.store.casefile import CaseFile

__all__ = ["cache_dir", "graph_index", "index_seconds", "load_graph", "project", "register_index"]

_MEMORY: dict[tuple[str, int], nx.MultiDiGraph] = {}

#: Per-graph indexes (name -> builder), registered by the layers that read them (the query layer
#: registers its own on import). Each is built once when a case's graph is projected and pickled
#: with it, so a later process loads it instead of rebuilding it (seconds to minutes at registry
#: scale). The graph is shared and read-only: indexes live beside it, never inside it.
_BUILDERS: dict[str, Callable[[nx.MultiDiGraph], Any]] = {}
_INDEXES: weakref.WeakKeyDictionary[nx.MultiDiGraph, dict[str, Any]] = weakref.WeakKeyDictionary()
_SECONDS: weakref.WeakKeyDictionary[nx.MultiDiGraph, dict[str, float]] = weakref.WeakKeyDictionary()
_FORMAT = "graphinv-graph/2"


def register_index(name: str, build: Callable[[nx.MultiDiGraph], Any]) -> None:
    """Have every loaded graph carry ``build(graph)`` under ``name`` (built once, cached with it).

    ``build`` must only read the graph and return a picklable value made of plain containers,
    numpy arrays and the graph's own strings.
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


def load_graph(case: str | os.PathLike[str] | CaseFile) -> nx.MultiDiGraph:
    """The projected graph of a case, rebuilt only when the case changed since it was cached.

    Treat the returned graph as read-only: it is shared by every caller of the same version.
    """
    if isinstance(case, CaseFile):
        return _load(case)
    with CaseFile(case) as opened:
        return _load(opened)


def _load(case: CaseFile) -> nx.MultiDiGraph:
    key = (case.case_id, case.revision)
    graph = _MEMORY.get(key)
    if graph is not None:
        return graph
    folder = cache_dir()
    cached = folder / f"{key[0]}-{key[1]}.pickle"
    graph = None
    if cached.exists():
        try:
            with open(cached, "rb") as handle, gc_paused(keep_young_over=0):
                loaded = pickle.load(handle)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            loaded = None
        if isinstance(loaded, dict) and loaded.get("format") == _FORMAT:
            graph = loaded["graph"]
            # Only indexes still registered: one of an older layout is rebuilt under its new name.
            _INDEXES[graph] = {k: v for k, v in loaded["indexes"].items() if k in _BUILDERS}
        elif isinstance(loaded, nx.MultiDiGraph):
            graph = loaded  # cached before indexes were: they are built (and stored) below
    if graph is None:
        graph = project(case)
        _build_indexes(graph)
        _store(folder, cached, key[0], graph)
    elif _build_indexes(graph):
        # An index registered since the graph was cached: keep it for the next process too.
        _store(folder, cached, key[0], graph)
    graph.graph["case"] = str(case.path)
    _MEMORY.clear()
    _MEMORY[key] = graph
    # Move the graph's millions of long-lived dicts out of the collector's sight, or the next
    # collection an investigation triggers rescans them all; they are still freed by reference
    # counting when the graph is dropped (it holds no reference cycles).
    gc.freeze()
    return graph


#: What pickling a graph costs in memory on top of the graph, as a share of the process's resident
#: size: the pickler remembers every object it wrote, to write a shared one once (measured at
#: 100k companies: 0.8 GB for a 1.7 GB process, 47%).
_PICKLE_OVERHEAD = 0.6


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
        # One dump for the graph and its indexes, so the indexes share the graph's strings.
        payload = {"format": _FORMAT, "graph": graph, "indexes": _INDEXES.get(graph, {})}
        with open(tmp, "wb") as handle:
            pickle.dump(payload, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, target)
    except OSError:
        # A read-only home or a full disk only costs the next run a rebuild.
        pass
