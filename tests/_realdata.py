"""Where the shared real data lives (CI has shared/ beside the repository), and helpers to load it."""

from __future__ import annotations

from pathlib import Path

import pytest

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
MAPPINGS = Path(__file__).resolve().parents[1] / "fixtures" / "mappings"


def realdata(*parts: str) -> Path:
    path = REALDATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not found at {path} (CI lays shared/ beside the repository)")
    return path
