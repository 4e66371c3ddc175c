"""Mappings: read a foreign CSV, Excel sheet or JSON export as canonical bundle rows (``--mapping``).

A mapping is a YAML file (reference: docs/sources.md). Each of its file sections says which
foreign files it reads and turns every foreign row into one or more canonical bundle rows
(``companies``, ``persons``, ``ownership``, ...), which then go through the bundle's own row
mappers: one code path validates a bundle file and a mapped file alike. Errors in the mapping
name its line; errors in a row name the foreign column and the mapping line that read it.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import decimal
import fnmatch
import hashlib
import io
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from graphinv.exc import MissingExtraError, RecordError, SourceError
from graphinv.ingest import bundle  # noqa: F401 - the bundle adapters must be registered
from graphinv.ingest.bundle import BUNDLE_COLUMNS, REQUIRED_COLUMNS
from graphinv.ingest.core import Adapter, Context, Item, LinkStatement, RefSpec, adapters, validation_error
from graphinv.ingest.csvfile import Lines, Row, column_key, decodable, unclosed
from graphinv.ingest.jsonfile import flatten, read_json_records
from graphinv.model import Address, HasAddress, Node, address_key

__all__ = [
    "TARGET_KINDS",
    "ColumnSpec",
    "Condition",
    "FileSection",
    "Mapping",
    "Target",
    "load_mapping",
    "plan_mapping",
]

#: What a mapping target may produce: the bundle files' kinds, and ``addresses`` (an address, and
#: optionally who gives it: for exports that keep addresses as records of their own).
TARGET_KINDS: dict[str, tuple[str, ...]] = {
    **BUNDLE_COLUMNS,
    "addresses": ("holder_id", "address", "city", "state", "country", "postal_code"),
}
_REQUIRED: dict[str, tuple[str, ...]] = {**REQUIRED_COLUMNS, "addresses": ("address",)}

_SECTION_KEYS = {"match", "format", "delimiter", "encoding", "sheet", "header_row", "records", "skip", "lookups", "targets", "dataset"}
_TARGET_KEYS = {"kind", "when", "columns"}
_SOURCE_KEYS = {"column", "columns", "value", "template", "lookup"}
_TRANSFORM_KEYS = {"join", "pick", "replace", "lines", "regex", "map", "decimal", "share", "date", "default", "optional"}
_CONDITION_OPS = {"equals", "not_equals", "in", "not_in", "matches", "not_matches", "empty"}


# -- YAML with line numbers ------------------------------------------------------------------------


class _YMap(dict):  # type: ignore[type-arg]
    line: int
    key_lines: dict[str, int]


class _YList(list):  # type: ignore[type-arg]
    line: int
    item_lines: list[int]


_SCALARS = yaml.SafeLoader("")


def _from_node(node: yaml.Node) -> Any:
    """A composed YAML node as Python values that remember the line each key and item is on."""
    if isinstance(node, yaml.MappingNode):
        out = _YMap()
        out.line = node.start_mark.line + 1
        out.key_lines = {}
        for key_node, value_node in node.value:
            key = str(_SCALARS.construct_object(key_node, deep=True))
            out[key] = _from_node(value_node)
            out.key_lines[key] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        items = _YList(_from_node(n) for n in node.value)
        items.line = node.start_mark.line + 1
        items.item_lines = [n.start_mark.line + 1 for n in node.value]
        return items
    return _SCALARS.construct_object(node, deep=True)


# -- the specification -----------------------------------------------------------------------------


class _ValueProblem(Exception):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


@dataclass(frozen=True)
class Condition:
    """A test on a foreign column: ``equals``, ``not_equals``, ``in``, ``not_in``, ``matches``,
    ``not_matches`` (a regular expression, searched), ``empty`` (true/false)."""

    column: str
    op: str
    arg: Any
    line: int
    optional: bool = False

    def holds(self, values: dict[str, str]) -> bool:
        value = values.get(self.column, "").strip()
        if self.op == "equals":
            return value == self.arg
        if self.op == "not_equals":
            return value != self.arg
        if self.op == "in":
            return value in self.arg
        if self.op == "not_in":
            return value not in self.arg
        if self.op == "matches":
            return self.arg.search(value) is not None
        if self.op == "not_matches":
            return self.arg.search(value) is None
        return (not value) == self.arg  # empty


@dataclass
class ColumnSpec:
    """How one canonical column gets its value from a foreign row."""

    field: str
    line: int
    columns: tuple[str, ...] = ()
    join: str = " "
    pick_first: bool = False
    value: str | None = None
    template: str | None = None
    lookup: tuple[str, str] | None = None
    transforms: list[tuple[str, Callable[[str], str]]] = field(default_factory=list)
    default: str | None = None
    optional: bool = False

    @property
    def label(self) -> str:
        """The foreign column(s) this value comes from, as a rejection names them."""
        if self.columns:
            return "+".join(self.columns)
        if self.template is not None:
            names = _PLACEHOLDER.findall(self.template)
            return "+".join(column_key(n) for n in names) or self.field
        return self.field

    def inputs(self) -> tuple[str, ...]:
        if self.columns:
            return self.columns
        if self.template is not None:
            return tuple(column_key(n) for n in _PLACEHOLDER.findall(self.template))
        if self.lookup is not None:
            return (self.lookup[1],)
        return ()

    def compute(self, values: dict[str, str], tables: dict[str, dict[str, str]]) -> str:
        if self.value is not None:
            text = self.value
        elif self.template is not None:
            text = _tidy(_PLACEHOLDER.sub(lambda m: values.get(column_key(m.group(1)), "").strip(), self.template))
        elif self.lookup is not None:
            table, column = self.lookup
            key = values.get(column, "").strip()
            text = tables.get(table, {}).get(key, "") if key else ""
        else:
            parts = [p for p in (values.get(c, "").strip() for c in self.columns) if p]
            text = parts[0] if self.pick_first and parts else self.join.join(parts)
        text = text.strip()
        for _, transform in self.transforms:
            if not text:
                break
            try:
                text = transform(text).strip()
            except _ValueProblem:
                raise
            except (ValueError, TypeError) as exc:
                raise _ValueProblem(self.label, str(exc)) from None
        if not text and self.default is not None:
            text = self.default
        return text


@dataclass
class Target:
    """One canonical row a foreign row becomes: its bundle kind, when it applies, its columns."""

    kind: str
    line: int
    when: list[Condition]
    columns: dict[str, ColumnSpec]


@dataclass
class Lookup:
    """A key → value table read from other files beside the data file (another sheet of the export)."""

    name: str
    files: str
    key: str
    value: str
    line: int


@dataclass
class FileSection:
    """Which foreign files a part of the mapping reads, how, and what each row becomes."""

    index: int
    line: int
    match: str | None
    format: str | None
    delimiter: str
    encoding: str
    sheet: str | None
    header_row: int
    records: str | None
    skip: list[Condition]
    lookups: dict[str, Lookup]
    targets: list[Target]


@dataclass
class Mapping:
    """A parsed mapping file."""

    path: Path
    name: str
    dataset: str | None
    sections: list[FileSection]
    text: str

    def where(self, line: int) -> str:
        return f"{self.path.name}:{line}"


def _fail(mapping_path: Path, line: int, message: str) -> SourceError:
    return SourceError(f"mapping {mapping_path.name}:{line}: {message}")


def _closest(word: str, options: set[str] | Sequence[str]) -> str:
    import difflib

    found = difflib.get_close_matches(word, sorted(options), n=1)
    return f" (did you mean {found[0]!r}?)" if found else f" (known: {', '.join(sorted(options))})"


def load_mapping(path: str | os.PathLike[str]) -> Mapping:
    """Read and check a mapping file; a mistake raises SourceError naming the mapping's line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceError(f"Cannot read mapping {str(path)!r}: {exc.strerror}") from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise _fail(path, line, f"not valid YAML ({getattr(exc, 'problem', exc)})") from exc
    doc = _from_node(node) if node is not None else None
    if not isinstance(doc, _YMap):
        raise _fail(path, 1, "a mapping is a YAML object with 'files:' (or one file section's 'targets:')")
    top = {"name", "dataset", "files"} | _SECTION_KEYS
    for key in doc:
        if key not in top:
            raise _fail(path, doc.key_lines[key], f"unknown key {key!r}{_closest(key, top)}")
    if "files" in doc:
        files = doc["files"]
        if not isinstance(files, _YList) or not files:
            raise _fail(path, doc.key_lines["files"], "'files' is a list of file sections, each with 'match' and 'targets'")
        raw_sections = list(files)
    else:
        raw_sections = [_YMap({k: v for k, v in doc.items() if k in _SECTION_KEYS})]
        raw_sections[0].line = doc.line
        raw_sections[0].key_lines = {k: v for k, v in doc.key_lines.items() if k in _SECTION_KEYS}
    sections = [_section(path, i, raw) for i, raw in enumerate(raw_sections)]
    name = str(doc.get("name") or path.stem)
    dataset = str(doc["dataset"]) if doc.get("dataset") else None
    return Mapping(path=path, name=name, dataset=dataset, sections=sections, text=text)


