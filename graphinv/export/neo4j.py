"""The case in Neo4j: an online, batched, idempotent push over Bolt, and CSVs for ``neo4j-admin database import``."""

from __future__ import annotations

import csv
import os
import re
import shlex
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from graphinv.exc import GraphinvError, OutputError
from graphinv.export.files import ensure_folder
from graphinv.model import LINK_KINDS, NODE_KINDS
from graphinv.playbooks import case_stream
from graphinv.store.casefile import CaseFile
from graphinv.store.neo4j import BoltTarget, Progress, WriteReport, neo4j_props, schema_statements, write_case

__all__ = ["DEFAULT_DATABASE", "CsvExport", "push", "write_neo4j_csv"]

#: Neo4j's default database: pushes name it explicitly rather than rely on the user's home database.
DEFAULT_DATABASE = "neo4j"
_DELIMITERS = (";", "|", "¦", "§", "\u00b6")
_DELIMITER_PATTERN = re.compile(f"[{re.escape(''.join(_DELIMITERS))}]")


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
    syntax), then nodes and links in ``UNWIND $rows ... MERGE`` batches of ``batch`` rows (CREATE for
    a label or type the database has none of yet), then the secondary indexes. The case is read in
    chunks, so memory does not grow with its size.

    Pushing the same case again creates nothing and changes no value. A wrong password, a missing
    database or a server that is down raise StoreUnavailableError, whose message never holds the
    password.
    """
    target = BoltTarget(uri=uri, user=user, password=password, database=database or DEFAULT_DATABASE)
    opened = case if isinstance(case, CaseFile) else CaseFile(case)
    try:
        with case_stream(opened) as stream:
            return write_case(target, stream, batch=batch, progress=progress)
    finally:
        if not isinstance(case, CaseFile):
            opened.close()


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


# A scalar's column kind by its exact type: what ``_value_kind`` answers, without its isinstance chain
# (the export asks once per cell; properties come from ``neo4j_props``, plain Python types).
_SCALAR_KINDS: dict[type, str] = {str: "string", bool: "boolean", int: "long", float: "double"}


def _value_kind(value: Any) -> str:
    if isinstance(value, list):
        inner = {_SCALAR_KINDS.get(type(v)) or _scalar_kind(v) for v in value}
        if inner == {"long", "double"}:
            inner = {"double"}
        return f"{inner.pop() if len(inner) == 1 else 'string'}[]" if inner else "[]"
    return _scalar_kind(value)


def _scalar_kind(value: Any) -> str:
    """A value's kind as a scalar (anything but a bool or a number is text, a list inside a list too)."""
    if isinstance(value, bool):
        return "boolean"
    return "long" if isinstance(value, int) else "double" if isinstance(value, float) else "string"


def _combine(kinds: set[str]) -> str:
    """The neo4j-admin column type that holds values of all these kinds (string when they differ)."""
    kinds = set(kinds)
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


def _type_of(values: list[Any]) -> str:
    """The neo4j-admin column type that holds every value of a property (string when they differ)."""
    return _combine({_value_kind(v) for v in values})


def _cell(value: Any, column_type: str, delimiter: str) -> str:
    if value is None:
        return ""
    if column_type.endswith("[]"):
        items = value if isinstance(value, list) else [value]
        try:
            return delimiter.join(items)  # all text, the usual case
        except TypeError:
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


class _Columns:
    """The columns of one CSV file, with the type of each, gathered row by row."""

    def __init__(self, skip: set[str]) -> None:
        self.skip = skip
        self.kinds: dict[str, set[str]] = {}

    def add(self, row: dict[str, Any], clash: set[str]) -> None:
        kinds, skip = self.kinds, self.skip
        for key, value in row.items():
            if key in skip:
                continue
            kind = _SCALAR_KINDS.get(type(value))
            if kind is None:
                if type(value) is list:
                    try:
                        # One search of the items joined (by a character no delimiter is), not one per item.
                        text = "\n".join(value)
                        kind = "string[]" if value else "[]"
                    except TypeError:
                        text = "\n".join(item for item in value if isinstance(item, str))
                        kind = _value_kind(value)
                    if _DELIMITER_PATTERN.search(text):
                        clash.update(d for d in _DELIMITERS if d in text)
                else:
                    kind = _value_kind(value)
            seen = kinds.get(key)
            if seen is None:
                kinds[key] = {kind}
            else:
                seen.add(kind)

    def columns(self) -> list[tuple[str, str]]:
        return [(key, _combine(kinds)) for key, kinds in self.kinds.items()]

    def converted(self) -> list[tuple[int, str]]:
        """The columns (position, type) whose values ``_cell`` must convert. The others hold only
        text and numbers in a scalar column, which the csv module writes as ``_cell`` would (None
        as "", numbers by ``str``, which is ``repr`` for a float)."""
        return [
            (i, kind)
            for i, (kinds, (_, kind)) in enumerate(zip(self.kinds.values(), self.columns(), strict=True))
            if not kinds <= {"string", "long", "double"} or kind.endswith("[]")
        ]


def _cells(values: list[Any], converted: list[tuple[int, str]], delimiter: str) -> list[Any]:
    """A row's property cells (``values`` in column order), converted only where a column needs it."""
    for i, kind in converted:
        values[i] = _cell(values[i], kind, delimiter)
    return values


