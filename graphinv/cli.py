"""The command line: thin commands, each one library call; the only place that prints or exits."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from graphinv.demo import Headlines, run_demo
from graphinv.exc import GraphinvError
from graphinv.ingest import IngestReport, adapters, ingest
from graphinv.resolve import ResolveReport, resolve
from graphinv.store import CaseFile

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["app", "main"]

app = typer.Typer(
    help="graphinv: follow money and chemicals through companies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


@contextlib.contextmanager
def _progress() -> Iterator[object]:
    """A progress bar on a terminal; nothing when output goes to a file or a pipe."""
    if not err.is_terminal:
        yield None
        return
    bars: dict[str, object] = {}
    with Progress(
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
        console=err, transient=True,
    ) as progress:

        def tick(label: str, done: int, total: int) -> None:
            task = bars.get(label)
            if task is None:
                task = bars[label] = progress.add_task(label, total=total)
            progress.update(task, completed=done)  # type: ignore[arg-type]

        yield tick


def _graph(case: Path) -> nx.MultiDiGraph:
    """The case's graph, saying on a terminal what it is doing (a registry-scale case takes
    minutes to load the first time after a change, and a minute or two from the cache after)."""
    from graphinv.store import load_graph

    if err.is_terminal:
        with err.status("Opening the case") as spinner:
            graph = load_graph(case, status=lambda text: spinner.update(text))
    else:
        graph = load_graph(case)
    if graph.graph.get("cache_note"):
        err.print(f"note: the case's graph is {graph.graph['cache_note']}")
    return graph


def _print_ingest(report: IngestReport) -> None:
    out.print(f"Ingested into {report.case}")
    table = Table()
    for column in ("dataset", "file", "kind", "read", "kept", "rejected"):
        table.add_column(column, justify="right" if column in ("read", "kept", "rejected") else "left")
    for f in report.files:
        if f.unchanged:
            table.add_row(f.dataset, f.file, f.kind, "-", "-", "-", end_section=False)
        else:
            table.add_row(f.dataset, f.file, f.kind, str(f.read), str(f.kept), str(f.rejected))
    out.print(table)
    unchanged = [f.file for f in report.files if f.unchanged]
    if unchanged:
        out.print(f"Unchanged since the last ingest, skipped: {', '.join(unchanged)}")
    for f in report.files:
        if f.replaced:
            out.print(f"{f.dataset}/{f.file} replaces the file of that name read before, from {f.replaced}", markup=False)
        if f.reread:
            out.print(
                f"{f.dataset}/{f.file} was read again: it names entities a replaced file no longer states", markup=False
            )
    if report.rejected_total:
        err.print(f"{report.rejected_total} row(s) rejected:")
        for line in report.rejections:
            err.print(f"  {line}", markup=False, soft_wrap=True)
        if report.rejected_total > len(report.rejections):
            err.print(f"  ... and {report.rejected_total - len(report.rejections)} more")
    if report.rejects_file:
        out.print(f"All rejected rows of this case: {report.rejects_file}")
    warned = sum(f.warned for f in report.files)
    if warned:
        err.print(f"{warned} value(s) could not be read; their rows were kept, with the value as raw_<field>:")
        for line in report.warnings:
            err.print(f"  warning: {line}", markup=False, soft_wrap=True)
        if warned > len(report.warnings):
            err.print(f"  ... and {warned - len(report.warnings)} more")


def _print_counts(counts: dict[str, int]) -> None:
    table = Table(title="Graph", title_justify="left")
    table.add_column("kind")
    table.add_column("count", justify="right")
    for kind, n in counts.items():
        table.add_row(kind, f"{n:,}")
    out.print(table)


def _fail(exc: GraphinvError) -> typer.Exit:
    err.print(f"error: {exc}", markup=False, soft_wrap=True)
    return typer.Exit(code=1)


CaseArg = Annotated[Path, typer.Argument(help="The case file (created on first ingest).", metavar="CASE")]


@app.command("ingest")
def ingest_command(
    case: CaseArg,
    sources: Annotated[list[Path], typer.Argument(help="Bundle folders or single files.", metavar="SOURCE...")],
    dataset: Annotated[Optional[str], typer.Option(help="Dataset name for the sources (default: the folder's name).")] = None,
    kind: Annotated[
        Optional[str], typer.Option(help=f"What a single file holds: {', '.join(adapters())} (FtM and BODS are recognised by content).")
    ] = None,
    mapping: Annotated[
        Optional[Path], typer.Option(help="A YAML mapping that reads another layout (CSV, Excel, JSON) as bundle files; see docs/sources.md.")
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Fail and write nothing if any row is rejected.")] = False,
    no_resolve: Annotated[bool, typer.Option("--no-resolve", help="Skip entity resolution after the ingest.")] = False,
) -> None:
    """Load a bundle folder (or single files) into the case, in one transaction, then resolve it.

    Every rejected row is reported as file:line: column: reason and written to CASE.rejects.csv;
    the rest is kept. A value an adapter cannot read (a BODS date '03/09/2019') keeps its row: it
    is stored as raw_<field> and reported as a warning. Ingesting the same files again changes nothing.

    Example: graphinv ingest case.graphinv fixtures/precursor-case
    (or: graphinv ingest case.graphinv kek/ --mapping fixtures/mappings/kek-media-ownership.yml)
    """
    try:
        with _progress() as tick:
            report = ingest(case, sources, dataset=dataset, kind=kind, mapping=mapping, strict=strict, progress=tick)  # type: ignore[arg-type]
        resolution = None if no_resolve else resolve(case)
    except GraphinvError as exc:
        raise _fail(exc) from None
    _print_ingest(report)
    if resolution is not None:
        _print_resolution(resolution)
    with CaseFile(case) as opened:
        _print_counts(opened.counts())


def _print_resolution(report: ResolveReport) -> None:
    merged = ", ".join(f"{n} by {rule}" for rule, n in report.merged.items()) or "none"
    out.print(
        f"Resolved: {report.entities_before:,} records → {report.entities_after:,} entities "
        f"(merges: {merged}; {report.possible} uncertain match(es) kept as POSSIBLY_SAME_AS"
        + (f"; {report.kept_apart} kept apart" if report.kept_apart else "")
        + (f"; {report.judgements} judgement(s) applied" if report.judgements else "")
        + "). Review: graphinv query CASE matches"
    )
    for stale in report.stale_judgements:
        err.print(f"warning: {stale}", markup=False)


@app.command("resolve")
def resolve_command(
    case: CaseArg,
    judgements: Annotated[
        Optional[Path],
        typer.Option(help="CSV or YAML of left,right,verdict (same|not-same),note: your rulings, kept in the case."),
    ] = None,
) -> None:
    """Resolve the case again: same firm or person however spelled, one address per building.

    Deterministic and re-runnable; judgements override the matcher both ways and are kept in the
    case, so they survive re-ingest.

    Example: graphinv resolve case.graphinv --judgements rulings.csv
    """
    try:
        report = resolve(case, judgements=judgements)
    except GraphinvError as exc:
        raise _fail(exc) from None
    _print_resolution(report)
    if not report.changed:
        out.print("Nothing changed since the last resolution.")


EXPORT_FORMATS = ("jsonl", "neo4j-csv", "ftm", "graphml", "gexf")


@app.command("export")
def export_command(
    case: CaseArg,
    format: Annotated[str, typer.Option("--format", "-f", help=f"One of: {', '.join(EXPORT_FORMATS)}.")] = "jsonl",
    output: Annotated[str, typer.Option("--output", "-o", help="Output path, or - for standard output.")] = "-",
) -> None:
    """Write the whole case in another format.

    jsonl: one JSON object a line, every node ({"type": "node", ...}) then every link
    ({"type": "link", "rel", "source", "target", ...}).
    neo4j-csv: a folder (-o DIR) of node and relationship CSVs for 'neo4j-admin database import',
    plus schema.cypher; the import command is printed.
    ftm: FollowTheMoney entity JSON lines (Aleph, OpenSanctions tools). graphml, gexf: for Gephi,
    yEd and networkx; list values are written as JSON text (docs/sources.md).

    Example: graphinv export case.graphinv --format jsonl -o case.jsonl
    """
    from graphinv.export import write_jsonl

    if format not in EXPORT_FORMATS:
        raise _fail(GraphinvError(f"Unknown export format {format!r} (available: {', '.join(EXPORT_FORMATS)})"))
    if format == "neo4j-csv":
        from graphinv.export.neo4j import write_neo4j_csv

        try:
            if output == "-":
                raise GraphinvError("neo4j-csv writes a folder of CSV files: give it with -o DIR")
            done = write_neo4j_csv(case, output)
        except GraphinvError as exc:
            raise _fail(exc) from None
        err.print(f"Wrote {done.nodes:,} nodes and {done.links:,} links to {output} "
                  f"({len(done.node_files)} node and {len(done.link_files)} relationship files)", markup=False)
        err.print("Import them into a new database (server stopped), then create the constraints and indexes "
                  f"in {done.schema_file}:", markup=False)
        typer.echo(done.command)
        return
    if format in ("ftm", "graphml", "gexf"):
        from graphinv.export.ftm import write_ftm
        from graphinv.export.graph_formats import write_gexf, write_graphml

        writer = {"ftm": write_ftm, "graphml": write_graphml, "gexf": write_gexf}[format]
    else:
        writer = write_jsonl
    try:
        count = writer(case, output)
    except GraphinvError as exc:
        raise _fail(exc) from None
    if output != "-":
        err.print(f"Wrote {count:,} {'lines' if format in ('jsonl', 'ftm') else 'nodes and links'} to {output}")


@app.command("demo")
def demo_command(
    out_dir: Annotated[Path, typer.Argument(help="Where to write the demo case.", metavar="[OUT_DIR]")] = Path("graphinv-demo"),
) -> None:
    """Build the bundled fictional precursor case and summarise it.

    Example: graphinv demo /tmp/demo
    """
    try:
        with _progress() as tick:
            result = run_demo(out_dir, progress=tick)  # type: ignore[arg-type]
    except GraphinvError as exc:
        raise _fail(exc) from None
    _print_ingest(result.ingest)
    _print_resolution(result.resolution)
    _print_counts(result.counts)
    _print_headlines(result.headlines)
    out.print(f"Case file:          {result.case}")
    out.print(f"Interactive graph:  {result.explore_html}")
    out.print(f"Case report:        {result.report_html}")


def _print_headlines(found: Headlines) -> None:
    leads = [r for r in found.shared_addresses.rows if not r.hub]
    hubs = [r for r in found.shared_addresses.rows if r.hub]
    table = Table(title=f"Shared addresses with a flagged entity: {len(leads)} (+{len(hubs)} hub(s) set aside)", title_justify="left")
    table.add_column("address")
    table.add_column("who", overflow="fold")
    for row in leads[:8]:
        table.add_row(row.address, ", ".join(e.label for e in row.entities))
    out.print(table)
    accounts = sum(len(e.accounts) for e in found.freeze_list.rows)
    out.print(
        f"Freeze list from every flagged firm (owners ≥ {found.freeze_list.min_share:g}%, their chains and spouses): "
        f"{len(found.freeze_list.rows)} entities, {accounts} accounts. Details: graphinv query CASE freeze-list --flagged"
    )
    table = Table(title=f"New importers of {found.new_importers.chemical} since {found.new_importers.since}", title_justify="left")
    for column in ("company", "first import", "shipments", "kg"):
        table.add_column(column, justify="right" if column in ("shipments", "kg") else "left")
    for row in found.new_importers.rows:
        table.add_row(row.company.label, row.first_import or "", str(row.shipments), f"{row.quantity_kg:,.0f}")
    out.print(table)
    table = Table(title="Top of the risk ranking", title_justify="left")
    for column in ("firm", "score", "strongest reasons"):
        table.add_column(column, justify="right" if column == "score" else "left", overflow="fold")
    for row in found.risk.rows[:8]:
        first = row.reasons[0] if row.reasons else ""
        table.add_row(row.entity.label, f"{row.score:.1f}", first if len(first) <= 90 else first[:89] + "…")
    out.print(table)


QUERY_FORMATS = ("table", "csv", "json")


@app.command("query")
def query_command(
    case: CaseArg,
    investigation: Annotated[
        str,
        typer.Argument(
            help="shared-addresses, shared-owners, cluster, ubo, path, freeze-list, new-importers, risk, or matches (resolution's decisions).",
            metavar="INVESTIGATION",
        ),
    ],
    refs: Annotated[Optional[list[str]], typer.Argument(help="ubo: the firm; path: its two ends.", metavar="[REF...]")] = None,
    around: Annotated[Optional[list[str]], typer.Option("--around", help="cluster, freeze-list: start from this REF (repeat).")] = None,
    flagged: Annotated[bool, typer.Option("--flagged", help="shared-*: only groups with a flagged member; freeze-list: start from every flagged firm.")] = False,
    officers: Annotated[bool, typer.Option("--officers", help="shared-owners: also officers of 2+ firms; freeze-list: add the firms' officers.")] = False,
    hops: Annotated[Optional[int], typer.Option(help="cluster: links to walk from the start (default 2).")] = None,
    max_hops: Annotated[Optional[int], typer.Option(help="path: longest connection to look for (default 6).")] = None,
    max_degree: Annotated[
        Optional[int], typer.Option(help="A node linked to more firms and persons is a hub: reported, not walked through (default 12; 0: no hubs).")
    ] = None,
    threshold: Annotated[Optional[float], typer.Option(help="ubo: smallest effective share to list, 0-100.")] = None,
    intermediate: Annotated[bool, typer.Option("--intermediate", help="ubo: also list the firms on the chains.")] = False,
    min_share: Annotated[Optional[float], typer.Option(help="freeze-list: smallest effective share of an owner (default 25).")] = None,
    no_spouses: Annotated[bool, typer.Option("--no-spouses", help="freeze-list: leave the owners' spouses out.")] = False,
    as_of: Annotated[Optional[str], typer.Option(help="ubo, shared-owners, freeze-list, risk: the date ownership and offices hold on.")] = None,
    chemical: Annotated[Optional[str], typer.Option(help="new-importers: any name, synonym, short form or CAS number of a precursor.")] = None,
    since: Annotated[Optional[str], typer.Option(help="new-importers: first import on or after this date; risk: a first import on or after it is new (default: 2 years or more after the first import of that chemical in the case).")] = None,
    until: Annotated[Optional[str], typer.Option(help="new-importers: ignore shipments after this date.")] = None,
    established: Annotated[bool, typer.Option("--established", help="new-importers: also list firms that imported it before.")] = False,
    top: Annotated[Optional[int], typer.Option(help="risk: keep the N highest scores.")] = None,
    limit: Annotated[
        Optional[int], typer.Option(help="path: most connections to show (default 10); shared-*, cluster: show only the first N groups.")
    ] = None,
    uncertain: Annotated[bool, typer.Option("--uncertain", help="matches: only the uncertain matches left unmerged.")] = False,
    include_possible: Annotated[bool, typer.Option("--include-possible", help="Treat uncertain matches (POSSIBLY_SAME_AS) as the same entity.")] = False,
    format: Annotated[str, typer.Option("--format", "-f", help=f"One of: {', '.join(QUERY_FORMATS)}.")] = "table",
) -> None:
    """Ask the case one of the investigation's questions; every answer carries its links and sources.

    shared-addresses [--flagged]; shared-owners [--flagged] [--officers]; cluster [--around REF...]
    [--hops N]; ubo REF [--threshold PCT] [--as-of DATE]; path REF REF [--max-hops N];
    freeze-list [--flagged | --around REF...] [--min-share PCT] [--no-spouses] [--officers];
    new-importers --chemical NAME --since DATE; risk [--top N]. REF is an entity id, a bundle id,
    a tax id or a name. --format json prints one JSON array (DESIGN §5 row shapes).

    Example: graphinv query case.graphinv ubo C037 --threshold 25
    """
    import csv
    import json

    from rich.text import Text

    from graphinv.query import run

    if format not in QUERY_FORMATS:
        raise _fail(GraphinvError(f"Unknown query format {format!r} (available: {', '.join(QUERY_FORMATS)})"))
    try:
        graph = _graph(case)
        result = run(
            graph, investigation, refs or [],
            around=around, flagged=flagged, officers=officers, hops=hops, max_hops=max_hops, max_degree=max_degree,
            threshold=threshold, intermediate=intermediate, min_share=min_share, spouses=False if no_spouses else None,
            as_of=as_of, chemical=chemical, since=since, until=until, established=established, top=top, limit=limit, uncertain=uncertain,
            include_possible=include_possible,
        )
    except GraphinvError as exc:
        raise _fail(exc) from None
    extras = [result.hub_line(h) for h in result.hubs]
    extras += [f"note: {note}" for note in result.notes]
    if format == "json":
        typer.echo(json.dumps(result.json_rows(), ensure_ascii=False, indent=2))
        for line in extras:
            err.print(line, markup=False)
        return
    rows = result.flat_rows()

    def cell(value: object, sep: str) -> str:
        if isinstance(value, (list, tuple)):
            return sep.join(str(v) for v in value)
        return "yes" if value is True else "" if value is False else str(value)

    columns = list(rows[0]) if rows else list(result.columns())
    if format == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: cell(v, "; ") if isinstance(v, (list, tuple)) else v for k, v in row.items()} for row in rows)
        for line in extras:
            err.print(line, markup=False)
        return
    table = Table(title=f"{investigation}: {len(rows)} row(s)", title_justify="left")
    for column in columns or ["result"]:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(Text(cell(v, "\n")) for v in row.values()))
    out.print(table)
    for line in extras:
        out.print(line, markup=False)


# -- playbooks and Neo4j (issue 6) ---------------------------------------------------------------

playbook_app = typer.Typer(
    help="Saved Cypher playbooks: list them, show one, run one on a case (no server needed) or on Neo4j.\n\n"
    "Example: graphinv playbook run shared-owners --param flagged=true --case case.graphinv",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(playbook_app, name="playbook")
neo4j_app = typer.Typer(
    help="Neo4j: push a case to a server (credentials from GRAPHINV_NEO4J_USER / GRAPHINV_NEO4J_PASSWORD).\n\n"
    "Example: graphinv neo4j push case.graphinv --uri bolt://localhost:7687",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(neo4j_app, name="neo4j")

PLAYBOOK_FORMATS = ("table", "csv", "json")


def _neo4j_credentials() -> tuple[str, str]:
    """The Neo4j user and password, from the environment only (never from arguments, never shown)."""
    import os

    user = os.environ.get("GRAPHINV_NEO4J_USER") or "neo4j"
    password = os.environ.get("GRAPHINV_NEO4J_PASSWORD")
    if not password:
        raise GraphinvError(
            "Set GRAPHINV_NEO4J_PASSWORD (and GRAPHINV_NEO4J_USER, default 'neo4j') in the environment: "
            "graphinv never takes a password on the command line"
        )
    return user, password


def _cell_text(value: object, sep: str, *, table: bool | None = None) -> str:
    """A playbook value as one table or CSV cell: entities by bundle id and name, lists joined; in a
    table (``sep`` a line break) a link is its type and the rows that state it, a path its ids."""
    import json

    table = sep == "\n" if table is None else table
    if value is None:
        return ""
    if value is True:
        return "yes"
    if value is False:
        return ""
    if isinstance(value, dict):
        if "id" in value and "name" in value:
            return f"{value['bundle_id']} {value['name']}" if value.get("bundle_id") else str(value["name"])
        if table and "rel" in value and "sources" in value:
            return f"{value['rel']} ({'; '.join(value.get('sources') or ())})"
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return sep.join(_cell_text(v, " > " if table else ", ", table=table) for v in value)
    return str(value)


@playbook_app.command("list")
def playbook_list_command() -> None:
    """List every playbook (built-in and from GRAPHINV_PLAYBOOKS folders) with what it answers.

    Example: graphinv playbook list
    """
    from graphinv.playbooks import list_playbooks

    try:
        books = list_playbooks()
    except GraphinvError as exc:
        raise _fail(exc) from None
    table = Table(title=f"{len(books)} playbook(s)", title_justify="left")
    table.add_column("name", no_wrap=True)
    for column in ("mode", "parameters", "description"):
        table.add_column(column, overflow="fold")
    for book in books:
        params = ", ".join(p.name + ("" if p.required else "?") for p in book.params)
        origin = "" if book.builtin else f" [{book.path}]"
        table.add_row(book.name, book.mode, params, book.description + origin)
    out.print(table)


@playbook_app.command("show")
def playbook_show_command(
    name: Annotated[str, typer.Argument(help="The playbook's name (see 'graphinv playbook list').", metavar="NAME")],
) -> None:
    """Print a playbook: its header (parameters, types, defaults, columns) and its Cypher.

    Example: graphinv playbook show ubo
    """
    from graphinv.playbooks import get_playbook

    try:
        book = get_playbook(name)
    except GraphinvError as exc:
        raise _fail(exc) from None
    err.print(f"# {book.path}", markup=False)
    typer.echo(book.text.rstrip("\n"))


@playbook_app.command("run")
def playbook_run_command(
    name: Annotated[str, typer.Argument(help="The playbook's name, or a path to a .cypher file.", metavar="NAME")],
    param: Annotated[Optional[list[str]], typer.Option("--param", "-p", help="KEY=VALUE (repeat; repeat a key for a list).")] = None,
    case: Annotated[Optional[Path], typer.Option("--case", help="Run on this case file, with no server.")] = None,
    neo4j: Annotated[Optional[str], typer.Option("--neo4j", help="Run on the Neo4j at this URI (credentials from GRAPHINV_NEO4J_*).")] = None,
    database: Annotated[Optional[str], typer.Option("--database", help="With --neo4j: the database (default neo4j).")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help=f"One of: {', '.join(PLAYBOOK_FORMATS)}.")] = "table",
    allow_write: Annotated[bool, typer.Option("--allow-write", help="Allow a playbook whose header says 'mode: write'.")] = False,
) -> None:
    """Run a playbook. Parameters are checked against its header before anything runs.

    With --case CASE the playbook runs on a private no-server engine loaded with the case (the
    first run of a case version loads it; later runs reuse the copy in your cache). With --neo4j
    URI it runs on that server. REF parameters take an id, a bundle id, a tax id or a name.

    Example: graphinv playbook run ubo --param firm=C037 --param threshold=25 --case case.graphinv
    """
    import csv
    import json

    from rich.text import Text

    from graphinv.export.neo4j import DEFAULT_DATABASE
    from graphinv.playbooks import parse_cli_params, run_playbook
    from graphinv.store.neo4j import BoltTarget

    try:
        if format not in PLAYBOOK_FORMATS:
            raise GraphinvError(f"Unknown format {format!r} (available: {', '.join(PLAYBOOK_FORMATS)})")
        if (case is None) == (neo4j is None):
            raise GraphinvError("Give either --case CASE (no server needed) or --neo4j URI")
        if database and neo4j is None:
            raise GraphinvError("--database applies to --neo4j only")
        params = parse_cli_params(param or [])
        target = None
        if neo4j is not None:
            user, password = _neo4j_credentials()
            target = BoltTarget(uri=neo4j, user=user, password=password, database=database or DEFAULT_DATABASE)
        with _progress() as tick:
            result = run_playbook(name, params, case=case, neo4j=target, allow_write=allow_write, progress=tick)  # type: ignore[arg-type]
    except GraphinvError as exc:
        raise _fail(exc) from None
    rows = [dict(row) for row in result.rows]
    if format == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(result.columns)
        for row in rows:
            writer.writerow([_cell_text(row.get(c), "; ") for c in result.columns])
        return
    table = Table(title=f"{result.playbook}: {len(rows)} row(s) from {result.target}", title_justify="left")
    for column in result.columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(Text(_cell_text(row.get(c), "\n")) for c in result.columns))
    out.print(table)


@neo4j_app.command("push")
def neo4j_push_command(
    case: CaseArg,
    uri: Annotated[str, typer.Option("--uri", help="The server, e.g. bolt://localhost:7687 (no credentials in it).")],
    database: Annotated[Optional[str], typer.Option("--database", help="The database to load (default neo4j).")] = None,
    batch: Annotated[int, typer.Option("--batch", help="Rows per UNWIND batch.")] = 5000,
) -> None:
    """Push the case to Neo4j: constraints and indexes, then every node and link, batched and idempotent.

    Credentials come from GRAPHINV_NEO4J_USER (default neo4j) and GRAPHINV_NEO4J_PASSWORD, and are
    never printed. Pushing the same case again changes nothing. For registry-scale loads into a new
    database, 'graphinv export CASE --format neo4j-csv -o DIR' writes files for neo4j-admin.

    Example: graphinv neo4j push case.graphinv --uri bolt://localhost:7687 --database neo4j
    """
    from graphinv.export.neo4j import push

    try:
        user, password = _neo4j_credentials()
        with _progress() as tick:
            report = push(case, uri, user=user, password=password, database=database, batch=batch, progress=tick)  # type: ignore[arg-type]
    except GraphinvError as exc:
        raise _fail(exc) from None
    out.print(
        f"Pushed {report.nodes:,} nodes and {report.links:,} links to {report.target}, database {report.database!r}, "
        f"in {report.seconds:.1f} s ({report.rows_per_second:,.0f} rows/s): "
        f"{report.nodes_created:,} nodes and {report.links_created:,} links were new",
        markup=False,
    )
    out.print(f"Constraints and indexes in place: {len(report.constraints)}", markup=False)
    if report.skipped_links:
        err.print(f"{report.skipped_links:,} link(s) skipped: an end is not in the case", markup=False)


@app.command("explore")
def explore_command(
    case: CaseArg,
    around: Annotated[list[str], typer.Option("--around", help="Start here: an id, bundle id, tax id or name (repeatable).", metavar="REF")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The HTML file to write.", metavar="FILE.html")],
    hops: Annotated[int, typer.Option(help="How many links out from the REFs to show.", min=0)] = 2,
    max_nodes: Annotated[int, typer.Option(help="Show at most this many entities (flagged, firms and persons first).", min=1)] = 1000,
    include_possible: Annotated[bool, typer.Option("--include-possible", help="Also follow uncertain matches (drawn dashed).")] = False,
) -> None:
    """Write an interactive graph of everything within --hops links of the REFs, as one offline HTML file.

    Colour and shape by kind, flagged entities ringed in red, links labelled ("owns 35%"), search
    (customs spellings too), filters, and a panel with each entity's properties and sources.
    Hubs are shown but not walked through; the page says what it left out.

    Example: graphinv explore case.graphinv --around C014 --around DRG180521K47 --hops 2 -o ring.html
    """
    from graphinv.export.html import explore

    try:
        path = explore(_graph(case), around, hops=hops, max_nodes=max_nodes, include_possible=include_possible, output=output)
    except GraphinvError as exc:
        raise _fail(exc) from None
    out.print(f"Wrote {path}")


@app.command("report")
def report_command(
    case: CaseArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="The file to write.", metavar="FILE")],
    around: Annotated[Optional[list[str]], typer.Option("--around", help="Limit the findings to the neighbourhood of these REFs (repeatable).", metavar="REF")] = None,
    flagged: Annotated[bool, typer.Option("--flagged", help="Limit the findings to flagged entities and what links them.")] = False,
    format: Annotated[str, typer.Option("--format", "-f", help="html (with the interactive graph) or md (Markdown).")] = "html",
    chemical: Annotated[str, typer.Option(help="The precursor whose new importers are listed.")] = "4-piperidone",
    since: Annotated[str, typer.Option(help="New importers: first import on or after this date.")] = "2019-01-01",
    min_share: Annotated[float, typer.Option(help="Freeze list: smallest effective share that adds an owner.")] = 25.0,
    top: Annotated[int, typer.Option(help="Risk ranking: how many firms to list.", min=1)] = 20,
) -> None:
    """Write the case report: sources, rejected rows and resolution decisions; shared addresses,
    shared owners, the freeze list with accounts, new importers, the risk ranking and ownership
    chains, each row citing its sources; and the graph of the flagged clusters.

    Example: graphinv report case.graphinv --flagged -o report.html
    """
    from graphinv.export.report import report

    try:
        _graph(case)  # loaded once, with its status; the report reads it from memory
        path = report(case, output, around=around or None, flagged=flagged, format=format,  # type: ignore[arg-type]
                      chemical=chemical, since=since, min_share=min_share, top=top)
    except GraphinvError as exc:
        raise _fail(exc) from None
    out.print(f"Wrote {path}")


def main() -> None:
    """Entry point of the ``graphinv`` script."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted: the case is as it was before this command")
        sys.exit(130)
