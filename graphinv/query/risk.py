"""risk: an explainable score per firm, network and import evidence weighed against legitimacy."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import Any, ClassVar, NamedTuple

import networkx as nx
import numpy as np

from graphinv.exc import GraphinvError
from graphinv.query._arrays import GraphArrays, arrays, day_ordinal, gather, is_current_links, unique, unique_counts
from graphinv.query._graph import (
    DEFAULT_MAX_DEGREE,
    POSSIBLY_SAME_AS,
    as_of_date,
    check_count,
    check_option_date,
    day_key,
    evidence,
    flagged_firms,
    flagged_nodes,
    in_force,
    investigation,
    is_current,
    is_registered_company,
    nodes_of_kind,
    same_as,
)
from graphinv.query.new_importers import chemical_imports, latest_shipment_date
from graphinv.query.results import Entity, Evidence, QueryResult, Row
from graphinv.resolve.chemicals import lexicon

__all__ = ["WATCHED_CATEGORIES", "WEIGHTS", "Risk", "RiskScore", "Signal", "risk"]

#: The weight of each signal. Positive: what shell importers of precursors look like in a network;
#: negative: what a long-standing, staffed, legitimate distributor looks like. Every row lists the
#: signals it got, so a score is never a black box.
WEIGHTS: dict[str, float] = {
    "watchlist": 1.0,  # on a watch list itself (lists are noisy: a referral is a lead, not a finding)
    "new_importer": 3.0,  # began importing a watched precursor long after others did
    "new_importer_more": 1.0,  # each further watched precursor it began importing
    "very_young": 2.0,  # under 3 years old when it began importing (or at the case's latest date)
    "young": 1.0,  # 3 to 6 years old then
    "tiny": 1.0,  # 10 employees or fewer
    "nominee_officer": 2.0,  # an officer who serves many firms (a nominee director)
    "shared_address_flagged": 1.0,  # per other flagged firm at its address (at most 3)
    "mass_address": 1.5,  # registered at an address shared by more than max_degree firms
    "owner_links_flagged": 1.0,  # per other flagged firm its owners or officers own or run (at most 3)
    "ownership_flagged": 1.0,  # per flagged firm it owns or is owned by (at most 2)
    "flagged_person": 1.0,  # per flagged owner or officer, or spouse of one (at most 2)
    "old": -2.0,  # 20 years or older
    "established": -1.0,  # 10 to 20 years old
    "large": -2.0,  # 250 employees or more
    "mid_size": -1.0,  # 50 to 249 employees
    "long_import_history": -1.5,  # imported a watched precursor in 4 or more distinct years, from the start
}

#: Lexicon categories whose new importers are a signal.
WATCHED_CATEGORIES = frozenset({"fentanyl precursor", "methamphetamine precursor"})


class Signal(Row):
    """One reason behind a score: its name, its weight, the sentence, and the links that show it."""

    name: str
    weight: float
    text: str
    links: tuple[Evidence, ...] = ()

    def flat(self) -> dict[str, Any]:
        return {"name": self.name, "weight": self.weight, "text": self.text}


class RiskScore(Row):
    """A firm's score and the weighted reasons that make it up, largest weight first."""

    entity: Entity
    score: float
    reasons: tuple[str, ...]
    signals: tuple[Signal, ...]

    columns: ClassVar[tuple[str, ...]] = ("entity", "score", "reasons")

    def flat(self) -> dict[str, Any]:
        return {"entity": self.entity.label, "score": self.score, "reasons": list(self.reasons)}


class Risk(QueryResult):
    investigation: ClassVar[str] = "risk"
    rows: tuple[RiskScore, ...] = ()
    reference_date: str


def _years(start: str, end: str) -> float | None:
    """Years from one date to another, a vague one read as its first day (as the array path reads
    them: ``day_ordinal``); None when either is not a date."""
    years = (day_ordinal(end) - day_ordinal(start)) / 365.25
    return None if math.isnan(years) else years