def _section(path: Path, index: int, raw: Any) -> FileSection:
    if not isinstance(raw, _YMap):
        raise _fail(path, getattr(raw, "line", 1), "each file section is an object with 'match' and 'targets'")
    for key in raw:
        if key not in _SECTION_KEYS:
            raise _fail(path, raw.key_lines[key], f"unknown key {key!r} in a file section{_closest(key, _SECTION_KEYS)}")
    fmt = raw.get("format")
    if fmt is not None and fmt not in ("csv", "excel", "json"):
        raise _fail(path, raw.key_lines["format"], f"format {fmt!r}: use csv, excel or json")
    if "targets" not in raw or not isinstance(raw["targets"], _YList) or not raw["targets"]:
        raise _fail(path, raw.line, "a file section needs 'targets': a list of canonical rows each foreign row becomes")
    lookups: dict[str, Lookup] = {}
    for name, spec in (raw.get("lookups") or {}).items():
        line = raw["lookups"].key_lines[name]
        if not isinstance(spec, _YMap) or not {"file", "key", "value"} <= set(spec):
            raise _fail(path, line, f"lookup {name!r} needs 'file' (a name or glob beside the data file), 'key' and 'value'")
        lookups[name] = Lookup(name, str(spec["file"]), column_key(str(spec["key"])), column_key(str(spec["value"])), line)
    skip = _conditions(path, raw.get("skip"), raw.key_lines.get("skip", raw.line))
    targets = [_target(path, t, raw["targets"].item_lines[i], lookups) for i, t in enumerate(raw["targets"])]
    delimiter = str(raw.get("delimiter", ","))
    if len(delimiter) != 1:
        delimiter = {"\\t": "\t", "tab": "\t"}.get(delimiter, delimiter)
        if len(delimiter) != 1:
            raise _fail(path, raw.key_lines["delimiter"], f"delimiter {raw['delimiter']!r} must be one character (or 'tab')")
    encoding = str(raw.get("encoding", "utf-8-sig"))
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise _fail(path, raw.key_lines["encoding"], f"unknown encoding {encoding!r} (utf-8, latin-1, ...)") from None
    return FileSection(
        index=index,
        line=raw.line,
        match=str(raw["match"]) if raw.get("match") else None,
        format=fmt,
        delimiter=delimiter,
        encoding=encoding,
        sheet=str(raw["sheet"]) if raw.get("sheet") is not None else None,
        header_row=int(raw.get("header_row", 1)),
        records=str(raw["records"]) if raw.get("records") else None,
        skip=skip,
        lookups=lookups,
        targets=targets,
    )


