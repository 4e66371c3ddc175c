"""The case file: one SQLite file holding every ingested statement with its provenance.

Each row of a source becomes *statements* (one entity or link as that line states it); nodes and
links are the statements merged by id, first statement winning for each property (of the records
resolution merged, the canonical record's first: ``merge_group``). Rejected rows are kept too, so
nothing that was read is lost. The file carries a schema version and a case version that grows
with every change, which caches key on.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import os
import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from graphinv.exc import CaseError
from graphinv.model import NODE_KINDS

__all__ = [
    "APPLICATION_ID",
    "PERIOD_PROPERTIES",
    "SCHEMA_VERSION",
    "CaseFile",
    "Decision",
    "Judgement",
    "Rejection",
    "SourceInfo",
    "Writer",
    "finish_node",
    "link_in_period",
    "merge_group",
    "merge_statement",
    "record_rank",
    "row_key",
]

#: Bump when the layout changes, and teach ``_migrate`` to lift older files.
SCHEMA_VERSION = 3
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
    case_version INTEGER NOT NULL DEFAULT 0,
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
CREATE TABLE decision (
    a TEXT NOT NULL,
    b TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('same', 'possible')),
    rule TEXT NOT NULL,
    score REAL NOT NULL,
    reason TEXT NOT NULL,
    a_name TEXT NOT NULL DEFAULT '',
    b_name TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (a, b)
) WITHOUT ROWID;
CREATE TABLE alias (id TEXT PRIMARY KEY, canonical TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE judgement (
    left_ref TEXT NOT NULL,
    right_ref TEXT NOT NULL,
    same INTEGER NOT NULL,
    note TEXT,
    origin TEXT NOT NULL,
    PRIMARY KEY (left_ref, right_ref)
) WITHOUT ROWID;
"""


#: ``SourceInfo``'s fields, as the source table's columns.
_SOURCE_COLUMNS = "id, dataset, file, kind, path, sha256, ingested_at, rows_read, rows_kept, rows_rejected"


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


@dataclass(frozen=True, order=True)
class Decision:
    """A resolution decision about two statement ids: merged ('same') or only 'possible'."""

    a: str
    b: str
    verdict: str
    rule: str
    score: float
    reason: str
    a_name: str = ""
    """The two records' names as their sources spelled them (the merged node keeps only one)."""
    b_name: str = ""


