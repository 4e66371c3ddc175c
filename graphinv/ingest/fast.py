"""The bundle fast path: canonical CSV rows straight to case-file rows, without a model per row.

The per-row path (``bundle.map_*`` → pydantic model → ``model_dump``) is the definition of what a
bundle row means; this module is a faster way to compute the same result for rows whose values
are plainly valid. A *kernel* per bundle file turns a well-formed row into the exact statement
and link rows the per-row path would write (same ids, same property order, same JSON bytes) using
cheap checks (digits, ISO dates, a non-empty id and name). Every row that fails one of those
checks, or that a kernel does not handle, goes through the per-row path unchanged, in its place
in the file, so each rejection keeps its ``file:line: column: reason`` word for word. A kernel
is pure (no case access): references are resolved per batch against the case, as before.

``tests/test_ingest_fast.py`` ingests the fixture case and bundles with every kind of bad row
both ways and compares the case files row by row.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import signal
import warnings
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import orjson

from graphinv.exc import RecordError, SourceError
from graphinv.ingest.core import Adapter, Context, map_row, tax_keys
from graphinv.ingest.csvfile import CsvBatches, Row
from graphinv.model import (
    MAX_EMPLOYEES,
    RESERVED_PROPERTIES,
    Account,
    Address,
    Company,
    Exported,
    Family,
    HasAddress,
    Holds,
    Imported,
    OfficerOf,
    Owns,
    Person,
    Shipment,
    address_key,
    check_date,
    name_key,
    tax_key,
)
from graphinv.perf import worker_count
from graphinv.resolve.chemicals import canonical_chemical
from graphinv.store.casefile import Writer

__all__ = ["KERNELS", "WORKER_MIN_BYTES", "run"]


def _dumps(value: dict[str, Any]) -> bytes:
    # orjson's result keeps a 4 KB buffer; an exact copy frees it at once. Thousands of rows in
    # flight then cost a tenth of the memory, and the whole step half the time (measured).
    return bytes(memoryview(orjson.dumps(value)))


_EMPTY = b"{}"
_BATCH = 2000


class _Bad(Exception):
    """A value the cheap checks cannot vouch for: the row takes the per-row path."""


class _Cache(dict):  # type: ignore[type-arg]
    """A memo that forgets everything when full, so memory stays flat in file size."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def put(self, key: Any, value: Any) -> Any:
        if len(self) >= self.limit:
            self.clear()
        self[key] = value
        return value


_DATES = _Cache(200_000)


def _date(value: str) -> str:
    ok = _DATES.get(value)
    if ok is None:
        try:
            check_date(value)
            ok = True
        except ValueError:
            ok = False
        _DATES.put(value, ok)
    if not ok:
        raise _Bad
    return value


def _count(value: str) -> int:
    # Only plain digits: pydantic also reads '+5', '1_000', '5.0' and ' 5', which take the per-row path.
    if value.isascii() and value.isdigit() and len(value) <= 18:
        number = int(value)
        if number <= MAX_EMPLOYEES:
            return number
    raise _Bad


def _decimal(value: str) -> float:
    # Plain decimals parse to the same float in Python and in pydantic (both round correctly).
    if len(value) <= 24 and value.isascii():
        head, _, tail = value.partition(".")
        if head.isdigit() and (not tail or tail.isdigit()):
            return float(value)
    raise _Bad


def _percent(value: str) -> float:
    number = _decimal(value)
    if number > 100:
        raise _Bad
    return number