@investigation
def risk(
    graph: nx.MultiDiGraph,
    *,
    top: int | None = None,
    as_of: str | dt.date | None = None,
    since: str | dt.date | None = None,
    new_after_years: float = 2.0,
    nominee_min_firms: int = 5,
    max_degree: int | None = DEFAULT_MAX_DEGREE,
    weights: dict[str, float] | None = None,
    include_possible: bool = False,
) -> Risk:
    """Score the registry firms that carry any network, watch-list or import signal (the others
    have nothing to explain), highest first; ``top`` keeps the first N.

    Signals (weights in ``WEIGHTS``, overridable with ``weights``): on a watch list; a new importer
    of a watched precursor (first import ``new_after_years`` or more after the first import of that
    chemical in the case, or on or after ``since`` when given); young at its first such import (or
    at the reference date); few employees; an officer serving ``nominee_min_firms`` or more firms;
    an address shared with flagged firms or with more than ``max_degree`` firms; owners or officers
    tied to other flagged firms; owning or being owned by flagged firms; flagged owners, officers
    or their spouses. Weighed against: age, staff, and a long history of importing the chemical.
    The reference date is ``as_of``, else the latest shipment date in the case, else today.
    With ``include_possible``, shipments of importers joined by POSSIBLY_SAME_AS to a registry
    firm count as that firm's.
    """
    top = None if top is None else check_count(top, "top")
    nominee_min_firms = check_count(nominee_min_firms, "nominee_min_firms")
    max_degree = None if max_degree is None else check_count(max_degree, "max_degree")
    weight = dict(WEIGHTS)
    if weights:
        unknown = sorted(set(weights) - set(WEIGHTS))
        if unknown:
            raise GraphinvError(f"Unknown risk signal(s) {unknown!r} (known: {', '.join(WEIGHTS)})")
        weight.update(weights)
    since_day = check_option_date(since, "since")
    nodes = graph._node
    watched = {c.name for c in lexicon() if c.category in WATCHED_CATEGORIES}
    imports = chemical_imports(graph, watched, aliases=same_as(graph) if include_possible else None)
    if as_of is not None:
        reference = as_of_date(as_of)
    else:
        # The case's own "now": ages are judged against the data, so an old case reads the same
        # today as the day it was built.
        latest = latest_shipment_date(graph)
        reference = day_key(latest[:10]) if latest else as_of_date(None)
    day = reference

    firms_flagged = set(flagged_firms(graph))

    # Per firm and chemical: first import, years, shipments; and who began late.
    first_in_case = {
        chem: min((day_key(d) for e in per.values() for d, _ in e.shipments if d), default="")
        for chem, per in imports.items()
    }
    importer_of: dict[str, list[tuple[str, Any]]] = {}
    for chem, per in imports.items():
        for firm, entry in per.items():
            importer_of.setdefault(firm, []).append((chem, entry))

    fast = None
    if top is not None and not include_possible:
        fast = _ranked(
            graph,
            arrays(graph),
            top=top,
            day=day,
            weight=weight,
            importer_of=importer_of,
            first_in_case=first_in_case,
            since_day=since_day,
            new_after_years=new_after_years,
            nominee_min_firms=nominee_min_firms,
            max_degree=max_degree,
        )
    if fast is not None:
        candidates, nominees, hub_addresses = fast
    else:
        candidates, nominees, hub_addresses = _candidates(
            graph, day, firms_flagged, importer_of, nominee_min_firms, max_degree
        )

    # Score every candidate with plain tuples first; build the typed rows, with their evidence
    # links, only for the rows kept (``top``): most of the work of a full row is its wording.
    scored: list[tuple[float, str, str, list[_Raw]]] = []
    ties: dict[str, Any] = {}  # per owner or officer, shared by every firm it is tied to
    for firm in candidates:
        attrs = nodes.get(firm)
        if attrs is None or not is_registered_company(attrs):
            continue
        raw = _signals(
            graph,
            firm,
            day,
            weight,
            firms_flagged,
            importer_of.get(firm, []),
            first_in_case,
            since_day,
            new_after_years,
            nominees,
            hub_addresses,
            ties,
        )
        if raw:
            scored.append((round(sum(r[1] for r in raw), 3), str(attrs.get("name") or firm), firm, raw))
    scored.sort(key=lambda item: (-item[0], item[1], item[2]))
    if top is not None:
        scored = scored[:top]
    rows = []
    for score, _, firm, raw in scored:
        signals = sorted(
            # each link as it stood on the day (a share or role of the period in force then)
            (
                Signal(name=n, weight=w, text=t, links=tuple(evidence(graph, in_force(l, day)) for l in ls))
                for n, w, t, ls in raw
            ),
            key=lambda s: (-abs(s.weight), s.name, s.text),
        )
        rows.append(
            RiskScore(
                entity=Entity.of(graph, firm),
                score=score,
                reasons=tuple(f"{s.weight:+g} {s.text}" for s in signals),
                signals=tuple(signals),
            )
        )
    return Risk(rows=tuple(rows), reference_date=reference)


