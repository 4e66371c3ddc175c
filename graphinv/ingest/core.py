"""The shared ingest loop: adapters, reference resolution, counting, rejects and the transaction."""

from __future__ import annotations

import csv
import hashlib
import itertools
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError

from graphinv.exc import GraphinvError, RecordError, SourceError
from graphinv.ingest.csvfile import Row
from graphinv.model import NODE_KINDS, Link, Node, name_key, tax_key
from graphinv.perf import gc_paused
from graphinv.resolve.normalize import normalize_tax_id
from graphinv.store.casefile import CaseFile, Rejection, SourceInfo, Writer

__all__ = [
    "Adapter",
    "BadValue",
    "Context",
    "FileReport",
    "Flag",
    "IngestReport",
    "Item",
    "LinkStatement",
    "NodeStatement",
    "Progress",
    "RefSpec",
    "StrictIngestError",
    "adapters",
    "ingest",
    "map_row",
    "register",
    "rejects_path",
    "tax_keys",
    "validation_error",
]


@dataclass(frozen=True)
class RefSpec:
    """A column that names another entity: by bundle id of some kinds, or by id, tax id or name."""

    how: Literal["local", "entity", "tax"]
    kinds: tuple[str, ...] = ()


@dataclass(frozen=True)
class Flag:
    """A watchlist entry for an entity (not a graph kind: it becomes the node's ``flags``)."""

    entity_id: str
    list: str
    reason: str | None = None
    date: str | None = None


@dataclass(frozen=True, slots=True)
class NodeStatement:
    """A node built only from values that were validated already (an address taken from a
    validated row, a customs party): it is written as is, without a second validation."""

    id: str
    kind: str
    props: dict[str, object]


@dataclass(frozen=True, slots=True)
class LinkStatement:
    """A property-less link between ids the loop resolved (HAS_ADDRESS, HOLDS, IMPORTED, ...)."""

    rel: str
    source: str
    target: str


@dataclass(frozen=True, slots=True)
class BadValue:
    """A value the adapter could not read and kept as it came (``raw_<field>``) on the row's node
    or link: the row is kept, and the value is reported as a warning, not a rejection."""

    column: str
    reason: str


Item = Node | Link | Flag | NodeStatement | LinkStatement | BadValue


@dataclass(frozen=True)
class Adapter:
    """One source kind: how to read its records and how to map one record to graph items."""

    kind: str
    records: Callable[[Path, Callable[[int], None] | None], Iterator[Row]]
    map: Callable[[Row, Context], list[Item]]
    file_names: tuple[str, ...] = ()
    refs: dict[str, RefSpec] = field(default_factory=dict)
    order: int = 100
    #: Recognises a file of this kind by its content, for files not named as a bundle file.
    sniff: Callable[[Path], bool] | None = None
    #: Anything besides the file's bytes that decides what it yields (a mapping's text): a
    #: change re-ingests the file instead of skipping it as unchanged.
    fingerprint: str = ""
    #: A faster way to ingest a whole file of this kind with the same result as ``records`` and
    #: ``map`` row by row (the canonical bundle's, in ingest/fast.py): called as
    #: ``fast(writer, source_id, path, adapter, ctx, progress, reject)``, it returns
    #: (rows read, rows kept), or None when the file needs the per-row loop after all.
    fast: Callable[..., tuple[int, int] | None] | None = None


_REGISTRY: dict[str, Adapter] = {}


def register(adapter: Adapter) -> Adapter:
    """Make an adapter available to ``ingest`` under its kind (built-in ones register this way too)."""
    _REGISTRY[adapter.kind] = adapter
    return adapter


def adapters() -> dict[str, Adapter]:
    return dict(sorted(_REGISTRY.items(), key=lambda kv: (kv[1].order, kv[0])))


_ENTITY_KINDS = ("Company", "Person", "Account")