class _Ids:
    """``Kind.make_id(dataset, value)`` with the constant prefix hashed once, memoised."""

    def __init__(self, prefix: str, label: str, dataset: str | None) -> None:
        # make_id hashes the keys joined by \x1f: the same bytes as the prefix, then the value.
        head = label if dataset is None else f"{label}\x1f{dataset}"
        self._base = hashlib.blake2b(f"{head}\x1f".encode(), digest_size=8)
        self._prefix = prefix + "-"
        self._memo = _Cache(100_000)

    def new(self, value: str) -> str:
        """The id of a value not seen before (a row's own id): no memo."""
        digest = self._base.copy()
        digest.update(value.encode("utf-8"))
        return self._prefix + digest.hexdigest()

    def __call__(self, value: str) -> str:
        found = self._memo.get(value)
        if found is None:
            digest = self._base.copy()
            digest.update(value.encode("utf-8"))
            found = self._memo.put(value, self._prefix + digest.hexdigest())
        return found


# -- kernels ---------------------------------------------------------------------------------------

Field = tuple[int, str, Callable[[str], Any] | None]


class _Kernel:
    """One bundle file's header, resolved once: where each property comes from, in dump order."""

    #: Reference columns in the order the per-row mapper resolves them: (column, kinds).
    refs: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: Names the mapper passes itself, which an extra column must not take.
    own: frozenset[str] = frozenset()

    def __init__(self, columns: list[str], source: tuple[int, str], known: tuple[str, ...], model: Any, fields: list[tuple[str, Callable[[str], Any] | None]]) -> None:
        index = {c: i for i, c in enumerate(columns)}
        self.source_id, self.dataset = source
        self.index = index
        self.fields: list[Field] = [(index[name], name, conv) for name, conv in fields if name in index]
        extras: list[tuple[int, str]] = []
        for i, column in enumerate(columns):
            if column in known:
                continue
            key = f"raw_{column}" if column in RESERVED_PROPERTIES or column in model.model_fields else column
            extras.append((i, key))
        keys = [k for _, k in extras]
        self.ok = len(set(keys)) == len(keys) and not (set(keys) & self.own)
        self.extras = extras

    def col(self, name: str) -> int | None:
        return self.index.get(name)

    def prepare(self, line: int, fields: list[str]) -> tuple[Any, ...] | None:
        """The row as a prepared row (see below), or None when it needs the per-row path."""
        raise NotImplementedError

    def props(self, fields: list[str], props: dict[str, Any]) -> dict[str, Any]:
        for i, key, conv in self.fields:
            value = fields[i].strip()
            if value:
                props[key] = value if conv is None else conv(value)
        return props

    def identified(self, fields: list[str]) -> tuple[str, dict[str, Any]] | None:
        """The row's bundle id and its plainly valid properties, or None for the per-row path."""
        local = _cell(fields, self.i_id)
        if not local:
            return None
        try:
            return local, self.props(fields, {})
        except _Bad:
            return None

    def add_extras(self, fields: list[str], props: dict[str, Any]) -> None:
        for i, key in self.extras:
            value = fields[i].strip()
            if value:
                props[key] = value


def _cell(fields: list[str], i: int | None) -> str:
    return fields[i].strip() if i is not None else ""


# A prepared row is a tuple tagged by its first item: ("s", statements, links) for a row that
# needs no reference; ("L", ...) for a link and ("A", ...) for an account with a holder, which
# carry the candidate ids of each reference (one per kind the column may name); ("c", ...) for a
# shipment, whose importer depends on the registry; ("x", line, fields) for a row the per-row
# path must map; ("e", line, fields, column, reason) for a malformed row. Statement and link rows
# are already the case file's table rows.


class _Addresses:
    def __init__(self) -> None:
        self._memo = _Cache(50_000)
        self._ids = _Ids(Address.id_prefix, Address.label, None)  # Address.make_id(key)

    def __call__(self, text: str) -> tuple[str, bytes]:
        found = self._memo.get(text)
        if found is None:
            key = address_key(text)
            found = self._memo.put(text, (self._ids.new(key), _dumps({"name": text, "text": text, "normalized": key})))
        return found


