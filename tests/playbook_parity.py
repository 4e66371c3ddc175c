"""What "a playbook answers like the Python investigation" means, per investigation: the runs to
compare (fixture-case parameters, in each one's own spelling) and the facts of each row compared.

Rows are compared in order where both sides define one (every investigation but ``path``, whose
shortest connections are compared as a set together with their count). Evidence links are
compared as sets of (relationship, source, target).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

RING = ["C014", "C037", "C052", "C068", "C081", "C117", "C129"]


def _python(name: str) -> Callable[..., Any]:
    from graphinv import query

    return getattr(query, name.replace("-", "_"))


def _ids(entities: Any) -> list[str]:
    return [e["id"] if isinstance(e, dict) else e.id for e in entities]


def _links(links: Any) -> list[tuple[str, str, str]]:
    return sorted({(l["rel"], l["source"], l["target"]) if isinstance(l, dict) else (l.rel, l.source, l.target) for l in links})


def _py_kwargs(options: dict[str, Any]) -> dict[str, Any]:
    # The playbooks spell "no hubs" max_degree 0, as the CLI does; the Python functions take None.
    return {k: (None if k == "max_degree" and v == 0 else v) for k, v in options.items()}


# name -> [(playbook parameters, python positional REFs, python keyword options)]
RUNS: dict[str, list[tuple[dict[str, Any], tuple[str, ...], dict[str, Any]]]] = {
    "shared-addresses": [({}, (), {}), ({"flagged": True}, (), {"flagged": True}), ({"max_degree": 0}, (), {"max_degree": 0})],
    "shared-owners": [
        ({}, (), {}),
        ({"flagged": True}, (), {"flagged": True}),
        ({"officers": True}, (), {"officers": True}),
        ({"as_of": "2010-01-01"}, (), {"as_of": "2010-01-01"}),
    ],
    "cluster": [
        ({}, (), {}),
        ({"around": ["C129"]}, (), {"around": ["C129"]}),
        ({"around": ["C037", "P003"], "hops": 3}, (), {"around": ["C037", "P003"], "hops": 3}),
        ({"around": ["C129"], "max_degree": 0}, (), {"around": ["C129"], "max_degree": 0}),
        ({"hops": 1}, (), {"hops": 1}),
    ],
    "ubo": [
        ({"firm": "C037"}, ("C037",), {}),
        ({"firm": "C037", "threshold": 25}, ("C037",), {"threshold": 25}),
        ({"firm": "C052"}, ("C052",), {}),
        ({"firm": "C117", "intermediate": True}, ("C117",), {"intermediate": True}),
        ({"firm": "C006", "intermediate": True}, ("C006",), {"intermediate": True}),
        ({"firm": "C074"}, ("C074",), {}),
    ],
    "path": [
        ({"source": s, "target": t, **o}, (s, t), o)
        for s, t in (("P003", "C037"), ("C014", "C129"), ("C014", "C068"), ("C037", "C129"), ("C006", "C037"), ("C014", "C014"))
        for o in ({}, {"max_degree": 0}, {"max_degree": 5, "limit": 100}, {"max_hops": 2})
    ],
    "freeze-list": [
        ({"around": RING}, (), {"around": RING}),
        ({}, (), {}),
        ({"around": RING, "officers": True}, (), {"around": RING, "officers": True}),
        ({"around": RING, "spouses": False, "min_share": 10}, (), {"around": RING, "spouses": False, "min_share": 10}),
        ({"around": ["C006"], "as_of": "2020-01-01"}, (), {"around": ["C006"], "as_of": "2020-01-01"}),
    ],
    "new-importers": [
        ({"chemical": "4-P", "since": "2019-01-01"}, (), {"chemical": "4-P", "since": "2019-01-01"}),
        ({"chemical": "4-piperidona", "since": "2019-01-01", "established": True}, (), {"chemical": "4-piperidona", "since": "2019-01-01", "established": True}),
        ({"chemical": "1-Boc-4-piperidone", "since": "2019-01-01", "established": True}, (), {"chemical": "1-Boc-4-piperidone", "since": "2019-01-01", "established": True}),
        ({"chemical": "propionyl chloride", "since": "2019-01-01", "until": "2020-12-31"}, (), {"chemical": "propionyl chloride", "since": "2019-01-01", "until": "2020-12-31"}),
    ],
    "risk": [
        ({}, (), {}),
        ({"top": 10}, (), {"top": 10}),
        ({"since": "2019-01-01"}, (), {"since": "2019-01-01"}),
        ({"as_of": "2021-06-30", "max_degree": 0}, (), {"as_of": "2021-06-30", "max_degree": 0}),
    ],
}


def python_rows(graph: Any, name: str, refs: tuple[str, ...], options: dict[str, Any]) -> Any:
    return _python(name)(graph, *refs, **_py_kwargs(options))


def facts(name: str, rows: Any) -> Any:
    """The facts compared, from Python result rows (objects) or playbook rows (dicts)."""

    def get(row: Any, key: str) -> Any:
        return row[key] if isinstance(row, dict) else getattr(row, key)

    def eid(value: Any) -> str:
        return value["id"] if isinstance(value, dict) else value.id

    out: list[Any] = []
    if name == "shared-addresses":
        out = [(get(r, "address"), list(get(r, "address_ids")), get(r, "count"), _ids(get(r, "entities")), _ids(get(r, "flagged")), get(r, "hub"), _links(get(r, "links"))) for r in rows]
    elif name == "shared-owners":
        out = [(eid(get(r, "owner")), get(r, "rel"), get(r, "count"), _ids(get(r, "companies")), _ids(get(r, "flagged")), get(r, "hub"), _links(get(r, "links"))) for r in rows]
    elif name == "ubo":
        out = [
            (eid(get(r, "owner")), get(r, "effective_pct"), get(r, "max_pct"), get(r, "share_known"), get(r, "direct_pct"),
             get(r, "ultimate"), sorted(list(p) for p in get(r, "paths")), _links(get(r, "links")))
            for r in rows
        ]
    elif name == "freeze-list":
        out = [(eid(get(r, "entity")), get(r, "role"), _ids(get(r, "accounts"))) for r in rows]
    elif name == "new-importers":
        out = [
            (eid(get(r, "company")), get(r, "chemical"), get(r, "first_import"), eid(get(r, "first_shipment")), get(r, "last_import"),
             get(r, "shipments"), get(r, "quantity_kg"), list(get(r, "years")), _ids(get(r, "exporters")), get(r, "new"), _links(get(r, "links")))
            for r in rows
        ]
    elif name == "risk":
        out = [(eid(get(r, "entity")), get(r, "score"), sorted((get(s, "name"), get(s, "weight")) for s in get(r, "signals"))) for r in rows]
    else:
        raise KeyError(name)
    return out


def cluster_facts(python: Any | None = None, rows: Any | None = None) -> Any:
    """Members with their distance, the hubs met, and the links among members."""
    if python is not None:
        members = sorted((m.id, m.hops) for g in python.rows for m in g.entities)
        hubs = sorted(h.entity.id for h in python.hubs)
        links = _links([l for g in python.rows for l in g.links])
        return members, hubs, links
    assert rows is not None
    members = sorted((r["entity"]["id"], r["hops"]) for r in rows if not r["hub"])
    hubs = sorted(r["entity"]["id"] for r in rows if r["hub"])
    links = _links([l for r in rows for l in r["links"]])
    return members, hubs, links


def path_facts(python: Any | None = None, rows: Any | None = None, limit: int = 10) -> Any:
    """How many shortest connections there are and, when all are shown, which (as a set)."""
    if python is not None:
        total = python.total
        shown = sorted(tuple(e.id for e in r.entities) for r in python.rows) if total <= limit else len(python.rows)
        links = sorted(_links(r.links) for r in python.rows) if total <= limit else None
        return total, shown, links
    assert rows is not None
    total = rows[0]["total"] if rows else 0
    shown = sorted(tuple(e["id"] for e in r["entities"]) for r in rows) if total <= limit else len(rows)
    links = sorted(_links(r["links"]) for r in rows) if total <= limit else None
    return total, shown, links
