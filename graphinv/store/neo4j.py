"""The Neo4j store over Bolt: connecting with clear errors, writing a case (schema, batched MERGE), running Cypher.

One code path serves a team's Neo4j and the no-server engine (a private ArcadeDB speaking Bolt):
both are a :class:`BoltTarget`. The official ``neo4j`` driver is imported lazily. Values reach
Cypher only as parameters; labels and relationship types come from ``graphinv.model`` alone.
Passwords never appear in messages: URIs are shown without credentials and driver messages are
scrubbed before they are wrapped.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson

from graphinv.exc import GraphinvError, MissingExtraError, StoreUnavailableError
from graphinv.model import LINK_KINDS, NODE_KINDS

__all__ = [
    "NODE_INDEXES",
    "BoltTarget",
    "LinkRow",
    "Progress",
    "QueryError",
    "WriteReport",
    "connect",
    "neo4j_props",
    "plain",
    "redact_uri",
    "run_cypher",
    "schema_statements",
    "write_case",
    "write_graph",
    "write_stream",
]

#: progress(label, done, total), as the CLI's progress bars take it.
Progress = Callable[[str, int, int], None]

#: Secondary indexes (beside the uniqueness constraint on ``id`` of every label): the properties
#: playbooks look entities up by, and the ones they filter shipments on.
NODE_INDEXES: dict[str, tuple[str, ...]] = {
    "Company": ("name", "tax_id", "bundle_id"),
    "Person": ("name", "tax_id", "bundle_id"),
    "Address": ("normalized",),
    "Account": ("bundle_id",),
    "Shipment": ("chemical", "date", "bundle_id"),
}

# Read as "the server is not there" rather than "the server said no".
_DOWN_HINT = "is the server running, and is the URI right (bolt://HOST:7687 or neo4j://HOST:7687)?"


class QueryError(GraphinvError):
    """The server refused a Cypher statement (a syntax error, a type error, a constraint)."""


@dataclass(frozen=True)
class BoltTarget:
    """Where Cypher runs: a Bolt URI, credentials and the database (always passed explicitly)."""

    uri: str
    user: str
    password: str = field(repr=False)
    database: str | None = None
    #: How messages name it ("Neo4j at bolt://host:7687", "the no-server engine").
    title: str = ""

    @property
    def name(self) -> str:
        return self.title or f"Neo4j at {redact_uri(self.uri)}"

    @property
    def where(self) -> str:
        return f"{self.name}, database {self.database!r}" if self.database else self.name


@dataclass(frozen=True)
class WriteReport:
    """What a push wrote: rows sent, entities created (0 on a second push of the same case), time."""

    target: str
    database: str | None
    nodes: int
    links: int
    nodes_created: int
    links_created: int
    skipped_links: int
    seconds: float
    constraints: tuple[str, ...] = ()
    #: Seconds per step: ("schema", s), ("nodes", s), ("links", s), ("indexes", s).
    phases: tuple[tuple[str, float], ...] = ()

    @property
    def rows_per_second(self) -> float:
        return (self.nodes + self.links) / self.seconds if self.seconds > 0 else float("inf")


def redact_uri(uri: str) -> str:
    """The URI as it may be printed: no user name or password, no query string."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "<unparseable URI>"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _driver_module() -> Any:
    try:
        import neo4j
    except ImportError as exc:  # pragma: no cover - neo4j is a core dependency today
        raise MissingExtraError("The neo4j driver is not installed: pip install 'neo4j>=5.20'") from exc
    return neo4j


def _scrub(text: str, target: BoltTarget) -> str:
    if target.password:
        text = text.replace(target.password, "***")
    return text.replace(target.uri, redact_uri(target.uri))


def _wrap(exc: Exception, target: BoltTarget) -> GraphinvError:
    """A driver error as a message that says what failed and what to do, with no secret in it."""
    neo4j = _driver_module()
    errors = neo4j.exceptions
    detail = _scrub(str(getattr(exc, "message", None) or exc), target)
    code = str(getattr(exc, "code", "") or "")
    if isinstance(exc, errors.AuthError) or "Security.Unauthorized" in code:
        return StoreUnavailableError(
            f"{target.name} refused the credentials of user {target.user!r}: check GRAPHINV_NEO4J_USER and "
            "GRAPHINV_NEO4J_PASSWORD (the password is not shown)"
        )
    if "DatabaseNotFound" in code or ("database" in detail.lower() and "not" in detail.lower() and "exist" in detail.lower()):
        return StoreUnavailableError(
            f"{target.name} has no database {target.database!r}: create it first "
            f"(CREATE DATABASE {target.database}) or pass an existing one with --database ({detail})"
        )
    if isinstance(exc, (errors.ServiceUnavailable, errors.SessionExpired, OSError)):
        return StoreUnavailableError(f"Cannot reach {target.name}: {_DOWN_HINT} ({detail})")
    if isinstance(exc, errors.ConfigurationError) or isinstance(exc, ValueError):
        return StoreUnavailableError(f"Cannot use {target.name}: {detail}")
    if isinstance(exc, errors.Neo4jError):
        return QueryError(f"{target.where} refused the query: {detail}" + (f" [{code}]" if code else ""))
    return StoreUnavailableError(f"{target.where} failed: {type(exc).__name__}: {detail}")