class _Registry(_Kernel):
    """companies.csv and persons.csv: the entity, and its address with the HAS_ADDRESS link."""

    own = frozenset({"bundle_id"})

    def __init__(self, columns: list[str], source: tuple[int, str], model: Any, known: tuple[str, ...], fields: list[tuple[str, Callable[[str], Any] | None]]) -> None:
        super().__init__(columns, source, known, model, fields)
        self.kind = model.label
        self.ids = _Ids(model.id_prefix, model.label, self.dataset)
        self.i_id: int = self.index["id"]  # a required column
        self.i_address = self.col("address")
        self.addresses = _Addresses()

    def prepare(self, line: int, fields: list[str]) -> tuple[Any, ...] | None:
        local = fields[self.i_id].strip()
        if not local:
            return None
        props: dict[str, Any] = {}
        try:
            for i, key, conv in self.fields:
                value = fields[i].strip()
                if value:
                    props[key] = value if conv is None else conv(value)
        except _Bad:
            return None
        name = props.get("name")
        if name is None:
            return None
        props["bundle_id"] = local
        if self.extras:
            self.add_extras(fields, props)
        node_id = self.ids.new(local)
        tax = props.get("tax_id")
        source_id = self.source_id
        statements: list[tuple[Any, ...]] = [
            (source_id, line, node_id, self.kind, tax_key(tax) if tax else None, name_key(name), _dumps(props))
        ]
        text = fields[self.i_address].strip() if self.i_address is not None else ""
        if not text:
            return ("s", statements, ())
        address_id, address = self.addresses(text)
        statements.append((source_id, line, address_id, Address.label, None, None, address))
        return ("s", statements, [(source_id, line, HasAddress.rel, node_id, address_id, _EMPTY)])


def _companies(columns: list[str], source: tuple[int, str]) -> _Kernel:
    from graphinv.ingest.bundle import BUNDLE_COLUMNS

    return _Registry(columns, source, Company, BUNDLE_COLUMNS["companies"], [
        ("name", None), ("tax_id", None), ("registration_number", None), ("jurisdiction", None),
        ("incorporation_date", _date), ("status", None), ("employees", _count), ("industry", None),
    ])


def _persons(columns: list[str], source: tuple[int, str]) -> _Kernel:
    from graphinv.ingest.bundle import BUNDLE_COLUMNS

    return _Registry(columns, source, Person, BUNDLE_COLUMNS["persons"], [
        ("name", None), ("tax_id", None), ("birth_date", _date), ("nationality", None),
    ])


_ID_OF: dict[str, Any] = {"Company": Company, "Person": Person}


class _Link(_Kernel):
    """ownership, officers and family: one link between two bundle ids of this dataset."""

    def __init__(self, columns: list[str], source: tuple[int, str], kind: str, model: Any, ends: tuple[tuple[str, tuple[str, ...]], tuple[str, tuple[str, ...]]], fields: list[tuple[str, Callable[[str], Any] | None]]) -> None:
        from graphinv.ingest.bundle import BUNDLE_COLUMNS, RELATIONS

        super().__init__(columns, source, BUNDLE_COLUMNS[kind], model, fields)
        self.rel = model.rel
        self.refs = ends
        self.relations = RELATIONS
        ids = {k: _Ids(m.id_prefix, m.label, self.dataset) for k, m in _ID_OF.items()}
        (_, kinds0), (_, kinds1) = ends
        self.i_source, self.i_target = (self.col(column) for column, _ in ends)
        self.source_ids = tuple(ids[k] for k in kinds0)
        self.target_ids = tuple(ids[k] for k in kinds1)
        self.family = kind == "family"
        self.i_relation = self.col("relation")

    def prepare(self, line: int, fields: list[str]) -> tuple[Any, ...] | None:
        source = _cell(fields, self.i_source)
        target = _cell(fields, self.i_target)
        # A row linking an id to itself is rare: the per-row path decides (a firm holding its own
        # shares is kept, a person their own relative is not).
        if not source or not target or source == target:
            return None
        if self.family:
            relation = self.relations.get(name_key(_cell(fields, self.i_relation) or "other"))
            if relation is None:
                return None
            props: dict[str, Any] = {"relation": relation}
        else:
            try:
                props = self.props(fields, {})
            except _Bad:
                return None
        if self.extras:
            self.add_extras(fields, props)
        return ("L", line, fields, _dumps(props), source, tuple(f(source) for f in self.source_ids), target,
                tuple(f(target) for f in self.target_ids))


