"""The case's resolved nodes and links read in bounded memory, for loads too large for ``CaseFile.nodes()``.

``CaseFile.nodes()`` and ``links()`` build every merged node and link in memory: ≈ 15 GB of Python
objects for a 1M-company case. A push to Neo4j, the engine's load and the neo4j-admin export only
need them one batch at a time. :class:`CaseStream` reads the same rows, merged the same way
(``casefile.merge_statement``, ``merge_group`` and ``finish_node``, so the two cannot drift), walking the statements in id
order and letting SQLite sort the links on disk. The whole-graph facts a row needs (each link end's
kind, each node's ``party_degree``) are computed once into temporary tables of a private read-only
connection, never into Python dicts, so memory stays flat however large the case is.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

from graphinv.store.casefile import CaseFile, finish_node, merge_group, merge_statement

__all__ = ["PARTY_KINDS", "CaseStream"]

#: The kinds ``party_degree`` counts: firms and persons.
PARTY_KINDS = ("Company", "Person")

# Temporary tables (in this connection's temp database, never in the case file):
#   gi_kind(id, kind)     every resolved node id and its kind (that of its own earliest statement,
#                         or of its merged records' if it has none: merge_group's)
#   gi_end(s, d, ...)     every resolved link's ends with their kinds, uncertain matches left out
#   gi_degree(id, n)      party_degree of every node that has one
_PREPARE = """
CREATE TEMP TABLE gi_alias (id TEXT PRIMARY KEY, canonical TEXT NOT NULL) WITHOUT ROWID;
INSERT INTO gi_alias SELECT id, canonical FROM main.alias WHERE id != canonical;
CREATE TEMP TABLE gi_kind (id TEXT PRIMARY KEY, kind TEXT NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO gi_kind
    SELECT s.id, s.kind FROM main.statement s WHERE s.id NOT IN (SELECT id FROM gi_alias) ORDER BY s.rowid;
INSERT OR IGNORE INTO gi_kind
    SELECT a.canonical, s.kind FROM main.statement s JOIN gi_alias a ON a.id = s.id ORDER BY s.rowid;
CREATE TEMP TABLE gi_end AS
    SELECT e.s AS s, ks.kind AS sk, e.d AS d, kd.kind AS dk
    FROM (SELECT COALESCE(a.canonical, l.src) AS s, COALESCE(b.canonical, l.dst) AS d, l.src AS src, l.dst AS dst
          FROM main.link l LEFT JOIN gi_alias a ON a.id = l.src LEFT JOIN gi_alias b ON b.id = l.dst
          WHERE l.rel != 'POSSIBLY_SAME_AS') e
    JOIN gi_kind ks ON ks.id = e.s JOIN gi_kind kd ON kd.id = e.d
    WHERE NOT (e.s = e.d AND e.src != e.dst);
CREATE TEMP TABLE gi_party (x TEXT NOT NULL, y TEXT NOT NULL);
INSERT INTO gi_party SELECT d, s FROM gi_end WHERE dk = 'Shipment' AND sk IN ('Company', 'Person');
INSERT INTO gi_party SELECT s, d FROM gi_end WHERE sk = 'Shipment' AND dk IN ('Company', 'Person');
CREATE INDEX temp.gi_party_x ON gi_party (x);
CREATE TEMP TABLE gi_degree (id TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO gi_degree
    SELECT x, COUNT(DISTINCT y) FROM (
        SELECT s AS x, d AS y FROM gi_end WHERE dk IN ('Company', 'Person')
        UNION ALL SELECT d AS x, s AS y FROM gi_end WHERE sk IN ('Company', 'Person')
        UNION ALL SELECT p.y AS x, q.y AS y FROM gi_party p JOIN gi_party q ON q.x = p.x AND q.y != p.y
    ) GROUP BY x;
DROP TABLE gi_end;
DROP TABLE gi_party;
"""


class CaseStream:
    """The case's resolved graph as chunks of rows, equal to ``CaseFile.nodes()`` and ``links()``
    (plus ``party_degree`` on every node), in bounded memory. Iterate ``nodes()`` and ``links()``
    as often as needed; ``close()`` (or ``with``) drops the temporary tables.

    Every node id occurs once in ``nodes()`` and every (type, source, target) once in ``links()``:
    a writer may rely on that.
    """

    def __init__(self, case: CaseFile, *, finish: Callable[[dict[str, Any]], None] | None = None) -> None:
        #: Called on every node before it is handed out (graphinv.playbooks derives properties with it).
        self.finish = finish
        self.case = case
        path = case.path.resolve()
        self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA cache_size = -65536")
        # Sorts and temporary tables spill to disk rather than grow in memory.
        self._db.execute("PRAGMA temp_store = FILE")
        self._prefixes = {s.id: s.prefix for s in case.sources()}
        self._alias = case.aliases()
        self._flags = case._flags(self._prefixes, self._alias)
        self._db.executescript(_PREPARE)
        self.node_count = int(self._db.execute("SELECT COUNT(*) FROM gi_kind").fetchone()[0])

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> CaseStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def link_count(self) -> int:
        """An upper bound of ``links()``'s length (each stored link statement once), for progress."""
        stored = int(self._db.execute("SELECT COUNT(*) FROM main.link").fetchone()[0])
        possible = int(self._db.execute("SELECT COUNT(*) FROM main.decision WHERE verdict = 'possible'").fetchone()[0])
        return stored + possible

    def kinds(self, ids: list[str]) -> dict[str, str]:
        return self._by_id("SELECT id, kind FROM gi_kind", ids)

    def _degrees(self, ids: list[str]) -> dict[str, int]:
        return self._by_id("SELECT id, n FROM gi_degree", ids)

    def _by_id(self, select: str, ids: list[str]) -> dict[str, Any]:
        """``select``'s (id, value) rows for these ids, 900 ids a query (SQLite's variable limit)."""
        out: dict[str, Any] = {}
        for start in range(0, len(ids), 900):
            part = ids[start : start + 900]
            out.update(self._db.execute(f"{select} WHERE id IN ({','.join('?' * len(part))})", part))
        return out

    def nodes(self, chunk: int = 5000) -> Iterator[list[dict[str, Any]]]:
        """Every node, as ``CaseFile.nodes()`` gives it plus ``party_degree``, in chunks, by id
        (a merged group comes where its canonical id's own statements are, or at the end)."""
        prefixes, alias, flags = self._prefixes, self._alias, self._flags
        groups: dict[str, list[str]] = {}
        for member, canonical in alias.items():
            if member != canonical:
                groups.setdefault(canonical, []).append(member)
        pending = set(groups)
        out: list[dict[str, Any]] = []
        current: dict[str, dict[str, Any]] = {}
        last: str | None = None

        def flush() -> Iterator[list[dict[str, Any]]]:
            nonlocal out
            if out:
                degrees = self._degrees([n["id"] for n in out])
                for node in out:
                    node["party_degree"] = degrees.get(node["id"], 0)
                    if self.finish is not None:
                        self.finish(node)
                yield out
                out = []

        rows = self._db.execute("SELECT id, kind, source_id, line, props FROM main.statement ORDER BY id, rowid")
        skip = False
        for node_id, kind, source_id, line, props in rows:
            if node_id != last:
                if current:
                    out.append(finish_node(current.popitem()[1], flags))
                    if len(out) >= chunk:
                        yield from flush()
                last = node_id
                # A merged id is read with its group, whose canonical id reads them all at once.
                skip = alias.get(node_id, node_id) != node_id
                if node_id in pending:
                    pending.discard(node_id)
                    out.append(self._group(node_id, groups[node_id]))
                    skip = True
            if not skip:
                merge_statement(current, node_id, {"id": node_id, "kind": kind}, f"{prefixes[source_id]}:{line}", props)
        if current:
            out.append(finish_node(current.popitem()[1], flags))
        for canonical in sorted(pending):  # a canonical id with no statement of its own
            out.append(self._group(canonical, groups[canonical]))
        yield from flush()

    def _group(self, canonical: str, members: list[str]) -> dict[str, Any]:
        """The node that resolution merged from several ids, as ``CaseFile.nodes()`` merges it."""
        ids = [canonical, *members]
        query = f"SELECT id, kind, source_id, line, props FROM main.statement WHERE id IN ({','.join('?' * len(ids))}) ORDER BY rowid"
        statements = [
            (node_id, kind, f"{self._prefixes[source_id]}:{line}", props)
            for node_id, kind, source_id, line, props in self._db.execute(query, ids)
        ]
        return finish_node(merge_group(canonical, statements), self._flags)

    def links(self, chunk: int = 5000) -> Iterator[list[tuple[str | None, str | None, dict[str, Any]]]]:
        """Every link as ``CaseFile.links()`` gives it, in chunks of (source kind, target kind, link);
        a kind is None when that end is not a node of the case."""
        prefixes = self._prefixes
        rows = self._db.execute(
            "SELECT l.rel, COALESCE(a.canonical, l.src) AS s, COALESCE(b.canonical, l.dst) AS d, l.src, l.dst, "
            "l.source_id, l.line, l.props FROM main.link l "
            "LEFT JOIN gi_alias a ON a.id = l.src LEFT JOIN gi_alias b ON b.id = l.dst "
            "ORDER BY l.rel, s, d, l.source_id, l.line, l.src, l.dst"
        )
        out: list[dict[str, Any]] = []
        current: dict[tuple[str, str, str], dict[str, Any]] = {}
        last: tuple[str, str, str] | None = None
        seen_possible: set[tuple[str, str, str]] = set()
        for rel, source, target, src, dst, source_id, line, props in rows:
            if source == target and src != dst:
                continue  # both ends were found to be one entity: the link says nothing more
            key = (rel, source, target)
            if key != last:
                if current:
                    out.append(current.popitem()[1])
                    if len(out) >= chunk:
                        yield self._with_kinds(out)
                        out = []
                last = key
                if rel == "POSSIBLY_SAME_AS":
                    seen_possible.add(key)
            merge_statement(current, key, {"rel": rel, "source": source, "target": target}, f"{prefixes[source_id]}:{line}", props)
        if current:
            out.append(current.popitem()[1])
        if self._alias or self._has_decisions():
            possible: dict[tuple[str, str, str], dict[str, Any]] = {}
            # Read here rather than with CaseFile.decisions(): this may run in a writer's reading thread.
            decisions = self._db.execute("SELECT a, b, verdict, rule, score, reason FROM main.decision ORDER BY a, b")
            for da, db, verdict, rule, score, reason in decisions:
                a, b = sorted((self._alias.get(da, da), self._alias.get(db, db)))
                key = ("POSSIBLY_SAME_AS", a, b)
                if verdict != "possible" or a == b or key in seen_possible or key in possible:
                    continue
                possible[key] = {
                    "rel": "POSSIBLY_SAME_AS", "source": a, "target": b,
                    "sources": [f"graphinv:resolve:{rule}"], "score": score, "reason": reason,
                }
            for key in sorted(possible):
                out.append(possible[key])
                if len(out) >= chunk:
                    yield self._with_kinds(out)
                    out = []
        if out:
            yield self._with_kinds(out)

    def _has_decisions(self) -> bool:
        return self._db.execute("SELECT 1 FROM main.decision LIMIT 1").fetchone() is not None

    def _with_kinds(self, links: list[dict[str, Any]]) -> list[tuple[str | None, str | None, dict[str, Any]]]:
        kinds = self.kinds(list({end for l in links for end in (l["source"], l["target"])}))
        return [(kinds.get(l["source"]), kinds.get(l["target"]), l) for l in links]