def _conditions(path: Path, raw: Any, line: int) -> list[Condition]:
    if raw is None:
        return []
    items = raw if isinstance(raw, _YList) else [raw]
    lines = raw.item_lines if isinstance(raw, _YList) else [line]
    out = []
    for item, item_line in zip(items, lines):
        if not isinstance(item, _YMap) or "column" not in item:
            raise _fail(path, item_line, "a condition is {column: NAME, equals|in|matches|...: VALUE}")
        ops = [k for k in item if k not in ("column", "optional")]
        if len(ops) != 1 or ops[0] not in _CONDITION_OPS:
            bad = next((k for k in ops if k not in _CONDITION_OPS), ops[0] if ops else "")
            raise _fail(path, item.line, f"a condition needs exactly one test{_closest(bad, _CONDITION_OPS) if bad else ''}")
        op = ops[0]
        arg: Any = item[op]
        if op in ("in", "not_in"):
            if not isinstance(arg, list):
                raise _fail(path, item.key_lines[op], f"'{op}' takes a list of values")
            arg = frozenset(str(a) for a in arg)
        elif op in ("matches", "not_matches"):
            try:
                arg = re.compile(str(arg))
            except re.error as exc:
                raise _fail(path, item.key_lines[op], f"bad regular expression {arg!r}: {exc}") from None
        elif op == "empty":
            arg = bool(arg)
        else:
            arg = str(arg)
        out.append(Condition(column_key(str(item["column"])), op, arg, item.key_lines["column"], bool(item.get("optional"))))
    return out


def _target(path: Path, raw: Any, line: int, lookups: dict[str, Lookup]) -> Target:
    if not isinstance(raw, _YMap):
        raise _fail(path, line, "a target is an object with 'kind' and 'columns'")
    for key in raw:
        if key not in _TARGET_KEYS:
            raise _fail(path, raw.key_lines[key], f"unknown key {key!r} in a target{_closest(key, _TARGET_KEYS)}")
    kind = raw.get("kind")
    if kind not in TARGET_KINDS:
        raise _fail(path, raw.key_lines.get("kind", line), f"target kind {kind!r}{_closest(str(kind), set(TARGET_KINDS))}")
    columns_raw = raw.get("columns")
    if not isinstance(columns_raw, _YMap):
        raise _fail(path, raw.key_lines.get("columns", line), f"target {kind}: 'columns' maps each {kind} column to a foreign column")
    columns: dict[str, ColumnSpec] = {}
    for name, spec in columns_raw.items():
        canonical = column_key(name)
        columns[canonical] = _column(path, canonical, spec, columns_raw.key_lines[name], lookups)
    missing = [c for c in _REQUIRED[kind] if c not in columns]
    if missing:
        raise _fail(path, raw.key_lines.get("columns", line), f"target {kind} needs {', '.join(map(repr, missing))} (required in {kind})")
    when = _conditions(path, raw.get("when"), raw.key_lines.get("when", line))
    return Target(kind=kind, line=line, when=when, columns=columns)


_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