@contextlib.contextmanager
def connect(target: BoltTarget) -> Iterator[Any]:
    """An open driver whose server answered; errors are wrapped (no secret in them)."""
    neo4j = _driver_module()
    if "@" in (urlsplit(target.uri).netloc or ""):
        raise StoreUnavailableError(
            f"Give the Neo4j URI without credentials ({redact_uri(target.uri)}): they come from "
            "GRAPHINV_NEO4J_USER and GRAPHINV_NEO4J_PASSWORD"
        )
    try:
        driver = neo4j.GraphDatabase.driver(
            target.uri, auth=(target.user, target.password), connection_timeout=10.0,
            max_transaction_retry_time=15.0, notifications_min_severity="OFF",
        )
    except Exception as exc:  # noqa: BLE001 - every driver error is wrapped the same way
        raise _wrap(exc, target) from None
    try:
        try:
            driver.verify_connectivity()
        except Exception as exc:  # noqa: BLE001
            raise _wrap(exc, target) from None
        yield driver
    finally:
        driver.close()


def run_cypher(
    driver: Any, target: BoltTarget, query: str, parameters: dict[str, Any] | None = None, *, write: bool = False
) -> tuple[list[str], list[dict[str, Any]], Any]:
    """Run one statement: (column names, rows as plain Python values, the result summary)."""
    neo4j = _driver_module()
    routing = neo4j.RoutingControl.WRITE if write else neo4j.RoutingControl.READ
    try:
        records, summary, keys = driver.execute_query(
            query, parameters or {}, database_=target.database, routing_=routing
        )
    except Exception as exc:  # noqa: BLE001
        raise _wrap(exc, target) from None
    rows = [{key: plain(record[key]) for key in keys} for record in records]
    return list(keys), rows, summary


def plain(value: Any) -> Any:
    """A value from the driver as plain Python: dates as ISO strings, nodes and paths as maps."""
    neo4j = _driver_module()
    graph = neo4j.graph
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, graph.Node):
        return {k: plain(v) for k, v in dict(value).items()}
    if isinstance(value, graph.Relationship):
        return {
            "rel": value.type,
            "source": value.start_node.get("id") if value.start_node is not None else None,
            "target": value.end_node.get("id") if value.end_node is not None else None,
            **{k: plain(v) for k, v in dict(value).items()},
        }
    if isinstance(value, graph.Path):
        return {"nodes": [plain(n) for n in value.nodes], "links": [plain(r) for r in value.relationships]}
    iso = getattr(value, "iso_format", None)
    if callable(iso):
        return iso()
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    return str(value)


# -- writing a case ---------------------------------------------------------------------------------


def schema_statements() -> list[tuple[str, str]]:
    """(name, Cypher) of every constraint and index a pushed case has, in Neo4j 5 syntax."""
    out = []
    for label in NODE_KINDS:
        name = f"graphinv_{label.lower()}_id"
        out.append((name, f"CREATE CONSTRAINT {name} IF NOT EXISTS FOR (n:{label}) REQUIRE n.id IS UNIQUE"))
    for label, props in NODE_INDEXES.items():
        for prop in props:
            name = f"graphinv_{label.lower()}_{prop}"
            out.append((name, f"CREATE INDEX {name} IF NOT EXISTS FOR (n:{label}) ON (n.{prop})"))
    return out


def _scalar(value: Any) -> Any:
    if isinstance(value, bool) or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**63 else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return None


def _value(value: Any) -> Any:
    """A property value Neo4j can store (None: leave the property out)."""
    if value is None:
        return None
    scalar = _scalar(value)
    if scalar is not None or isinstance(value, (bool, int, float, str)):
        return scalar
    if isinstance(value, (list, tuple)):
        items = [v for v in value if v is not None]
        if all(isinstance(v, str) for v in items):
            return list(items)
        if all(isinstance(v, bool) for v in items):
            return list(items)
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items):
            if any(isinstance(v, float) for v in items):
                return [float(v) for v in items]
            return [int(v) for v in items]
        # Neo4j lists hold one type: a mixed list keeps every item, as text.
        return [v if isinstance(v, str) else orjson.dumps(v).decode() for v in items]
    # Nested maps cannot be properties: kept whole, as JSON text.
    return orjson.dumps(value, default=str).decode()