def _write_csv(
    path: Path,
    spool: Path,
    head: list[str],
    columns: _Columns,
    delimiter: str,
    split: Callable[[Any], tuple[list[Any], dict[str, Any]]],
) -> Path:
    """One neo4j-admin CSV from its JSON-lines spool: the ``head`` columns, then the typed property
    columns; ``split`` turns a spooled row into its head cells and its properties."""
    typed, converted = columns.columns(), columns.converted()
    keys = [key for key, _ in typed]
    with open(path, "w", newline="", encoding="utf-8") as handle, open(spool, "rb") as rows:
        out = csv.writer(handle)
        out.writerow([*head, *(f"{key}:{kind}" if kind != "string" else key for key, kind in typed)])
        for line in rows:
            cells, props = split(orjson.loads(line))
            out.writerow([*cells, *_cells([props.get(key) for key in keys], converted, delimiter)])
    return path


def write_neo4j_csv(case: str | os.PathLike[str] | CaseFile, out_dir: str | os.PathLike[str]) -> CsvExport:
    """Write one node CSV per label and one relationship CSV per type, with ``neo4j-admin database
    import`` headers (``id:ID``, ``:LABEL``, ``:START_ID``, ``:END_ID``, ``:TYPE``, typed property
    columns, list properties as arrays), plus ``schema.cypher`` (the constraints and indexes to
    create after the import). Returns what was written and the import command to run.

    Bounded memory: the case is read once, in chunks, into one JSON-lines spool file per label and
    type (a CSV header needs every row's columns and types first), which become the CSV files.
    """
    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{str(folder)!r} is a file; neo4j-csv writes a folder of CSV files: give a folder path")
    ensure_folder(folder, create=True, writing=folder)
    try:
        spool_dir = Path(tempfile.mkdtemp(prefix=".spool-", dir=folder))
    except OSError as exc:
        raise OutputError(f"Cannot write in {str(folder)!r}: {exc.strerror}; give another folder") from exc
    opened = case if isinstance(case, CaseFile) else CaseFile(case)
    try:
        node_cols: dict[str, _Columns] = {}
        link_cols: dict[str, _Columns] = {}
        spools: dict[str, Any] = {}  # closed below, whatever happens
        clash: set[str] = set()
        nodes = links = skipped = 0

        def spool(name: str) -> Any:
            if name not in spools:
                spools[name] = open(spool_dir / f"{name}.jsonl", "wb")  # noqa: SIM115
            return spools[name]

        try:
            with case_stream(opened) as stream:
                for chunk in stream.nodes():
                    for node in chunk:
                        label = node.get("kind")
                        if label not in NODE_KINDS:
                            raise GraphinvError(
                                f"Node {node.get('id')!r} has kind {label!r}, not one of {', '.join(NODE_KINDS)}"
                            )
                        row = neo4j_props(node)
                        node_cols.setdefault(label, _Columns({"id"})).add(row, clash)
                        spool(f"nodes-{label}").write(orjson.dumps(row) + b"\n")
                        nodes += 1
                for chunk in stream.links():
                    for source_kind, target_kind, link in chunk:
                        rel = link.get("rel")
                        if rel not in LINK_KINDS:
                            raise GraphinvError(f"Link type {rel!r} is not one of {', '.join(LINK_KINDS)}")
                        if source_kind is None or target_kind is None:
                            skipped += 1
                            continue
                        props = neo4j_props(link, ("rel", "source", "target"))
                        link_cols.setdefault(rel, _Columns(set())).add(props, clash)
                        spool(f"relationships-{rel}").write(
                            orjson.dumps([link["source"], link["target"], props]) + b"\n"
                        )
                        links += 1
        finally:
            for handle in spools.values():
                handle.close()
        delimiter = next((d for d in _DELIMITERS if d not in clash), None)
        if delimiter is None:
            raise GraphinvError(
                "Every array delimiter neo4j-admin could use occurs inside some list value; cannot write neo4j-csv"
            )
        node_files = [
            _write_csv(
                folder / f"nodes-{label}.csv",
                spool_dir / f"nodes-{label}.jsonl",
                ["id:ID", ":LABEL"],
                node_cols[label],
                delimiter,
                lambda row, label=label: ([row["id"], label], row),
            )
            for label in sorted(node_cols)
        ]
        link_files = [
            _write_csv(
                folder / f"relationships-{rel}.csv",
                spool_dir / f"relationships-{rel}.jsonl",
                [":START_ID", ":END_ID", ":TYPE"],
                link_cols[rel],
                delimiter,
                lambda row, rel=rel: ([row[0], row[1], rel], row[2]),
            )
            for rel in sorted(link_cols)
        ]
    finally:
        shutil.rmtree(spool_dir, ignore_errors=True)
        if not isinstance(case, CaseFile):
            opened.close()
    schema = folder / "schema.cypher"
    schema.write_text("".join(f"{statement};\n" for _, statement in schema_statements()), encoding="utf-8")
    parts = [
        "neo4j-admin",
        "database",
        "import",
        "full",
        DEFAULT_DATABASE,
        "--overwrite-destination",
        f"--array-delimiter={delimiter}",
        "--multiline-fields=true",
    ]
    parts += [f"--nodes={p}" for p in node_files] + [f"--relationships={p}" for p in link_files]
    command = " ".join(shlex.quote(p) for p in parts)
    return CsvExport(
        folder=folder,
        node_files=tuple(node_files),
        link_files=tuple(link_files),
        schema_file=schema,
        nodes=nodes,
        links=links,
        skipped_links=skipped,
        array_delimiter=delimiter,
        command=command,
    )