def _column(path: Path, name: str, raw: Any, line: int, lookups: dict[str, Lookup]) -> ColumnSpec:
    if isinstance(raw, str):
        return ColumnSpec(field=name, line=line, columns=(column_key(raw),))
    if isinstance(raw, (int, float, bool)) and not isinstance(raw, bool):
        raise _fail(path, line, f"column {name}: give a foreign column name, or {{value: {raw}}} for a constant")
    if not isinstance(raw, _YMap):
        raise _fail(path, line, f"column {name}: give a foreign column name or an object such as {{column: NAME, date: '%d/%m/%Y'}}")
    for key in raw:
        if key not in _SOURCE_KEYS | _TRANSFORM_KEYS:
            raise _fail(path, raw.key_lines[key], f"unknown option {key!r} for column {name}{_closest(key, _SOURCE_KEYS | _TRANSFORM_KEYS)}")
    sources = [k for k in raw if k in _SOURCE_KEYS]
    if len(sources) != 1:
        raise _fail(path, line, f"column {name}: give exactly one of column, columns, value, template, lookup (found {', '.join(sources) or 'none'})")
    spec = ColumnSpec(field=name, line=line, optional=bool(raw.get("optional", False)))
    source = sources[0]
    if source == "column":
        spec.columns = (column_key(str(raw["column"])),)
    elif source == "columns":
        if not isinstance(raw["columns"], list) or not raw["columns"]:
            raise _fail(path, raw.key_lines["columns"], f"column {name}: 'columns' is a list of foreign columns to join")
        spec.columns = tuple(column_key(str(c)) for c in raw["columns"])
        spec.join = str(raw.get("join", " "))
        if "pick" in raw:
            if raw["pick"] != "first":
                raise _fail(path, raw.key_lines["pick"], f"column {name}: pick is 'first' (the first column that is not empty)")
            spec.pick_first = True
    elif source == "value":
        spec.value = "" if raw["value"] is None else _scalar_text(raw["value"])
    elif source == "template":
        spec.template = str(raw["template"])
    else:
        ref = raw["lookup"]
        if not isinstance(ref, _YMap) or not {"table", "column"} <= set(ref):
            raise _fail(path, raw.key_lines["lookup"], f"column {name}: lookup is {{table: NAME, column: FOREIGN_COLUMN}}")
        if str(ref["table"]) not in lookups:
            raise _fail(path, ref.key_lines["table"], f"no lookup table {ref['table']!r} in this file section{_closest(str(ref['table']), set(lookups))}")
        spec.lookup = (str(ref["table"]), column_key(str(ref["column"])))
    for key in ("join", "pick"):
        if key in raw and source != "columns":
            raise _fail(path, raw.key_lines[key], f"column {name}: '{key}' goes with 'columns'")
    for key in ("replace", "lines", "regex", "map", "decimal", "share", "date"):
        if key in raw:
            spec.transforms.append((key, _transform(path, name, key, raw[key], raw.key_lines[key])))
    if "default" in raw:
        spec.default = _scalar_text(raw["default"])
    return spec


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _transform(path: Path, name: str, key: str, arg: Any, line: int) -> Callable[[str], str]:
    where = f"{path.name}:{line}"
    if key == "replace":
        if not isinstance(arg, dict):
            raise _fail(path, line, f"column {name}: 'replace' is {{old: new, ...}}")
        pairs = [(str(k), "" if v is None else str(v)) for k, v in arg.items()]

        def replace(text: str) -> str:
            for old, new in pairs:
                text = text.replace(old, new)
            return text

        return replace
    if key == "lines":
        joiner = str(arg)
        return lambda text: joiner.join(part.strip() for part in text.splitlines() if part.strip())
    if key == "regex":
        try:
            pattern = re.compile(str(arg))
        except re.error as exc:
            raise _fail(path, line, f"column {name}: bad regular expression {arg!r}: {exc}") from None

        def search(text: str) -> str:
            found = pattern.search(text)
            if found is None:
                return ""
            return found.group(1) if pattern.groups else found.group(0)

        return search
    if key == "map":
        if not isinstance(arg, dict):
            raise _fail(path, line, f"column {name}: 'map' is {{source value: graph value, ...}} ('*' for any other)")
        table = {_fold_key(str(k)): ("" if v is None else _scalar_text(v)) for k, v in arg.items() if str(k) != "*"}
        other = arg.get("*")

        def lookup(text: str) -> str:
            found = table.get(_fold_key(text))
            if found is not None:
                return found
            return text if other is None else _scalar_text(other)

        return lookup
    if key == "decimal":
        if arg not in (",", "."):
            raise _fail(path, line, f"column {name}: decimal is ',' (1.234,5) or '.' (1,234.5)")
        return lambda text: _decimal(text, arg)
    if key == "share":
        if arg not in ("percent", "fraction"):
            raise _fail(path, line, f"column {name}: share is 'percent' (35 or 35%) or 'fraction' (0.35)")
        return _percent if arg == "percent" else lambda text: _fraction(text, where)
    formats = [str(f) for f in (arg if isinstance(arg, list) else [arg])]
    for fmt in formats:
        if fmt not in ("excel", "iso") and "%" not in fmt:
            raise _fail(path, line, f"column {name}: date format {fmt!r}: use strptime codes such as '%d/%m/%Y', or 'excel' or 'iso'")
    return lambda text: _date(text, formats, where)


def _fold_key(text: str) -> str:
    from graphinv.model import fold

    return fold(text)


