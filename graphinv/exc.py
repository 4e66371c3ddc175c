"""The graphinv error tree: one base class, subclasses named for who must react."""

from __future__ import annotations

__all__ = [
    "CaseError",
    "GraphinvError",
    "MissingExtraError",
    "OutputError",
    "RecordError",
    "RefError",
    "SourceError",
    "StoreUnavailableError",
]


class GraphinvError(Exception):
    """Base of every error graphinv raises on purpose; the CLI turns it into a clean message."""


class RecordError(GraphinvError):
    """One input row is bad; the ingest loop reports it with its location and goes on."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(f"{column}: {reason}")
        self.column = column
        self.reason = reason


class SourceError(GraphinvError):
    """A whole source cannot be read (missing file, no header, unknown kind): the run stops."""


class CaseError(GraphinvError):
    """The case file cannot be used as asked (not a case file, written by a newer version, ambiguous REF)."""


class RefError(CaseError):
    """A REF given by the user names no entity, or several."""


class StoreUnavailableError(GraphinvError):
    """A graph store (a Neo4j server) cannot be reached or refuses the credentials."""


class MissingExtraError(GraphinvError):
    """An optional dependency needed by this command is not installed."""


class OutputError(GraphinvError):
    """An output file or folder cannot be written (no such folder, a folder where a file goes): give another path."""
