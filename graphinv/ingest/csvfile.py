"""Streaming CSV reading with exact line numbers and per-row structural checks."""

from __future__ import annotations

import codecs
import csv
import functools
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphinv.exc import RecordError, SourceError

__all__ = ["CsvBatches", "Lines", "Row", "column_key", "decodable", "read_csv", "unclosed"]

# Registry exports carry fields far beyond csv's 128 KiB default (long object descriptions).
csv.field_size_limit(64 * 1024 * 1024)


@dataclass(slots=True)
class Row:
    """One record of a source: where it starts, its values by column, and what was wrong with it."""

    line: int
    values: dict[str, str]
    fields: list[str]
    error: RecordError | None = None

    @property
    def raw(self) -> str:
        """The record as CSV text, for the rejects file (built only for rejected rows)."""
        buf = io.StringIO()
        csv.writer(buf, lineterminator="").writerow(
            [f.encode("utf-8", "surrogateescape").decode("utf-8", "replace") for f in self.fields]
        )
        return buf.getvalue()


_SNAKE = re.compile(r"[\W_]+")


@functools.lru_cache(maxsize=4096)  # templates look their placeholders up on every row
def column_key(header: str) -> str:
    """Header names compare in snake_case, accents and case ignored: 'Tax ID' and 'tax_id' are one
    column, 'Razón Social' reads as 'razon_social', and 'ИНН' as 'инн' (any script's letters stay)."""
    text = unicodedata.normalize("NFKD", header.strip().lstrip("\ufeff"))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return _SNAKE.sub("_", text).strip("_")


def read_csv(
    path: Path,
    *,
    required: tuple[str, ...] = (),
    progress: Callable[[int], None] | None = None,
) -> Iterator[Row]:
    """Yield each data row of a UTF-8 CSV file with its first line number.

    Rows with the wrong number of columns or bytes that are not UTF-8 come back with ``error``
    set, so the caller can report them and go on. A file that cannot be read at all, or whose
    header lacks a required column, raises :class:`SourceError`.
    """
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed in the finally below
    except OSError as exc:
        raise SourceError(f"Cannot read {str(path)!r}: {exc.strerror}") from exc
    try:
        lines = Lines(io.TextIOWrapper(handle, encoding="utf-8-sig", errors="surrogateescape", newline=""))
        reader = csv.reader(lines)
        header, line = _header(path, reader, lines)
        columns = [column_key(h) for h in header]
        _check_header(path, header, columns, required, line)
        width = len(columns)
        last_line = reader.line_num
        seen = 0
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                line = last_line + 1
                last_line = reader.line_num
                yield Row(line, {}, [], RecordError("*", f"cannot parse the row as CSV ({exc})"))
                continue
            line = last_line + 1
            last_line = reader.line_num
            if lines.ended:
                yield Row(line, {}, fields, unclosed(columns, fields, line, last_line))
                continue
            if not fields:
                continue
            if len(fields) != width:
                if len(fields) == 1 and not fields[0].strip():
                    continue
                error = RecordError("*", f"expected {width} columns as in the header, found {len(fields)}")
                yield Row(line, {}, fields, error)
                continue
            values = dict(zip(columns, fields))
            try:
                "".join(fields).encode("utf-8")
            except UnicodeEncodeError:
                yield Row(line, {}, fields, _undecodable(columns, fields))
                continue
            yield Row(line, values, fields)
            seen += 1
            if progress is not None and seen % 2000 == 0:
                progress(handle.tell())
        if progress is not None:
            progress(handle.tell())
    finally:
        handle.close()


def _check_header(path: Path, header: list[str], columns: list[str], required: tuple[str, ...], line: int) -> None:
    if any(not c for c in columns):
        raise SourceError(f"{path.name}:{line}: the header has an empty column name; name every column")
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    if dupes:
        raise SourceError(f"{path.name}:{line}: the header names {', '.join(map(repr, dupes))} more than once")
    missing = [c for c in required if c not in columns]
    if missing:
        raise SourceError(
            f"{path.name}:{line}: missing column {', '.join(map(repr, missing))} "
            f"(found: {', '.join(header)}); add it, or ingest the file with a --mapping"
        )


class Lines:
    """A text's lines for ``csv.reader``, noting when they run out.

    csv takes the end of the file inside a quoted field as the field's end, so one quote left open
    swallows every line after it into one value. The reader asks for a line past the last only
    while a row is still open: a row read after ``ended`` is such a row (see :func:`unclosed`)."""

    def __init__(self, text: Iterable[str]) -> None:
        self._text = text
        self.ended = False

    def __iter__(self) -> Iterator[str]:
        yield from self._text
        self.ended = True


def unclosed(columns: list[str], fields: list[str], line: int, last: int) -> RecordError:
    """The rejection of a row whose quote is never closed (``line`` to ``last``: the lines it ran over)."""
    column = columns[len(fields) - 1] if 0 < len(fields) <= len(columns) else "*"
    span = f"line {last}" if last == line + 1 else f"lines {line + 1}-{last}"
    rest = f", so the rest of the file ({span}) is inside it" if last > line else ""
    return RecordError(column, f"a quoted field opened in this row is never closed{rest}; close the quote")