def _grouped(point: str, thousands: str) -> re.Pattern[str]:
    """A number whose thousands mark (or a space) only ever separates groups of three digits."""
    groups = rf"\d{{1,3}}(?P<sep>[{re.escape(thousands)}\s])\d{{3}}((?P=sep)\d{{3}})*"
    return re.compile(rf"[+-]?({groups}|\d+)({re.escape(point)}\d+)?")


#: Per decimal mark: its name, the thousands mark, that mark's name, an example.
_DECIMAL_MARKS = {",": ("comma", ".", "a dot", "1.234.567,5"), ".": ("point", ",", "a comma", "1,234,567.5")}
_GROUPED = {point: _grouped(point, marks[1]) for point, marks in _DECIMAL_MARKS.items()}


def _decimal(text: str, point: str) -> str:
    """The number with a '.' decimal point and no thousands marks. A mark between other than three
    digits is not a thousands mark (12.5 is not 125), so the value is refused, never guessed."""
    name, thousands, other, example = _DECIMAL_MARKS[point]
    number = text.removesuffix("%").strip()
    if not _GROUPED[point].fullmatch(number):
        hint = ""
        if thousands in number:
            hint = f" ({other} only separates thousands, as in {example}; if it is the decimal mark, "
            hint += f"set decimal: '{thousands}')"
        raise ValueError(f"not a number with a decimal {name}: {text!r}{hint}")
    kept = "".join(c for c in number if c.isdigit() or c in "+-" or c == point).replace(point, ".")
    return kept + "%" if text.endswith("%") else kept


_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _number(text: str) -> str:
    number = text.strip().removesuffix("%").strip()
    if not _PLAIN_NUMBER.fullmatch(number):
        raise ValueError(f"not a number: {text!r}")
    return number


def _percent(text: str) -> str:
    # As written: formatting a float would round it (33.33333333 became 33.3333).
    return _number(text)


def _fraction(text: str, where: str) -> str:
    value = decimal.Decimal(_number(text))
    if value > 1:
        raise ValueError(f"share {text!r} is over 1, so it is not a fraction; set 'share: percent'")
    # Decimal arithmetic: 0.35 * 100 is exactly 35, and no digit of the fraction is lost.
    return format((value * 100).normalize(), "f")


_EXCEL_EPOCH = dt.date(1899, 12, 30)
_EXCEL_LAST = 2958465  # 9999-12-31, Excel's last day
_EXCEL_SERIAL = re.compile(r"\d+(\.\d+)?")
_YEAR = re.compile(r"[12]\d{3}")


def _date(text: str, formats: list[str], where: str) -> str:
    for fmt in formats:
        if fmt == "iso":
            candidate = text[:10]
            try:
                return dt.date.fromisoformat(candidate).isoformat()
            except ValueError:
                continue
        if fmt == "excel":
            if _YEAR.fullmatch(text):
                # A bare year (which the model keeps as a vague date) is far likelier in a register
                # than an Excel day of 1902-1908.
                return text
            if not _EXCEL_SERIAL.fullmatch(text) or not 1 <= float(text) <= _EXCEL_LAST:
                continue
            # Excel's day 60 is the 29 February 1900 that never was; serials from 61 on are right
            # with the 1899-12-30 epoch, which is what every spreadsheet export relies on.
            return (_EXCEL_EPOCH + dt.timedelta(days=int(float(text)))).isoformat()
        try:
            return dt.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    hint = ""
    if "excel" in formats and _EXCEL_SERIAL.fullmatch(text):
        hint = f" (an Excel serial is a day number from 1 to {_EXCEL_LAST})"
    raise ValueError(f"date {text!r} does not match {' or '.join(repr(f) for f in formats)}{hint}")


def _tidy(text: str) -> str:
    """A template's text with its empty placeholders' leftovers removed ("Cedro , , Col. X")."""
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s+([,;])", r"\1", text)
    text = re.sub(r"([,;])(\s*[,;])+", r"\1", text)
    return text.strip(" ,;")


# -- reading foreign files -------------------------------------------------------------------------


def _format_of(section: FileSection, path: Path) -> str:
    if section.format:
        return section.format
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return "excel"
    if suffix in (".json", ".jsonl", ".ndjson"):
        return "json"
    return "csv"


def _unique_header(header: list[str]) -> list[str]:
    out: list[str] = []
    for i, name in enumerate(header):
        key = column_key(name) or f"column_{i + 1}"
        base, n = key, 2
        while key in out:
            key = f"{base}_{n}"
            n += 1
        out.append(key)
    return out