class Context:
    """What a mapper may ask while mapping one row: the dataset, and the entities rows refer to.

    Lookups answer from what was prefetched for the current batch, so mapping stays a pure,
    fast function of the row.
    """

    def __init__(self, dataset: str) -> None:
        self.dataset = dataset
        self._local: dict[tuple[str, str], str] = {}
        self._tax: dict[str, dict[str, str]] = {}
        self._names: dict[str, dict[str, str]] = {}
        #: The ids among the batch's candidates that the case states.
        self.known_ids: set[str] = set()

    def prefetch(self, writer: Writer, rows: Sequence[Row], refs: dict[str, RefSpec]) -> None:
        self.load(writer, *self.wanted(rows, refs))

    def wanted(
        self, rows: Sequence[Row], refs: dict[str, RefSpec]
    ) -> tuple[dict[tuple[str, str], str], set[str], set[str]]:
        """What the rows' references need looked up: candidate ids by (kind, bundle id), tax and name keys."""
        candidates: dict[tuple[str, str], str] = {}
        taxes: set[str] = set()
        names: set[str] = set()
        dataset = self.dataset
        for column, spec in refs.items():
            kinds = spec.kinds or _ENTITY_KINDS
            for row in rows:
                value = row.values.get(column, "").strip()
                if not value:
                    continue
                if spec.how in ("local", "entity"):
                    for k in kinds:
                        if (k, value) not in candidates:
                            candidates[(k, value)] = NODE_KINDS[k].make_id(dataset, value)
                if spec.how == "tax":
                    taxes.update(tax_keys(value))
                if spec.how == "entity":
                    taxes.add(tax_key(value))
                    names.add(name_key(value))
        return candidates, taxes, names

    def load(
        self,
        writer: Writer,
        candidates: dict[tuple[str, str], str],
        taxes: set[str],
        names: set[str],
        ids: Sequence[str] = (),
    ) -> None:
        """Look up what ``wanted`` named for this batch's rows (and ``ids``, other candidate ids)."""
        wanted = [*candidates.values(), *ids]
        known = writer.stated(wanted) if wanted else set()
        self.known_ids = known
        self._local = {key: node_id for key, node_id in candidates.items() if node_id in known}
        self._tax = writer.by_tax_key(taxes) if taxes else {}
        self._names = writer.by_name_key(names) if names else {}

    def local(self, value: str, kinds: tuple[str, ...], column: str) -> str:
        """The node that a bundle id of this dataset names; a RecordError when none or several."""
        value = value.strip()
        found = [node_id for k in kinds if (node_id := self._local.get((k, value))) is not None]
        if len(found) == 1:
            return found[0]
        what = " or ".join(k.lower() for k in kinds)
        if not found:
            raise RecordError(
                column,
                f"unknown reference {value!r}: no {what} with this id in dataset {self.dataset!r}; "
                "ingest the file that defines it first, in the same dataset",
            )
        raise RecordError(
            column, f"ambiguous reference {value!r}: it is the id of a {what} alike; make bundle ids unique"
        )

    def entities(self, value: str, column: str) -> list[str]:
        """The entities named by bundle id, tax id or exact name (case and accents ignored).

        A tax id names one legal entity: every record stated with it (a registry's and an
        importers list's, say, which resolution merges) is named. A bundle id or a name that
        fits several entities is ambiguous."""
        value = value.strip()
        by_id = [i for k in _ENTITY_KINDS if (i := self._local.get((k, value))) is not None]
        by_tax = sorted(self._tax.get(tax_key(value), {}))
        by_name = sorted(self._names.get(name_key(value), {}))
        if by_tax and not by_id:
            return by_tax
        for candidates in (by_id, by_name):
            if len(candidates) == 1:
                return candidates
            if candidates:
                raise RecordError(
                    column,
                    f"ambiguous reference {value!r}: it matches {len(candidates)} entities "
                    f"({', '.join(candidates[:5])}); use the bundle id instead",
                )
        raise RecordError(
            column,
            f"unknown reference {value!r}: no entity has this id, tax id or name; "
            "check the spelling or ingest the registry that names it first",
        )

    def company_by_tax(self, value: str) -> str | None:
        """The registry company with this tax id, if exactly one (customs parties link through it),
        by the keys of ``tax_keys`` in turn (the batch's prefetch looked them up)."""
        for key in tax_keys(value):
            matches = sorted(i for i, kind in self._tax.get(key, {}).items() if kind == "Company")
            if matches:
                return matches[0] if len(matches) == 1 else None
        return None


