"""The case report: what was ingested, every finding as a table citing its sources, and the graph.

One offline HTML page (the interactive graph of the flagged clusters embedded) or Markdown for a
memo. Findings come from the investigations in ``graphinv.query``; a finding that cannot be
computed says why in its section instead of failing the report.
"""

from __future__ import annotations

import datetime as dt
import html
import itertools
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import networkx as nx

from graphinv.exc import GraphinvError
from graphinv.export.html import (
    DEFAULT_MAX_DEGREE,
    DEFAULT_MAX_NODES,
    Neighbourhood,
    csp,
    explore,
    find_refs,
    graph_data,
    graph_widget,
    neighbourhood,
    write_text,
)
from graphinv.store import CaseFile, load_graph

__all__ = ["REPORT_FORMATS", "Section", "report", "write_demo_pages"]

REPORT_FORMATS = ("html", "md")
FLAG = "\u2691"
_ASSETS = Path(__file__).resolve().parent / "assets"


# -- cells: one value, rendered as HTML or Markdown -------------------------------------------


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _md(value: Any) -> str:
    """Text safe inside a Markdown table cell (and inert if the Markdown is turned into HTML)."""
    text = " ".join(str(value).split())
    for char in "\\|*_`[]#":
        text = text.replace(char, "\\" + char)
    # Entities, not backslashes, for angle brackets: no "<tag" survives, whatever renders it.
    return text.replace("<", "&lt;").replace(">", "&gt;")