def _read_csv(path: Path, section: FileSection, progress: Callable[[int], None] | None) -> tuple[list[str], Iterator[Row]]:
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed by the generator
    except OSError as exc:
        raise SourceError(f"Cannot read {str(path)!r}: {exc.strerror}") from exc
    # A strict decoder fails a whole chunk of the file on one stray byte, and every row in the
    # chunk with it; escaped, the byte stays in its own row, which is rejected alone below.
    lines = Lines(io.TextIOWrapper(handle, encoding=section.encoding, errors="surrogateescape", newline=""))
    reader = csv.reader(lines, delimiter=section.delimiter)
    try:
        for _ in range(section.header_row - 1):
            next(reader)
        header = next(reader)
        while not any(h.strip() for h in header):  # blank lines (or bare delimiters) above the header
            header = next(reader)
    except StopIteration:
        handle.close()
        raise SourceError(f"{path.name}: the file is empty; a header row is required") from None
    except csv.Error as exc:
        handle.close()
        raise SourceError(f"{path.name}:{reader.line_num}: cannot parse the header row ({exc})") from exc
    if lines.ended:
        handle.close()
        raise SourceError(f"{path.name}: the header row opens a quoted field that is never closed; close the quote")
    bad = next((h for h in header if not decodable(h)), None)
    if bad is not None:
        handle.close()
        raise SourceError(f"{path.name}:{reader.line_num}: the header has {_undecodable(bad, section.encoding)}")
    columns = _unique_header(header)

    def rows() -> Iterator[Row]:
        with handle:
            last = reader.line_num
            seen = 0
            while True:
                try:
                    fields = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    line, last = last + 1, reader.line_num
                    yield Row(line, {}, [], RecordError("*", f"cannot read the row ({exc})"))
                    continue
                line, last = last + 1, reader.line_num
                if lines.ended:
                    yield Row(line, {}, fields, unclosed(columns, fields, line, last))
                    continue
                if not fields or (len(fields) == 1 and not fields[0].strip()):
                    continue
                if len(fields) != len(columns):
                    yield Row(line, {}, fields, RecordError("*", f"expected {len(columns)} columns as in the header, found {len(fields)}"))
                    continue
                if not decodable("".join(fields)):
                    column, value = next((c, v) for c, v in zip(columns, fields) if not decodable(v))
                    yield Row(line, {}, fields, RecordError(column, _undecodable(value, section.encoding)))
                    continue
                yield Row(line, dict(zip(columns, fields)), fields)
                seen += 1
                if progress is not None and seen % 2000 == 0:
                    progress(handle.tell())
            if progress is not None:
                progress(path.stat().st_size)

    return columns, rows()


def _undecodable(value: str, encoding: str) -> str:
    codec = codecs.lookup(encoding).name
    name = "UTF-8" if codec.startswith("utf-8") else codec
    shown = value.encode("utf-8" if codec == "utf-8-sig" else codec, "surrogateescape")
    return (
        f"bytes that are not {name}: {shown!r}; set the file's encoding in the mapping "
        f"(encoding: latin-1, cp1252, ...), or save the file as {name}"
    )


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return _scalar_text(value)


def _read_excel(path: Path, section: FileSection, progress: Callable[[int], None] | None) -> tuple[list[str], Iterator[Row]]:
    try:
        import openpyxl  # an optional extra: only Excel mappings need it
    except ImportError as exc:
        raise MissingExtraError("Reading Excel needs openpyxl: pip install 'graphinv[excel]'") from exc
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise SourceError(f"{path.name}: cannot open as an Excel workbook ({exc})") from exc
    if section.sheet is not None and section.sheet not in book.sheetnames:
        book.close()
        raise SourceError(f"{path.name}: no sheet {section.sheet!r} (sheets: {', '.join(book.sheetnames)})")
    sheet = book[section.sheet] if section.sheet is not None else book.worksheets[0]
    rows_iter = sheet.iter_rows(min_row=section.header_row, values_only=True)
    try:
        header = [_cell_text(v) for v in next(rows_iter)]
    except StopIteration:
        book.close()
        raise SourceError(f"{path.name}: the sheet is empty; a header row is required") from None
    columns = _unique_header(header)

    def rows() -> Iterator[Row]:
        try:
            for number, cells in enumerate(rows_iter, start=section.header_row + 1):
                fields = [_cell_text(v) for v in cells]
                if not any(f.strip() for f in fields):
                    continue
                fields += [""] * (len(columns) - len(fields))
                yield Row(number, dict(zip(columns, fields[: len(columns)])), fields)
        finally:
            book.close()
            if progress is not None:
                progress(path.stat().st_size)

    return columns, rows()


def _read_json(path: Path, section: FileSection, progress: Callable[[int], None] | None) -> tuple[list[str] | None, Iterator[Row]]:
    def rows() -> Iterator[Row]:
        for record in read_json_records(path, progress):
            if record.error is not None:
                yield Row(record.line, {}, [record.text], record.error)
                continue
            items: list[Any] = [record.data]
            if section.records:
                inner: Any = record.data
                for part in section.records.split("."):
                    inner = inner.get(part) if isinstance(inner, dict) else None
                items = inner if isinstance(inner, list) else []
            for item in items:
                if not isinstance(item, dict):
                    yield Row(record.line, {}, [record.text], RecordError("*", "expected a JSON object"))
                    continue
                values = {column_key(k): v for k, v in flatten(item).items()}
                yield Row(record.line, values, [record.text])

    # JSON records have no header: each names its own fields, so every column is optional.
    return None, rows()


def _read(path: Path, section: FileSection, progress: Callable[[int], None] | None) -> tuple[list[str] | None, Iterator[Row]]:
    fmt = _format_of(section, path)
    if fmt == "excel":
        return _read_excel(path, section, progress)
    if fmt == "json":
        return _read_json(path, section, progress)
    return _read_csv(path, section, progress)