def tax_keys(value: str) -> tuple[str, ...]:
    """The keys a customs tax id finds its registry firm by: the id as resolution and the matcher
    read it ("RFC: QSM0101019K1" is QSM0101019K1), then the ``tax_key`` statements keep of the id
    as the registry gave it (normalising those would need a case migration). None for an id of no
    letters or digits ("-"), which names nobody."""
    normalized = normalize_tax_id(value)
    return tuple(dict.fromkeys((normalized, tax_key(value)))) if normalized else ()


def validation_error(exc: ValidationError, columns: dict[str, str] | None = None) -> RecordError:
    """Turn pydantic's complaint into 'column: reason (value)' that names the source column."""
    first = exc.errors()[0]
    field_name = str(first["loc"][0]) if first["loc"] else "*"
    column = (columns or {}).get(field_name, field_name)
    message = first["msg"].removeprefix("Value error, ")
    value = first.get("input")
    if isinstance(value, str) and repr(value) not in message:
        message = f"{message}: {value!r}"
    return RecordError(column, message)


# -- reports ---------------------------------------------------------------------------------------


class FileReport(BaseModel):
    """What became of one source file."""

    dataset: str
    file: str
    kind: str
    path: str
    read: int = 0
    kept: int = 0
    rejected: int = 0
    #: Values that could not be read and were kept raw, on rows that were kept.
    warned: int = 0
    unchanged: bool = False
    #: The path of an earlier file of the same dataset and name that this one replaced, if another.
    replaced: str | None = None
    #: Read again though unchanged: a file replaced in this run no longer states entities it names.
    reread: bool = False


class IngestReport(BaseModel):
    """The summary of one ingest run. ``rejections`` holds the first ones; the case holds all."""

    case: str
    files: list[FileReport]
    rejections: list[str]
    rejected_total: int
    #: The first values kept raw ("file:line: column: reason"); the nodes and links hold them all.
    warnings: list[str] = []
    rejects_file: str | None
    version: int
    changed: bool


class StrictIngestError(GraphinvError):
    """``--strict`` and at least one row was rejected: nothing was written."""

    def __init__(self, rejections: list[str], total: int) -> None:
        shown = "\n".join(rejections)
        more = f"\n... and {total - len(rejections)} more" if total > len(rejections) else ""
        super().__init__(f"--strict: {total} row(s) rejected, nothing was written:\n{shown}{more}")
        self.rejections = rejections
        self.total = total


# -- the loop --------------------------------------------------------------------------------------

Progress = Callable[[str, int, int], None]
"""Called as progress(file label, bytes done, bytes total of this file)."""

_SHOWN_REJECTIONS = 200
_BATCH = 2000


@dataclass
class _Plan:
    path: Path
    adapter: Adapter
    dataset: str


def rejects_path(case: Path) -> Path:
    """Rejected rows are also written as CSV next to the case, for people without graphinv at hand."""
    return case.with_name(case.name + ".rejects.csv")