@dataclass(frozen=True)
class Judgement:
    """An analyst's ruling on two entities named by REF, which overrides the matcher."""

    left_ref: str
    right_ref: str
    same: bool
    note: str | None
    origin: str


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
                ("revision", uuid.uuid4().hex),
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
        if found < SCHEMA_VERSION:
            self._migrate(found)

    def _migrate(self, found: int) -> None:
        """Lift a case written by an older graphinv to this layout, in one transaction."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            if found < 2:
                # Schema 2: decisions keep both records' names; caches key on a random revision.
                db.execute("ALTER TABLE decision ADD COLUMN a_name TEXT NOT NULL DEFAULT ''")
                db.execute("ALTER TABLE decision ADD COLUMN b_name TEXT NOT NULL DEFAULT ''")
                db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('revision', ?)", (uuid.uuid4().hex,))
            if found < 3:
                # Schema 3: a source remembers the case version its ingest made (0: not known), so
                # one whose rows named entities the case lacked is read again after others came in.
                db.execute("ALTER TABLE source ADD COLUMN case_version INTEGER NOT NULL DEFAULT 0")
            db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

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
    def revision(self) -> str:
        """A random token renewed by every change: what caches key on."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'revision'").fetchone()
        # Cases written before revisions existed get one with their next change.
        return row[0] if row is not None else f"v{self.version}"

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
            writer.restore_indexes()
            if writer.changed:
                self._db.execute(
                    "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'version'"
                )
                # Two copies of one case (mailed to a colleague) may reach the same version number
                # with different contents; the random revision tells them apart for caches.
                self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('revision', ?)", (uuid.uuid4().hex,))
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- reading -------------------------------------------------------------------------------

    def sources(self) -> list[SourceInfo]:
        rows = self._db.execute(f"SELECT {_SOURCE_COLUMNS} FROM source ORDER BY id")
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
        """Nodes per kind and links per relationship type, as the resolved graph holds them."""
        db = self._db
        # Counted with GROUP BY, which sorts: DISTINCT in a subquery builds a b-tree row by row, twice
        # as slow (1M companies' 6.7M links: 55 s against 27 s). One sorter thread: a second (as
        # ingest's index builds use) would save a third of that and double the memory (214 -> 468 MB).
        db.execute("PRAGMA threads = 0")
        resolved = db.execute("SELECT 1 FROM alias LIMIT 1").fetchone() is not None
        nodes = None if resolved else self._nodes_by_prefix()
        if nodes is None:
            nodes = dict(
                db.execute(
                    "SELECT kind, COUNT(*) FROM (SELECT s.kind FROM statement s LEFT JOIN alias a ON a.id = s.id "
                    "GROUP BY s.kind, COALESCE(a.canonical, s.id)) GROUP BY kind"
                )
            )
        out = {kind: nodes[kind] for kind in sorted(nodes)}
        if resolved:
            links = db.execute(
                "SELECT rel, COUNT(*) FROM (SELECT l.rel FROM link l LEFT JOIN alias a ON a.id = l.src "
                "LEFT JOIN alias b ON b.id = l.dst WHERE l.src = l.dst OR COALESCE(a.canonical, l.src) != "
                "COALESCE(b.canonical, l.dst) GROUP BY l.rel, COALESCE(a.canonical, l.src), "
                "COALESCE(b.canonical, l.dst)) GROUP BY rel ORDER BY rel"
            )
        else:  # nothing merged: no alias joins
            links = db.execute("SELECT rel, COUNT(*) FROM (SELECT rel FROM link GROUP BY rel, src, dst) GROUP BY rel ORDER BY rel")
        out.update(links)
        possible = self._db.execute(
            "SELECT COUNT(*) FROM (SELECT DISTINCT MIN(s, d), MAX(s, d) FROM (SELECT COALESCE(a.canonical, x.a) AS s, "
            "COALESCE(b.canonical, x.b) AS d FROM decision x LEFT JOIN alias a ON a.id = x.a "
            "LEFT JOIN alias b ON b.id = x.b WHERE x.verdict = 'possible') WHERE s != d)"
        ).fetchone()[0]
        if possible:
            out["POSSIBLY_SAME_AS"] = possible
        return out

    def _nodes_by_prefix(self) -> dict[str, int] | None:
        """Nodes per kind of a case no resolution has merged anything in (what ``ingest --no-resolve``
        prints): an id's kind is its prefix, so the distinct ids come off the id index in order,
        with no sort (100k companies: 0.34 s against 1.4 s). None if an id was not made by the
        model's ``make_id``: then they are counted by stated kind."""
        kinds = {f"{cls.id_prefix}-": label for label, cls in NODE_KINDS.items()}
        per_prefix = self._db.execute(
            "SELECT substr(id, 1, instr(id, '-')), COUNT(*) FROM (SELECT DISTINCT id FROM statement) GROUP BY 1"
        ).fetchall()
        if not all(prefix in kinds for prefix, _ in per_prefix):
            return None
        return {kinds[prefix]: n for prefix, n in per_prefix}

    def aliases(self) -> dict[str, str]:
        """Statement id → the id of the node resolution merged it into (merged ids only)."""
        return dict(self._db.execute("SELECT id, canonical FROM alias"))

    def decisions(self) -> list[Decision]:
        rows = self._db.execute("SELECT a, b, verdict, rule, score, reason, a_name, b_name FROM decision ORDER BY a, b")
        return [Decision(*row) for row in rows]

    def judgements(self) -> list[Judgement]:
        rows = self._db.execute("SELECT left_ref, right_ref, same, note, origin FROM judgement ORDER BY left_ref, right_ref")
        return [Judgement(left, right, bool(same), note, origin) for left, right, same, note, origin in rows]

    def nodes(self, *, resolved: bool = True) -> list[dict[str, Any]]:
        """Every node, sorted by id: its statements merged (earliest wins per property), with flags.

        With ``resolved`` (the default), statements of entities that resolution found to be one
        are merged under one id too (``merge_group``: the canonical record first, then the other
        registry records, then customs spellings), and the node lists those ``merged_ids``. A node
        whose statements spell its name differently lists the other spellings as ``aliases``.
        ``resolved=False`` gives the nodes as the sources state them.
        """
        prefixes = self._prefixes()
        alias = self.aliases() if resolved else {}
        flags = self._flags(prefixes, alias)
        grouped = {canonical for node_id, canonical in alias.items() if node_id != canonical}
        # One sequential pass in storage order, which is (source, line) order, then a sort: far
        # faster than walking the id index, whose rows lie scattered over the file.
        merged: dict[str, dict[str, Any]] = {}
        groups: dict[str, list[tuple[str, str, str, bytes]]] = {}
        rows = self._db.execute("SELECT id, kind, source_id, line, props FROM statement ORDER BY rowid")
        for node_id, kind, source_id, line, props in rows:
            canonical = alias.get(node_id, node_id)
            ref = f"{prefixes[source_id]}:{line}"
            if canonical in grouped:
                groups.setdefault(canonical, []).append((node_id, kind, ref, props))
            else:
                merge_statement(merged, node_id, {"id": node_id, "kind": kind}, ref, props)
        for canonical, statements in groups.items():
            merged[canonical] = merge_group(canonical, statements)
        return [finish_node(merged[k], flags) for k in sorted(merged)]

    def links(self, *, resolved: bool = True) -> list[dict[str, Any]]:
        """Every link, one per (rel, source, target), sorted so: statements merged like nodes.

        Resolved, the ends are the merged nodes' ids, and uncertain matches appear as
        ``POSSIBLY_SAME_AS`` links carrying their score and reason.
        """
        prefixes = self._prefixes()
        alias = self.aliases() if resolved else {}
        merged: dict[tuple[str, str, str], dict[str, Any]] = {}
        rows = self._db.execute("SELECT rel, src, dst, source_id, line, props FROM link")
        for rel, src, dst, source_id, line, props in rows:
            source, target = alias.get(src, src), alias.get(dst, dst)
            if source == target and src != dst:
                continue  # both ends were found to be one entity: the link says nothing more
            head = {"rel": rel, "source": source, "target": target}
            merge_statement(merged, (rel, source, target), head, f"{prefixes[source_id]}:{line}", props)
        if resolved:
            for d in self.decisions():
                a, b = sorted((alias.get(d.a, d.a), alias.get(d.b, d.b)))
                if d.verdict != "possible" or a == b:
                    continue
                key = ("POSSIBLY_SAME_AS", a, b)
                if key not in merged:
                    merged[key] = {
                        "rel": "POSSIBLY_SAME_AS", "source": a, "target": b,
                        "sources": [f"graphinv:resolve:{d.rule}"], "score": d.score, "reason": d.reason,
                    }
        return [merged[k] for k in sorted(merged)]

    def _flags(self, prefixes: dict[int, str], alias: dict[str, str]) -> dict[str, list[tuple[str, str]]]:
        out: dict[str, list[tuple[str, str]]] = {}
        rows = self._db.execute(
            "SELECT entity_id, list, reason, date, source_id, line FROM flag ORDER BY source_id, line, entity_id"
        )
        for entity_id, name, reason, date, source_id, line in rows:
            ref = f"{prefixes[source_id]}:{line}"
            detail = " ".join(part for part in (name, date and f"({date})", reason and f"- {reason}") if part)
            entries = out.setdefault(alias.get(entity_id, entity_id), [])
            entry = (name, f"{detail} [{ref}]")
            if entry not in entries:  # one row flagging two records that resolution merged: cited once
                entries.append(entry)
        return out


