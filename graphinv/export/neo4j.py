"""The case in Neo4j: an online, batched, idempotent push over Bolt, and CSVs for ``neo4j-admin database import``."""

from __future__ import annotations

import csv
import os
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from graphinv.exc import GraphinvError
from graphinv.model import LINK_KINDS, NODE_KINDS
from graphinv.playbooks import case_rows
from graphinv.store.casefile import CaseFile
from graphinv.store.neo4j import BoltTarget, Progress, WriteReport, neo4j_props, schema_statements, write_graph

__all__ = ["DEFAULT_DATABASE", "CsvExport", "push", "write_neo4j_csv"]

#: Neo4j's default database: pushes name it explicitly rather than rely on the user's home database.
DEFAULT_DATABASE = "neo4j"
_DELIMITERS = (";", "|", "¦", "§", "\u00b6")


def push(
    case: str | os.PathLike[str] | CaseFile,
    uri: str,
    *,
    user: str,
    password: str,
    database: str | None = None,
    batch: int = 5000,
    progress: Progress | None = None,
) -> WriteReport:
    """Push the case's graph to Neo4j at ``uri``: uniqueness constraints and indexes first (Neo4j 5
    syntax), then nodes and links in ``UNWIND $rows ... MERGE`` batches of ``batch`` rows.

    Pushing the same case again creates nothing and changes no value. A wrong password, a missing
    database or a server that is down raise StoreUnavailableError, whose message never holds the
    password.
    """
    target = BoltTarget(uri=uri, user=user, password=password, database=database or DEFAULT_DATABASE)
    opened = case if isinstance(case, CaseFile) else CaseFile(case)
    try:
        nodes, links = case_rows(opened)
    finally:
        if not isinstance(case, CaseFile):
            opened.close()
    return write_graph(target, nodes, links, batch=batch, progress=progress)


@dataclass(frozen=True)
class CsvExport:
    """What ``write_neo4j_csv`` wrote, and the command that imports it."""

    folder: Path
    node_files: tuple[Path, ...]
    link_files: tuple[Path, ...]
    schema_file: Path
    nodes: int
    links: int
    skipped_links: int
    array_delimiter: str
    command: str


def _type_of(values: list[Any]) -> str:
    """The neo4j-admin column type that holds every value of a property (string when they differ)."""
    kinds: set[str] = set()
    for value in values:
        if isinstance(value, bool):
            kinds.add("boolean")
        elif isinstance(value, int):
            kinds.add("long")
        elif isinstance(value, float):
            kinds.add("double")
        elif isinstance(value, list):
            inner = {("boolean" if isinstance(v, bool) else "long" if isinstance(v, int) else "double" if isinstance(v, float) else "string") for v in value}
            if inner == {"long", "double"}:
                inner = {"double"}
            kinds.add(f"{inner.pop() if len(inner) == 1 else 'string'}[]" if inner else "[]")
        else:
            kinds.add("string")
    if "[]" in kinds:
        kinds.discard("[]")
        if not kinds:
            return "string[]"
    if kinds == {"long", "double"}:
        return "double"
    if kinds == {"long[]", "double[]"}:
        return "double[]"
    if len(kinds) == 1:
        return kinds.pop()
    return "string[]" if all(k.endswith("[]") for k in kinds) else "string"


def _cell(value: Any, column_type: str, delimiter: str) -> str:
    if value is None:
        return ""
    if column_type.endswith("[]"):
        items = value if isinstance(value, list) else [value]
        return delimiter.join(_scalar_text(v) for v in items)
    if isinstance(value, list):
        return orjson.dumps(value).decode()
    return _scalar_text(value)


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _columns(rows: list[dict[str, Any]], skip: set[str]) -> list[tuple[str, str]]:
    seen: dict[str, list[Any]] = {}
    for row in rows:
        for key, value in row.items():
            if key not in skip:
                seen.setdefault(key, []).append(value)
    return [(key, _type_of(values)) for key, values in seen.items()]


