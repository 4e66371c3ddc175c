"""Neo4j over the real Bolt protocol (a real server on 127.0.0.1, the official driver): the push is
complete and idempotent and creates its constraints; every playbook run through --neo4j answers as
the no-server engine does; bad credentials, a missing database and a server that is down give clear
errors without the secret; the neo4j-admin CSV export is well formed."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO
from playbook_parity import RUNS

from graphinv.exc import StoreUnavailableError
from graphinv.export.neo4j import push, write_neo4j_csv
from graphinv.playbooks import case_rows, case_stream, list_playbooks, run_playbook
from graphinv.store import CaseFile
from graphinv.store.neo4j import BoltTarget, connect, run_cypher


def test_the_streamed_case_equals_the_case_rows(playbook_case: Path) -> None:
    """What the push, the engine's load and the CSV export read in chunks is exactly case_rows
    (resolved: merged groups, flags, chemical, party_degree)."""
    with CaseFile(playbook_case) as case:
        nodes, links = case_rows(case)
        with case_stream(case) as stream:
            streamed = [n for chunk in stream.nodes(7) for n in chunk]
            streamed_links = [t for chunk in stream.links(11) for t in chunk]
            assert stream.node_count == len(nodes) and stream.link_count() >= len(links)
    assert sorted(streamed, key=lambda n: n["id"]) == nodes
    assert any(n.get("merged_ids") for n in streamed)
    kind = {n["id"]: n["kind"] for n in nodes}
    assert sorted((l for _, _, l in streamed_links), key=lambda l: (l["rel"], l["source"], l["target"])) == links
    assert all((a, b) == (kind[l["source"]], kind[l["target"]]) for a, b, l in streamed_links)


def _target(server: Any, database: str = "graphinv", password: str | None = None) -> BoltTarget:
    return BoltTarget(uri=server.uri, user=server.user, password=password or server.password, database=database)


def _dump(target: BoltTarget) -> tuple[list[Any], list[Any]]:
    with connect(target) as driver:
        _, nodes, _ = run_cypher(driver, target, "MATCH (n) RETURN labels(n) AS labels, properties(n) AS props ORDER BY n.id")
        _, links, _ = run_cypher(
            driver, target,
            "MATCH (a)-[r]->(b) RETURN a.id AS a, type(r) AS rel, b.id AS b, properties(r) AS props ORDER BY a, rel, b",
        )
    return nodes, links


@pytest.fixture(scope="module")
def pushed(bolt_server: Any, playbook_case: Path) -> BoltTarget:
    target = _target(bolt_server)
    ticks: list[tuple[str, int, int]] = []
    first = push(playbook_case, bolt_server.uri, user=bolt_server.user, password=bolt_server.password,
                 database="graphinv", batch=500, progress=lambda *t: ticks.append(t))
    with CaseFile(playbook_case) as case:
        nodes, links = case_rows(case)
    assert (first.nodes, first.links, first.skipped_links) == (len(nodes), len(links), 0)
    assert (first.nodes_created, first.links_created) == (len(nodes), len(links))
    assert ticks[-1][1] == ticks[-1][2] and {t[0] for t in ticks} == {"nodes", "links"}
    return target


def test_push_is_complete_and_a_second_push_changes_nothing(pushed: BoltTarget, bolt_server: Any, playbook_case: Path) -> None:
    before = _dump(pushed)
    again = push(playbook_case, bolt_server.uri, user=bolt_server.user, password=bolt_server.password, database="graphinv")
    assert (again.nodes_created, again.links_created) == (0, 0)
    assert _dump(pushed) == before
    nodes, links = before
    with CaseFile(playbook_case) as case:
        case_nodes, case_links = case_rows(case)
    assert sorted(r["props"]["id"] for r in nodes) == sorted(n["id"] for n in case_nodes)
    assert all(r["labels"] == [r["props"]["kind"]] for r in nodes)
    assert sorted((r["a"], r["rel"], r["b"]) for r in links) == sorted((l["source"], l["rel"], l["target"]) for l in case_links)
    # Properties arrive as the case holds them: lists stay lists, sources included.
    c014 = next(r["props"] for r in nodes if r["props"].get("bundle_id") == "C014")
    assert c014["name"] == "Química Fina del Norte, S.A. de C.V." and c014["employees"] == 6
    assert c014["flags"] == ["DEA-2021-precursor-referral"] and c014["flagged"] is True
    assert any(s.startswith("precursor-case:companies.csv:") for s in c014["sources"])
    owns = [r for r in links if r["rel"] == "OWNS" and r["props"].get("share_pct") == 43.2]
    assert not owns  # shares are stored per link, never an effective share
    assert all(isinstance(r["props"]["sources"], list) for r in links)


def test_constraints_and_indexes_exist(pushed: BoltTarget) -> None:
    with connect(pushed) as driver:
        _, constraints, _ = run_cypher(driver, pushed, "SHOW CONSTRAINTS")
        _, indexes, _ = run_cypher(driver, pushed, "SHOW INDEXES")
    unique = {(c["labelsOrTypes"][0], tuple(c["properties"])) for c in constraints if c["type"] == "UNIQUENESS"}
    assert unique >= {(label, ("id",)) for label in ("Company", "Person", "Address", "Account", "Shipment")}
    indexed = {(i["labelsOrTypes"][0], tuple(i["properties"])) for i in indexes}
    assert {("Company", ("tax_id",)), ("Person", ("name",)), ("Shipment", ("chemical",))} <= indexed
    # Uniqueness is enforced: a second Company with a taken id is refused.
    with connect(pushed) as driver:
        _, rows, _ = run_cypher(driver, pushed, "MATCH (c:Company {bundle_id: 'C014'}) RETURN c.id AS id")
        with pytest.raises(Exception, match="(?i)duplicat|already exists|unique|constraint"):
            run_cypher(driver, pushed, "CREATE (c:Company {id: $id, name: 'copy'})", {"id": rows[0]["id"]}, write=True)


def _runs() -> list[tuple[str, dict[str, Any]]]:
    runs = [(name, params) for name, specs in RUNS.items() for params, _, _ in specs[:2]]
    covered = {name for name, _ in runs}
    for book in list_playbooks():
        if book.name not in covered:
            runs.append((book.name, {}))
    return runs


RUNS_ON_NEO4J = _runs()


@pytest.mark.parametrize(("name", "params"), RUNS_ON_NEO4J, ids=[f"{n}-{i}" for i, (n, _) in enumerate(RUNS_ON_NEO4J)])
def test_every_playbook_through_neo4j_equals_the_no_server_run(name: str, params: dict[str, Any], pushed: BoltTarget, engine_target: Any) -> None:
    on_neo4j = run_playbook(name, params, neo4j=pushed)
    no_server = run_playbook(name, params, neo4j=engine_target)
    assert on_neo4j.columns == no_server.columns
    assert on_neo4j.rows == no_server.rows


def test_the_cli_pushes_and_runs_playbooks_and_never_prints_the_password(bolt_server: Any, playbook_case: Path, pushed: BoltTarget) -> None:
    env = {**os.environ, "GRAPHINV_NEO4J_USER": bolt_server.user, "GRAPHINV_NEO4J_PASSWORD": bolt_server.password}
    done = subprocess.run(
        [sys.executable, "-m", "graphinv", "neo4j", "push", str(playbook_case), "--uri", bolt_server.uri, "--database", "graphinv"],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "0 nodes and 0 links were new" in done.stdout and "Constraints and indexes in place: 16" in done.stdout
    ran = subprocess.run(
        [sys.executable, "-m", "graphinv", "playbook", "run", "ubo", "--param", "firm=DRG180521K47", "--param", "threshold=25",
         "--neo4j", bolt_server.uri, "--database", "graphinv", "--format", "json"],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=600,
    )
    assert ran.returncode == 0, ran.stderr
    assert [(r["owner"]["bundle_id"], r["effective_pct"]) for r in json.loads(ran.stdout)] == [("P003", 43.2), ("P017", 36.0)]
    for output in (done.stdout, done.stderr, ran.stdout, ran.stderr):
        assert bolt_server.password not in output


def test_bad_credentials_missing_database_and_a_down_server_are_clear_errors(bolt_server: Any, playbook_case: Path) -> None:
    secret = "Wr0ng-" + bolt_server.password[:6] + "-secret"
    with pytest.raises(StoreUnavailableError) as wrong:
        push(playbook_case, bolt_server.uri, user=bolt_server.user, password=secret, database="graphinv")
    assert f"refused the credentials of user {bolt_server.user!r}" in str(wrong.value)
    with pytest.raises(StoreUnavailableError) as missing:
        run_playbook("hubs", {}, neo4j=_target(bolt_server, database="no_such_db"))
    assert "has no database 'no_such_db'" in str(missing.value)
    with pytest.raises(StoreUnavailableError) as down:
        push(playbook_case, "bolt://127.0.0.1:9", user="neo4j", password=secret)
    assert "Cannot reach Neo4j at bolt://127.0.0.1:9" in str(down.value)
    with pytest.raises(StoreUnavailableError, match="without credentials"):
        push(playbook_case, f"bolt://neo4j:{secret}@127.0.0.1:9", user="neo4j", password=secret)
    for error in (wrong, missing, down):
        assert secret not in str(error.value) and bolt_server.password not in str(error.value)
    env = {**os.environ, "GRAPHINV_NEO4J_USER": bolt_server.user, "GRAPHINV_NEO4J_PASSWORD": secret}
    cli = subprocess.run(
        [sys.executable, "-m", "graphinv", "neo4j", "push", str(playbook_case), "--uri", bolt_server.uri],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=300,
    )
    assert cli.returncode == 1 and cli.stderr.startswith("error: ") and "refused the credentials" in cli.stderr
    assert secret not in cli.stdout + cli.stderr and "Traceback" not in cli.stderr


def test_neo4j_csv_has_admin_import_headers_and_every_row(playbook_case: Path, tmp_path: Path) -> None:
    out = tmp_path / "import"
    done = write_neo4j_csv(playbook_case, out)
    with CaseFile(playbook_case) as case:
        nodes, links = case_rows(case)
    assert (done.nodes, done.links, done.skipped_links) == (len(nodes), len(links), 0)
    assert sorted(p.name for p in done.node_files) == [f"nodes-{k}.csv" for k in ("Account", "Address", "Company", "Person", "Shipment")]
    with open(out / "nodes-Company.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    assert header[:2] == ["id:ID", ":LABEL"]
    assert {"employees:long", "flagged:boolean", "flags:string[]", "sources:string[]", "party_degree:long", "name"} <= set(header)
    c014 = dict(zip(header, next(r for r in rows if "C014" in r)))
    assert c014[":LABEL"] == "Company" and c014["employees:long"] == "6" and c014["flagged:boolean"] == "true"
    assert c014["flags:string[]"] == "DEA-2021-precursor-referral"
    assert len(c014["sources:string[]"].split(done.array_delimiter)) >= 2
    with open(out / "relationships-OWNS.csv", newline="", encoding="utf-8") as handle:
        owns = list(csv.reader(handle))
    assert owns[0][:3] == [":START_ID", ":END_ID", ":TYPE"] and "share_pct:double" in owns[0]
    assert len(owns) - 1 == sum(1 for l in links if l["rel"] == "OWNS")
    assert done.command.startswith("neo4j-admin database import full neo4j ")
    assert f"--nodes={out / 'nodes-Company.csv'}" in done.command and "--relationships=" in done.command
    assert "CREATE CONSTRAINT graphinv_company_id IF NOT EXISTS" in (out / "schema.cypher").read_text(encoding="utf-8")
    cli = subprocess.run([sys.executable, "-m", "graphinv", "export", str(playbook_case), "--format", "neo4j-csv", "-o", str(tmp_path / "cli")],
                         capture_output=True, text=True, cwd=REPO, timeout=300)
    assert cli.returncode == 0, cli.stderr
    assert cli.stdout.strip().startswith("neo4j-admin database import full")


def test_neo4j_csv_cells_are_the_typed_text_whatever_the_mix_of_values() -> None:
    """The export passes text and numbers to the csv module as they are and converts only the
    other columns: every cell must still read as ``_cell`` writes it, and a delimiter inside a
    list item must still be seen."""
    from graphinv.export.neo4j import _cell, _cells, _Columns

    rows = [
        {"a": "x", "b": 1, "c": 1.5, "d": True, "e": ["p;q", "r"], "f": [1, 2.5], "g": [], "h": 3, "i": '{"k": 1}'},
        {"a": 2, "b": 2.5, "c": None, "d": "yes", "e": [1, "s"], "f": [], "g": ["t"], "h": ["u"], "i": 0.1},
        {"a": False, "b": -(2**40), "d": None, "e": ["v|w"], "g": [True, False], "h": None, "j": 7},
    ]
    columns, clash = _Columns(set()), set()
    for row in rows:
        columns.add(row, clash)
    assert clash == {";", "|"}
    typed = columns.columns()
    assert dict(typed) == {"a": "string", "b": "double", "c": "string", "d": "string", "e": "string[]", "f": "double[]",
                           "g": "string[]", "h": "string", "i": "string", "j": "long"}
    keys = [key for key, _ in typed]

    def text(cells: list[Any]) -> str:
        out = io.StringIO()
        csv.writer(out).writerow(cells)
        return out.getvalue()

    for row in rows:
        assert text(_cells([row.get(key) for key in keys], columns.converted(), "¦")) == text([_cell(row.get(key), kind, "¦") for key, kind in typed])


def test_a_query_heap_budget_that_is_not_megabytes_is_refused_with_its_fix(monkeypatch: Any, tmp_path: Path) -> None:
    from graphinv.exc import GraphinvError
    from graphinv.store.arcade import start_server

    pytest.importorskip("arcadedb_embedded")
    monkeypatch.setenv("GRAPHINV_ENGINE_QUERY_HEAP_MB", "9g")
    with pytest.raises(GraphinvError, match=r"GRAPHINV_ENGINE_QUERY_HEAP_MB='9g' is not a number of megabytes; set it to e\.g\. 9000"):
        start_server(tmp_path / "databases")