def neo4j_props(record: dict[str, Any], skip: Iterable[str] = ()) -> dict[str, Any]:
    """A node's or link's properties as Neo4j stores them: nulls dropped, maps as JSON text."""
    skipped = set(skip)
    out = {}
    for key, value in record.items():
        if key in skipped:
            continue
        # Text, booleans and lists of text, most values, need none of _value's checks (a push or
        # an export calls this once per property of millions of rows).
        kind = type(value)
        if kind is str or kind is bool:
            stored = value
        elif kind is list and all(type(v) is str for v in value):
            stored = value[:]
        else:
            stored = _value(value)
        if stored is not None:
            out[key] = stored
    return out


_LINK_SKIP = ("rel", "source", "target")

#: A link to write with the labels of its two ends (None: that end is not in the graph).
LinkRow = tuple[str | None, str | None, dict[str, Any]]


def write_graph(
    target: BoltTarget,
    nodes: Iterable[dict[str, Any]],
    links: Iterable[dict[str, Any]],
    *,
    batch: int = 5000,
    progress: Progress | None = None,
) -> WriteReport:
    """Create the constraints and indexes, then MERGE every node and link in ``UNWIND $rows`` batches.

    Idempotent: each node is matched on its label and ``id``, each link on its type and its two
    ends, and its properties are set to the case's (so a second push of the same case creates
    nothing and changes no value). Links whose end is missing are skipped and counted.
    For a whole case, :func:`write_stream` does the same in bounded memory.
    """
    nodes = list(nodes)
    kinds: dict[str, str] = {}
    for node in nodes:
        label = node.get("kind")
        if label not in NODE_KINDS:
            raise GraphinvError(f"Node {node.get('id')!r} has kind {label!r}, not one of {', '.join(NODE_KINDS)}")
        kinds[node["id"]] = label
    links = list(links)
    unique = len(kinds) == len(nodes) and len({(l.get("rel"), l.get("source"), l.get("target")) for l in links}) == len(links)
    return write_stream(
        target,
        [nodes],
        [[(kinds.get(l["source"]), kinds.get(l["target"]), l) for l in links]],
        batch=batch,
        progress=progress,
        totals=(len(nodes), len(links)),
        unique=unique,
    )


class _Batches:
    """Rows grouped by their Cypher statement, handed out ``size`` at a time."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.pending: dict[Any, list[dict[str, Any]]] = {}

    def add(self, key: Any, row: dict[str, Any]) -> list[dict[str, Any]] | None:
        rows = self.pending.setdefault(key, [])
        rows.append(row)
        if len(rows) >= self.size:
            del self.pending[key]
            return rows
        return None

    def rest(self) -> Iterator[tuple[Any, list[dict[str, Any]]]]:
        for key in sorted(self.pending):
            yield key, self.pending[key]
        self.pending = {}


def _node_batches(chunks: Iterable[list[dict[str, Any]]], size: int) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    batches = _Batches(size)
    for chunk in chunks:
        for node in chunk:
            label = node.get("kind")
            if label not in NODE_KINDS:
                raise GraphinvError(f"Node {node.get('id')!r} has kind {label!r}, not one of {', '.join(NODE_KINDS)}")
            full = batches.add(label, neo4j_props(node))
            if full:
                yield label, full
    yield from batches.rest()


def _link_batches(chunks: Iterable[list[LinkRow]], size: int, counts: list[int]) -> Iterator[tuple[tuple[str, str, str], list[dict[str, Any]]]]:
    batches = _Batches(size)
    for chunk in chunks:
        for source_label, target_label, link in chunk:
            rel = link.get("rel")
            if rel not in LINK_KINDS:
                raise GraphinvError(f"Link {link.get('source')!r} -> {link.get('target')!r} has type {rel!r}, not one of {', '.join(LINK_KINDS)}")
            if source_label is None or target_label is None:
                counts[0] += 1
                continue
            counts[1] += 1
            full = batches.add((rel, source_label, target_label), {"s": link["source"], "t": link["target"], "p": neo4j_props(link, _LINK_SKIP)})
            if full:
                yield (rel, source_label, target_label), full
    yield from batches.rest()


def _ahead(items: Iterator[Any], depth: int = 2) -> Iterator[Any]:
    """``items`` produced by a thread of its own, up to ``depth`` ahead of the consumer: reading the
    case and preparing the next batch overlap with the server's work on the current one."""
    import queue
    import threading

    box: queue.Queue[Any] = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        box.put((None, item), timeout=0.5)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            box.put((None, done))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the consumer
            box.put((exc, None))

    thread = threading.Thread(target=produce, name="graphinv-push-reader", daemon=True)
    thread.start()
    try:
        while True:
            error, item = box.get()
            if error is not None:
                raise error
            if item is done:
                return
            yield item
    finally:
        stop.set()
        thread.join(timeout=30)