class Cell:
    def html(self) -> str:
        raise NotImplementedError

    def md(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class Text(Cell):
    value: Any
    cls: str = ""

    def html(self) -> str:
        return f'<span class="{self.cls}">{_esc(self.value)}</span>' if self.cls else _esc(self.value)

    def md(self) -> str:
        return _md(self.value)


@dataclass(frozen=True)
class Lines(Cell):
    """Several short texts, one per line."""

    values: tuple[str, ...]

    def html(self) -> str:
        if not self.values:
            return ""
        return "<ul class=\"cell-list\">" + "".join(f"<li>{_esc(v)}</li>" for v in self.values) + "</ul>"

    def md(self) -> str:
        return "<br>".join(_md(v) for v in self.values)


@dataclass(frozen=True)
class Entities(Cell):
    """Entities by their label, flagged ones marked."""

    entities: tuple[Any, ...]
    limit: int = 40

    def html(self) -> str:
        shown = self.entities[: self.limit]
        parts = [
            f'<span class="ent{" flagged" if e.flagged else ""}" title="{_esc(e.kind)}">'
            f'{FLAG + " " if e.flagged else ""}{_esc(_label(e))}</span>'
            for e in shown
        ]
        if len(self.entities) > self.limit:
            parts.append(f'<span class="more">and {len(self.entities) - self.limit} more</span>')
        return "<br>".join(parts)

    def md(self) -> str:
        shown = [f"{FLAG} {_md(_label(e))}" if e.flagged else _md(_label(e)) for e in self.entities[: self.limit]]
        if len(self.entities) > self.limit:
            shown.append(f"and {len(self.entities) - self.limit} more")
        return "<br>".join(shown)


@dataclass(frozen=True)
class Sources(Cell):
    """The source rows behind a row, with the sentences that say what each link states."""

    refs: tuple[str, ...]
    sentences: tuple[str, ...] = ()

    @classmethod
    def of(cls, evidence: Iterable[Any], extra: Iterable[str] = ()) -> Sources:
        refs: dict[str, None] = {}
        sentences: dict[str, None] = {}
        for item in evidence:
            for ref in item.sources:
                refs.setdefault(str(ref), None)
            sentences.setdefault(str(item.text), None)
        for ref in extra:
            refs.setdefault(str(ref), None)
        return cls(refs=tuple(refs), sentences=tuple(sentences))

    def html(self) -> str:
        if not self.refs:
            return '<span class="muted">none recorded</span>'
        head = ", ".join(_esc(r) for r in self.refs[:2])
        if len(self.refs) <= 2 and not self.sentences:
            return f'<span class="src">{head}</span>'
        more = f" and {len(self.refs) - 2} more" if len(self.refs) > 2 else ""
        body = "".join(f"<li>{_esc(s)}</li>" for s in self.sentences)
        refs = "".join(f"<li>{_esc(r)}</li>" for r in self.refs)
        return (
            f'<details class="src"><summary>{head}{more}</summary>'
            + (f'<p class="what">What the links say:</p><ul>{body}</ul>' if body else "")
            + f'<p class="what">Source rows ({len(self.refs)}):</p><ul>{refs}</ul></details>'
        )

    def md(self) -> str:
        return _md(", ".join(self.refs)) if self.refs else "none recorded"


def _label(entity: Any) -> str:
    bundle = getattr(entity, "bundle_id", None)
    return f"{bundle} {entity.name}" if bundle else str(entity.name)


@dataclass
class Section:
    """One finding: a table (or a message saying why there is none)."""

    key: str
    title: str
    intro: str
    columns: list[str] = field(default_factory=list)
    rows: list[list[Cell]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    empty: str = "Nothing found."
    error: str | None = None
    total: int | None = None
    command: str = ""

    def count(self) -> int:
        return self.total if self.total is not None else len(self.rows)


# -- gathering the findings -------------------------------------------------------------------


@dataclass
class _Scope:
    kind: Literal["around", "flagged", "case"]
    refs: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    #: the entities the findings are restricted to (around a REF); None: no restriction
    members: frozenset[str] | None = None

    def describe(self, graph: nx.MultiDiGraph) -> str:
        if self.kind == "around":
            names = ", ".join(str(graph._node[i].get("name", i)) for i in self.ids)
            return f"around {names}"
        if self.kind == "flagged":
            return "flagged entities and what links them"
        return "the whole case"

    def touches(self, ids: Iterable[str]) -> bool:
        return self.members is None or any(i in self.members for i in ids)


def _guard(section: Section, compute: Callable[[], None]) -> Section:
    try:
        compute()
    except (GraphinvError, ValueError) as exc:
        section.error = f"Could not compute this finding: {exc}"
    return section


def _limit(section: Section, rows: list[list[Cell]], max_rows: int) -> None:
    section.total = len(rows)
    section.rows = rows[:max_rows]
    if len(rows) > max_rows:
        section.notes.append(f"{len(rows) - max_rows:,} more rows not shown here (see the command below).")


def _shared_addresses(graph: nx.MultiDiGraph, scope: _Scope, max_rows: int, max_degree: int | None) -> Section:
    from graphinv.query import shared_addresses

    flagged = scope.kind != "case"
    section = Section(
        key="shared-addresses",
        title="Shared addresses",
        intro=(
            "Addresses that two or more firms or persons give"
            + (", where at least one of them is flagged." if flagged else ".")
            + f" An address given by more than {max_degree} is a hub (a formation agent's office, a virtual office):"
            " listed last, not a lead by itself."
        ),
        columns=["Address", "Firms and persons", "Flagged among them", "Hub", "Sources"],
        empty="No address is shared by two or more entities in scope.",
        command="graphinv query CASE shared-addresses" + (" --flagged" if flagged else ""),
    )

    def compute() -> None:
        result = shared_addresses(graph, flagged=flagged, max_degree=max_degree)
        rows: list[list[Cell]] = []
        for row in result.rows:
            if not scope.touches(e.id for e in row.entities):
                continue
            rows.append([
                Text(row.address),
                Entities(tuple(row.entities)),
                Entities(tuple(row.flagged)) if row.flagged else Text("none"),
                Text(f"hub: {row.count} entities, only the flagged named" if row.hub else ""),
                Sources.of(row.links),
            ])
        _limit(section, rows, max_rows)
        section.notes.extend(result.notes)

    return _guard(section, compute)


def _shared_owners(graph: nx.MultiDiGraph, scope: _Scope, max_rows: int, max_degree: int | None) -> Section:
    from graphinv.query import shared_owners

    flagged = scope.kind != "case"
    section = Section(
        key="shared-owners",
        title="Shared owners",
        intro="Current owners of two or more firms" + (", at least one of them flagged." if flagged else "."),
        columns=["Owner", "Firms", "Flagged among them", "Sources"],
        empty="No owner holds two or more firms in scope.",
        command="graphinv query CASE shared-owners" + (" --flagged" if flagged else ""),
    )

    def compute() -> None:
        result = shared_owners(graph, flagged=flagged, max_degree=max_degree)
        rows: list[list[Cell]] = []
        for row in result.rows:
            if not scope.touches([row.owner.id, *(c.id for c in row.companies)]):
                continue
            owner = Entities((row.owner,))
            rows.append([
                owner if not row.hub else Lines((_label(row.owner), f"hub: {row.count} firms, only the flagged named")),
                Entities(tuple(row.companies)),
                Entities(tuple(row.flagged)) if row.flagged else Text("none"),
                Sources.of(row.links),
            ])
        _limit(section, rows, max_rows)
        section.notes.extend(result.notes)

    return _guard(section, compute)


@dataclass(frozen=True)
class _Said:
    """A fact that is not a link (a flag, an account held), in the shape Sources.of reads."""

    text: str
    sources: tuple[str, ...]


def _entity_facts(graph: nx.MultiDiGraph, node: str, accounts: Iterable[str] = ()) -> list[_Said]:
    """The rows that state an entity (its registry row, its flags) and the accounts it holds."""
    attrs = graph._node.get(node)
    if attrs is None:
        return []
    facts = [_Said(f"{_node_label(attrs)} is recorded", tuple(str(s) for s in attrs.get("sources") or ()))]
    for reason in attrs.get("flag_reasons") or ():
        ref = str(reason).rsplit("[", 1)[-1].rstrip("]") if "[" in str(reason) else ""
        facts.append(_Said(f"Flagged: {str(reason).rsplit(' [', 1)[0]}", (ref,) if ref else ()))
    for account in accounts:
        link = (graph._succ[node].get(account) or {}).get("HOLDS")
        if link is not None:
            facts.append(_Said(
                f"{_node_label(attrs)} holds account {_node_label(graph._node[account])}",
                tuple(str(s) for s in link.get("sources") or ()),
            ))
    return facts


def _account_text(account: Any) -> str:
    parts = [str(account.bundle_id or account.number or account.name)]
    bank = " ".join(str(p) for p in (account.bank, account.number) if p)
    if bank and account.bundle_id:
        parts.append(f"({bank})")
    if account.status == "frozen":
        parts.append(f"frozen {account.frozen_date}" if account.frozen_date else "frozen")
    return " ".join(parts)


def _freeze_list(graph: nx.MultiDiGraph, scope: _Scope, max_rows: int, min_share: float) -> Section:
    from graphinv.query import freeze_list

    section = Section(
        key="freeze-list",
        title="Freeze list, with accounts",
        intro=(
            f"Who a freeze order must name, starting from {'the firms named' if scope.kind == 'around' else 'every flagged firm'}: "
            f"owners with an effective share of at least {min_share:g}%, every firm on their ownership chains, "
            "and the spouses of the persons so added, each with every account they hold."
        ),
        columns=["Entity", "Why", "Accounts", "Sources"],
        empty="Nobody to freeze in scope.",
        command="graphinv query CASE freeze-list " + (
            " ".join(f"--around {r}" for r in scope.refs) if scope.kind == "around" else "--flagged"
        ) + f" --min-share {min_share:g}",
    )

    def compute() -> None:
        if scope.kind == "around":
            result = freeze_list(graph, around=list(scope.ids), min_share=min_share)
        else:
            result = freeze_list(graph, flagged=True, min_share=min_share)
        rows: list[list[Cell]] = []
        for row in result.rows:
            rows.append([
                Entities((row.entity,)),
                Lines(tuple(row.reasons) or (row.reason,)),
                Lines(tuple(_account_text(a) for a in row.accounts)) if row.accounts else Text("no account on record", "muted"),
                Sources.of([*row.links, *_entity_facts(graph, row.entity.id, (a.id for a in row.accounts))]),
            ])
        _limit(section, rows, max_rows)
        section.notes.extend(result.notes)

    return _guard(section, compute)


def _new_importers(graph: nx.MultiDiGraph, scope: _Scope, max_rows: int, chemical: str, since: str) -> Section:
    from graphinv.query import new_importers

    section = Section(
        key="new-importers",
        title=f"New importers of {chemical} since {since}",
        intro=(
            f"Firms whose first import of {chemical} (any spelling, salt or HS code the precursor lexicon knows) "
            f"falls on or after {since}, earliest first. Whether or not they are flagged: finding the ones nobody "
            "flagged is the point."
        ),
        columns=["Firm", "First import", "First shipment", "Shipments", "Total kg", "Suppliers", "Sources"],
        empty=f"No firm began importing {chemical} on or after {since}.",
        command=f"graphinv query CASE new-importers --chemical {chemical!r} --since {since}",
    )

    def compute() -> None:
        result = new_importers(graph, chemical=chemical, since=since)
        rows: list[list[Cell]] = []
        for row in result.rows:
            if not scope.touches([row.company.id]):
                continue
            rows.append([
                Entities((row.company,)),
                Text(row.first_import or ""),
                Text(_label(row.first_shipment)),
                Text(f"{row.shipments:,}"),
                Text(f"{row.quantity_kg:,.10g}"),
                Lines(tuple(_label(e) for e in row.exporters)),
                Sources.of(row.links),
            ])
        _limit(section, rows, max_rows)
        total_kg = sum(r.quantity_kg for r in result.rows if scope.touches([r.company.id]))
        total_n = sum(r.shipments for r in result.rows if scope.touches([r.company.id]))
        if rows:
            section.notes.append(f"Together: {total_n:,} shipments, {total_kg:,.10g} kg.")
        section.notes.extend(result.notes)

    return _guard(section, compute)


def _risk(graph: nx.MultiDiGraph, scope: _Scope, top: int, max_degree: int | None) -> tuple[Section, list[str]]:
    from graphinv.query import risk

    order: list[str] = []
    section = Section(
        key="risk",
        title="Risk ranking, with reasons",
        intro=(
            "Registry firms scored on network, watch-list and import signals, highest first. Each reason says what "
            "adds to or takes from the score; age, staff and a long import history weigh against."
        ),
        columns=["Rank", "Firm", "Score", "Reasons", "Sources"],
        empty="No firm carries a risk signal.",
        command=f"graphinv query CASE risk --top {top}",
    )

    def compute() -> None:
        result = risk(graph, max_degree=max_degree)
        rows: list[list[Cell]] = []
        rank = 0
        for row in result.rows:
            rank += 1
            order.append(row.entity.id)
            if not scope.touches([row.entity.id]):
                continue
            evidence = [*(link for signal in row.signals for link in signal.links), *_entity_facts(graph, row.entity.id)]
            rows.append([
                Text(str(rank)),
                Entities((row.entity,)),
                Text(f"{row.score:g}"),
                Lines(tuple(row.reasons)),
                Sources.of(evidence),
            ])
        section.total = len(rows)
        section.rows = rows[:top]
        if len(rows) > top:
            section.notes.append(f"{len(rows) - top:,} lower-ranked firms not shown (--top {top}).")
        section.notes.append(f"Reference date: {result.reference_date}.")
        section.notes.extend(result.notes)

    return _guard(section, compute), order


def _path_text(graph: nx.MultiDiGraph, path: Sequence[str]) -> str:
    nodes = graph._node
    parts = [_node_label(nodes[path[0]])]
    for a, b in itertools.pairwise(path):
        share = (graph._succ[a].get(b) or {}).get("OWNS", {}).get("share_pct")
        step = f"{share:g}%" if isinstance(share, (int, float)) else "?%"
        parts.append(f"\u2014{step}\u2192 {_node_label(nodes[b])}")
    return " ".join(parts)


def _node_label(attrs: dict[str, Any]) -> str:
    bundle = attrs.get("bundle_id")
    name = str(attrs.get("name") or attrs.get("id"))
    return f"{bundle} {name}" if bundle else name


def _ownership(
    graph: nx.MultiDiGraph, firms: Sequence[str], max_rows: int, threshold: float
) -> Section:
    from graphinv.query import ubo

    section = Section(
        key="ownership",
        title="Ownership chains, with effective shares",
        intro=(
            "Who ultimately owns each firm in scope: shares multiply along each chain of ownership and add up over "
            "chains; a chain never visits a firm twice, so cross-holdings neither loop nor inflate. "
            "Each step shows the share held."
        ),
        columns=["Firm", "Ultimate owner", "Effective share", "Chains", "Sources"],
        empty="No firm in scope has a recorded owner.",
        command="graphinv query CASE ubo REF",
    )

    def compute() -> None:
        rows: list[list[Cell]] = []
        for firm in firms:
            result = ubo(graph, firm, threshold=threshold)
            for row in result.rows:
                pct = (
                    f"{row.effective_pct:.4g}%" if row.share_known and row.effective_pct is not None
                    else ("unknown" if row.effective_pct is None else f"{row.effective_pct:.4g}% known")
                    + (f", up to {row.max_pct:.4g}%" if row.max_pct is not None else "")
                )
                rows.append([
                    Entities((result.firm,)),
                    Entities((row.owner,)),
                    Text(pct),
                    Lines(tuple(_path_text(graph, p) for p in row.paths)),
                    Sources.of(row.links),
                ])
            for cycle in result.cycles:
                section.notes.append(
                    f"Ownership cycle met for {_label(result.firm)}: "
                    + " \u2192 ".join(_node_label(graph._node[n]) for n in cycle)
                    + " (a firm's stake in itself around it is not counted)."
                )
            if result.truncated:
                section.notes.append(f"Chains of {_label(result.firm)} were too many to enumerate in full.")
            section.notes.extend(result.notes)
        _limit(section, rows, max_rows)
        section.notes = list(dict.fromkeys(section.notes))

    return _guard(section, compute)


# -- the case summary -------------------------------------------------------------------------


def _summary(case: CaseFile, graph: nx.MultiDiGraph, max_rows: int) -> list[Section]:
    counts = case.counts()
    kinds = [Section(
        key="counts",
        title="What the graph holds",
        intro="Entities by kind and links by type, as the case file states them.",
        columns=["Kind or link", "Count"],
        rows=[[Text(k), Text(f"{n:,}")] for k, n in counts.items()],
    )]
    sources = case.sources()
    kinds.append(Section(
        key="sources",
        title="Sources ingested",
        intro="Every file read into the case, with how many of its rows were kept and rejected.",
        columns=["Dataset", "File", "Kind", "Rows read", "Kept", "Rejected", "Ingested at", "SHA-256"],
        rows=[
            [Text(s.dataset), Text(s.file), Text(s.kind), Text(f"{s.rows_read:,}"), Text(f"{s.rows_kept:,}"),
             Text(f"{s.rows_rejected:,}"), Text(s.ingested_at), Text(s.sha256[:16] + "…")]
            for s in sources
        ],
        empty="Nothing has been ingested.",
    ))
    rejected = Section(
        key="rejected",
        title="Rejected rows",
        intro="Rows that were not ingested, with where they are and why. Everything else was kept.",
        columns=["File", "Line", "Column", "Reason", "Row as read"],
        empty="No row was rejected.",
    )
    rows: list[list[Cell]] = []
    for r in case.rejections():
        raw = r.raw if len(r.raw) <= 160 else r.raw[:157] + "…"
        rows.append([Text(f"{r.dataset}:{r.file}"), Text(str(r.line)), Text(r.column), Text(r.reason), Text(raw, "raw")])
    _limit(rejected, rows, max_rows)
    kinds.append(rejected)
    decisions = case.decisions()
    resolution = Section(
        key="resolution",
        title="Resolution decisions",
        intro=(
            "Records that entity resolution found to be one entity ('same', merged) or perhaps one ('possible', "
            "kept apart and drawn as a dashed link), with the rule and the reason."
        ),
        columns=["Record", "Record", "Verdict", "Rule", "Score", "Reason"],
        empty="Entity resolution has not been run on this case (graphinv resolve CASE), or it merged nothing.",
    )
    if decisions:
        names = _statement_names(graph)
        by: dict[str, int] = {}
        for d in decisions:
            by[d.verdict] = by.get(d.verdict, 0) + 1
        resolution.notes.append(", ".join(f"{n:,} {v}" for v, n in sorted(by.items())) + ".")
        # Each record as its source spelled it (the merged node keeps one name for both).
        def record(record_id: str, spelled: str) -> Text:
            return Text(f"{spelled} [{record_id}]" if spelled else names.get(record_id, record_id))

        rows = [
            [record(d.a, d.a_name), record(d.b, d.b_name), Text(d.verdict), Text(d.rule),
             Text(f"{d.score:.2f}"), Text(d.reason)]
            for d in sorted(decisions, key=lambda d: (d.verdict != "possible", d.rule, d.a, d.b))
        ]
        _limit(resolution, rows, max_rows)
    kinds.append(resolution)
    judgements = case.judgements()
    if judgements:
        kinds.append(Section(
            key="judgements",
            title="Analysts' judgements",
            intro="Rulings that override the matcher.",
            columns=["Left", "Right", "Same?", "Note", "From"],
            rows=[[Text(j.left_ref), Text(j.right_ref), Text("same" if j.same else "different"), Text(j.note or ""),
                   Text(j.origin)] for j in judgements],
        ))
    return kinds


def _statement_names(graph: nx.MultiDiGraph) -> dict[str, str]:
    """Statement id → how a reader recognises it: the node's name, and its bundle id."""
    out: dict[str, str] = {}
    for node_id, attrs in graph._node.items():
        label = _node_label(attrs)
        out[node_id] = label
        for merged in attrs.get("merged_ids") or ():
            out.setdefault(merged, f"{label} [{merged}]")
    return out


# -- the graph of the flagged clusters --------------------------------------------------------


def _clusters(
    graph: nx.MultiDiGraph, scope: _Scope, max_nodes: int, max_degree: int | None, hops: int
) -> tuple[Neighbourhood, str]:
    """The groups to draw: around the REFs, or the groups of flagged firms with two or more flagged
    members within one link of each other (a lone flagged firm is a list entry, not a cluster)."""
    from graphinv.query import cluster

    if scope.kind == "around":
        result = cluster(graph, around=list(scope.ids), hops=hops, max_degree=max_degree)
        groups = list(result.rows)
        what = f"Everything within {hops} link{'s' if hops != 1 else ''} of {scope.describe(graph)[7:]}"
    else:
        result = cluster(graph, hops=1, max_degree=max_degree)
        groups = [g for g in result.rows if len(g.flagged) >= 2]
        what = (
            f"The {len(groups)} cluster{'s' if len(groups) != 1 else ''} of flagged firms: flagged entities that lie within "
            "one link of each other, with everything that links them (hubs are not walked through)"
        )
        if not groups:
            groups = [g for g in result.rows if g.flagged]
            what = "No two flagged entities lie within one link of each other; the flagged entities with their direct links"
    distance: dict[str, int] = {}
    seeds: dict[str, None] = {}
    left_out = 0
    for group in groups:
        members = list(group.entities)
        if len(distance) + len(members) > max_nodes:
            left_out += len(members)
            continue
        for member in members:
            distance.setdefault(member.id, member.hops)
        for seed in group.seeds:
            seeds.setdefault(seed.id, None)
    hood = Neighbourhood(
        seeds=tuple(seeds), hops=max(distance.values(), default=0), max_nodes=max_nodes,
        max_degree=max_degree, include_possible=False, distance=distance,
    )
    for node, d in distance.items():
        if d == 0:
            continue
        for other in sorted((*graph._succ[node], *graph._pred[node])):
            if distance.get(other) == d - 1:
                hood.parent[node] = other
                break
    for node in distance:
        others = set(graph._succ[node]) | set(graph._pred[node])
        hidden = sum(1 for o in others if o not in distance)
        if hidden:
            hood.hidden_links[node] = hidden
    if left_out:
        what += f"; {left_out:,} entities of further groups are left out (node cap {max_nodes:,})"
    return hood, what


# -- rendering --------------------------------------------------------------------------------


def _section_html(section: Section, level: int = 2) -> str:
    count = f' <span class="count">{section.count():,}</span>' if section.columns and section.error is None else ""
    out = [f'<section id="{_esc(section.key)}" class="finding">', f"<h{level}>{_esc(section.title)}{count}</h{level}>"]
    if section.intro:
        out.append(f'<p class="intro">{_esc(section.intro)}</p>')
    if section.error:
        out.append(f'<p class="error">{_esc(section.error)}</p>')
    elif not section.rows:
        out.append(f'<p class="empty">{_esc(section.empty)}</p>')
    else:
        out.append(f'<div class="table-wrap"><table data-finding="{_esc(section.key)}"><thead><tr>')
        out.extend(f"<th>{_esc(c)}</th>" for c in section.columns)
        out.append("</tr></thead><tbody>")
        for row in section.rows:
            out.append("<tr>" + "".join(f"<td>{cell.html()}</td>" for cell in row) + "</tr>")
        out.append("</tbody></table></div>")
    if section.notes:
        out.append('<ul class="notes">' + "".join(f"<li>{_esc(n)}</li>" for n in section.notes) + "</ul>")
    if section.command:
        out.append(f'<p class="command">Reproduce: <code>{_esc(section.command)}</code></p>')
    out.append("</section>")
    return "\n".join(out)


def _section_md(section: Section, level: int = 2) -> str:
    count = f" ({section.count():,})" if section.columns and section.error is None else ""
    out = [f"{'#' * level} {_md(section.title)}{count}", ""]
    if section.intro:
        out += [_md(section.intro), ""]
    if section.error:
        out += [f"**{_md(section.error)}**", ""]
    elif not section.rows:
        out += [f"_{_md(section.empty)}_", ""]
    else:
        out.append("| " + " | ".join(_md(c) for c in section.columns) + " |")
        out.append("|" + "|".join("---" for _ in section.columns) + "|")
        for row in section.rows:
            out.append("| " + " | ".join(cell.md() or " " for cell in row) + " |")
        out.append("")
    for note in section.notes:
        out.append(f"* {_md(note)}")
    if section.notes:
        out.append("")
    if section.command:
        out += [f"Reproduce: `{section.command.replace('`', '')}`", ""]
    return "\n".join(out)


def _render_html(
    title: str,
    subtitle: list[str],
    summary: list[Section],
    findings: list[Section],
    graph_part: tuple[dict[str, Any], str] | None,
    graph_note: str = "",
) -> str:
    widget = graph_widget(graph_part[0], height="760px") if graph_part else None
    hashes = widget.hashes() if widget else []
    style = (_ASSETS / "report.css").read_text(encoding="utf-8") + "\n" + (widget.style if widget else "")
    glance = "".join(
        f'<li><a href="#{_esc(s.key)}">{_esc(s.title)}</a>: '
        + ('<span class="error">not computed</span>' if s.error else f"{s.count():,} row{'s' if s.count() != 1 else ''}")
        + "</li>"
        for s in findings
    )
    parts = [
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        f'<meta http-equiv="Content-Security-Policy" content="{csp(hashes) if hashes else csp([chr(39) + "none" + chr(39)])}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="graphinv">',
        f"<title>{_esc(title)}</title>",
        f"<style>{style}</style>",
        "</head><body class=\"report\">",
        f"<header><h1>{_esc(title)}</h1>" + "".join(f'<p class="sub">{_esc(s)}</p>' for s in subtitle) + "</header>",
        '<nav class="glance"><h2>Findings at a glance</h2><ul>' + glance
        + '<li><a href="#graph">The graph</a></li>'
        + '<li><a href="#case">The case: sources, rejected rows, resolution</a></li></ul></nav>',
        "<main>",
    ]
    if graph_part and widget:
        parts.append(
            '<section id="graph" class="finding"><h2>The graph</h2>'
            f'<p class="intro">{_esc(graph_part[1])}. Click an entity or a link for its properties and sources; '
            "search also finds customs spellings.</p>"
            f"{widget.markup}</section>"
        )
    else:
        parts.append(
            '<section id="graph" class="finding"><h2>The graph</h2>'
            f'<p class="empty">{_esc(graph_note or "Nothing is flagged in this case, so there is no cluster to draw.")}</p></section>'
        )
    parts.extend(_section_html(s) for s in findings)
    parts.append('<section id="case" class="case"><h2>The case</h2>')
    parts.extend(_section_html(s, level=3) for s in summary)
    parts.append("</section></main>")
    parts.append('<footer>Made with graphinv. Every row cites the source rows (dataset:file:line) that make it true.</footer>')
    if widget:
        parts.append(widget.script_tags())
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _render_md(
    title: str, subtitle: list[str], summary: list[Section], findings: list[Section], graph_note: str | None
) -> str:
    out = [f"# {_md(title)}", ""]
    out += [f"{_md(s)}  " for s in subtitle] + [""]
    out += ["## Findings at a glance", ""]
    for s in findings:
        out.append(f"* {_md(s.title)}: " + ("not computed" if s.error else f"{s.count():,} rows"))
    out.append("")
    if graph_note:
        out += ["## The graph", "", graph_note, ""]
    out += [_section_md(s) for s in findings]
    out += ["## The case", ""]
    out += [_section_md(s, level=3) for s in summary]
    out += ["_Every row cites the source rows (dataset:file:line) that make it true._", ""]
    return "\n".join(out)


# -- the entry points -------------------------------------------------------------------------


def report(
    case: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    around: Sequence[str] | None = None,
    flagged: bool = False,
    format: Literal["html", "md"] = "html",
    chemical: str = "4-piperidone",
    since: str = "2019-01-01",
    min_share: float = 25.0,
    top: int = 20,
    hops: int = 2,
    max_rows: int = 500,
    max_nodes: int = DEFAULT_MAX_NODES,
    max_degree: int | None = DEFAULT_MAX_DEGREE,
) -> Path:
    """Write the case report and return its path.

    ``around`` (REFs) restricts the findings to the entities within ``hops`` links of them and
    starts the freeze list there; ``flagged`` restricts them to flagged entities and what links
    them; with neither, shared addresses and owners cover the whole case and the freeze list and
    graph start from the flagged firms. ``format`` "md" writes Markdown (no graph; the command
    that draws it instead). Tables stop at ``max_rows`` rows and say how many more there are.
    """
    if format not in REPORT_FORMATS:
        raise GraphinvError(f"Unknown report format {format!r} (available: {', '.join(REPORT_FORMATS)})")
    if around and flagged:
        raise GraphinvError("Give either --around REF... or --flagged, not both")
    with CaseFile(case) as opened:
        graph = load_graph(opened)
        if around:
            ids = find_refs(graph, around)
            members = frozenset(neighbourhood(graph, ids, hops=hops, max_nodes=10**9, max_degree=max_degree).distance)
            scope = _Scope("around", refs=tuple(around), ids=ids, members=members)
        else:
            scope = _Scope("flagged" if flagged else "case")
        summary = _summary(opened, graph, max_rows)
        version = opened.version
    findings = [
        _shared_addresses(graph, scope, max_rows, max_degree),
        _shared_owners(graph, scope, max_rows, max_degree),
        _freeze_list(graph, scope, max_rows, min_share),
        _new_importers(graph, scope, max_rows, chemical, since),
    ]
    risk_section, risk_order = _risk(graph, scope, top, max_degree)
    findings.append(risk_section)
    findings.append(_ownership(graph, _ubo_firms(graph, scope, risk_order), max_rows, 0.0))
    case_name = Path(case).name
    title = f"Case report: {case_name}"
    flagged_n = sum(1 for a in graph._node.values() if a.get("flagged"))
    subtitle = [
        (
            f"Scope: {scope.describe(graph)}. Case version {version}; {graph.number_of_nodes():,} entities, "
            f"{graph.number_of_edges():,} links, {flagged_n:,} flagged."
        ),
        f"Written {dt.date.today().isoformat()} by graphinv. Everything below can be re-run with the command under each table.",
    ]
    hood: Neighbourhood | None = None
    what = ""
    try:
        hood, what = _clusters(graph, scope, max_nodes, max_degree, hops)
    except (GraphinvError, ValueError) as exc:
        what = f"The graph could not be drawn: {exc}"
    if format == "md":
        note = what + "."
        if hood is not None and hood.seeds:
            refs = " ".join(f"--around {_ref(graph, s)}" for s in hood.seeds[:12])
            note += f" Draw it interactively with `graphinv explore {case_name} {refs} --hops 1 -o graph.html`."
        text = _render_md(title, subtitle, summary, findings, note)
    else:
        graph_part = None
        if hood is not None and hood.distance:
            data = graph_data(graph, hood, title="Flagged clusters" if scope.kind != "around" else "Around " + ", ".join(scope.refs))
            data["description"] = what
            edge = sum(1 for n in hood.distance if hood.hidden_links.get(n))
            if edge:
                # The clusters' own notes, not explore's "raise --hops": the report has no such option.
                data["notes"] = [
                    (
                        f"{edge:,} entities here have further links outside what is drawn (click one to see how many). "
                        f"Draw more with: graphinv explore {case_name} --around REF --hops 2 -o more.html"
                    )
                ]
            graph_part = (data, what)
        text = _render_html(title, subtitle, summary, findings, graph_part, what if hood is None else "")
    return write_text(output, text)


def _ref(graph: nx.MultiDiGraph, node: str) -> str:
    attrs = graph._node[node]
    return str(attrs.get("bundle_id") or node)


def _ubo_firms(graph: nx.MultiDiGraph, scope: _Scope, risk_order: list[str]) -> list[str]:
    """The firms whose ownership the report traces: the firms named, or the flagged firms and the
    new importers, riskiest first."""
    nodes = graph._node
    if scope.kind == "around":
        firms = [n for n in (scope.members or ()) if nodes[n].get("kind") == "Company" and nodes[n].get("registered", True) is not False
                 and (n in scope.ids or nodes[n].get("flagged"))]
    else:
        firms = [n for n, a in nodes.items() if a.get("kind") == "Company" and a.get("flagged")]
    rank = {n: i for i, n in enumerate(risk_order)}
    return sorted(set(firms), key=lambda n: (rank.get(n, len(rank)), _node_label(nodes[n])))


def write_demo_pages(case: str | os.PathLike[str], out_dir: str | os.PathLike[str]) -> tuple[Path, Path]:
    """The demo's two pages for the fixture case: the graph around the firms that began importing
    4-piperidone in 2019 (``explore.html``) and the case report (``report.html``)."""
    from graphinv.query import new_importers

    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    graph = load_graph(case)
    seeds = [row.company.id for row in new_importers(graph, chemical="4-piperidone", since="2019-01-01").rows
             if graph._node[row.company.id].get("registered", True) is not False]
    explore_path = explore(
        graph, seeds or [n for n, a in graph._node.items() if a.get("flagged")][:5], hops=2,
        output=folder / "explore.html", title="Who is behind the new 4-piperidone importers",
    )
    report_path = report(case, folder / "report.html", flagged=True)
    return explore_path, report_path