def _ownership(columns: list[str], source: tuple[int, str]) -> _Kernel:
    return _Link(columns, source, "ownership", Owns, (("owner_id", ("Company", "Person")), ("company_id", ("Company",))),
                 [("share_pct", _percent), ("start_date", _date), ("end_date", _date)])


def _officers(columns: list[str], source: tuple[int, str]) -> _Kernel:
    return _Link(columns, source, "officers", OfficerOf, (("person_id", ("Person", "Company")), ("company_id", ("Company",))),
                 [("role", None), ("start_date", _date), ("end_date", _date)])


def _family(columns: list[str], source: tuple[int, str]) -> _Kernel:
    return _Link(columns, source, "family", Family, (("person_id", ("Person",)), ("relative_id", ("Person",))), [])


class _Accounts(_Kernel):
    own = frozenset({"bundle_id"})
    refs = (("holder_id", ("Company", "Person")),)

    def __init__(self, columns: list[str], source: tuple[int, str]) -> None:
        from graphinv.ingest.bundle import BUNDLE_COLUMNS

        super().__init__(columns, source, BUNDLE_COLUMNS["accounts"], Account, [
            ("bank", None), ("number", None), ("status", _status), ("frozen_date", _date),
        ])
        self.ids = _Ids(Account.id_prefix, Account.label, self.dataset)
        self.holder_company = _Ids(Company.id_prefix, Company.label, self.dataset)
        self.holder_person = _Ids(Person.id_prefix, Person.label, self.dataset)
        self.i_id = self.col("id")
        self.i_holder = self.col("holder_id")

    def prepare(self, line: int, fields: list[str]) -> tuple[Any, ...] | None:
        found = self.identified(fields)
        if found is None:
            return None
        local, given = found
        name = " ".join(v for v in (given.get("bank"), given.get("number")) if v) or local
        props = {"name": name, **given, "bundle_id": local}
        if self.extras:
            self.add_extras(fields, props)
        account_id = self.ids.new(local)
        statements = [(self.source_id, line, account_id, Account.label, None, None, _dumps(props))]
        holder = _cell(fields, self.i_holder)
        if not holder:
            return ("s", statements, ())
        return ("A", line, fields, statements, account_id, holder, (self.holder_company(holder), self.holder_person(holder)))


def _status(value: str) -> str:
    value = value.lower()
    if value not in ("active", "frozen"):
        raise _Bad
    return value


def _accounts(columns: list[str], source: tuple[int, str]) -> _Kernel:
    return _Accounts(columns, source)


