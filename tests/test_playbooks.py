"""The playbook library: every header complete and consistent, every file clean under Neo4j's own
linter, parameters checked before anything runs, user folders, write playbooks refused, the CLI."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO
from typer.testing import CliRunner

from graphinv.cli import app
from graphinv.model import LINK_KINDS, NODE_KINDS
from graphinv.playbooks import (
    PlaybookError,
    builtin_dir,
    check_params,
    get_playbook,
    graph_schema,
    list_playbooks,
    parse_cli_params,
    parse_playbook,
    run_playbook,
)
from graphinv.store import CaseFile

INVESTIGATIONS = ("shared-addresses", "shared-owners", "cluster", "ubo", "path", "freeze-list", "new-importers", "risk")
CLASSICS = (
    "relatives-of-flagged-owners",
    "officers-shared-by-flagged",
    "incorporated-before-first-import",
    "hubs",
    "shared-exporters",
)
BOOKS = sorted(p.stem for p in (REPO / "cypher").glob("*.cypher"))
LINT = REPO / "tools" / "cypher-lint"
runner = CliRunner()


def test_the_library_has_every_investigation_and_the_classics() -> None:
    assert set(INVESTIGATIONS) | set(CLASSICS) <= set(BOOKS)
    assert builtin_dir() == REPO / "cypher"
    readme = (REPO / "cypher" / "README.md").read_text(encoding="utf-8")
    for name in BOOKS:
        assert f"`{name}`" in readme, f"{name} is not in cypher/README.md"


@pytest.mark.parametrize("name", BOOKS)
def test_every_header_is_complete_and_matches_its_query(name: str) -> None:
    book = parse_playbook(REPO / "cypher" / f"{name}.cypher", builtin=True)
    assert book.name == name
    assert len(book.description) > 40 and book.mode == "read"
    assert book.returns and len(set(book.returns)) == len(book.returns)
    assert book.text.startswith("// name: ")
    for param in book.params:
        assert param.help, f"{name}: parameter {param.name} has no help text"
    used = set(re.findall(r"\$([a-z_]+)", book.query))
    assert used == {p.name for p in book.params}
    # Values only as parameters: no literal dates or ids in the query itself.
    assert not re.search(r"'\d{4}-\d{2}-\d{2}'", book.query)
    assert not re.search(r"'(co|pe|ad|ac|sh)-[0-9a-f]{16}'", book.query)
    # The columns it really returns are checked against the header where it runs (test_playbooks_parity).


@pytest.mark.skipif(shutil.which("node") is None or not (LINT / "node_modules").is_dir(),
                    reason="Neo4j's linter is not installed: (cd tools/cypher-lint && npm ci)")
def test_every_playbook_is_clean_under_neo4j_own_linter() -> None:
    def sample(p):  # type: ignore[no-untyped-def]
        if p.default is not None:
            return p.default
        one = {"string": "x", "integer": 1, "float": 1.0, "boolean": True, "date": "2020-01-01",
               "chemical": "4-piperidone", "ref": "co-0000000000000000"}[p.base]
        return [one] if p.is_list else one

    books = list_playbooks()
    queries = [{"name": b.name, "query": b.query, "parameters": {p.name: sample(p) for p in b.params}} for b in books]
    done = subprocess.run(
        ["node", str(LINT / "lint.mjs")], input=json.dumps({"schema": graph_schema(), "queries": queries}),
        capture_output=True, text=True, timeout=300, cwd=LINT,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    errors = [d for d in found if d["severity"] == "error"]
    unknown = [d for d in found if "not present in the database" in d["message"] or "not defined" in d["message"]]
    assert not errors and not unknown, json.dumps(errors + unknown, indent=1)
    # The linter does know the schema: a misspelt label, type or property is reported.
    bad = [{"name": "bad", "query": "MATCH (c:Compny)-[:OWN]->(x) RETURN c.nmae, $nope", "parameters": {}}]
    done = subprocess.run(["node", str(LINT / "lint.mjs")], input=json.dumps({"schema": graph_schema(), "queries": bad}),
                          capture_output=True, text=True, timeout=120, cwd=LINT)
    messages = " ".join(d["message"] for d in json.loads(done.stdout))
    assert "Compny" in messages and "OWN" in messages and "nmae" in messages and "$nope" in messages


def test_the_lint_schema_is_the_model() -> None:
    schema = graph_schema()
    assert schema["labels"] == list(NODE_KINDS)
    assert schema["relationshipTypes"] == list(LINK_KINDS)
    assert {"share_pct", "incorporation_date", "chemical", "party_degree", "bundle_id", "tax_id"} <= set(schema["propertyKeys"])


def test_parameters_are_checked_before_anything_runs(tmp_path: Path) -> None:
    ubo = get_playbook("ubo")
    expected = "expected: firm (ref(Company), required), threshold (float(0..100), default 0)"
    with pytest.raises(PlaybookError, match=r"needs parameter 'firm'") as missing:
        # No case file exists: the check comes first, so no case, engine or server is touched.
        run_playbook("ubo", {}, case=tmp_path / "nowhere.graphinv")
    assert expected in str(missing.value)
    with pytest.raises(PlaybookError, match=r"has no parameter 'treshold'.*expected: firm"):
        check_params(ubo, {"firm": "C037", "treshold": "25"})
    with pytest.raises(PlaybookError, match=r"parameter 'threshold' \(float\(0\.\.100\)\) needs a number, got 'lots'"):
        check_params(ubo, {"firm": "C037", "threshold": "lots"})
    with pytest.raises(PlaybookError, match=r"'as_of' \(date\(day\)\) needs a date as YYYY-MM-DD"):
        check_params(ubo, {"firm": "C037", "as_of": "2021-02-30"})
    assert check_params(ubo, {"firm": "C037", "threshold": "25"}) == {
        "firm": "C037", "threshold": 25.0, "as_of": None, "intermediate": False,
    }
    cluster = get_playbook("cluster")
    assert check_params(cluster, parse_cli_params(["around=C014", "around=C037", "hops=1"]))["around"] == ["C014", "C037"]
    assert check_params(cluster, parse_cli_params(['around=["C014", "Química Fina, S.A."]']))["around"][1] == "Química Fina, S.A."
    with pytest.raises(PlaybookError, match="takes one value"):
        check_params(cluster, {"hops": [1, 2]})
    with pytest.raises(PlaybookError, match=r"No such playbook: 'shared-adress' \(available: .*shared-addresses"):
        get_playbook("shared-adress")
    with pytest.raises(PlaybookError, match="Unknown chemical 'unobtainium'"):
        run_playbook("new-importers", {"chemical": "unobtainium", "since": "2019-01-01"}, case=tmp_path / "x.graphinv")


def test_user_folders_add_playbooks_and_bad_headers_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "big-importers.cypher").write_text(
        "// name: big-importers\n"
        "// description: Firms that imported more than a given weight of one chemical, heaviest first.\n"
        "// param: chemical chemical  The chemical.\n"
        "// param: min_kg float = 1000  Least kilograms.\n"
        "// returns: company, kg\n"
        "// mode: read\n"
        "MATCH (c:Company)-[:IMPORTED]->(s:Shipment {chemical: $chemical})\n"
        "WITH c, sum(s.quantity_kg) AS kg WHERE kg >= $min_kg\n"
        "RETURN c.name AS company, kg ORDER BY kg DESC\n",
        encoding="utf-8",
    )
    (mine / "wipe.cypher").write_text(
        "// name: wipe\n// description: Deletes every POSSIBLY_SAME_AS link, for a clean re-resolution.\n"
        "// returns: deleted\n// mode: write\nMATCH ()-[r:POSSIBLY_SAME_AS]->() DELETE r RETURN count(*) AS deleted\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("GRAPHINV_PLAYBOOKS", str(mine))
    names = {b.name: b for b in list_playbooks()}
    assert not names["big-importers"].builtin and names["ubo"].builtin
    with pytest.raises(PlaybookError, match=r"writes to the graph \(mode: write\); run it with --allow-write"):
        run_playbook("wipe", {}, case=tmp_path / "nowhere.graphinv")
    sneaky = mine / "sneaky.cypher"
    sneaky.write_text("// name: sneaky\n// description: Says it reads, but sets a property on every firm.\n"
                      "// returns: n\n// mode: read\nMATCH (c:Company) SET c.flagged = true RETURN count(c) AS n\n")
    with pytest.raises(PlaybookError, match=r"sneaky.cypher: a 'read' playbook uses SET"):
        list_playbooks()
    sneaky.write_text("// name: sneaky\n// description: Uses a parameter it never declares, which is an error.\n"
                      "// returns: n\n// mode: read\nMATCH (c:Company {id: $id}) RETURN c.name AS n\n")
    with pytest.raises(PlaybookError, match=r"undeclared parameter\(s\) \$id"):
        get_playbook("sneaky")
    # Comments and strings are read left to right: an apostrophe in a comment opens no string,
    # and "//" or a $name inside a string is text.
    sneaky.write_text("// name: sneaky\n// description: Reads a firm by a parameter.\n// param: id string  The firm.\n"
                      "// param: suffix string  Added to its name.\n// returns: n\n// mode: read\n"
                      "MATCH (c:Company {id: $id})\n// the firm's own row\n"
                      "RETURN c.name + ' (' + $suffix + ') // $other' AS n // $unused here\n")
    assert [p.name for p in get_playbook("sneaky").params] == ["id", "suffix"]
    sneaky.write_text("// name: other\n// description: x\n// returns: n\n// mode: read\nRETURN 1 AS n\n")
    with pytest.raises(PlaybookError, match="the header names it 'other'"):
        get_playbook("sneaky")
    monkeypatch.setenv("GRAPHINV_PLAYBOOKS", str(tmp_path / "missing"))
    with pytest.raises(PlaybookError, match="GRAPHINV_PLAYBOOKS names .* not a folder"):
        list_playbooks()


def test_cli_lists_and_shows_playbooks_and_every_subcommand_help_ends_with_an_example() -> None:
    listed = runner.invoke(app, ["playbook", "list"], terminal_width=250)
    assert listed.exit_code == 0, listed.output
    for name in BOOKS:
        assert name in listed.output
    shown = runner.invoke(app, ["playbook", "show", "ubo"])
    assert shown.exit_code == 0 and "// param: firm ref(Company)" in shown.output and "MATCH p = (f)<-[:OWNS*1..20]-(o)" in shown.output
    bad = runner.invoke(app, ["playbook", "show", "ubbo"])
    assert bad.exit_code == 1 and "No such playbook: 'ubbo'" in bad.output
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for command in (["playbook"], ["playbook", "list"], ["playbook", "show"], ["playbook", "run"], ["neo4j"], ["neo4j", "push"]):
        result = runner.invoke(app, [*command, "--help"], terminal_width=200)
        assert result.exit_code == 0
        assert re.search(r"Example: graphinv " + " ".join(command), result.output), result.output
        assert f"graphinv {' '.join(command)}" in readme
    export = runner.invoke(app, ["export", "--help"], terminal_width=200)
    assert "neo4j-csv" in export.output


def test_cli_rejects_bad_runs_with_clear_messages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRAPHINV_NEO4J_PASSWORD", raising=False)
    both = runner.invoke(app, ["playbook", "run", "ubo", "--param", "firm=C037"])
    assert both.exit_code == 1 and "Give either --case CASE" in both.output
    no_password = runner.invoke(app, ["playbook", "run", "hubs", "--neo4j", "bolt://127.0.0.1:1"])
    assert no_password.exit_code == 1 and "Set GRAPHINV_NEO4J_PASSWORD" in no_password.output
    wrong = runner.invoke(app, ["playbook", "run", "ubo", "--param", "firm", "--case", str(tmp_path / "c.graphinv")])
    assert wrong.exit_code == 1 and "--param takes KEY=VALUE" in wrong.output


def test_a_playbook_runs_with_no_server_and_the_engine_copy_is_cached(playbook_case: Path) -> None:
    pytest.importorskip("arcadedb_embedded", reason="the no-server engine needs the engine extra")
    from graphinv.store.arcade import LOADED_MARK, engine_root

    result = run_playbook("ubo", {"firm": "C037", "threshold": 25}, case=playbook_case)
    assert [(r["owner"]["bundle_id"], r["effective_pct"]) for r in result.rows] == [("P003", 43.2), ("P017", 36.0)]
    assert result.rows[0]["paths"][0][-1] == result.rows[1]["paths"][0][-1]
    with CaseFile(playbook_case) as case:
        marks = list((engine_root() / case.case_id).glob(f"*{LOADED_MARK}"))
    assert len(marks) == 1
    loaded = marks[0].stat().st_mtime_ns
    # The second run, through the command line, reuses the loaded copy.
    done = subprocess.run(
        [sys.executable, "-m", "graphinv", "playbook", "run", "new-importers", "--param", "chemical=4-P",
         "--param", "since=2019-01-01", "--case", str(playbook_case), "--format", "json"],
        capture_output=True, text=True, timeout=600, cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [(r["company"]["bundle_id"], r["first_import"], r["shipments"], r["quantity_kg"]) for r in rows] == [
        ("C014", "2019-03-18", 8, 13600.0),
        ("C081", "2019-06-04", 7, 8900.0),
        ("C037", "2019-09-23", 8, 13900.0),
        ("C052", "2020-01-14", 6, 7100.0),
        ("C068", "2020-05-27", 6, 5650.0),
    ]
    assert marks[0].stat().st_mtime_ns == loaded
    csv_out = subprocess.run(
        [sys.executable, "-m", "graphinv", "playbook", "run", "officers-shared-by-flagged", "--case", str(playbook_case),
         "--format", "csv"], capture_output=True, text=True, timeout=600, cwd=REPO,
    )
    assert csv_out.returncode == 0, csv_out.stderr
    lines = csv_out.stdout.splitlines()
    assert lines[0] == "officer,flagged_firms,count,all_firms,links"
    assert lines[1].startswith("P066 Arturo Cienfuegos Mena,") and ",5,10," in lines[1]


def test_a_table_shows_a_link_by_its_type_and_rows_and_csv_keeps_it_whole(playbook_case: Path) -> None:
    args = ["playbook", "run", "ubo", "--param", "firm=C037", "--param", "threshold=25", "--case", str(playbook_case)]
    table = runner.invoke(app, args)
    assert table.exit_code == 0, table.output
    assert "OWNS" in table.output and '"rel"' not in table.output and '"source"' not in table.output
    whole = runner.invoke(app, [*args, "--format", "csv"])
    assert '""rel"": ""OWNS""' in whole.output


def test_declared_ranges_and_date_rules_are_checked_before_anything_runs() -> None:
    from graphinv.playbooks import check_params

    for name, params, message in (
        ("cluster", {"around": ["C1"], "hops": 4}, "'hops' (integer(0..3)) must be from 0 to 3, got 4"),
        ("cluster", {"around": ["C1"], "hops": -1}, "must be from 0 to 3, got -1"),
        ("path", {"source": "A", "target": "B", "limit": 0}, "'limit' (integer(1..)) must be from 1, got 0"),
        ("path", {"source": "A", "target": "B", "max_hops": 0}, "must be from 1 to 6, got 0"),
        ("risk", {"top": -1}, "'top' (integer(0..)) must be from 0, got -1"),
        ("ubo", {"firm": "C1", "threshold": -5}, "must be from 0 to 100, got -5"),
        ("freeze-list", {"min_share": 150}, "must be from 0 to 100, got 150"),
        ("ubo", {"firm": "C1", "as_of": "2019"}, "needs a day (YYYY-MM-DD), got '2019'"),
    ):
        with pytest.raises(PlaybookError, match=re.escape(message)):
            check_params(get_playbook(name), params)
    window = check_params(get_playbook("new-importers"), {"chemical": "4-P", "since": "2019", "until": "2020-02"})
    assert (window["since"], window["until"]) == ("2019-01-01", "2020-02-29")
    assert check_params(get_playbook("ubo"), {"firm": "C1", "as_of": "2021-06-30"})["as_of"] == "2021-06-30"
