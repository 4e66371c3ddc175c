"""Output files written whole or not at all, and a clean error for a path that cannot take one."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, TypeVar

from graphinv.exc import OutputError

__all__ = ["ensure_folder", "write_file"]

T = TypeVar("T")


def ensure_folder(folder: str | os.PathLike[str], *, create: bool, writing: str | os.PathLike[str]) -> None:
    """Make sure ``folder`` is a folder to write ``writing`` in: create it (with ``create``) or
    raise an :class:`OutputError` that names the path and the fix."""
    folder = Path(folder)
    if folder.is_dir():
        return
    found = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if found is not None and not found.is_dir():
        raise OutputError(f"Cannot write {str(writing)!r}: {str(found)!r} is a file, not a folder; give another path")
    if not create:
        raise OutputError(
            f"Cannot write {str(writing)!r}: no such folder {str(folder)!r}; create it or give another path"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"Cannot write {str(writing)!r}: cannot create the folder {str(folder)!r} ({exc.strerror}); "
            "give another path"
        ) from exc


def write_file(output: str | os.PathLike[str], write: Callable[[IO[bytes]], T], *, make_folder: bool = False) -> T:
    """Call ``write`` with a temporary file beside ``output``, then rename it to ``output``, so a
    reader never sees half a file; on any failure the temporary file is removed.

    A missing folder is created with ``make_folder``, else it is an :class:`OutputError`, as are a
    folder at ``output`` and any other path the system will not write.
    """
    target = Path(output)
    if target.is_dir():
        raise OutputError(
            f"Cannot write {str(target)!r}: it is a folder; give a file path (a name inside it, or another path)"
        )
    ensure_folder(target.parent, create=make_folder, writing=target)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            result = write(handle)
        os.replace(tmp, target)
    except OSError as exc:
        raise OutputError(f"Cannot write {str(target)!r}: {exc.strerror or exc}; give another path") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return result