#: A link's properties that hold for a period. Rows that state one link (an owner and a firm, an
#: officer and a firm) for different periods, a share that changed, a new role, are kept apart as
#: the link's ``periods``.
PERIOD_PROPERTIES = ("start_date", "end_date", "share_pct", "role")


def merge_statement(merged: dict[Any, dict[str, Any]], key: Any, head: dict[str, Any], ref: str, props: bytes) -> None:
    """Fold one statement (its JSON ``props``, cited as ``ref``) into ``merged[key]``, which starts as ``head``."""
    current = merged.get(key)
    values = orjson.loads(props)
    if current is None:
        head["sources"] = [ref]
        head.update(values)
        merged[key] = head
        return
    if "rel" in current and _merge_period(current, values, ref):
        values = {k: v for k, v in values.items() if k not in PERIOD_PROPERTIES}
    # A customs spelling merged into a registry firm must not make the firm "unregistered":
    # the node is registered as soon as one of its statements comes from a registry.
    if current.get("registered") is False and values.get("registered") is not False:
        del current["registered"]
    elif values.get("registered") is False and "registered" not in current:
        values.pop("registered")
    if "name" in values and values["name"] != current.get("name"):
        current.setdefault("_names", []).append(values["name"])
    for name, value in values.items():
        current.setdefault(name, value)
    if ref not in current["sources"]:
        current["sources"].append(ref)


