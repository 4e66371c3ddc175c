"""Session fixtures for the Neo4j and playbook tests: one real Bolt server, the resolved fixture case.

The server is ArcadeDB with its Bolt plugin (DESIGN §7), started by graphinv's own launcher on
127.0.0.1 with a random port and password: the official ``neo4j`` driver talks to it exactly as
to a Neo4j 5 server. One per test session (the machine has two cores), stopped at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from graphinv.store.arcade import EngineServer, start_server

__all__ = ["SERVER_DATABASES", "bolt_server", "engine_target", "playbook_case"]

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "precursor-case"
#: The databases the test server has; any other name is a missing database.
SERVER_DATABASES = ("neo4j", "graphinv")


@pytest.fixture(scope="session")
def bolt_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineServer]:
    pytest.importorskip("arcadedb_embedded", reason="the Bolt test server needs the engine extra: pip install -e '.[test]'")
    # A query heap budget of its own, so that every Bolt test runs with that setting passed to the JVM.
    server = start_server(tmp_path_factory.mktemp("bolt") / "databases", create=SERVER_DATABASES, query_heap_mb=3072)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def playbook_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture case, ingested and resolved (buildings unified, customs spellings on their firms)."""
    from graphinv.ingest import ingest
    from graphinv.resolve import resolve

    case = tmp_path_factory.mktemp("playbook-case") / "precursor.graphinv"
    ingest(case, [FIXTURE], dataset="precursor-case")
    resolve(case)
    return case


@pytest.fixture(scope="session")
def engine_target(playbook_case: Path) -> Iterator[object]:
    """The no-server engine holding the fixture case, as ``graphinv playbook run --case`` starts it
    (kept up for the session, so the parity tests do not start a JVM per run)."""
    pytest.importorskip("arcadedb_embedded", reason="the no-server engine needs the engine extra: pip install -e '.[test]'")
    from graphinv.playbooks import case_stream
    from graphinv.store.arcade import case_engine

    with case_engine(playbook_case, rows=case_stream) as target:
        yield target
