"""The case file: one SQLite file holding every ingested statement with its provenance.

Each row of a source becomes *statements* (one entity or link as that line states it); nodes and
links are the statements merged by id, first statement winning for each property. Rejected rows
are kept too, so nothing that was read is lost. The file carries a schema version and a case
version that grows with every change, which caches key on.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from graphinv.exc import CaseError

__all__ = ["CaseFile", "Writer", "SourceInfo", "Rejection", "SCHEMA_VERSION", "APPLICATION_ID"]

#: Bump when the layout changes, and teach ``_migrate`` to lift older files.
SCHEMA_VERSION = 1
#: SQLite's application_id header field: "GINV", so other SQLite files are told apart.
APPLICATION_ID = 0x47494E56

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE source (
    id INTEGER PRIMARY KEY,
    dataset TEXT NOT NULL,
    file TEXT NOT NULL,
    kind TEXT NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    ingested_at TEXT NOT NULL,
    rows_read INTEGER NOT NULL DEFAULT 0,
    rows_kept INTEGER NOT NULL DEFAULT 0,
    rows_rejected INTEGER NOT NULL DEFAULT 0,
    UNIQUE (dataset, file)
);
CREATE TABLE statement (
    source_id INTEGER NOT NULL,
    line INTEGER NOT NULL,
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    tax_key TEXT,
    name_key TEXT,
    props BLOB NOT NULL
);
CREATE INDEX statement_source ON statement (source_id);
CREATE INDEX statement_id ON statement (id, source_id, line);
CREATE INDEX statement_tax ON statement (tax_key) WHERE tax_key IS NOT NULL;
CREATE INDEX statement_name ON statement (name_key) WHERE name_key IS NOT NULL;
CREATE TABLE link (
    source_id INTEGER NOT NULL,
    line INTEGER NOT NULL,
    rel TEXT NOT NULL,
    src TEXT NOT NULL,
    dst TEXT NOT NULL,
    props BLOB NOT NULL,
    PRIMARY KEY (source_id, line, rel, src, dst)
) WITHOUT ROWID;
CREATE TABLE flag (
    source_id INTEGER NOT NULL,
    line INTEGER NOT NULL,
    entity_id TEXT NOT NULL,
    list TEXT NOT NULL,
    reason TEXT,
    date TEXT,
    PRIMARY KEY (source_id, line, entity_id)
) WITHOUT ROWID;
CREATE TABLE reject (
    source_id INTEGER NOT NULL,
    line INTEGER NOT NULL,
    col TEXT NOT NULL,
    reason TEXT NOT NULL,
    raw TEXT NOT NULL,
    PRIMARY KEY (source_id, line, col)
) WITHOUT ROWID;
"""


@dataclass(frozen=True)
class SourceInfo:
    """One ingested source file and what came of its rows."""

    id: int
    dataset: str
    file: str
    kind: str
    path: str
    sha256: str
    ingested_at: str
    rows_read: int
    rows_kept: int
    rows_rejected: int

    @property
    def prefix(self) -> str:
        return f"{self.dataset}:{self.file}"


