"""Ingest: adapters per source kind and the one loop that reads, maps, reports and stores rows."""

from graphinv.ingest import bundle as _bundle  # noqa: F401 - registers the canonical bundle adapters
from graphinv.ingest import ftm as _ftm  # noqa: F401 - registers FollowTheMoney entity streams
from graphinv.ingest import bods as _bods  # noqa: F401 - registers BODS packages
from graphinv.ingest.core import (
    Adapter,
    BadValue,
    Context,
    FileReport,
    Flag,
    IngestReport,
    Progress,
    RefSpec,
    StrictIngestError,
    adapters,
    ingest,
    register,
    rejects_path,
)
from graphinv.ingest.csvfile import Row, read_csv

__all__ = [
    "Adapter",
    "BadValue",
    "Context",
    "FileReport",
    "Flag",
    "IngestReport",
    "Progress",
    "RefSpec",
    "Row",
    "StrictIngestError",
    "adapters",
    "ingest",
    "read_csv",
    "register",
    "rejects_path",
]