class _Shipments(_Kernel):
    own = frozenset({"bundle_id", "importer", "importer_tax_id", "exporter", "exporter_country"})

    def __init__(self, columns: list[str], source: tuple[int, str]) -> None:
        from graphinv.ingest.bundle import BUNDLE_COLUMNS

        # In the model's order; 'chemical' (after 'product') comes from the lexicon, not a column.
        super().__init__(columns, source, BUNDLE_COLUMNS["shipments"], Shipment, [
            ("date", _date), ("product", None), ("hs_code", None), ("quantity_kg", _decimal),
            ("value_usd", _decimal), ("port", None), ("origin_country", None), ("bill_of_lading", None),
        ])
        self.ids = _Ids(Shipment.id_prefix, Shipment.label, self.dataset)
        self.parties = _Cache(20_000)
        self.chemicals = _Cache(100_000)
        self.i_id = self.col("id")
        self.i_parties = [(c, self.col(c)) for c in ("importer", "importer_tax_id", "exporter", "exporter_country")]

    def party(self, name: str, tax_id: str | None, jurisdiction: str | None) -> tuple[str, bytes]:
        key = (name, tax_id, jurisdiction)
        found = self.parties.get(key)
        if found is None:
            # Company.make_id("customs-party", name_key, tax_key, jurisdiction) as in bundle._party.
            node_id = Company.make_id("customs-party", name_key(name), tax_key(tax_id or ""), (jurisdiction or "").upper())
            props: dict[str, object] = {"name": name, "registered": False}
            if tax_id:
                props["tax_id"] = tax_id
            if jurisdiction:
                props["jurisdiction"] = jurisdiction
            found = self.parties.put(key, (node_id, _dumps(props)))
        return found

    def prepare(self, line: int, fields: list[str]) -> tuple[Any, ...] | None:
        found = self.identified(fields)
        if found is None:
            return None
        local, given = found
        product, hs_code = given.get("product"), given.get("hs_code")
        key = (product, hs_code)
        chemical = self.chemicals.get(key, _Bad)
        if chemical is _Bad:
            chemical = self.chemicals.put(key, canonical_chemical(product, hs_code))
        name = " ".join(v for v in (product, given.get("date")) if v) or local
        props: dict[str, Any] = {"name": name}
        for k, v in given.items():
            props[k] = v
            if k == "product" and chemical is not None:
                props["chemical"] = chemical
        props["bundle_id"] = local
        parties = {}
        for column, i in self.i_parties:
            value = _cell(fields, i)
            if value:
                parties[column] = props[column] = value
        if self.extras:
            self.add_extras(fields, props)
        shipment_id = self.ids.new(local)
        statements = [(self.source_id, line, shipment_id, Shipment.label, None, None, _dumps(props))]
        tax_id = parties.get("importer_tax_id")
        importer = parties.get("importer")
        party = self.party(importer, tax_id, None) if importer is not None else None
        exporter = parties.get("exporter")
        exported = self.party(exporter, None, parties.get("exporter_country")) if exporter is not None else None
        return ("c", statements, shipment_id, tax_id, party, exported, line)


def _shipments(columns: list[str], source: tuple[int, str]) -> _Kernel:
    return _Shipments(columns, source)


#: Bundle file kind → kernel factory (flags stay on the per-row path: they are few, and entity
#: references by name or tax id need the case at hand).
KERNELS: dict[str, Callable[[list[str], tuple[int, str]], _Kernel]] = {
    "companies": _companies,
    "persons": _persons,
    "ownership": _ownership,
    "officers": _officers,
    "family": _family,
    "accounts": _accounts,
    "shipments": _shipments,
}


# -- the loop --------------------------------------------------------------------------------------


#: Files at least this big are parsed and prepared by a second process while this one writes.
WORKER_MIN_BYTES = 4 << 20


def run(
    writer: Writer,
    source_id: int,
    path: Path,
    adapter: Adapter,
    ctx: Context,
    progress: Callable[[int], None] | None,
    reject: Callable[[Row, RecordError], None],
) -> tuple[int, int] | None:
    """Ingest one bundle file through its kernel; ``None`` if its header needs the per-row path.

    Returns (rows read, rows kept). Rejections go to ``reject`` exactly as the per-row loop makes them.
    """
    factory = KERNELS.get(adapter.kind)
    if factory is None:
        return None
    try:
        ctx.dataset.encode("utf-8")
    except UnicodeEncodeError:
        return None
    from graphinv.ingest.bundle import REQUIRED_COLUMNS

    rows = CsvBatches(path, required=REQUIRED_COLUMNS[adapter.kind], size=_BATCH)
    kernel = factory(rows.columns, (source_id, ctx.dataset))
    if not kernel.ok:
        rows.close()
        return None
    columns = rows.columns
    read = kept = 0
    batches = _forked(rows, kernel, path) if _use_worker(path) else _inline(rows, kernel)
    try:
        for prepared, offset in batches:
            read += len(prepared)
            slow: list[Row] = []
            for i, item in enumerate(prepared):
                tag = item[0]
                if tag == "x":
                    prepared[i] = row = Row(item[1], dict(zip(columns, item[2])), item[2])
                    slow.append(row)
                elif tag == "e":
                    prepared[i] = Row(item[1], {}, item[2], RecordError(item[3], item[4]))
            if adapter.refs:
                _prefetch(writer, ctx, kernel, adapter, prepared, slow)
            kept += _store(writer, source_id, kernel, adapter, ctx, prepared, reject)
            writer.flush_if_full()
            if progress is not None:
                progress(offset)
    finally:
        batches.close()
    return read, kept