def ingest(
    case: str | os.PathLike[str],
    sources: Sequence[str | os.PathLike[str]],
    *,
    dataset: str | None = None,
    kind: str | None = None,
    mapping: str | os.PathLike[str] | None = None,
    strict: bool = False,
    progress: Progress | None = None,
) -> IngestReport:
    """Ingest bundle folders or single files into the case, in one transaction.

    Each bad row is rejected with its file, line, column and reason and the rest is kept; with
    ``strict`` any rejection rolls everything back (a new case file is removed again). Sources
    whose content was ingested before are skipped, so running the same ingest twice is a no-op.
    A ``mapping`` (YAML, see docs/sources.md) reads files of another layout as bundle files.
    """
    plans = _plan(sources, dataset=dataset, kind=kind, mapping=mapping)
    case_path = Path(case)
    store = CaseFile(case_path, create=True)
    done: dict[tuple[str, str], tuple[FileReport, list[Rejection], list[str]]] = {}
    try:
        with store.writer() as writer, gc_paused():
            for plan in plans:
                done[(plan.dataset, plan.path.name)] = _ingest_file(writer, plan, progress)
            # Rows of other sources may name what a replaced source no longer states: read again,
            # they are rejected as unknown references instead of leaving links to nothing.
            while again := _orphaned(writer, plans):
                for plan in again:
                    done[(plan.dataset, plan.path.name)] = _ingest_file(writer, plan, progress, reread=True)
            reports = [report for report, _, _ in done.values()]
            total_rejected = sum(report.rejected for report in reports)
            shown = [str(r) for _, rejected, _ in done.values() for r in rejected][:_SHOWN_REJECTIONS]
            warnings = [w for _, _, warned in done.values() for w in warned][:_SHOWN_REJECTIONS]
            if strict and total_rejected:
                raise StrictIngestError(shown, total_rejected)
            changed = writer.changed
        version = store.version
        rejects = _write_rejects(store, case_path)
    except BaseException:
        store.close()
        if store.created:
            _remove_case(case_path)
        raise
    store.close()
    return IngestReport(
        case=str(case_path),
        files=reports,
        rejections=shown,
        rejected_total=total_rejected,
        warnings=warnings,
        rejects_file=str(rejects) if rejects else None,
        version=version,
        changed=changed,
    )


def _remove_case(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + "-journal")):
        leftover.unlink(missing_ok=True)


def _plan(
    sources: Sequence[str | os.PathLike[str]],
    *,
    dataset: str | None,
    kind: str | None,
    mapping: str | os.PathLike[str] | None = None,
) -> list[_Plan]:
    if mapping is not None:
        from graphinv.ingest.mapping import plan_mapping  # the mapping module imports this one

        if kind is not None:
            raise SourceError("--kind and --mapping exclude each other: the mapping says what each file holds")
        return _one_file_per_name([_Plan(p, a, d) for p, a, d in plan_mapping(mapping, sources, dataset=dataset)])
    registry = adapters()
    if kind is not None and kind not in registry:
        raise SourceError(f"Unknown --kind {kind!r} (available: {', '.join(registry)})")
    if not sources:
        raise SourceError("Nothing to ingest: give at least one bundle folder or file")
    by_name = {name: a for a in registry.values() for name in a.file_names}
    plans: list[_Plan] = []
    for source in sources:
        path = Path(source)
        if path.is_dir():
            if kind is not None:
                raise SourceError(f"--kind applies to single files; {str(path)!r} is a folder")
            found = [
                _Plan(p, by_name[p.name], dataset or path.resolve().name)
                for p in sorted(path.iterdir())
                if p.name in by_name
            ]
            found += [
                _Plan(p, a, dataset or path.resolve().name)
                for p in sorted(path.iterdir())
                if p.is_file() and p.name not in by_name and (a := _sniff(p, registry)) is not None
            ]
            if not found:
                expected = ", ".join(sorted(by_name))
                raise SourceError(f"{str(path)!r} holds no bundle file (expected any of: {expected})")
            plans.extend(found)
        elif path.is_file():
            adapter = registry[kind] if kind else by_name.get(path.name) or _sniff(path, registry)
            if adapter is None:
                raise SourceError(
                    f"Cannot tell what {str(path)!r} holds: name it as a bundle file "
                    f"({', '.join(sorted(by_name))}) or pass --kind ({', '.join(registry)})"
                )
            plans.append(_Plan(path, adapter, dataset or path.resolve().parent.name))
        else:
            raise SourceError(f"No such file or folder: {str(path)!r}")
    # Entities before the links and flags that name them, whatever order the user gave.
    return _one_file_per_name(sorted(plans, key=lambda p: (p.adapter.order, str(p.path))))


