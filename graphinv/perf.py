"""Small performance helpers shared by the layers (no graphinv imports)."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["gc_paused"]


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector around bulk work.

    Building millions of dicts that all stay alive makes the collector rescan them again and
    again (measured: 40% of a 100k-company projection, 11% of an ingest). That work creates no
    reference cycles, so nothing is lost by collecting once at the end instead.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