def write_neo4j_csv(case: str | os.PathLike[str] | CaseFile, out_dir: str | os.PathLike[str]) -> CsvExport:
    """Write one node CSV per label and one relationship CSV per type, with ``neo4j-admin database
    import`` headers (``id:ID``, ``:LABEL``, ``:START_ID``, ``:END_ID``, ``:TYPE``, typed property
    columns, list properties as arrays), plus ``schema.cypher`` (the constraints and indexes to
    create after the import). Returns what was written and the import command to run.
    """
    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise GraphinvError(f"{str(folder)!r} is a file; neo4j-csv writes a folder of CSV files: give a folder path")
    folder.mkdir(parents=True, exist_ok=True)
    opened = case if isinstance(case, CaseFile) else CaseFile(case)
    try:
        nodes, links = case_rows(opened)
    finally:
        if not isinstance(case, CaseFile):
            opened.close()
    by_label: dict[str, list[dict[str, Any]]] = {}
    kinds: dict[str, str] = {}
    for node in nodes:
        label = node.get("kind")
        if label not in NODE_KINDS:
            raise GraphinvError(f"Node {node.get('id')!r} has kind {label!r}, not one of {', '.join(NODE_KINDS)}")
        kinds[node["id"]] = label
        by_label.setdefault(label, []).append(neo4j_props(node))
    by_rel: dict[str, list[dict[str, Any]]] = {}
    skipped = 0
    for link in links:
        if link.get("rel") not in LINK_KINDS:
            raise GraphinvError(f"Link type {link.get('rel')!r} is not one of {', '.join(LINK_KINDS)}")
        if link["source"] not in kinds or link["target"] not in kinds:
            skipped += 1
            continue
        props = neo4j_props(link, ("rel", "source", "target"))
        by_rel.setdefault(link["rel"], []).append({"source": link["source"], "target": link["target"], "props": props})
    texts = {
        v for rows in by_label.values() for row in rows for value in row.values() if isinstance(value, list) for v in value if isinstance(v, str)
    } | {
        v for rows in by_rel.values() for row in rows for value in row["props"].values() if isinstance(value, list) for v in value if isinstance(v, str)
    }
    delimiter = next((d for d in _DELIMITERS if not any(d in t for t in texts)), None)
    if delimiter is None:
        raise GraphinvError("Every array delimiter neo4j-admin could use occurs inside some list value; cannot write neo4j-csv")
    node_files, link_files = [], []
    for label in sorted(by_label):
        rows = by_label[label]
        columns = _columns(rows, {"id"})
        path = folder / f"nodes-{label}.csv"
        with open(path, "w", newline="", encoding="utf-8") as handle:
            out = csv.writer(handle)
            out.writerow(["id:ID", ":LABEL", *(f"{key}:{kind}" if kind != "string" else key for key, kind in columns)])
            for row in rows:
                out.writerow([row["id"], label, *(_cell(row.get(key), kind, delimiter) for key, kind in columns)])
        node_files.append(path)
    for rel in sorted(by_rel):
        rows = by_rel[rel]
        columns = _columns([r["props"] for r in rows], set())
        path = folder / f"relationships-{rel}.csv"
        with open(path, "w", newline="", encoding="utf-8") as handle:
            out = csv.writer(handle)
            out.writerow([":START_ID", ":END_ID", ":TYPE", *(f"{key}:{kind}" if kind != "string" else key for key, kind in columns)])
            for row in rows:
                out.writerow([row["source"], row["target"], rel, *(_cell(row["props"].get(key), kind, delimiter) for key, kind in columns)])
        link_files.append(path)
    schema = folder / "schema.cypher"
    schema.write_text("".join(f"{statement};\n" for _, statement in schema_statements()), encoding="utf-8")
    parts = ["neo4j-admin", "database", "import", "full", DEFAULT_DATABASE, "--overwrite-destination",
             f"--array-delimiter={delimiter}", "--multiline-fields=true"]
    parts += [f"--nodes={p}" for p in node_files] + [f"--relationships={p}" for p in link_files]
    command = " ".join(shlex.quote(p) for p in parts)
    return CsvExport(
        folder=folder,
        node_files=tuple(node_files),
        link_files=tuple(link_files),
        schema_file=schema,
        nodes=sum(len(v) for v in by_label.values()),
        links=sum(len(v) for v in by_rel.values()),
        skipped_links=skipped,
        array_delimiter=delimiter,
        command=command,
    )
