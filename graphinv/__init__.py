"""graphinv: registries, owners, spouses, accounts, watchlists and customs records in one graph."""

from graphinv.demo import DemoResult, fixture_dir, run_demo
from graphinv.exc import (
    CaseError,
    GraphinvError,
    MissingExtraError,
    OutputError,
    RecordError,
    RefError,
    SourceError,
    StoreUnavailableError,
)
from graphinv.export import write_jsonl
from graphinv.ingest import FileReport, IngestReport, StrictIngestError, adapters, ingest, register
from graphinv.model import (
    LINK_KINDS,
    NODE_KINDS,
    Account,
    Address,
    Company,
    Exported,
    Family,
    HasAddress,
    Holds,
    Imported,
    Link,
    Node,
    OfficerOf,
    Owns,
    Person,
    PossiblySameAs,
    Shipment,
)
from graphinv.resolve import ResolveReport, read_judgements, resolve
from graphinv.store import CaseFile, load_graph, project

__version__ = "0.1.0"

__all__ = [
    "LINK_KINDS",
    "NODE_KINDS",
    "Account",
    "Address",
    "CaseError",
    "CaseFile",
    "Company",
    "DemoResult",
    "Exported",
    "Family",
    "FileReport",
    "GraphinvError",
    "HasAddress",
    "Holds",
    "Imported",
    "IngestReport",
    "Link",
    "MissingExtraError",
    "Node",
    "OfficerOf",
    "OutputError",
    "Owns",
    "Person",
    "PossiblySameAs",
    "RecordError",
    "RefError",
    "ResolveReport",
    "Shipment",
    "SourceError",
    "StoreUnavailableError",
    "StrictIngestError",
    "adapters",
    "fixture_dir",
    "ingest",
    "load_graph",
    "project",
    "read_judgements",
    "register",
    "resolve",
    "run_demo",
    "write_jsonl",
]
