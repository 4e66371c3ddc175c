"""Streaming CSV reading with exact line numbers and per-row structural checks."""

from __future__ import annotations

import codecs
import csv
import functools
import io
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from graphinv.exc import RecordError, SourceError

__all__ = ["Row", "read_csv", "column_key", "CsvBatches"]

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
        text = io.TextIOWrapper(handle, encoding="utf-8-sig", errors="surrogateescape", newline="")
        reader = csv.reader(text)
        try:
            header = next(reader)
        except StopIteration:
            raise SourceError(f"{path.name}: the file is empty; a header row is required") from None
        except csv.Error as exc:
            raise SourceError(f"{path.name}:1: cannot parse the header row ({exc})") from exc
        columns = [column_key(h) for h in header]
        _check_header(path, header, columns, required)
        width = len(columns)
        last_line = reader.line_num
        seen = 0
        held: Row | None = None  # each row waits for the next: the last one may hold an unclosed quote
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                line = last_line + 1
                last_line = reader.line_num
                row = Row(line, {}, [], RecordError("*", f"cannot parse the row as CSV ({exc})"))
            else:
                line = last_line + 1
                last_line = reader.line_num
                if not fields or (len(fields) != width and len(fields) == 1 and not fields[0].strip()):
                    continue
                if len(fields) != width:
                    error = RecordError("*", f"expected {width} columns as in the header, found {len(fields)}")
                    row = Row(line, {}, fields, error)
                else:
                    try:
                        "".join(fields).encode("utf-8")
                        row = Row(line, dict(zip(columns, fields)), fields)
                    except UnicodeEncodeError:
                        row = Row(line, {}, fields, _undecodable(columns, fields))
            if held is not None:
                yield held
            held = row
            seen += 1
            if progress is not None and seen % 2000 == 0:
                progress(handle.tell())
        if held is not None:
            yield _closed(path, held, last_line)
        if progress is not None:
            progress(handle.tell())
    finally:
        handle.close()


def _check_header(path: Path, header: list[str], columns: list[str], required: tuple[str, ...]) -> None:
    if any(not c for c in columns):
        raise SourceError(f"{path.name}:1: the header has an empty column name; name every column")
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    if dupes:
        raise SourceError(f"{path.name}:1: the header names {', '.join(map(repr, dupes))} more than once")
    missing = [c for c in required if c not in columns]
    if missing:
        raise SourceError(
            f"{path.name}:1: missing column {', '.join(map(repr, missing))} "
            f"(found: {', '.join(header)}); add it, or ingest the file with a --mapping"
        )


def _closed(path: Path, row: Row, last_line: int) -> Row:
    """The file's last row, or a rejection of it when a quote opened in it is never closed.

    Python's csv reader takes the end of the file as the end of an open quoted field, so a quote
    left open swallows every line after it into one value, and those rows would vanish without a
    word. Only a row whose last value ends in a line break can be such a row; its lines are then
    parsed again, strictly, to tell."""
    if not row.fields or not row.fields[-1].endswith(("\n", "\r")):
        return row
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        tail = "".join(itertools.islice(handle, row.line - 1, None))
    try:
        for _ in csv.reader(io.StringIO(tail, newline=""), strict=True):
            pass
    except csv.Error as exc:
        if "end of data" not in str(exc):
            return row
        reason = (
            f"a quoted field opened on this line is never closed, so lines {row.line}-{last_line} (the rest of "
            "the file) read as one value; close the quote"
        )
        return Row(row.line, {}, row.fields, RecordError("*", reason))
    return row


def _undecodable(columns: list[str], fields: list[str]) -> RecordError:
    for column, value in zip(columns, fields):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
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
            text = io.TextIOWrapper(self._handle, encoding="utf-8-sig", errors="surrogateescape", newline="")
            self._reader = csv.reader(text)
            try:
                header = next(self._reader)
            except StopIteration:
                raise SourceError(f"{path.name}: the file is empty; a header row is required") from None
            except csv.Error as exc:
                raise SourceError(f"{path.name}:1: cannot parse the header row ({exc})") from exc
            self.columns = [column_key(h) for h in header]
            _check_header(path, header, self.columns, required)
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
            last = batch[-1]
            if type(last) is tuple:
                last = Row(last[0], {}, last[1])
            checked = _closed(self.path, last, last_line)
            if checked.error is not None and checked is not batch[-1]:
                batch[-1] = checked
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