def _one_file_per_name(plans: list[_Plan]) -> list[_Plan]:
    """A source is its dataset and file name (a changed file replaces its earlier version), so
    two files of one name in one dataset would have the second silently replace the first."""
    seen: dict[tuple[str, str], _Plan] = {}
    for plan in plans:
        first = seen.setdefault((plan.dataset, plan.path.name), plan)
        if first is plan or (first.path.resolve() == plan.path.resolve() and first.adapter is plan.adapter):
            continue  # one file named twice is read once
        raise SourceError(
            f"{str(first.path)!r} ({first.adapter.kind}) and {str(plan.path)!r} ({plan.adapter.kind}) are both file "
            f"{plan.path.name!r} of dataset {plan.dataset!r}, and a dataset holds one file of each name: the second "
            "would replace the first. Give each folder its own dataset: ingest them in separate runs, each with "
            "its own --dataset NAME"
        )
    return list(seen.values())


def _sniff(path: Path, registry: dict[str, Adapter]) -> Adapter | None:
    """The one adapter that recognises the file by its content, if any."""
    for adapter in registry.values():
        if adapter.sniff is not None and adapter.sniff(path):
            return adapter
    return None


def _sha256(path: Path, fingerprint: str = "") -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    if fingerprint:
        digest.update(b"\x00" + fingerprint.encode("utf-8"))
    return digest.hexdigest()


def _orphaned(writer: Writer, plans: list[_Plan]) -> list[_Plan]:
    """The sources whose links or flags name entities that a source replaced in this run no
    longer states, to be read again: from this run's files, or from where they were read last."""
    given = {(p.dataset, p.path.name): p for p in plans}
    registry = adapters()
    again = [given.get((s.dataset, s.file)) or _stored_plan(s, registry) for s in writer.orphaned()]
    return sorted(again, key=lambda p: (p.adapter.order, str(p.path)))


def _stored_plan(source: SourceInfo, registry: dict[str, Adapter]) -> _Plan:
    """How to read a source again from where it was read, if that still holds what was read."""
    adapter = registry.get(source.kind)
    path = Path(source.path)
    if adapter is None:
        why = f"it was read through a mapping ({source.kind})"
    elif path.name != source.file or not path.is_file():
        why = f"{source.path!r} is gone"
    elif _sha256(path, adapter.fingerprint) != source.sha256:
        why = f"{source.path!r} changed since"
    else:
        return _Plan(path, adapter, source.dataset)
    raise SourceError(
        f"{source.dataset}:{source.file} names entities that this ingest removes, so it must be read again, "
        f"but {why}: give it in this run too"
    )


