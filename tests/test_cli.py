"""The command line as a user meets it: exit codes, messages, the demo, and documented commands."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO, write_csv
from typer.testing import CliRunner

from graphinv import CaseFile, GraphinvError, ingest
from graphinv.cli import app
from graphinv.export.jsonl import write_lines

runner = CliRunner()


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "graphinv", *args], capture_output=True, text=True, cwd=cwd, check=False
    )


def test_demo_builds_the_fixture_case_and_summarises_it(tmp_path: Path) -> None:
    result = run("demo", str(tmp_path / "demo"))
    assert result.returncode == 0, result.stderr
    assert "3 row(s) rejected" in result.stderr
    assert "shipments.csv:114: quantity_kg" in result.stderr
    # 159 registry firms and 18 foreign exporters: every customs spelling resolved onto its firm.
    assert re.search(r"Company\s*│\s*177", result.stdout)
    assert "Resolved: " in result.stdout
    assert re.search(r"Shipment\s*│\s*433", result.stdout)
    assert (tmp_path / "demo" / "precursor-case.graphinv").exists()
    # The headline findings of fixtures/README.md: the five new 4-piperidone importers, the two
    # ring buildings among the shared addresses, and both pages written.
    new_importers = result.stdout[
        result.stdout.index("New importers of 4-piperidone") : result.stdout.index("Top of the risk")
    ]
    assert [b for b in ("C014", "C081", "C037", "C052", "C068") if b in new_importers] == [
        "C014",
        "C081",
        "C037",
        "C052",
        "C068",
    ]
    assert "C006" not in new_importers and "C027" not in new_importers
    assert "Calle Marinos 233" in result.stdout and "Calle Cedro 14" in result.stdout
    assert (tmp_path / "demo" / "explore.html").stat().st_size > 100_000
    assert (tmp_path / "demo" / "report.html").exists()
    again = run("demo", str(tmp_path / "demo"))
    assert again.returncode == 0 and "Unchanged since the last ingest" in again.stdout


def test_bad_rows_are_reported_with_location_and_strict_fails(tmp_path: Path, small_bundle: Path) -> None:
    write_csv(
        small_bundle / "ownership.csv",
        ["owner_id", "company_id", "share_pct"],
        [["P1", "C1", "60"], ["P1", "C404", "5"]],
    )
    case = tmp_path / "case.graphinv"
    strict = run("ingest", str(case), str(small_bundle), "--strict")
    assert strict.returncode == 1
    assert "ownership.csv:3: company_id: unknown reference 'C404'" in strict.stderr
    assert "nothing was written" in strict.stderr
    assert not case.exists()
    lenient = run("ingest", str(case), str(small_bundle))
    assert lenient.returncode == 0
    assert "ownership.csv:3: company_id: unknown reference 'C404'" in lenient.stderr
    assert "case.graphinv.rejects.csv" in lenient.stdout


def test_errors_are_clean_messages_not_tracebacks(tmp_path: Path) -> None:
    result = run("ingest", str(tmp_path / "c.graphinv"), str(tmp_path / "nowhere"))
    assert result.returncode == 1
    assert result.stderr.startswith("error: No such file or folder")
    assert "Traceback" not in result.stderr
    (tmp_path / "c.graphinv").write_text("not a case")
    result = run("export", str(tmp_path / "c.graphinv"))
    assert result.returncode == 1 and "not a graphinv case file" in result.stderr
    result = run("export", str(tmp_path / "c.graphinv"), "--format", "xml")
    assert result.returncode == 1 and "Unknown export format 'xml' (available: jsonl" in result.stderr


COMMANDS = sorted(c.name for c in app.registered_commands)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_documented_and_its_help_ends_with_an_example(command: str) -> None:
    result = runner.invoke(app, [command, "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert re.search(r"Example: graphinv " + command, result.output), result.output
    assert f"graphinv {command}" in (REPO / "README.md").read_text(encoding="utf-8")


def test_readme_first_screen_gives_both_setup_commands() -> None:
    first_screen = "\n".join((REPO / "README.md").read_text(encoding="utf-8").splitlines()[:25])
    assert "graphinv demo" in first_screen
    assert "bash .ci/run" in first_screen
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert ".venv/bin/python -m pytest" in ci and ".venv/bin/python -m pytest" in first_screen


def _case_beside_bad_outputs(tmp_path: Path, small_bundle: Path) -> tuple[Path, list[Path]]:
    """A case, a folder ``out`` and a plain file ``a-file`` to write into, and every path there is."""
    case = tmp_path / "case.graphinv"
    ingest(case, [small_bundle])
    (tmp_path / "out").mkdir()
    (tmp_path / "a-file").write_text("not a folder")
    return case, sorted(tmp_path.rglob("*"))


@pytest.mark.parametrize("format", ["jsonl", "ftm", "graphml", "gexf"])
def test_export_to_a_path_it_cannot_write_says_so_in_one_line_and_leaves_nothing_behind(
    tmp_path: Path, small_bundle: Path, format: str
) -> None:
    case, before = _case_beside_bad_outputs(tmp_path, small_bundle)
    expected = {
        f"missing/x.{format}": f"no such folder {str(tmp_path / 'missing')!r}; create it or give another path",
        "out": "it is a folder; give a file path (a name inside it, or another path)",
        f"a-file/x.{format}": f"{str(tmp_path / 'a-file')!r} is a file, not a folder; give another path",
    }
    for output, fix in expected.items():
        target = str(tmp_path / output)
        result = runner.invoke(app, ["export", str(case), "--format", format, "-o", target])
        assert isinstance(result.exception, SystemExit) and result.exit_code == 1, result.exception
        assert result.stderr == f"error: Cannot write {target!r}: {fix}\n"
        assert sorted(tmp_path.rglob("*")) == before, output  # no temporary file, no half a file
    good = runner.invoke(app, ["export", str(case), "--format", format, "-o", str(tmp_path / "out" / "x")])
    assert good.exit_code == 0 and (tmp_path / "out" / "x").stat().st_size > 0
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["x"]


def test_pages_and_neo4j_csv_to_a_path_they_cannot_write_say_so_and_leave_nothing_behind(
    tmp_path: Path, small_bundle: Path
) -> None:
    case, before = _case_beside_bad_outputs(tmp_path, small_bundle)
    commands = [
        (["explore", str(case), "--around", "C1", "-o", str(tmp_path / "out")], "it is a folder; give a file path"),
        (["report", str(case), "-o", str(tmp_path / "out")], "it is a folder; give a file path"),
        (["report", str(case), "-o", str(tmp_path / "a-file" / "r.html")], "'a-file' is not"),
        (["export", str(case), "--format", "neo4j-csv", "-o", str(tmp_path / "a-file" / "csv")], "'a-file' is not"),
    ]
    for args, fix in commands:
        result = runner.invoke(app, args)
        assert isinstance(result.exception, SystemExit) and result.exit_code == 1, result.exception
        assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert fix.replace("'a-file' is not", f"{str(tmp_path / 'a-file')!r} is a file, not a folder") in result.stderr
        assert sorted(tmp_path.rglob("*")) == before, args
    # Pages make the folders they go in, as before.
    made = runner.invoke(app, ["report", str(case), "-o", str(tmp_path / "new" / "report.html")])
    assert made.exit_code == 0 and [p.name for p in (tmp_path / "new").iterdir()] == ["report.html"]


def test_an_export_that_fails_half_way_leaves_no_file_behind(tmp_path: Path, small_bundle: Path) -> None:
    case = tmp_path / "case.graphinv"
    ingest(case, [small_bundle])

    def lines(opened: CaseFile) -> Iterator[bytes]:
        yield b"{}\n"
        raise GraphinvError("the case went away")

    with pytest.raises(GraphinvError, match="went away"):
        write_lines(case, tmp_path / "x.jsonl", lines)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.graphinv", "small"]


def test_ingest_says_when_a_file_replaces_one_from_another_folder_and_what_it_read_again(tmp_path: Path) -> None:
    old = write_csv(tmp_path / "2019" / "reg" / "companies.csv", ["id", "name"], [["C1", "Alfa SA"], ["C2", "Beta SA"]])
    write_csv(
        tmp_path / "2019" / "reg" / "ownership.csv", ["owner_id", "company_id", "share_pct"], [["C1", "C2", "40"]]
    )
    new = write_csv(tmp_path / "2020" / "reg" / "companies.csv", ["id", "name"], [["C1", "Alfa SA"]])
    case = str(tmp_path / "case.graphinv")
    assert runner.invoke(app, ["ingest", case, str(old.parent), "--no-resolve"]).exit_code == 0
    result = runner.invoke(app, ["ingest", case, str(new), "--dataset", "reg", "--no-resolve"], terminal_width=300)
    assert result.exit_code == 0, result.output
    assert f"reg/companies.csv replaces the file of that name read before, from {old.resolve()}" in result.output
    assert "reg/ownership.csv was read again: it names entities a replaced file no longer states" in result.output
    assert "ownership.csv:2: company_id: unknown reference 'C2'" in result.output


def test_demo_into_a_file_says_so_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("not a folder")
    for target in (tmp_path / "afile", tmp_path / "afile" / "sub"):
        result = runner.invoke(app, ["demo", str(target)])
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
        assert (
            result.stderr
            == f"error: Cannot write {str(target)!r}: {str(tmp_path / 'afile')!r} is a file, not a folder; give another path\n"
        )