def _prepare(kernel: _Kernel, batch: list[tuple[int, list[str]] | Row]) -> list[Any]:
    """A batch of rows as prepared rows; ("x", line, fields) for the per-row path, ("e", ...) for a bad row."""
    prepare = kernel.prepare
    out: list[tuple[Any, ...]] = []
    for item in batch:
        if isinstance(item, Row):
            assert item.error is not None
            out.append(("e", item.line, item.fields, item.error.column, item.error.reason))
        else:
            done = prepare(*item)
            out.append(("x", *item) if done is None else done)
    return out


def _inline(rows: CsvBatches, kernel: _Kernel) -> Generator[tuple[list[Any], int], None, None]:
    for batch in rows:
        yield _prepare(kernel, batch), rows.tell()


def _use_worker(path: Path) -> bool:
    if not hasattr(os, "fork"):
        return False
    return worker_count() > 1 and path.stat().st_size >= WORKER_MIN_BYTES


def _forked(rows: CsvBatches, kernel: _Kernel, path: Path) -> Generator[tuple[list[Any], int], None, None]:
    """Parse and prepare in a forked child that pickles each batch down a pipe.

    Only this process touches the case file: the child gets no SQLite handle it would use, and
    leaves through ``os._exit`` so it runs no finalizer. Backpressure is the pipe's: memory
    stays flat. If this process dies (SIGKILL), the child's next write fails and it exits.
    """
    read_fd, write_fd = os.pipe()
    _widen(write_fd)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12 warns about forking with threads
        pid = os.fork()
    if pid == 0:
        status = 1
        try:
            os.close(read_fd)
            with open(write_fd, "wb", buffering=1 << 20) as out:
                try:
                    for batch in rows:
                        pickle.dump(("ok", _prepare(kernel, batch), rows.tell()), out, protocol=pickle.HIGHEST_PROTOCOL)
                        out.flush()  # into the pipe now: this process may be waiting for it
                    pickle.dump(("end",), out)
                    status = 0
                except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises
                    pickle.dump(("fail", f"{type(exc).__name__}: {exc}"), out)
        finally:
            os._exit(status)
    os.close(write_fd)
    rows.close()
    finished = False
    try:
        with open(read_fd, "rb", buffering=1 << 20) as inp:
            while True:
                try:
                    message = pickle.load(inp)
                except EOFError:
                    raise SourceError(f"Reading {path.name} stopped: its worker process died") from None
                if message[0] == "ok":
                    yield message[1], message[2]
                elif message[0] == "end":
                    finished = True
                    return
                else:
                    raise SourceError(f"Cannot read {str(path)!r}: {message[1]}")
    finally:
        if not finished:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def _widen(fd: int) -> None:
    """Let the pipe hold a whole batch or more (Linux: up to ``/proc/sys/fs/pipe-max-size``, 1 MB by
    default; 64 KB otherwise), so the worker hands over a batch and goes on to the next instead of
    waiting until this process has read and unpickled it. With a 64 KB pipe the two processes took
    turns more than they ran together (measured at 100k companies: each waited on the other ~40%
    of the time)."""
    try:
        import fcntl

        with open("/proc/sys/fs/pipe-max-size") as handle:
            size = int(handle.read())
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, size)
    except (ImportError, OSError, ValueError, AttributeError):
        pass  # not Linux, or a limit lower than asked: the default pipe still works, only slower