def _ingest_file(
    writer: Writer, plan: _Plan, progress: Progress | None, *, reread: bool = False
) -> tuple[FileReport, list[Rejection], list[str]]:
    path, adapter = plan.path, plan.adapter
    report = FileReport(dataset=plan.dataset, file=path.name, kind=adapter.kind, path=str(path), reread=reread)
    earlier = writer.source_path(dataset=plan.dataset, file=path.name)
    try:
        source_id = writer.start_source(
            dataset=plan.dataset,
            file=path.name,
            kind=adapter.kind,
            path=str(path.resolve()),
            sha256=_sha256(path, adapter.fingerprint),
            force=reread,
        )
    except OSError as exc:
        raise SourceError(f"Cannot read {str(path)!r}: {exc.strerror}") from exc
    if source_id is None:
        report.unchanged = True
        return report, [], []
    if earlier is not None and earlier != str(path.resolve()):
        report.replaced = earlier
    ctx = Context(plan.dataset)
    size = path.stat().st_size
    # About one statement per 100 bytes of a bundle file: decides whether indexes are rebuilt in bulk.
    writer.bulk(size // 100)
    label = f"{plan.dataset}/{path.name}"
    tick = (lambda done: progress(label, done, size)) if progress else None
    rejected: list[Rejection] = []
    warned: list[str] = []

    read = kept = 0

    def reject(row: Row, error: RecordError) -> None:
        report.rejected += 1
        writer.reject(source_id, row.line, error.column, error.reason, row.raw)
        if len(rejected) < _SHOWN_REJECTIONS:
            rejected.append(Rejection(plan.dataset, path.name, row.line, error.column, error.reason, row.raw))

    def warn(row: Row, bad: BadValue) -> None:
        report.warned += 1
        if len(warned) < _SHOWN_REJECTIONS:
            warned.append(f"{path.name}:{row.line}: {bad.column}: {bad.reason}")

    done = adapter.fast(writer, source_id, path, adapter, ctx, tick, reject) if adapter.fast is not None else None
    if done is not None:
        report.read, report.kept = done
        writer.finish_source(source_id, read=report.read, kept=report.kept, rejected=report.rejected)
        return report, rejected, warned

    for batch in _batches(adapter.records(path, tick), _BATCH):
        if adapter.refs:
            ctx.prefetch(writer, [r for r in batch if r.error is None], adapter.refs)
        read += len(batch)
        for row in batch:
            kept += map_row(writer, source_id, adapter, ctx, row, reject, warn)
    report.read, report.kept = read, kept
    writer.finish_source(source_id, read=report.read, kept=report.kept, rejected=report.rejected)
    return report, rejected, warned


_NODE_EXCLUDE = {"id", "kind", "sources", "flags", "flagged"}
_LINK_EXCLUDE = {"source", "target", "sources"}


def map_row(
    writer: Writer,
    source_id: int,
    adapter: Adapter,
    ctx: Context,
    row: Row,
    reject: Callable[[Row, RecordError], None],
    warn: Callable[[Row, BadValue], None] | None = None,
) -> bool:
    """The per-row path for one row: map it and write what it says, or reject it. True if kept."""
    if row.error is not None:
        reject(row, row.error)
        return False
    try:
        items = adapter.map(row, ctx)
    except RecordError as error:
        reject(row, error)
        return False
    except ValidationError as exc:
        reject(row, validation_error(exc))
        return False
    _write(writer, source_id, row.line, items)
    if warn is not None:
        for item in items:
            if isinstance(item, BadValue):
                warn(row, item)
    return True


def _write(writer: Writer, source_id: int, line: int, items: Iterable[Item]) -> None:
    for item in items:
        if isinstance(item, LinkStatement):
            writer.link(source_id, line, item.rel, item.source, item.target, {})
            continue
        if isinstance(item, NodeStatement):
            node_id, kind, props = item.id, item.kind, item.props
        elif isinstance(item, Node):
            node_id, kind = item.id, item.label
            props = item.model_dump(exclude=_NODE_EXCLUDE, exclude_none=True)
        elif isinstance(item, Link):
            props = item.model_dump(exclude=_LINK_EXCLUDE, exclude_none=True)
            writer.link(source_id, line, item.rel, item.source, item.target, props)
            continue
        elif isinstance(item, BadValue):
            continue
        else:
            writer.flag(source_id, line, item.entity_id, item.list, item.reason, item.date)
            continue
        # Registry names and tax ids are looked up by flags and REFs; customs parties are not
        # registry facts, so resolution, not a lookup, decides who they are.
        keyed = kind in ("Company", "Person") and props.get("registered") is not False
        tax = props.get("tax_id") if keyed else None
        writer.statement(
            source_id,
            line,
            node_id,
            kind,
            tax_key(tax) if tax else None,  # type: ignore[arg-type]
            name_key(props["name"]) if keyed else None,  # type: ignore[arg-type]
            props,
        )


def _batches(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _write_rejects(store: CaseFile, case: Path) -> Path | None:
    path = rejects_path(case)
    rows = store.rejections()
    first = next(rows, None)
    if first is None:
        path.unlink(missing_ok=True)
        return None
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["dataset", "file", "line", "column", "reason", "raw"])
        for r in itertools.chain([first], rows):
            out.writerow([r.dataset, r.file, r.line, r.column, r.reason, r.raw])
    os.replace(tmp, path)
    return path
