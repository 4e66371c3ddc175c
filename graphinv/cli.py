"""The command line: thin commands, each one library call; the only place that prints or exits."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from graphinv.exc import GraphinvError
from graphinv.ingest import IngestReport, adapters, ingest
from graphinv.resolve import ResolveReport, resolve
from graphinv.store import CaseFile

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
    if report.rejected_total:
        err.print(f"{report.rejected_total} row(s) rejected:")
        for line in report.rejections:
            err.print(f"  {line}", markup=False, soft_wrap=True)
        if report.rejected_total > len(report.rejections):
            err.print(f"  ... and {report.rejected_total - len(report.rejections)} more")
    if report.rejects_file:
        out.print(f"All rejected rows of this case: {report.rejects_file}")


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
        Optional[str], typer.Option(help=f"What a single file holds: {', '.join(adapters())}.")
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Fail and write nothing if any row is rejected.")] = False,
    no_resolve: Annotated[bool, typer.Option("--no-resolve", help="Skip entity resolution after the ingest.")] = False,
) -> None:
    """Load a bundle folder (or single files) into the case, in one transaction, then resolve it.

    Every rejected row is reported as file:line: column: reason and written to CASE.rejects.csv;
    the rest is kept. Ingesting the same files again changes nothing.

    Example: graphinv ingest case.graphinv fixtures/precursor-case
    """
    try:
        with _progress() as tick:
            report = ingest(case, sources, dataset=dataset, kind=kind, strict=strict, progress=tick)  # type: ignore[arg-type]
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


EXPORT_FORMATS = ("jsonl",)


@app.command("export")
def export_command(
    case: CaseArg,
    format: Annotated[str, typer.Option("--format", "-f", help=f"One of: {', '.join(EXPORT_FORMATS)}.")] = "jsonl",
    output: Annotated[str, typer.Option("--output", "-o", help="Output path, or - for standard output.")] = "-",
) -> None:
    """Write the whole case in another format.

    jsonl: one JSON object a line, every node ({"type": "node", ...}) then every link
    ({"type": "link", "rel", "source", "target", ...}).

    Example: graphinv export case.graphinv --format jsonl -o case.jsonl
    """
    from graphinv.export import write_jsonl

    if format not in EXPORT_FORMATS:
        raise _fail(GraphinvError(f"Unknown export format {format!r} (available: {', '.join(EXPORT_FORMATS)})"))
    try:
        count = write_jsonl(case, output)
    except GraphinvError as exc:
        raise _fail(exc) from None
    if output != "-":
        err.print(f"Wrote {count:,} lines to {output}")


@app.command("demo")
def demo_command(
    out_dir: Annotated[Path, typer.Argument(help="Where to write the demo case.", metavar="[OUT_DIR]")] = Path("graphinv-demo"),
) -> None:
    """Build the bundled fictional precursor case and summarise it.

    Example: graphinv demo /tmp/demo
    """
    from graphinv.demo import run_demo

    try:
        with _progress() as tick:
            result = run_demo(out_dir, progress=tick)  # type: ignore[arg-type]
    except GraphinvError as exc:
        raise _fail(exc) from None
    _print_ingest(result.ingest)
    _print_resolution(result.resolution)
    _print_counts(result.counts)
    out.print(f"Case file: {result.case}")


def main() -> None:
    """Entry point of the ``graphinv`` script."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted: the case is as it was before this command")
        sys.exit(130)
