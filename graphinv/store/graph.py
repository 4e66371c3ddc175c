"""The case as a networkx MultiDiGraph, the object every investigation reads, cached per case revision."""

from __future__ import annotations

import dataclasses
import gc
import os
import pickle
from pathlib import Path

import networkx as nx

from graphinv.perf import gc_paused

from graphinv.store.casefile import CaseFile

__all__ = ["project", "load_graph", "cache_dir"]

_MEMORY: dict[tuple[str, int], nx.MultiDiGraph] = {}


def project(case: CaseFile) -> nx.MultiDiGraph:
    """Build the graph: nodes keyed by id with their properties, edges keyed by relationship type.

    A link whose end is no longer stated by any source (its file was re-ingested without that
    row) stays in the case but is left out of the graph and counted in ``graph["dangling_links"]``.
    """
    with gc_paused():
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
            with open(cached, "rb") as handle, gc_paused():
                graph = pickle.load(handle)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
            graph = None
    if graph is None:
        graph = project(case)
        _store(folder, cached, key[0], graph)
    graph.graph["case"] = str(case.path)
    _MEMORY.clear()
    _MEMORY[key] = graph
    # Move the graph's millions of long-lived dicts out of the collector's sight, or the next
    # collection an investigation triggers rescans them all; they are still freed by reference
    # counting when the graph is dropped (it holds no reference cycles).
    gc.freeze()
    return graph


def _store(folder: Path, target: Path, case_id: str, graph: nx.MultiDiGraph) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob(f"{case_id}-*.pickle"):
            old.unlink(missing_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        with open(tmp, "wb") as handle:
            pickle.dump(graph, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, target)
    except OSError:
        # A read-only home or a full disk only costs the next run a rebuild.
        pass