def merge_group(canonical: str, statements: list[tuple[str, str, str, bytes]]) -> dict[str, Any]:
    """The node resolution merged from several records, from their statements (record id, kind,
    ref, JSON props) in storage order.

    The records are folded in a fixed order, each record's own statements in storage order: the
    canonical record (the registry's, which names the entity) first, then the other registry
    records, then the customs clerks' spellings, each rank by id (``record_rank``). So a firm keeps
    its registry name and tax id however its sources were spelled and whichever came in first.
    """
    records: dict[str, list[tuple[str, str, str, bytes]]] = {}
    for statement in statements:
        records.setdefault(statement[0], []).append(statement)

    def rank(node_id: str) -> tuple[bool, ...]:
        values = [orjson.loads(props) for *_, props in records[node_id]]
        return (node_id != canonical, *record_rank(node_id, values))

    merged: dict[str, dict[str, Any]] = {}
    for node_id in sorted(records, key=rank):
        for _, kind, ref, props in records[node_id]:
            merge_statement(merged, canonical, {"id": canonical, "kind": kind}, ref, props)
    node = merged[canonical]
    ids = sorted({canonical, *records})
    if len(ids) > 1:
        node["merged_ids"] = ids
    return node


def record_rank(node_id: str, statements: Iterable[dict[str, Any]]) -> tuple[bool, bool, str]:
    """How a record ranks among the records merged into one node, lowest first: registry records
    before customs parties, records of a bundle (with a ``bundle_id``) before others, then by id.
    Resolution names the merged node after the lowest (its canonical record)."""
    registered = bundled = False
    for values in statements:
        registered = registered or values.get("registered") is not False
        bundled = bundled or "bundle_id" in values
    return (not registered, not bundled, node_id)


def _merge_period(link: dict[str, Any], values: dict[str, Any], ref: str) -> bool:
    """Fold a statement of ``link`` that is dated differently into its ``periods`` (each period's
    values with the row that states them); True if the statement is one of its periods.

    The link then holds from the earliest start to the latest end (open if a period is), with the
    values of the period still open (the latest begun), else of the one that ended last: what it
    is now, and what the playbooks read. Investigations
    take the period in force on their date (``graphinv.query._graph.in_force``)."""
    stated = {k: values[k] for k in PERIOD_PROPERTIES if values.get(k) is not None}
    periods = link.get("periods")
    if periods is None:
        first = {k: link[k] for k in PERIOD_PROPERTIES if link.get(k) is not None}
        dated = {"start_date", "end_date"} & (stated.keys() | first.keys())
        if stated == first or not dated:
            return False  # the same facts again, or undated: the earliest statement wins, as for nodes
        periods = link["periods"] = [{**first, "source": link["sources"][0]}]
    if not any({k: v for k, v in p.items() if k != "source"} == stated for p in periods):
        periods.append({**stated, "source": ref})
        periods.sort(key=lambda p: (p.get("start_date") or "", p.get("end_date") or "\uffff", row_key(p["source"])))
        for name in PERIOD_PROPERTIES:
            link.pop(name, None)
        # Its share or role: that of the period still open (the latest begun), else of the one that
        # ended last; its dates: the span of all of them.
        still_open = [p for p in periods if not p.get("end_date")]
        now = still_open[-1] if still_open else max(periods, key=lambda p: p["end_date"])
        link.update({k: v for k, v in now.items() if k not in ("source", "start_date", "end_date")})
        starts = [p.get("start_date") for p in periods]
        ends = [p.get("end_date") for p in periods]
        if all(starts):
            link["start_date"] = min(starts)
        if all(ends):
            link["end_date"] = max(ends)
    return True