def _prefetch(writer: Writer, ctx: Context, kernel: _Kernel, adapter: Adapter, prepared: list[Any], slow: list[Row]) -> None:
    candidates, taxes, names = ctx.wanted(slow, adapter.refs)
    ids: list[str] = []
    for item in prepared:
        tag = item[0] if type(item) is tuple else None
        if tag == "L":
            ids += item[5]
            ids += item[7]
        elif tag == "A":
            ids += item[6]
        elif tag == "c" and item[3] is not None:
            taxes.update(tax_keys(item[3]))
    ctx.load(writer, candidates, taxes, names, ids)


def _end(ctx: Context, known: set[str], value: str, ids: tuple[str, ...], kinds: tuple[str, ...], column: str) -> str:
    """The one stated entity among a reference's candidates, or the per-row path's RecordError."""
    found = [node_id for node_id in ids if node_id in known]
    if len(found) == 1:
        return found[0]
    for k, node_id in zip(kinds, ids):
        if node_id in known:
            ctx._local[(k, value)] = node_id
    ctx.local(value, kinds, column)  # raises the very error the per-row path raises
    raise AssertionError("unreachable")


def _store(writer: Writer, source_id: int, kernel: _Kernel, adapter: Adapter, ctx: Context, prepared: list[Any], reject: Callable[[Row, RecordError], None]) -> int:
    statements: list[tuple[Any, ...]] = []
    links: list[tuple[Any, ...]] = []
    known = ctx.known_ids if adapter.refs else set()
    if isinstance(kernel, _Link):
        (column0, kinds0), (column1, kinds1) = kernel.refs
        rel = kernel.rel
    kept = 0
    for item in prepared:
        tag = item[0] if type(item) is tuple else None
        if tag == "s":
            statements += item[1]
            links += item[2]
        elif tag == "L":
            _, line, fields, props, source, sources, target, targets = item
            # The common case inline: exactly one candidate of each end is stated.
            if len(sources) == 1:
                end0 = sources[0] if sources[0] in known else None
            else:
                a, b = sources
                end0 = (a if b not in known else None) if a in known else (b if b in known else None)
            end1 = targets[0] if len(targets) == 1 and targets[0] in known else None
            if end0 is None or end1 is None:
                try:
                    end0 = _end(ctx, known, source, sources, kinds0, column0)
                    end1 = _end(ctx, known, target, targets, kinds1, column1)
                except RecordError as error:
                    reject(Row(line, {}, fields), error)
                    continue
            links.append((source_id, line, rel, end0, end1, props))
        elif tag == "A":
            _, line, fields, account, account_id, holder, (a, b) = item
            end0 = (a if b not in known else None) if a in known else (b if b in known else None)
            if end0 is None:
                try:
                    end0 = _end(ctx, known, holder, (a, b), ("Company", "Person"), "holder_id")
                except RecordError as error:
                    reject(Row(line, {}, fields), error)
                    continue
            statements += account
            links.append((source_id, line, Holds.rel, end0, account_id, _EMPTY))
        elif tag == "c":
            _, shipment, shipment_id, tax_id, party, exported, line = item
            statements += shipment
            importer = ctx.company_by_tax(tax_id) if tax_id else None
            if importer is None and party is not None:
                statements.append((source_id, line, party[0], Company.label, None, None, party[1]))
                importer = party[0]
            if importer is not None:
                links.append((source_id, line, Imported.rel, importer, shipment_id, _EMPTY))
            if exported is not None:
                statements.append((source_id, line, exported[0], Company.label, None, None, exported[1]))
                links.append((source_id, line, Exported.rel, exported[0], shipment_id, _EMPTY))
        else:
            # A row for the per-row path. Keep the case's statement order: what came before it
            # is stored first.
            if statements or links:
                writer.rows(statements, links)
                statements, links = [], []
            kept += map_row(writer, source_id, adapter, ctx, item, reject)
            continue
        kept += 1
    if statements or links:
        writer.rows(statements, links)
    return kept
