"""JSON-lines export (DESIGN §5): one object a line, every node, then every link."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

import orjson

from graphinv.export.files import write_file
from graphinv.store import CaseFile

__all__ = ["jsonl_lines", "write_jsonl", "write_lines"]


def jsonl_lines(case: CaseFile) -> Iterator[bytes]:
    """Each node as {"type": "node", ...}, then each link as {"type": "link", "rel", "source", "target", ...}."""
    for node in case.nodes():
        yield orjson.dumps({"type": "node", **node}) + b"\n"
    for link in case.links():
        yield orjson.dumps({"type": "link", **link}) + b"\n"


def write_jsonl(case: str | os.PathLike[str], output: str | os.PathLike[str] | IO[bytes]) -> int:
    """Write the case as JSON lines to a path, to ``-`` (standard output) or to a binary stream.

    Streams from the case file. Returns the number of lines written. A file is written whole or
    not at all.
    """
    return write_lines(case, output, jsonl_lines)


def write_lines(
    case: str | os.PathLike[str],
    output: str | os.PathLike[str] | IO[bytes],
    lines: Callable[[CaseFile], Iterable[bytes]],
) -> int:
    """Write what ``lines`` makes of the case to a path, ``-`` or a binary stream; a path is
    written whole or not at all (:func:`~graphinv.export.files.write_file`)."""
    with CaseFile(case) as opened:
        if output == "-":
            return _dump(lines(opened), sys.stdout.buffer)
        if not isinstance(output, (str, os.PathLike)):
            return _dump(lines(opened), output)
        return write_file(output, lambda handle: _dump(lines(opened), handle))


def _dump(lines: Iterable[bytes], handle: IO[bytes] | Any) -> int:
    count = 0
    for line in lines:
        handle.write(line)
        count += 1
    handle.flush()
    return count
