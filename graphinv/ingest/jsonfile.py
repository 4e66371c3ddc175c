"""Streaming JSON reading with line numbers: a top-level array of objects, or JSON lines."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphinv.exc import RecordError, SourceError
from graphinv.ingest.csvfile import decodable

__all__ = ["JsonRecord", "read_json_records", "read_head", "first_char", "flatten"]

_DECODER = json.JSONDecoder()
_SPACE = " \t\r\n\ufeff"


@dataclass(slots=True)
class JsonRecord:
    """One JSON object of a source, the line it starts on, its text, and what was wrong with it."""

    line: int
    data: Any
    text: str
    error: RecordError | None = None


def read_head(path: Path, size: int = 16384) -> bytes:
    """The first bytes of a file, for recognising its kind by content (b'' if unreadable)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(size)
    except OSError:
        return b""


def first_char(path: Path, size: int = 4096) -> str:
    """The first non-blank character of a file ('' for an empty or unreadable file)."""
    return read_head(path, size).decode("utf-8", "replace").lstrip(_SPACE)[:1]


def read_json_records(path: Path, progress: Callable[[int], None] | None = None) -> Iterator[JsonRecord]:
    """Yield each object of a JSON array file, or each line of a JSON-lines file, with its line.

    A single top-level object counts as a one-record file. An unparseable JSON line, or a line or
    array element with bytes that are not UTF-8, is yielded with ``error`` set (the rest goes on);
    an array that does not parse stops the file, since no later element can be located.
    """
    if first_char(path) == "[" or first_char(path) == "{" and not _looks_like_lines(path):
        yield from _array_records(path, progress)
        return
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise SourceError(f"Cannot read {str(path)!r}: {exc.strerror}") from exc
    with handle:
        seen = 0
        for number, raw in enumerate(handle, start=1):
            try:
                text = raw.decode("utf-8").strip()
            except UnicodeDecodeError:
                text = raw.decode("utf-8", "surrogateescape").strip()
                yield JsonRecord(number, None, text, _undecodable(text))
                continue
            if not text:
                continue
            try:
                data = json.loads(text)
            except ValueError as exc:
                yield JsonRecord(number, None, text, RecordError("*", f"not valid JSON ({exc})"))
                continue
            yield JsonRecord(number, data, text)
            seen += 1
            if progress is not None and seen % 2000 == 0:
                progress(handle.tell())
        if progress is not None:
            progress(handle.tell())


def _looks_like_lines(path: Path) -> bool:
    """A file starting with '{' is JSON lines when its first line is a whole object."""
    with open(path, "rb") as handle:
        first = handle.readline().decode("utf-8", "replace").strip()
    try:
        return isinstance(json.loads(first), dict)
    except ValueError:
        return False


def _array_records(path: Path, progress: Callable[[int], None] | None) -> Iterator[JsonRecord]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"Cannot read {str(path)!r}: {exc.strerror}") from exc
    try:
        text = raw.decode("utf-8-sig")
        clean = True
    except UnicodeDecodeError:
        # Bytes that are not UTF-8 are never JSON's brackets, commas or quotes, so the array still
        # splits into its elements: each bad byte becomes a lone surrogate, and only the elements
        # holding one are rejected.
        text = raw.decode("utf-8-sig", "surrogateescape")
        clean = False
    # Element offsets come from raw_decode, so each record knows the line it starts on without a
    # second, position-tracking parser.
    lines = _LineIndex(text)
    pos = _skip(text, 0)
    if text.startswith("{", pos):
        try:
            data, end = _DECODER.raw_decode(text, pos)
        except ValueError as exc:
            raise SourceError(f"{path.name}: not valid JSON ({exc})") from exc
        yield _array_record(lines, pos, data, text[pos:end], clean)
        return
    pos = _skip(text, pos + 1)
    while pos < len(text) and text[pos] != "]":
        try:
            data, end = _DECODER.raw_decode(text, pos)
        except ValueError as exc:
            raise SourceError(f"{path.name}:{lines.line(pos)}: not valid JSON ({exc}); fix the file, nothing after this point can be read") from exc
        yield _array_record(lines, pos, data, text[pos:end], clean)
        pos = _skip(text, end)
        if pos < len(text) and text[pos] == ",":
            pos = _skip(text, pos + 1)
    if progress is not None:
        progress(len(text.encode("utf-8", "replace")))


def _array_record(lines: _LineIndex, pos: int, data: Any, text: str, clean: bool) -> JsonRecord:
    line = lines.line(pos)
    if clean or decodable(text):
        return JsonRecord(line, data, text)
    at = lines.line(pos + _bad_byte(text))
    return JsonRecord(line, None, text, _undecodable(text, data, at if at != line else None))


def _bad_byte(text: str) -> int:
    """Where the first byte that is not UTF-8 is in a text decoded with surrogateescape."""
    return next(n for n, char in enumerate(text) if "\udc80" <= char <= "\udcff")


def _undecodable(text: str, data: Any = None, line: int | None = None) -> RecordError:
    """The rejection of a record with bytes that are not UTF-8 (``text`` and ``data`` hold them as
    lone surrogates): the JSON path of the first value or key that has them, and its bytes."""
    if data is None:
        try:
            data = json.loads(text)
        except ValueError:
            data = None
    found = _bad_value(data, "") if data is not None else None
    if found is None:
        at = _bad_byte(text)
        found = ("*", text[max(0, at - 20) : at + 20])
    where = f" on line {line}" if line is not None else ""
    shown = found[1].encode("utf-8", "surrogateescape")
    return RecordError(found[0], f"bytes that are not UTF-8{where}: {shown!r}; save the file as UTF-8")


def _bad_value(data: Any, path: str) -> tuple[str, str] | None:
    if isinstance(data, str):
        return None if decodable(data) else (path or "*", data)
    if isinstance(data, dict):
        for key, value in data.items():
            if not decodable(str(key)):
                return path or "*", str(key)
            here = f"{path}.{key}" if path else str(key)
            found = _bad_value(value, here)
            if found is not None:
                return found
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found = _bad_value(value, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _SPACE:
        pos += 1
    return pos


class _LineIndex:
    def __init__(self, text: str) -> None:
        self._starts = [0]
        find = text.find
        at = find("\n")
        while at != -1:
            self._starts.append(at + 1)
            at = find("\n", at + 1)

    def line(self, offset: int) -> int:
        import bisect

        return bisect.bisect_right(self._starts, offset)


def flatten(data: Any, prefix: str = "", out: dict[str, str] | None = None) -> dict[str, str]:
    """A nested JSON record as flat ``a.b.0.c`` text values; a list of scalars is also given whole
    under its own key, joined with '; ', so a mapping can test or search it."""
    if out is None:
        out = {}
    if isinstance(data, dict):
        for key, value in data.items():
            flatten(value, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(data, list):
        scalars = [v for v in data if not isinstance(v, (dict, list))]
        if prefix and scalars:
            out[prefix] = "; ".join(_text(v) for v in scalars)
        for index, value in enumerate(data):
            flatten(value, f"{prefix}.{index}" if prefix else str(index), out)
    elif prefix:
        out[prefix] = _text(data)
    return out


def _text(value: Any) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