#: A signal before it becomes a typed row: (name, weight, text, the raw links that show it).
_Raw = tuple[str, float, str, list[dict[str, Any]]]


def _candidates(
    graph: nx.MultiDiGraph,
    day: str,
    firms_flagged: set[str],
    importer_of: dict[str, Any],
    nominee_min_firms: int,
    max_degree: int | None,
) -> tuple[Iterable[str], dict[str, int], set[str]]:
    """Every firm that could carry a signal (a superset of those scored), the nominees, the hub
    addresses: by walking the graph (what ``_ranked`` computes over arrays)."""
    candidates: set[str] = set(firms_flagged) | set(importer_of)
    hub_addresses = set()
    if max_degree is not None:
        for address in nodes_of_kind(graph, "Address"):
            if len(graph._pred[address]) > max_degree:
                hub_addresses.add(address)
                candidates.update(graph._pred[address])
    # Firms tied to a flagged firm through an owner, officer, address or ownership link.
    for firm in firms_flagged:
        for other in _ties(graph, firm, hub_addresses):
            candidates.add(other)
    # Firms a flagged person, or the spouse of one, owns or runs (the flagged_person signal).
    nodes = graph._node
    for person in flagged_nodes(graph):
        if nodes[person].get("kind") != "Person":
            continue
        spouses = [
            r for side in (graph._succ[person], graph._pred[person]) for r, keys in side.items() if _is_spouse(keys)
        ]
        for near in (person, *spouses):
            candidates.update(f for f, keys in graph._succ[near].items() if "OWNS" in keys or "OFFICER_OF" in keys)
    nominees = _nominees(graph, nominee_min_firms, day)
    for person in nominees:
        for firm, keys in graph._succ[person].items():
            if "OFFICER_OF" in keys and is_current(keys["OFFICER_OF"], day):
                candidates.add(firm)
    return candidates, nominees, hub_addresses


class _Watched(NamedTuple):
    """How a firm imported one watched chemical (the one rule both the ranking and the sentences read)."""

    dated: list[tuple[str, str, str]]  # its dated shipments as (day_key, date as given, id), in order
    late: bool  # began late: on or after ``since_day``, or ``new_after_years`` after the case's first
    gap: float | None  # years after the case's first import of it (None with ``since_day``)
    long_history: bool  # imported from that first year, in 4 or more distinct years


def _watched_import(
    chem: str, entry: Any, first_in_case: dict[str, str], since_day: str | None, new_after_years: float
) -> _Watched | None:
    """How a firm imported one watched chemical; None without a dated shipment. A vague date counts
    as the first day of its period (``day_key``); an undated shipment never decides the first import."""
    dated = sorted((day_key(d), d, s) for d, s in entry.shipments if d)
    if not dated:
        return None
    first = dated[0][0]
    gap = None
    if since_day is not None:
        late = first >= since_day
    else:
        gap = _years(first_in_case.get(chem, first), first)
        late = gap is not None and gap >= new_after_years
    long_history = not late and first == first_in_case.get(chem) and len({d[:4] for d, _, _ in dated}) >= 4
    return _Watched(dated, late, gap, long_history)


def _import_counts(
    imports: list[tuple[str, Any]],
    first_in_case: dict[str, str],
    since_day: str | None,
    new_after_years: float,
) -> tuple[int, int, str | None]:
    """A firm's watched imports as ``_signals`` reads them: how many chemicals it began importing
    late, how many it imported from the start for 4+ years, and its first watched import (a day)."""
    new = long = 0
    first_watched: str | None = None
    for chem, entry in imports:
        found = _watched_import(chem, entry, first_in_case, since_day, new_after_years)
        if found is None:
            continue
        first = found.dated[0][0]
        first_watched = min(first_watched or first, first)
        new += found.late
        long += found.long_history
    return new, long, first_watched