def write_case(target: BoltTarget, stream: Any, *, batch: int = 5000, progress: Progress | None = None) -> WriteReport:
    """Write a whole case from a :class:`graphinv.store.stream.CaseStream`, in bounded memory."""
    return write_stream(
        target,
        stream.nodes(batch),
        stream.links(batch),
        batch=batch,
        progress=progress,
        totals=(stream.node_count, stream.link_count()),
        unique=True,
    )


def _is_empty(driver: Any, target: BoltTarget, pattern: str) -> bool:
    _, rows, _ = run_cypher(driver, target, f"MATCH {pattern} RETURN 1 AS found LIMIT 1")
    return not rows


def write_stream(
    target: BoltTarget,
    nodes: Iterable[list[dict[str, Any]]],
    links: Iterable[list[LinkRow]],
    *,
    batch: int = 5000,
    progress: Progress | None = None,
    totals: tuple[int, int] | None = None,
    unique: bool = False,
    index_after: bool = True,
) -> WriteReport:
    """Write a graph given as chunks of nodes and chunks of (source label, target label, link):
    the uniqueness constraints, every node, every link, then the secondary indexes.

    Idempotent as :func:`write_graph`. With ``unique`` (the caller guarantees each node id and each
    (type, source, target) occurs once), a label or relationship type that has nothing in the
    database when the push starts is written with CREATE instead of MERGE: the same result, since
    there is nothing to match, without a look-up per row. Reading the next rows runs in a thread
    of its own while the server works. ``totals`` (nodes, links) are only for ``progress``.
    """
    if batch < 1:
        raise GraphinvError(f"batch must be at least 1, got {batch!r}")
    started = time.perf_counter()
    total_nodes, total_links = totals or (0, 0)
    created_nodes = created_links = written_nodes = written_links = unmatched = 0
    counts = [0, 0]  # links skipped for a missing end, links sent
    constraints = []
    statements = schema_statements()
    first = [s for s in statements if "CONSTRAINT" in s[1]]
    # Secondary indexes are built once over the loaded data rather than kept up to date row by row.
    later = [s for s in statements if "CONSTRAINT" not in s[1]]
    if not index_after:
        first, later = statements, []
    phases: list[tuple[str, float]] = []
    mark = time.perf_counter()

    def phase(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        phases.append((name, round(now - mark, 2)))
        mark = now

    with connect(target) as driver:
        for name, statement in first:
            run_cypher(driver, target, statement, write=True)
            constraints.append(name)
        fresh_labels = {label for label in NODE_KINDS if unique and _is_empty(driver, target, f"(n:{label})")}
        fresh_rels = {rel for rel in LINK_KINDS if unique and _is_empty(driver, target, f"()-[r:{rel}]->()")}
        phase("schema")
        for label, rows in _ahead(_node_batches(nodes, batch)):
            if label in fresh_labels:
                query = f"UNWIND $rows AS row CREATE (n:{label}) SET n = row"
            else:
                query = f"UNWIND $rows AS row MERGE (n:{label} {{id: row.id}}) SET n = row"
            _, _, summary = run_cypher(driver, target, query, {"rows": rows}, write=True)
            created_nodes += summary.counters.nodes_created
            written_nodes += len(rows)
            if progress:
                progress("nodes", written_nodes, max(total_nodes, written_nodes))
        phase("nodes")
        for (rel, source_label, target_label), rows in _ahead(_link_batches(links, batch, counts)):
            make = "CREATE" if rel in fresh_rels else "MERGE"
            query = (
                f"UNWIND $rows AS row MATCH (a:{source_label} {{id: row.s}}) "
                f"MATCH (b:{target_label} {{id: row.t}}) "
                f"{make} (a)-[r:{rel}]->(b) SET r = row.p RETURN count(r) AS written"
            )
            _, result, summary = run_cypher(driver, target, query, {"rows": rows}, write=True)
            created_links += summary.counters.relationships_created
            written = int(result[0]["written"]) if result else 0
            unmatched += len(rows) - written
            written_links += written
            if progress:
                progress("links", written_links + unmatched + counts[0], max(total_links, written_links + unmatched + counts[0]))
        phase("links")
        for name, statement in later:
            run_cypher(driver, target, statement, write=True)
            constraints.append(name)
        phase("indexes")
    if progress:
        progress("nodes", written_nodes, written_nodes)
        progress("links", written_links + unmatched + counts[0], written_links + unmatched + counts[0])
    return WriteReport(
        target=target.name,
        database=target.database,
        nodes=written_nodes,
        links=counts[1],
        nodes_created=created_nodes,
        links_created=created_links,
        skipped_links=counts[0] + unmatched,
        seconds=time.perf_counter() - started,
        constraints=tuple(constraints),
        phases=tuple(phases),
    )