def _header(path: Path, reader: Any, lines: Lines) -> tuple[list[str], int]:
    """The header row and the line it starts on, past any blank lines before it (spreadsheet
    exports may open with empty lines, or lines of bare commas, above the header)."""
    line = 1
    try:
        header = next(reader)
        while not any(f.strip() for f in header) and not lines.ended:
            line = reader.line_num + 1
            header = next(reader)
    except StopIteration:
        raise SourceError(f"{path.name}: the file is empty; a header row is required") from None
    except csv.Error as exc:
        raise SourceError(f"{path.name}:{line}: cannot parse the header row ({exc})") from exc
    if lines.ended:
        raise SourceError(f"{path.name}: the header row opens a quoted field that is never closed; close the quote")
    return header, line


def decodable(text: str) -> bool:
    """Whether a text read with ``errors="surrogateescape"`` holds no byte its encoding could not
    decode (each such byte is a lone surrogate, which UTF-8 cannot encode)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _undecodable(columns: list[str], fields: list[str]) -> RecordError:
    for column, value in zip(columns, fields):
        if not decodable(value):
            shown = value.encode("utf-8", "surrogateescape")
            return RecordError(column, f"bytes that are not UTF-8: {shown!r}; save the file as UTF-8")
    return RecordError("*", "bytes that are not UTF-8; save the file as UTF-8")


class CsvBatches:
    """The data rows of a UTF-8 CSV file in batches, for the bundle fast path.

    Each batch holds ``(line, fields)`` for a row of the header's width and a :class:`Row` with
    ``error`` set for any other row, in file order, with exactly the checks and line numbers of
    :func:`read_csv` (which builds a dict per row; this does not).
    """

    def __init__(
        self,
        path: Path,
        *,
        required: tuple[str, ...] = (),
        size: int = 2000,
    ) -> None:
        self.path = path
        self._size = size
        self._clean = False
        try:
            self._handle = open(path, "rb")  # noqa: SIM115 - closed by close() or the iteration
        except OSError as exc:
            raise SourceError(f"Cannot read {str(path)!r}: {exc.strerror}") from exc
        try:
            self._lines = Lines(io.TextIOWrapper(self._handle, encoding="utf-8-sig", errors="surrogateescape", newline=""))
            self._reader = csv.reader(self._lines)
            header, line = _header(path, self._reader, self._lines)
            self.columns = [column_key(h) for h in header]
            _check_header(path, header, self.columns, required, line)
        except BaseException:
            self._handle.close()
            raise

    def close(self) -> None:
        self._handle.close()

    def tell(self) -> int:
        """Bytes of the file read so far (for progress)."""
        return self._handle.tell()

    def __iter__(self) -> Iterator[list[tuple[int, list[str]] | Row]]:
        try:
            yield from self._batches()
        finally:
            self._handle.close()

    def _batches(self) -> Iterator[list[tuple[int, list[str]] | Row]]:
        reader, columns, size = self._reader, self.columns, self._size
        # One strict decode of the whole file (C speed) spares a per-row check for stray bytes;
        # done here, so that it runs in the parse worker.
        self._clean = _is_utf8(self.path)
        width = len(columns)
        last_line = reader.line_num
        batch: list[tuple[int, list[str]] | Row] = []
        while True:
            try:
                for fields in reader:
                    line = last_line + 1
                    last_line = reader.line_num
                    if self._lines.ended:
                        batch.append(Row(line, {}, fields, unclosed(columns, fields, line, last_line)))
                        continue
                    if len(fields) != width:
                        if not fields or (len(fields) == 1 and not fields[0].strip()):
                            continue
                        error = RecordError("*", f"expected {width} columns as in the header, found {len(fields)}")
                        batch.append(Row(line, {}, fields, error))
                        continue
                    batch.append((line, fields))
                    if len(batch) >= size:
                        yield self._checked(batch)
                        batch = []
                break
            except csv.Error as exc:
                line = last_line + 1
                last_line = reader.line_num
                batch.append(Row(line, {}, [], RecordError("*", f"cannot parse the row as CSV ({exc})")))
        if batch:
            yield self._checked(batch)

    def _checked(self, batch: list[tuple[int, list[str]] | Row]) -> list[tuple[int, list[str]] | Row]:
        if self._clean:
            return batch
        out: list[tuple[int, list[str]] | Row] = []
        for item in batch:
            if type(item) is tuple:
                line, fields = item
                try:
                    "".join(fields).encode("utf-8")
                except UnicodeEncodeError:
                    item = Row(line, {}, fields, _undecodable(self.columns, fields))
            out.append(item)
        return out


def _is_utf8(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except (UnicodeDecodeError, OSError):
        return False
    return True
