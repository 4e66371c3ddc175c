"""Store: the case file (the durable source of truth) and its networkx projection."""

from graphinv.store.casefile import (
    APPLICATION_ID,
    SCHEMA_VERSION,
    CaseFile,
    Decision,
    Judgement,
    Rejection,
    SourceInfo,
    Writer,
)
from graphinv.store.graph import cache_dir, load_graph, project

__all__ = [
    "APPLICATION_ID",
    "SCHEMA_VERSION",
    "CaseFile",
    "Decision",
    "Judgement",
    "Rejection",
    "SourceInfo",
    "Writer",
    "cache_dir",
    "load_graph",
    "project",
]