def _read_lookup(data_path: Path, section: FileSection, lookup: Lookup, mapping: Mapping) -> dict[str, str]:
    files = sorted(data_path.parent.glob(lookup.files))
    if not files:
        raise SourceError(f"mapping {mapping.where(lookup.line)}: lookup {lookup.name!r}: no file {lookup.files!r} beside {data_path.name}")
    table: dict[str, str] = {}
    for file in files:
        columns, rows = _read(file, section, None)
        if columns is not None:
            for needed in (lookup.key, lookup.value):
                if needed not in columns:
                    raise SourceError(
                        f"mapping {mapping.where(lookup.line)}: lookup {lookup.name!r}: column {needed!r} is not in {file.name} "
                        f"(found: {', '.join(columns)})"
                    )
        for row in rows:
            if row.error is not None:
                where = f"mapping {mapping.where(lookup.line)}: lookup {lookup.name!r}: {file.name}:{row.line}"
                raise SourceError(f"{where}: {row.error}; a lookup table is read whole, so fix this row")
            key = row.values.get(lookup.key, "").strip()
            if key and key not in table:
                table[key] = row.values.get(lookup.value, "")
    return table


# -- the adapter -----------------------------------------------------------------------------------


class _RowContext:
    """The loop's context, plus the entities this file's rows made so far (a row that names the
    firm, its owner and the share makes the firm and the owner before the link refers to them)."""

    def __init__(self, ctx: Context, made: dict[tuple[str, str], str]) -> None:
        self._ctx = ctx
        self.made = made
        self.dataset = ctx.dataset

    def local(self, value: str, kinds: tuple[str, ...], column: str) -> str:
        value = value.strip()
        found = {self.made[(k, value)] for k in kinds if (k, value) in self.made}
        if len(found) == 1:
            return found.pop()
        return self._ctx.local(value, kinds, column)

    def entities(self, value: str, column: str) -> list[str]:
        found = {self.made[(k, value.strip())] for k in ("Company", "Person", "Account") if (k, value.strip()) in self.made}
        if len(found) == 1:
            return [found.pop()]
        return self._ctx.entities(value, column)

    def company_by_tax(self, value: str) -> str | None:
        return self._ctx.company_by_tax(value)


def map_address(row: Row, ctx: Context) -> list[Item]:
    """An ``addresses`` row: an address record, and who gives it if ``holder_id`` is set."""
    values = {k: v.strip() for k, v in row.values.items() if v.strip()}
    text = values.get("address")
    if not text:
        raise RecordError("address", "missing value: every row needs one")
    key = address_key(text)
    extras = {k: v for k, v in values.items() if k not in ("address", "holder_id")}
    node = Address(id=Address.make_id(key), name=text, text=text, normalized=key, **extras)
    items: list[Item] = [node]
    if "holder_id" in values:
        holder = ctx.local(values["holder_id"], ("Company", "Person"), "holder_id")
        items.append(LinkStatement(HasAddress.rel, holder, node.id))
    return items


def _mappers() -> dict[str, Callable[[Row, Any], list[Item]]]:
    registry = adapters()
    out: dict[str, Callable[[Row, Any], list[Item]]] = {kind: registry[kind].map for kind in BUNDLE_COLUMNS}
    out["addresses"] = map_address
    return out


def _refs(section: FileSection) -> dict[str, RefSpec]:
    registry = adapters()
    refs: dict[str, RefSpec] = {}
    for i, target in enumerate(section.targets):
        if target.kind == "addresses":
            refs[f"{i}.holder_id"] = RefSpec("local", ("Company", "Person"))
            continue
        for column, spec in registry[target.kind].refs.items():
            refs[f"{i}.{column}"] = spec
    return refs


def _adapter(mapping: Mapping, section: FileSection) -> Adapter:
    mappers = _mappers()
    made: dict[tuple[str, str], str] = {}
    fingerprint = hashlib.sha256(mapping.text.encode("utf-8")).hexdigest()

    def records(path: Path, progress: Callable[[int], None] | None) -> Iterator[Row]:
        made.clear()
        columns, rows = _read(path, section, progress)
        if columns is not None:
            _check_columns(mapping, section, path, columns)
        tables = {name: _read_lookup(path, section, lookup, mapping) for name, lookup in section.lookups.items()}
        for foreign in rows:
            if foreign.error is not None:
                yield Row(foreign.line, {}, foreign.fields, foreign.error)
                continue
            if any(c.holds(foreign.values) for c in section.skip):
                continue
            yield _canonical(mapping, section, foreign, tables)

    def map_row(row: Row, ctx: Context) -> list[Item]:
        groups: dict[int, dict[str, str]] = {}
        for key, value in row.values.items():
            index, _, column = key.partition(".")
            groups.setdefault(int(index), {})[column] = value
        rctx = _RowContext(ctx, dict(made))
        items: list[Item] = []
        for index in sorted(groups):
            target = section.targets[index]
            try:
                got = mappers[target.kind](Row(row.line, groups[index], row.fields), rctx)
            except RecordError as exc:
                raise _explain(mapping, target, exc.column, exc.reason) from None
            except ValidationError as exc:
                error = validation_error(exc)
                raise _explain(mapping, target, error.column, error.reason) from None
            for item in got:
                bundle_id = getattr(item, "bundle_id", None) if isinstance(item, Node) else None
                if bundle_id is not None:
                    rctx.made[(item.label, bundle_id)] = item.id
            items += got
        made.update(rctx.made)
        return items

    return Adapter(
        kind=f"mapping:{mapping.name}",
        records=records,
        map=map_row,
        refs=_refs(section),
        order=1000 + section.index,
        fingerprint=fingerprint,
    )