def link_in_period(link: dict[str, Any], period: dict[str, Any]) -> dict[str, Any]:
    """A link stated for several periods as one of them states it: that period's dates, share or
    role, cited by its row alone, and no ``periods``."""
    out = {k: v for k, v in link.items() if k not in PERIOD_PROPERTIES and k != "periods"}
    out.update({k: v for k, v in period.items() if k != "source"})
    out["sources"] = [period["source"]]
    return out


def row_key(ref: str) -> tuple[str, str, int]:
    """'dataset:file:line' as rows sort: line 9 before line 10."""
    dataset, file, line = ref.rsplit(":", 2)
    return dataset, file, int(line) if line.isdigit() else 0


def finish_node(node: dict[str, Any], flags: dict[str, list[tuple[str, str]]]) -> dict[str, Any]:
    """A merged node as the case gives it out: its other spellings as aliases, its flags cited."""
    names = node.pop("_names", None)
    if names:
        # Every other spelling the sources used (customs clerks, other registries): searchable.
        node["aliases"] = sorted(set(names) - {node.get("name")})
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


_ROWS_PER_INSERT = 200
_INSERTS: dict[tuple[str, int, int], str] = {}


def _insert(db: sqlite3.Connection, head: str, width: int, rows: list[tuple[Any, ...]]) -> None:
    """Insert rows in order, 200 to a multi-row INSERT: ~1/3 less time a row than executemany."""
    whole = len(rows) - len(rows) % _ROWS_PER_INSERT
    if whole:
        key = (head, width, _ROWS_PER_INSERT)
        sql = _INSERTS.get(key)
        if sql is None:
            one = "(" + ", ".join("?" * width) + ")"
            sql = _INSERTS[key] = f"{head} {', '.join([one] * _ROWS_PER_INSERT)}"
        for start in range(0, whole, _ROWS_PER_INSERT):
            db.execute(sql, list(itertools.chain.from_iterable(rows[start : start + _ROWS_PER_INSERT])))
    if whole < len(rows):
        db.executemany(f"{head} ({', '.join('?' * width)})", rows[whole:])


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
        #: Statement indexes dropped for a bulk load: name → the SQL that rebuilds them.
        self._deferred: dict[str, str] = {}
        self._bulk_decided = False
        # The ids that sources replaced in this transaction stated: other sources may name them.
        db.execute("CREATE TEMP TABLE IF NOT EXISTS dropped (id TEXT PRIMARY KEY) WITHOUT ROWID")
        db.execute("DELETE FROM dropped")

    def source_path(self, *, dataset: str, file: str) -> str | None:
        """Where the source of this dataset and file name was read from, if it was ingested."""
        row = self._db.execute("SELECT path FROM source WHERE dataset = ? AND file = ?", (dataset, file)).fetchone()
        return row[0] if row is not None else None

    def start_source(
        self, *, dataset: str, file: str, kind: str, path: str, sha256: str, force: bool = False
    ) -> int | None:
        """Register a source; ``None`` when this exact content was ingested already (a no-op),
        unless ``force``d.

        A source that changed since its last ingest replaces everything that version stated. So
        does one whose rows were rejected for references the case could not answer then, when
        other sources came in since: what they define may be what those rows named.
        """
        row = self._db.execute(
            "SELECT id, sha256, case_version FROM source WHERE dataset = ? AND file = ?", (dataset, file)
        ).fetchone()
        if row is not None:
            if row[1] == sha256 and not force and not self._awaits_references(row[0], row[2]):
                return None
            self.flush()
            self._db.execute("INSERT OR IGNORE INTO dropped SELECT id FROM statement WHERE source_id = ?", (row[0],))
            for table in ("statement", "link", "flag", "reject"):
                self._db.execute(f"DELETE FROM {table} WHERE source_id = ?", (row[0],))
            self._db.execute("DELETE FROM source WHERE id = ?", (row[0],))
        # The version this transaction commits: registering a source is a change.
        case_version = int(self._db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()[0]) + 1
        cur = self._db.execute(
            "INSERT INTO source (dataset, file, kind, path, sha256, ingested_at, case_version) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (dataset, file, kind, path, sha256, _now(), case_version),
        )
        self.changed = True
        return int(cur.lastrowid)  # type: ignore[arg-type]

    def orphaned(self) -> list[SourceInfo]:
        """The sources whose links or flags name an entity that a source replaced in this
        transaction stated and no source states any more. Each such entity is told once."""
        db = self._db
        if db.execute("SELECT 1 FROM dropped LIMIT 1").fetchone() is None:
            return []  # no source was replaced: nothing to check (a fresh ingest)
        self.flush()
        self.restore_indexes("statement_id")
        db.execute("DELETE FROM dropped WHERE EXISTS (SELECT 1 FROM statement s WHERE s.id = dropped.id)")
        if db.execute("SELECT 1 FROM dropped LIMIT 1").fetchone() is None:
            return []
        rows = db.execute(
            f"SELECT {_SOURCE_COLUMNS} FROM source "
            "WHERE id IN (SELECT source_id FROM link WHERE src IN dropped OR dst IN dropped "
            "UNION SELECT source_id FROM flag WHERE entity_id IN dropped) ORDER BY id"
        ).fetchall()
        db.execute("DELETE FROM dropped")
        return [SourceInfo(*row) for row in rows]

    def _awaits_references(self, source_id: int, case_version: int) -> bool:
        """Rows of this source were rejected for an unknown or ambiguous reference, and a source
        was ingested after it (or, for a source of a case older than schema 3, it is not known)."""
        self.flush()
        return bool(
            self._db.execute(
                "SELECT EXISTS (SELECT 1 FROM reject WHERE source_id = ? "
                "AND (reason LIKE 'unknown reference%' OR reason LIKE 'ambiguous reference%')) "
                "AND (? = 0 OR EXISTS (SELECT 1 FROM source WHERE case_version > ?))",
                (source_id, case_version, case_version),
            ).fetchone()[0]
        )

    def replace_resolution(self, decisions: Iterable[Decision], aliases: dict[str, str]) -> None:
        """Put this resolution run's decisions and id map in place of the previous run's."""
        decisions = sorted(set(decisions))
        before = [
            Decision(*row)
            for row in self._db.execute(
                "SELECT a, b, verdict, rule, score, reason, a_name, b_name FROM decision "
                "ORDER BY a, b, verdict, rule, score, reason, a_name, b_name"
            )
        ]
        before_alias = dict(self._db.execute("SELECT id, canonical FROM alias"))
        if before == decisions and before_alias == aliases:
            return
        self._db.execute("DELETE FROM decision")
        self._db.execute("DELETE FROM alias")
        self._db.executemany(
            "INSERT INTO decision VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(d.a, d.b, d.verdict, d.rule, d.score, d.reason, d.a_name, d.b_name) for d in decisions],
        )
        self._db.executemany("INSERT INTO alias VALUES (?, ?)", sorted(aliases.items()))
        self.changed = True

    def judge(self, judgements: Iterable[Judgement]) -> None:
        """Record analysts' rulings; a later ruling on the same pair replaces the earlier one."""
        for j in judgements:
            left, right = sorted((j.left_ref, j.right_ref))
            cur = self._db.execute(
                "INSERT INTO judgement VALUES (?, ?, ?, ?, ?) ON CONFLICT (left_ref, right_ref) DO UPDATE SET "
                "same = excluded.same, note = excluded.note, origin = excluded.origin "
                "WHERE same IS NOT excluded.same OR note IS NOT excluded.note OR origin IS NOT excluded.origin",
                (left, right, int(j.same), j.note, j.origin),
            )
            if cur.rowcount:
                self.changed = True

    def bulk(self, expected_statements: int) -> None:
        """Before the first rows of this transaction: when more rows are coming than the case holds,
        drop the statement indexes and build each again in one sorted pass when it is next needed
        (a look-up, or the commit): for 630,000 statement rows, 4.4 s of inserts and 2.2 s of index
        builds instead of 18.3 s of inserts with the indexes kept up to date (docs/benchmarks.md).
        Decided once per transaction; the drop is part of the transaction, so a rollback or a
        crash brings the indexes back with everything else.
        """
        if self._bulk_decided:
            return
        self._bulk_decided = True
        held = self._db.execute("SELECT COALESCE(MAX(rowid), 0) FROM statement").fetchone()[0]
        if expected_statements <= held:
            return
        # The sorter that builds them may use a helper thread (a second core) for its merge passes.
        self._db.execute("PRAGMA threads = 2")
        for name, sql in self._db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'statement' AND sql IS NOT NULL"
        ).fetchall():
            if name == "statement_source":
                continue  # new rows only ever append to it (growing source id and rowid): cheap to keep
            self._db.execute(f'DROP INDEX "{name}"')
            self._deferred[name] = sql

    def restore_indexes(self, *names: str) -> None:
        """Build the deferred statement indexes again (the named ones, or all)."""
        if not self._deferred:
            return
        self.flush()
        for name in names or list(self._deferred):
            sql = self._deferred.pop(name, None)
            if sql is not None:
                self._db.execute(sql)

    def finish_source(self, source_id: int, *, read: int, kept: int, rejected: int) -> None:
        self._db.execute(
            "UPDATE source SET rows_read = ?, rows_kept = ?, rows_rejected = ? WHERE id = ?",
            (read, kept, rejected, source_id),
        )

    def statement(
        self,
        source_id: int,
        line: int,
        node_id: str,
        kind: str,
        tax_key: str | None,
        name_key: str | None,
        props: dict[str, Any],
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

    def rows(self, statements: list[tuple[Any, ...]], links: list[tuple[Any, ...]]) -> None:
        """Statement and link rows built elsewhere, in the table's column order (the bundle fast path)."""
        self._statements += statements
        self._links += links

    def flush_if_full(self) -> None:
        if len(self._statements) >= self.BATCH or len(self._links) >= self.BATCH:
            self.flush()

    def flush(self) -> None:
        db = self._db
        if self._statements:
            _insert(db, "INSERT INTO statement VALUES", 7, self._statements)
            self._statements.clear()
        if self._links:
            _insert(db, "INSERT OR IGNORE INTO link VALUES", 6, self._links)
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
        self.restore_indexes("statement_id")
        return dict(self._lookup("SELECT DISTINCT id, kind FROM statement WHERE id IN ({})", list(ids)))

    def stated(self, ids: Iterable[str]) -> set[str]:
        """Those of ``ids`` that some statement states (answered from the id index alone)."""
        self.flush()
        self.restore_indexes("statement_id")
        values = list(ids)
        found: set[str] = set()
        chunk = 30000
        for start in range(0, len(values), chunk):
            part = values[start : start + chunk]
            rows = self._db.execute(
                f"SELECT DISTINCT id FROM statement WHERE id IN ({','.join('?' * len(part))})", part
            )
            found.update(row[0] for row in rows.fetchall())
        return found

    def by_tax_key(self, keys: Iterable[str]) -> dict[str, dict[str, str]]:
        """tax key → {id: kind} of the entities stated with that tax id."""
        self.restore_indexes("statement_tax")
        return self._keyed("SELECT DISTINCT tax_key, id, kind FROM statement WHERE tax_key IN ({})", keys)

    def by_name_key(self, keys: Iterable[str]) -> dict[str, dict[str, str]]:
        """name key → {id: kind} of the entities stated with that name."""
        self.restore_indexes("statement_name")
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