def _join(a_key: np.ndarray, a_val: np.ndarray, b_key: np.ndarray, b_val: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (a_val, b_val) for every a and b with the same key."""
    order = np.argsort(b_key, kind="stable")
    b_key, b_val = b_key[order], b_val[order]
    lo = np.searchsorted(b_key, a_key, side="left")
    counts = np.searchsorted(b_key, a_key, side="right") - lo
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    return np.repeat(a_val, counts), b_val[np.repeat(lo, counts) + offsets]


def _ranked(
    graph: nx.MultiDiGraph,
    arr: GraphArrays,
    *,
    top: int,
    day: str,
    weight: dict[str, float],
    importer_of: dict[str, list[tuple[str, Any]]],
    first_in_case: dict[str, str],
    since_day: str | None,
    new_after_years: float,
    nominee_min_firms: int,
    max_degree: int | None,
) -> tuple[list[str], dict[str, int], set[str]] | None:
    """The ``top`` firms by score, with the nominees and hub addresses, computed over the graph's
    arrays: the same candidates and signals as ``_candidates`` and ``_signals``, counted instead of
    worded, so only the rows returned are built (tests check both paths agree). None when the
    weights are not exact binary fractions: then a sum could depend on the order of its terms, and
    only the row-by-row path is exact."""
    term = {name: (0.0, *(round(w * t, 3) for t in (1, 2, 3))) for name, w in weight.items()}
    if any(v * 1024 != int(v * 1024) or abs(v) > 2**20 for values in term.values() for v in values):
        return None
    n = len(arr.ids)
    i64 = np.int64
    kind, src, dst = arr.kind, arr.src, arr.dst
    is_company = kind == arr.kind_code("Company")
    is_person = kind == arr.kind_code("Person")
    is_address = kind == arr.kind_code("Address")
    party = is_company | is_person
    ff = arr.flagged & arr.registered  # flagged_firms()
    own, off, has = arr.links_of("OWNS"), arr.links_of("OFFICER_OF"), arr.links_of("HAS_ADDRESS")
    os_, od, oc = src[own].astype(i64), dst[own].astype(i64), is_current_links(arr, own, day)
    fs, fd, fc = src[off].astype(i64), dst[off].astype(i64), is_current_links(arr, off, day)
    hs, hd = src[has].astype(i64), dst[has].astype(i64)

    # Candidates, as _candidates() finds them. First every link of a flagged firm (its
    # POSSIBLY_SAME_AS links too: a possibly-same firm is a tie).
    fpos = np.flatnonzero(ff)
    owner, entry = gather(arr.indptr, arr.adj, fpos)
    link = arr.adj_link[entry]
    other = arr.adj[entry].astype(i64)
    is_pred, is_succ = dst[link] == owner, src[link] == owner
    pred_of = other[is_pred]
    same = arr.links_of(POSSIBLY_SAME_AS)
    ss, sd = src[same].astype(i64), dst[same].astype(i64)
    pred_of = np.concatenate([pred_of, ss[ff[sd]]])
    cand = ff.copy()
    cand[[arr.pos[f] for f in importer_of]] = True
    cand[pred_of[is_company[pred_of]]] = True
    tied = np.zeros(n, dtype=bool)
    tied[pred_of[party[pred_of] & (arr.out_count[pred_of] <= 200)]] = True
    cand[od[tied[os_]]] = True
    cand[fd[tied[fs]]] = True
    succ_of, succ_link = other[is_succ], link[is_succ]
    cand[succ_of[is_company[succ_of] & (arr.rel[succ_link] == arr.rel_code("OWNS"))]] = True
    hub = np.zeros(n, dtype=bool)
    if max_degree is not None:
        hub = is_address & (arr.in_count > max_degree)
        h_owner, h_entry = gather(arr.indptr, arr.adj, np.flatnonzero(hub))
        h_link = arr.adj_link[h_entry]
        cand[arr.adj[h_entry][dst[h_link] == h_owner]] = True
    small = succ_of[is_address[succ_of] & ~hub[succ_of]]
    if len(small):
        a_owner, a_entry = gather(arr.indptr, arr.adj, unique(small))
        a_link = arr.adj_link[a_entry]
        cand[arr.adj[a_entry][dst[a_link] == a_owner]] = True
    # Firms each person runs today, counted over the office links (a count per node of the
    # registry would be a 40 MB array made and dropped on every call).
    people, runs = unique_counts(fs[fc & is_person[fs]])
    many = runs >= nominee_min_firms
    nominee = np.zeros(n, dtype=bool)
    nominee[people[many]] = True
    nominee_firms = fd[fc & nominee[fs]]
    cand[nominee_firms] = True
    # Firms a flagged person, or the spouse of one, owns or runs.
    fam = arr.links_of("FAMILY")
    sp = fam[arr.spouse[fam]]
    x = np.concatenate([src[sp], dst[sp]]).astype(i64)
    r = np.concatenate([dst[sp], src[sp]]).astype(i64)
    near = arr.flagged & is_person
    near[x[arr.flagged[r] & is_person[x]]] = True
    cand[od[near[os_]]] = True
    cand[fd[near[fs]]] = True
    cand &= arr.registered

    # Signals, as _signals() weighs them, per candidate: the score, and whether any risk signal
    # (not only youth or size) is there.
    cpos = np.flatnonzero(cand)
    m = len(cpos)
    local = np.full(n, -1, dtype=np.int32)  # half the memory of int64: a registry-sized array
    local[cpos] = np.arange(m)
    score = np.zeros(m, dtype=np.float64)
    risky = np.zeros(m, dtype=bool)
    mild = {"very_young", "young", "tiny"}

    def add(name: str, times: np.ndarray) -> None:
        """A signal for each candidate where ``times`` (0 to 3) is not 0."""
        values = np.array(term[name])[np.minimum(times, 3)]
        score[:] += values
        if name not in mild:
            risky[:] |= values > 0

    def add_each(name: str, firms: np.ndarray, times: np.ndarray | None = None) -> None:
        """A signal for each entry of ``firms`` (repeats are separate signals)."""
        at = local[firms]
        keep = at >= 0
        t = np.ones(int(keep.sum()), dtype=i64) if times is None else np.minimum(times[keep], 3)
        values = np.array(term[name])[t]
        score[:] += np.bincount(at[keep], weights=values, minlength=m)
        if name not in mild:
            risky[at[keep][values > 0]] = True

    def distinct(firms: np.ndarray, others: np.ndarray) -> np.ndarray:
        """Per candidate: how many distinct ``others`` it is paired with."""
        at = local[firms].astype(i64)  # at * n would overflow int32
        keep = at >= 0
        keys = unique(at[keep] * n + others[keep])
        return np.bincount(keys // n, minlength=m)

    add("watchlist", arr.flagged[cpos].astype(i64))
    at_day = np.full(m, day_ordinal(day))
    new_count = np.zeros(m, dtype=i64)
    long_count = np.zeros(m, dtype=i64)
    for firm, imports in importer_of.items():
        i = local[arr.pos[firm]]
        if i < 0:
            continue
        new_count[i], long_count[i], first_watched = _import_counts(imports, first_in_case, since_day, new_after_years)
        if first_watched:
            at_day[i] = day_ordinal(first_watched)
    add("new_importer", (new_count > 0).astype(i64))
    more = np.flatnonzero(new_count > 1)
    add_each("new_importer_more", cpos[np.repeat(more, new_count[more] - 1)])
    add_each("long_import_history", cpos[np.repeat(np.arange(m), long_count)])
    with np.errstate(invalid="ignore"):
        age = (at_day - arr.incorporated[cpos]) / 365.25
        add("very_young", ((age >= 0) & (age < 3)).astype(i64))
        add("young", ((age >= 3) & (age < 6)).astype(i64))
        add("old", (age >= 20).astype(i64))
        add("established", ((age >= 10) & (age < 20)).astype(i64))
        staff = arr.employees[cpos]
        add("tiny", (staff <= 10).astype(i64))
        add("large", (staff >= 250).astype(i64))
        add("mid_size", ((staff >= 50) & (staff < 250)).astype(i64))

    add_each("nominee_officer", nominee_firms)
    # Owners and officers of each candidate on the day (either link current).
    ho, hf = np.concatenate([os_[oc], fs[fc]]), np.concatenate([od[oc], fd[fc]])
    keep = local[hf] >= 0
    ho, hf = ho[keep], hf[keep]
    # Owning or being owned by flagged firms (a firm's stake in itself is neither).
    up = oc & is_company[os_] & ff[os_] & (os_ != od)
    down = oc & ff[od] & (os_ != od)
    add("ownership_flagged", distinct(np.concatenate([od[up], os_[down]]), np.concatenate([os_[up], od[down]])))
    # Flagged persons among owners and officers, and their flagged spouses.
    keep = arr.flagged[r]
    pers = is_person[ho]
    jf, jr = _join(ho[pers], hf[pers], x[keep], r[keep])
    fp = pers & arr.flagged[ho]
    add("flagged_person", distinct(np.concatenate([hf[fp], jf]), np.concatenate([ho[fp], jr])))
    # Other flagged firms the owners and officers own or run (when both, the OWNS link decides).
    own_keys = np.sort(os_ * n + od)
    off_keys = fs * n + fd
    where = np.minimum(np.searchsorted(own_keys, off_keys), max(len(own_keys) - 1, 0))
    off_only = (own_keys[where] != off_keys) if len(own_keys) else np.ones(len(off_keys), dtype=bool)
    ts = np.concatenate([os_[oc], fs[fc & off_only]])
    tg = np.concatenate([od[oc], fd[fc & off_only]])
    keep = ff[tg] & (arr.out_count[ts] <= 200) & (ts != tg)
    pair = unique(ho * n + hf)
    tf, tt = _join(pair // n, pair % n, ts[keep], tg[keep])
    add("owner_links_flagged", distinct(tf[tf != tt], tt[tf != tt]))
    # Addresses: a mass-registration office, or one shared with flagged firms.
    add_each("mass_address", hs[hub[hd]])
    holders = unique(other[is_succ] * n + owner[is_succ])  # (address, flagged firm) pairs
    # Distinct flagged holders per address, looked up only for the links to such an address:
    # a count per node of the registry costs more than the whole signal (measured at 1M).
    held, times_held = unique_counts(holders // n)
    at_held = np.zeros(n, dtype=bool)
    at_held[held] = True
    near = np.flatnonzero(at_held[hd] & ~hub[hd])
    others = times_held[np.searchsorted(held, hd[near])] - ff[hs[near]]
    add_each("shared_address_flagged", hs[near][others > 0], others[others > 0])

    # The top N by (score rounded as rows are, name, id); only these become rows.
    scored = np.flatnonzero(risky)
    values = score[scored]
    rounded = {v: round(v, 3) for v in unique(values).tolist()}
    values = np.array([rounded[v] for v in values.tolist()], dtype=np.float64)
    firms = cpos[scored]
    if len(firms) > top:
        threshold = -np.partition(-values, top - 1)[top - 1]
        above = firms[values > threshold]
        nodes = graph._node
        tied_ids = [arr.ids[i] for i in firms[values == threshold].tolist()]
        ties = sorted((str(nodes[f].get("name") or f), f) for f in tied_ids)
        chosen = [arr.ids[i] for i in above.tolist()] + [f for _, f in ties[: top - len(above)]]
    else:
        chosen = [arr.ids[i] for i in firms.tolist()]
    nominees = {arr.ids[i]: c for i, c in zip(people[many].tolist(), runs[many].tolist())}
    return chosen, nominees, {arr.ids[i] for i in np.flatnonzero(hub).tolist()}


def _ties(graph: nx.MultiDiGraph, firm: str, hub_addresses: set[str]) -> Iterable[str]:
    """Firms one owner, officer, address or ownership link away from ``firm`` (a hub address's
    holders are candidates already)."""
    nodes = graph._node
    for other, keys in graph._pred[firm].items():
        kind = nodes[other].get("kind")
        if kind == "Company":
            yield other
        if kind in ("Person", "Company") and len(graph._succ[other]) <= 200:
            for firm2, keys2 in graph._succ[other].items():
                if ("OWNS" in keys2 or "OFFICER_OF" in keys2) and firm2 != firm:
                    yield firm2
    for other, keys in graph._succ[firm].items():
        kind = nodes[other].get("kind")
        if kind == "Company" and "OWNS" in keys:
            yield other
        elif kind == "Address" and other not in hub_addresses:
            yield from (h for h in graph._pred[other] if h != firm)


def _owner_ties(
    graph: nx.MultiDiGraph, other: str, kind: str | None, day: str, firms_flagged: set[str]
) -> tuple[list[tuple[str, dict[str, Any]]], list[tuple[str, dict[str, Any]]]]:
    """What an owner or officer brings to every firm it is tied to: the flagged firms it owns or
    runs, and (for a person) its flagged spouses."""
    nodes = graph._node
    firms: list[tuple[str, dict[str, Any]]] = []
    succ = graph._succ[other]
    if len(succ) <= 200:  # a mass owner (a fund, a nominee service) ties firms to nothing
        for firm2, keys2 in succ.items():
            if firm2 in firms_flagged and firm2 != other:  # its stake in itself ties it to nothing
                l2 = keys2.get("OWNS") or keys2.get("OFFICER_OF")
                if l2 is not None and is_current(l2, day):
                    firms.append((firm2, l2))
    spouses: list[tuple[str, dict[str, Any]]] = []
    if kind == "Person":
        for side in (succ, graph._pred[other]):
            for relative, fkeys in side.items():
                if _is_spouse(fkeys) and nodes[relative].get("flagged"):
                    spouses.append((relative, fkeys["FAMILY"]))
    return firms, spouses


def _is_spouse(keys: dict[str, dict[str, Any]]) -> bool:
    fam = keys.get("FAMILY")
    return fam is not None and fam.get("relation") == "spouse"


def _nominees(graph: nx.MultiDiGraph, min_firms: int, day: str) -> dict[str, int]:
    """Persons who are current officers of ``min_firms`` or more firms."""
    found = {}
    for person in nodes_of_kind(graph, "Person"):
        succ = graph._succ[person]
        if len(succ) < min_firms:
            continue
        count = sum(1 for keys in succ.values() if "OFFICER_OF" in keys and is_current(keys["OFFICER_OF"], day))
        if count >= min_firms:
            found[person] = count
    return found


def _label(graph: nx.MultiDiGraph, node: str) -> str:
    attrs = graph._node[node]
    bundle = attrs.get("bundle_id")
    return f"{attrs.get('name', node)} ({bundle})" if bundle else str(attrs.get("name", node))


def _names(graph: nx.MultiDiGraph, ids: Iterable[str], limit: int = 4) -> str:
    ids = sorted(ids, key=lambda n: (str(graph._node[n].get("name")), n))
    shown = ", ".join(_label(graph, n) for n in ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def _signals(
    graph: nx.MultiDiGraph,
    firm: str,
    day: str,
    weight: dict[str, float],
    firms_flagged: set[str],
    imports: list[tuple[str, Any]],
    first_in_case: dict[str, str],
    since_day: str | None,
    new_after_years: float,
    nominees: dict[str, int],
    hub_addresses: set[str],
    ties: dict[str, tuple[list[tuple[str, dict[str, Any]]], list[tuple[str, dict[str, Any]]]]],
) -> list[_Raw]:
    nodes = graph._node
    attrs = nodes[firm]
    out: list[_Raw] = []

    def signal(name: str, text: str, links: Iterable[dict[str, Any]] = (), times: float = 1.0) -> None:
        w = round(weight[name] * times, 3)
        if w:
            out.append((name, w, text, list(links)))

    if attrs.get("flagged"):
        reasons = attrs.get("flag_reasons") or attrs.get("flags") or []
        signal("watchlist", f"on watch list: {'; '.join(str(r) for r in reasons)}")

    # Imports of watched precursors.
    first_watched: tuple[str, str] | None = None  # (day, date as given)
    new_chemicals = []
    for chem, entry in sorted(imports, key=lambda item: item[0]):
        found = _watched_import(chem, entry, first_in_case, since_day, new_after_years)
        if found is None:
            continue
        _, first, first_id = found.dated[0]
        first_watched = min(first_watched or found.dated[0][:2], found.dated[0][:2])
        if since_day is not None:
            context = f"on or after {since_day}"
        elif found.gap is not None:
            context = f"{found.gap:.1f} years after the first import of it in the case ({first_in_case.get(chem)})"
        else:
            context = ""
        if found.late:
            new_chemicals.append((chem, first, first_id, entry, context))
        elif found.long_history:
            years = sorted({d[:4] for d, _, _ in found.dated})
            signal(
                "long_import_history",
                f"imported {chem} in {len(years)} distinct years since {first[:4]} ({len(found.dated)} shipments), "
                "from the first year it appears in the case",
            )
    for i, (chem, first, first_id, entry, context) in enumerate(new_chemicals):
        kg = sum(float(nodes[s].get("quantity_kg") or 0.0) for _, s in entry.shipments)
        shown = nodes[first_id].get("bundle_id") or first_id
        links = [l for l in entry.links if l["target"] == first_id]
        signal(
            "new_importer" if i == 0 else "new_importer_more",
            f"new importer of {chem}: first import {first} ({shown}), {context}; {len(entry.shipments)} shipments, {kg:,.0f} kg",
            links,
        )

    # Age and size.
    incorporated = attrs.get("incorporation_date")
    if incorporated:
        at = first_watched[0] if first_watched else day
        age = _years(str(incorporated), at)
        if age is not None:
            when = (
                f"before its first import of a watched precursor ({first_watched[1]})"
                if first_watched
                else f"before {at}"
            )
            if 0 <= age < 3:
                signal("very_young", f"incorporated {incorporated}, {age:.1f} years {when}")
            elif 3 <= age < 6:
                signal("young", f"incorporated {incorporated}, {age:.1f} years {when}")
            elif age >= 20:
                signal("old", f"incorporated {incorporated}, {age:.0f} years {when}")
            elif age >= 10:
                signal("established", f"incorporated {incorporated}, {age:.0f} years {when}")
    employees = attrs.get("employees")
    if isinstance(employees, (int, float)):
        if employees <= 10:
            signal("tiny", f"{int(employees)} employees")
        elif employees >= 250:
            signal("large", f"{int(employees):,} employees")
        elif employees >= 50:
            signal("mid_size", f"{int(employees):,} employees")

    # Network: officers, owners, addresses, ownership.
    flagged_people: dict[str, list[dict[str, Any]]] = {}
    tied_flagged: dict[str, list[dict[str, Any]]] = {}
    ownership_flagged: dict[str, dict[str, Any]] = {}
    for other, keys in graph._pred[firm].items():
        okind = nodes[other].get("kind")
        officer = keys.get("OFFICER_OF")
        owner = keys.get("OWNS")
        role_link = officer if officer is not None and is_current(officer, day) else None
        own_link = owner if owner is not None and is_current(owner, day) else None
        if role_link is None and own_link is None:
            continue
        link = own_link or role_link
        if role_link is not None and other in nominees:
            signal(
                "nominee_officer",
                f"officer {_label(graph, other)} is an officer of {nominees[other]} firms (nominee-like)",
                [role_link],
            )
        if own_link is not None and okind == "Company" and other in firms_flagged and other != firm:
            ownership_flagged[other] = own_link
        if okind == "Person" and nodes[other].get("flagged"):
            flagged_people.setdefault(other, []).append(link)
        found = ties.get(other)
        if found is None:
            found = ties[other] = _owner_ties(graph, other, okind, day, firms_flagged)
        firms2, spouses = found
        for relative, fam in spouses:
            flagged_people.setdefault(relative, []).extend([link, fam])
        for firm2, l2 in firms2:
            if firm2 != firm:
                tied_flagged.setdefault(firm2, []).extend([link, l2])
    for owned, keys in graph._succ[firm].items():
        own_link = keys.get("OWNS")
        if own_link is not None and owned in firms_flagged and owned != firm and is_current(own_link, day):
            ownership_flagged[owned] = own_link
    if tied_flagged:
        signal(
            "owner_links_flagged",
            f"its owners or officers also own or run {len(tied_flagged)} flagged firm(s): {_names(graph, tied_flagged)}",
            [l for ls in tied_flagged.values() for l in ls],
            times=min(3, len(tied_flagged)),
        )
    if ownership_flagged:
        signal(
            "ownership_flagged",
            f"owns or is owned by {len(ownership_flagged)} flagged firm(s): {_names(graph, ownership_flagged)}",
            list(ownership_flagged.values()),
            times=min(2, len(ownership_flagged)),
        )
    if flagged_people:
        signal(
            "flagged_person",
            f"{len(flagged_people)} flagged person(s) among its owners, officers or their spouses: {_names(graph, flagged_people)}",
            [l for ls in flagged_people.values() for l in ls],
            times=min(2, len(flagged_people)),
        )
    for address, keys in graph._succ[firm].items():
        link = keys.get("HAS_ADDRESS")
        if link is None:
            continue
        holders = graph._pred[address]
        text = nodes[address].get("text") or nodes[address].get("name")
        if address in hub_addresses:
            signal(
                "mass_address",
                f"registered at {text!s}, the address of {len(holders)} firms and persons (a mass-registration office?)",
                [link],
            )
            continue
        others = [h for h in holders if h != firm and h in firms_flagged]
        if others:
            signal(
                "shared_address_flagged",
                f"shares its address {text!s} with {len(others)} flagged firm(s): {_names(graph, others)}",
                [link, *(holders[h]["HAS_ADDRESS"] for h in others)],
                times=min(3, len(others)),
            )
    # Legitimacy alone is no reason to list a firm: only firms with a risk signal are scored.
    if not any(w > 0 and name not in ("very_young", "young", "tiny") for name, w, _, _ in out):
        return []
    return out