def _explain(mapping: Mapping, target: Target, column: str, reason: str) -> RecordError:
    spec = target.columns.get(column)
    if spec is None:
        return RecordError(column, f"{reason} ({target.kind}.{column}, mapping {mapping.where(target.line)})")
    return RecordError(spec.label, f"{reason} ({target.kind}.{column}, mapping {mapping.where(spec.line)})")


def _check_columns(mapping: Mapping, section: FileSection, path: Path, columns: list[str]) -> None:
    known = set(columns)
    checks: list[tuple[str, int, bool]] = []
    for condition in section.skip:
        checks.append((condition.column, condition.line, condition.optional))
    for target in section.targets:
        for condition in target.when:
            checks.append((condition.column, condition.line, condition.optional))
        for spec in target.columns.values():
            checks += [(c, spec.line, spec.optional) for c in spec.inputs()]
    for column, line, optional in checks:
        if column not in known and not optional:
            raise SourceError(
                f"mapping {mapping.where(line)}: column {column!r} is not in {path.name} "
                f"(found: {', '.join(columns)}){_closest(column, known) if known else ''}; "
                "fix the name, or mark it 'optional: true' if some files lack it"
            )


def _canonical(mapping: Mapping, section: FileSection, foreign: Row, tables: dict[str, dict[str, str]]) -> Row:
    values: dict[str, str] = {}
    taken = False
    for index, target in enumerate(section.targets):
        if not all(c.holds(foreign.values) for c in target.when):
            continue
        taken = True
        for name, spec in target.columns.items():
            try:
                text = spec.compute(foreign.values, tables)
            except _ValueProblem as problem:
                error = RecordError(problem.column, f"{problem.reason} ({target.kind}.{name}, mapping {mapping.where(spec.line)})")
                return Row(foreign.line, {}, foreign.fields, error)
            if text:
                values[f"{index}.{name}"] = text
        if not any(k.startswith(f"{index}.") for k in values):
            values[f"{index}.{next(iter(target.columns))}"] = ""
    if not taken:
        tested = sorted({c.column for t in section.targets for c in t.when}) or ["*"]
        shown = ", ".join(f"{c}={foreign.values.get(c, '')!r}" for c in tested if c != "*")
        reason = f"no target of mapping {mapping.path.name} takes this row ({shown or 'no conditions met'}); add a target or a 'skip' rule"
        return Row(foreign.line, {}, foreign.fields, RecordError(tested[0], reason))
    return Row(foreign.line, values, foreign.fields)


def plan_mapping(
    mapping_path: str | os.PathLike[str], sources: Sequence[str | os.PathLike[str]], *, dataset: str | None
) -> list[tuple[Path, Adapter, str]]:
    """Which file each source is and how the mapping reads it, in the mapping's section order."""
    mapping = load_mapping(mapping_path)
    if not sources:
        raise SourceError("Nothing to ingest: give at least one file or folder for the mapping to read")
    adapters_by_section = {s.index: _adapter(mapping, s) for s in mapping.sections}
    plans: list[tuple[int, str, Path, Adapter, str]] = []
    for source in sources:
        path = Path(source)
        if path.is_dir():
            found = False
            for section in mapping.sections:
                pattern = section.match or "*"
                for file in sorted(p for p in path.iterdir() if p.is_file() and fnmatch.fnmatch(p.name, pattern)):
                    name = dataset or mapping.dataset or path.resolve().name
                    plans.append((section.index, str(file), file, adapters_by_section[section.index], name))
                    found = True
            if not found:
                patterns = ", ".join(s.match or "*" for s in mapping.sections)
                raise SourceError(f"{str(path)!r} holds no file that mapping {mapping.path.name} reads (it matches: {patterns})")
        elif path.is_file():
            section = _section_for(mapping, path)
            name = dataset or mapping.dataset or path.resolve().parent.name
            plans.append((section.index, str(path), path, adapters_by_section[section.index], name))
        else:
            raise SourceError(f"No such file or folder: {str(path)!r}")
    plans.sort(key=lambda p: (p[0], p[1]))
    return [(p[2], p[3], p[4]) for p in plans]


def _section_for(mapping: Mapping, path: Path) -> FileSection:
    for section in mapping.sections:
        if section.match is None or fnmatch.fnmatch(path.name, section.match):
            return section
    if len(mapping.sections) == 1:
        return mapping.sections[0]
    patterns = ", ".join(s.match or "*" for s in mapping.sections)
    raise SourceError(f"mapping {mapping.path.name} has no file section for {path.name!r} (its sections match: {patterns})")
