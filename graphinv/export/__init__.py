"""Export: the case in formats other tools read (JSON lines now; HTML, Neo4j, FtM, GraphML later)."""

from graphinv.export.jsonl import write_jsonl

__all__ = ["write_jsonl"]