@dataclass(frozen=True)
class Rejection:
    """A row that was not ingested, with where it was and why."""

    dataset: str
    file: str
    line: int
    column: str
    reason: str
    raw: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.column}: {self.reason}"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class CaseFile:
    """An open case file. Reads are views over the statements; writes go through ``writer()``."""

    def __init__(self, path: str | os.PathLike[str], *, create: bool = False) -> None:
        self.path = Path(path)
        existed = self.path.exists()
        if not existed and not create:
            raise CaseError(f"No such case file: {str(self.path)!r} (create it with 'graphinv ingest {self.path} SOURCE')")
        if existed and self.path.is_dir():
            raise CaseError(f"{str(self.path)!r} is a folder, not a case file: give a file path such as case.graphinv")
        self.created = not existed
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None)
            self._db.execute("PRAGMA cache_size = -65536")
            if self.created:
                self._init()
            else:
                self._check()
        except sqlite3.DatabaseError as exc:
            with contextlib.suppress(Exception):
                self._db.close()
            raise CaseError(f"{str(self.path)!r} is not a graphinv case file ({exc})") from exc

    # -- lifecycle -----------------------------------------------------------------------------

    def _init(self) -> None:
        db = self._db
        db.execute("BEGIN")
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        for stmt in _SCHEMA.split(";"):
            if stmt.strip():
                db.execute(stmt)
        db.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?)",
            [
                ("schema_version", str(SCHEMA_VERSION)),
                ("case_id", uuid.uuid4().hex),
                ("version", "0"),
                ("created_at", _now()),
            ],
        )
        db.execute("COMMIT")

    def _check(self) -> None:
        app_id = self._db.execute("PRAGMA application_id").fetchone()[0]
        if app_id != APPLICATION_ID:
            raise CaseError(
                f"{str(self.path)!r} is not a graphinv case file (it is some other file); "
                "give a new path to create a case, or the path of an existing case"
            )
        found = int(self.meta("schema_version"))
        if found > SCHEMA_VERSION:
            raise CaseError(
                f"{str(self.path)!r} was written by a newer graphinv (case schema {found}; this version reads up to "
                f"{SCHEMA_VERSION}): upgrade graphinv with 'pip install -U graphinv'"
            )

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> CaseFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- metadata ------------------------------------------------------------------------------

    def meta(self, key: str) -> str:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise CaseError(f"{str(self.path)!r} is damaged: no {key!r} in its metadata")
        return row[0]

    @property
    def case_id(self) -> str:
        return self.meta("case_id")

    @property
    def version(self) -> int:
        """Grows by one with every ingest that changed the case."""
        return int(self.meta("version"))

    # -- writing -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def writer(self) -> Iterator[Writer]:
        """One transaction: everything written inside lands together, or nothing does."""
        self._db.execute("BEGIN IMMEDIATE")
        writer = Writer(self._db)
        try:
            yield writer
            writer.flush()
            if writer.changed:
                self._db.execute(
                    "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'version'"
                )
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- reading -------------------------------------------------------------------------------

    def sources(self) -> list[SourceInfo]:
        rows = self._db.execute(
            "SELECT id, dataset, file, kind, path, sha256, ingested_at, rows_read, rows_kept, rows_rejected "
            "FROM source ORDER BY id"
        )
        return [SourceInfo(*row) for row in rows]

    def _prefixes(self) -> dict[int, str]:
        return {s.id: s.prefix for s in self.sources()}

    def rejections(self) -> Iterator[Rejection]:
        rows = self._db.execute(
            "SELECT s.dataset, s.file, r.line, r.col, r.reason, r.raw FROM reject r "
            "JOIN source s ON s.id = r.source_id ORDER BY r.source_id, r.line, r.col"
        )
        for row in rows:
            yield Rejection(*row)

    def counts(self) -> dict[str, int]:
        """Distinct nodes per kind and links per relationship type, as the graph will hold them."""
        out: dict[str, int] = {}
        for kind, n in self._db.execute("SELECT kind, COUNT(DISTINCT id) FROM statement GROUP BY kind ORDER BY kind"):
            out[kind] = n
        for rel, n in self._db.execute(
            "SELECT rel, COUNT(*) FROM (SELECT DISTINCT rel, src, dst FROM link) GROUP BY rel ORDER BY rel"
        ):  # a one-off sort, cheaper than keeping an index on (rel, src, dst) up to date on every ingest
            out[rel] = n
        return out

    def nodes(self) -> list[dict[str, Any]]:
        """Every node, sorted by id: its statements merged (earliest wins per property), with flags."""
        prefixes = self._prefixes()
        flags = self._flags(prefixes)
        # One sequential pass in storage order, which is (source, line) order, then a sort: far
        # faster than walking the id index, whose rows lie scattered over the file.
        merged: dict[str, dict[str, Any]] = {}
        rows = self._db.execute("SELECT id, kind, source_id, line, props FROM statement ORDER BY rowid")
        for node_id, kind, source_id, line, props in rows:
            _merge(merged, node_id, {"id": node_id, "kind": kind}, f"{prefixes[source_id]}:{line}", props)
        return [_finish_node(merged[k], flags) for k in sorted(merged)]

    def links(self) -> list[dict[str, Any]]:
        """Every link, one per (rel, source, target), sorted so: statements merged like nodes."""
        prefixes = self._prefixes()
        merged: dict[tuple[str, str, str], dict[str, Any]] = {}
        rows = self._db.execute("SELECT rel, src, dst, source_id, line, props FROM link")
        for rel, src, dst, source_id, line, props in rows:
            head = {"rel": rel, "source": src, "target": dst}
            _merge(merged, (rel, src, dst), head, f"{prefixes[source_id]}:{line}", props)
        return [merged[k] for k in sorted(merged)]

    def _flags(self, prefixes: dict[int, str]) -> dict[str, list[tuple[str, str]]]:
        out: dict[str, list[tuple[str, str]]] = {}
        rows = self._db.execute(
            "SELECT entity_id, list, reason, date, source_id, line FROM flag ORDER BY entity_id, source_id, line"
        )
        for entity_id, name, reason, date, source_id, line in rows:
            ref = f"{prefixes[source_id]}:{line}"
            detail = " ".join(part for part in (name, date and f"({date})", reason and f"- {reason}") if part)
            out.setdefault(entity_id, []).append((name, f"{detail} [{ref}]"))
        return out


def _merge(merged: dict[Any, dict[str, Any]], key: Any, head: dict[str, Any], ref: str, props: bytes) -> None:
    current = merged.get(key)
    if current is None:
        head["sources"] = [ref]
        head.update(orjson.loads(props))
        merged[key] = head
        return
    for name, value in orjson.loads(props).items():
        current.setdefault(name, value)
    if ref not in current["sources"]:
        current["sources"].append(ref)


