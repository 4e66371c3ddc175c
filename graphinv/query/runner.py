"""Run an investigation by its command-line name with command-line style options, checking that
each option given applies to it (the CLI's one library call)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import networkx as nx

from graphinv.exc import GraphinvError
from graphinv.query.cluster import cluster
from graphinv.query.freeze_list import freeze_list
from graphinv.query.matches import matches
from graphinv.query.new_importers import new_importers
from graphinv.query.path import path
from graphinv.query.results import QueryResult
from graphinv.query.risk import risk
from graphinv.query.shared_addresses import shared_addresses
from graphinv.query.shared_owners import shared_owners
from graphinv.query.ubo import ubo

__all__ = ["INVESTIGATIONS", "OPTIONS", "REF_COUNTS", "run"]

#: Every investigation by its command-line name; the Python function has the same name in snake_case.
INVESTIGATIONS: dict[str, Callable[..., QueryResult]] = {
    "shared-addresses": shared_addresses,
    "shared-owners": shared_owners,
    "cluster": cluster,
    "ubo": ubo,
    "path": path,
    "freeze-list": freeze_list,
    "new-importers": new_importers,
    "risk": risk,
    "matches": matches,
}

#: The keyword options each investigation takes (the CLI's --kebab-case spelling of each).
OPTIONS: dict[str, frozenset[str]] = {
    "shared-addresses": frozenset({"flagged", "max_degree", "include_possible", "limit"}),
    "shared-owners": frozenset({"flagged", "officers", "as_of", "max_degree", "include_possible", "limit"}),
    "cluster": frozenset({"around", "hops", "max_degree", "include_possible", "limit"}),
    "ubo": frozenset({"threshold", "as_of", "intermediate", "include_possible"}),
    "path": frozenset({"max_hops", "max_degree", "include_possible", "limit"}),
    "freeze-list": frozenset({"flagged", "around", "min_share", "spouses", "officers", "as_of", "include_possible"}),
    "new-importers": frozenset({"chemical", "since", "until", "established", "include_possible"}),
    "risk": frozenset({"top", "as_of", "since", "max_degree", "include_possible"}),
    "matches": frozenset({"uncertain"}),
}

#: How many positional REFs each investigation takes.
REF_COUNTS: dict[str, int] = {name: 0 for name in INVESTIGATIONS} | {"ubo": 1, "path": 2}

_REQUIRED: dict[str, tuple[str, ...]] = {"new-importers": ("chemical", "since")}


def _flag(option: str) -> str:
    return "--" + option.replace("_", "-")


def run(graph: nx.MultiDiGraph, investigation: str, refs: Sequence[str] = (), **options: Any) -> QueryResult:
    """Run ``investigation`` (kebab-case name) with its REFs and the options given (None = not given).

    An option the investigation does not take is an error naming the ones it does take, so a
    mistyped command never silently answers a different question.
    """
    func = INVESTIGATIONS.get(investigation)
    if func is None:
        raise GraphinvError(f"No such investigation: {investigation!r} (available: {', '.join(INVESTIGATIONS)})")
    given = {k: v for k, v in options.items() if v is not None and v is not False and v != []}
    # Options that default to True are switched off explicitly (--no-spouses).
    given.update({k: v for k, v in options.items() if v is False and k == "spouses"})
    allowed = OPTIONS[investigation]
    wrong = sorted(set(given) - allowed)
    if wrong:
        takes = ", ".join(sorted(_flag(o) for o in allowed))
        raise GraphinvError(f"{investigation} does not take {', '.join(_flag(o) for o in wrong)} (it takes: {takes})")
    missing = [o for o in _REQUIRED.get(investigation, ()) if o not in given]
    if missing:
        raise GraphinvError(f"{investigation} needs {', '.join(_flag(o) for o in missing)}")
    count = REF_COUNTS[investigation]
    if len(refs) != count:
        if count == 0:
            hint = " (use --around REF to start from entities)" if "around" in allowed else ""
            raise GraphinvError(f"{investigation} takes no REF, got {list(refs)!r}{hint}")
        raise GraphinvError(
            f"{investigation} takes {count} REF{'s' if count > 1 else ''}, got {len(refs)}: {list(refs)!r}"
        )
    if "max_degree" in given and given["max_degree"] == 0:
        given["max_degree"] = None  # --max-degree 0: no hub suppression at all
    return func(graph, *refs, **given)
