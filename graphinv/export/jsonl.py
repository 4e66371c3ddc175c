"""JSON-lines export (DESIGN §5): one object a line, every node, then every link."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import orjson

from graphinv.store import CaseFile

__all__ = ["write_jsonl", "jsonl_lines"]


def jsonl_lines(case: CaseFile) -> Iterator[bytes]:
    """Each node as {"type": "node", ...}, then each link as {"type": "link", "rel", "source", "target", ...}."""
    for node in case.nodes():
        yield orjson.dumps({"type": "node", **node}) + b"\n"
    for link in case.links():
        yield orjson.dumps({"type": "link", **link}) + b"\n"


def write_jsonl(case: str | os.PathLike[str], output: str | os.PathLike[str] | IO[bytes]) -> int:
    """Write the case as JSON lines to a path, to ``-`` (standard output) or to a binary stream.

    Streams from the case file, so memory stays flat however large the case. Returns the number of
    lines written. A file is written whole or not at all.
    """
    with CaseFile(case) as opened:
        if output == "-":
            return _dump(opened, sys.stdout.buffer)
        if not isinstance(output, (str, os.PathLike)):
            return _dump(opened, output)
        target = Path(output)
        tmp = target.with_name(target.name + ".tmp")
        with open(tmp, "wb") as handle:
            count = _dump(opened, handle)
        os.replace(tmp, target)
        return count


def _dump(case: CaseFile, handle: IO[bytes] | Any) -> int:
    count = 0
    for line in jsonl_lines(case):
        handle.write(line)
        count += 1
    handle.flush()
    return count