def _finish_node(node: dict[str, Any], flags: dict[str, list[tuple[str, str]]]) -> dict[str, Any]:
    entries = flags.get(node["id"], [])
    node["flags"] = sorted({name for name, _ in entries})
    node["flagged"] = bool(entries)
    if entries:
        node["flag_reasons"] = [detail for _, detail in entries]
        for _, detail in entries:
            ref = detail.rsplit("[", 1)[1].rstrip("]")
            if ref not in node["sources"]:
                node["sources"].append(ref)
    return node


class Writer:
    """Batched writes inside one transaction; reads inside it see what was written."""

    BATCH = 5000

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._statements: list[tuple[Any, ...]] = []
        self._links: list[tuple[Any, ...]] = []
        self._flags: list[tuple[Any, ...]] = []
        self._rejects: list[tuple[Any, ...]] = []
        self.changed = False

    def start_source(self, *, dataset: str, file: str, kind: str, path: str, sha256: str) -> int | None:
        """Register a source; ``None`` when this exact content was ingested already (a no-op).

        A source that changed since its last ingest replaces everything that version stated.
        """
        row = self._db.execute(
            "SELECT id, sha256 FROM source WHERE dataset = ? AND file = ?", (dataset, file)
        ).fetchone()
        if row is not None:
            if row[1] == sha256:
                return None
            self.flush()
            for table in ("statement", "link", "flag", "reject"):
                self._db.execute(f"DELETE FROM {table} WHERE source_id = ?", (row[0],))
            self._db.execute("DELETE FROM source WHERE id = ?", (row[0],))
        cur = self._db.execute(
            "INSERT INTO source (dataset, file, kind, path, sha256, ingested_at) VALUES (?, ?, ?, ?, ?, ?)",
            (dataset, file, kind, path, sha256, _now()),
        )
        self.changed = True
        return int(cur.lastrowid)  # type: ignore[arg-type]

    def finish_source(self, source_id: int, *, read: int, kept: int, rejected: int) -> None:
        self._db.execute(
            "UPDATE source SET rows_read = ?, rows_kept = ?, rows_rejected = ? WHERE id = ?",
            (read, kept, rejected, source_id),
        )

    def statement(
        self, source_id: int, line: int, node_id: str, kind: str, tax_key: str | None, name_key: str | None, props: dict[str, Any]
    ) -> None:
        self._statements.append((source_id, line, node_id, kind, tax_key, name_key, orjson.dumps(props)))
        if len(self._statements) >= self.BATCH:
            self.flush()

    def link(self, source_id: int, line: int, rel: str, src: str, dst: str, props: dict[str, Any]) -> None:
        self._links.append((source_id, line, rel, src, dst, orjson.dumps(props)))
        if len(self._links) >= self.BATCH:
            self.flush()

    def flag(self, source_id: int, line: int, entity_id: str, name: str, reason: str | None, date: str | None) -> None:
        self._flags.append((source_id, line, entity_id, name, reason, date))

    def reject(self, source_id: int, line: int, column: str, reason: str, raw: str) -> None:
        self._rejects.append((source_id, line, column, reason, raw))

    def flush(self) -> None:
        db = self._db
        if self._statements:
            db.executemany("INSERT INTO statement VALUES (?, ?, ?, ?, ?, ?, ?)", self._statements)
            self._statements.clear()
        if self._links:
            db.executemany("INSERT OR IGNORE INTO link VALUES (?, ?, ?, ?, ?, ?)", self._links)
            self._links.clear()
        if self._flags:
            db.executemany("INSERT OR IGNORE INTO flag VALUES (?, ?, ?, ?, ?, ?)", self._flags)
            self._flags.clear()
        if self._rejects:
            db.executemany("INSERT OR IGNORE INTO reject VALUES (?, ?, ?, ?, ?)", self._rejects)
            self._rejects.clear()

    # -- lookups for reference resolution (see what this transaction wrote) ---------------------

    def existing(self, ids: Iterable[str]) -> dict[str, str]:
        """id → kind for those of ``ids`` that some statement states."""
        self.flush()
        return dict(self._lookup("SELECT DISTINCT id, kind FROM statement WHERE id IN ({})", list(ids)))

    def by_tax_key(self, keys: Iterable[str]) -> dict[str, dict[str, str]]:
        """tax key → {id: kind} of the entities stated with that tax id."""
        return self._keyed("SELECT DISTINCT tax_key, id, kind FROM statement WHERE tax_key IN ({})", keys)

    def by_name_key(self, keys: Iterable[str]) -> dict[str, dict[str, str]]:
        """name key → {id: kind} of the entities stated with that name."""
        return self._keyed("SELECT DISTINCT name_key, id, kind FROM statement WHERE name_key IN ({})", keys)

    def _keyed(self, sql: str, keys: Iterable[str]) -> dict[str, dict[str, str]]:
        self.flush()
        out: dict[str, dict[str, str]] = {}
        for key, node_id, kind in self._lookup(sql, list(keys)):
            out.setdefault(key, {})[node_id] = kind
        return out

    def _lookup(self, sql: str, values: list[str]) -> Iterator[tuple[Any, ...]]:
        chunk = 30000
        for start in range(0, len(values), chunk):
            part = values[start : start + chunk]
            yield from self._db.execute(sql.format(",".join("?" * len(part))), part)
