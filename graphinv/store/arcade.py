"""The no-server engine: a private ArcadeDB server (Neo4j 5 Cypher over Bolt) loaded with a case, cached per version.

``graphinv playbook run NAME --case CASE`` needs no Neo4j: it starts ArcadeDB (``arcadedb-embedded``
from PyPI, which bundles its own Java runtime) as a child process bound to 127.0.0.1 on a random
free port with a random password, loads the case graph into it through the very Bolt writer that
``graphinv neo4j push`` uses, and hands back a :class:`BoltTarget`, so a playbook runs through the
same driver code path as on a team's Neo4j. The loaded database is kept in this user's cache
(next to the projected graphs) under the case's id and version: the next run of any playbook on
an unchanged case skips the load, and a changed case gets a fresh copy.

Measured choices (DESIGN §7): ArcadeDB ran 67 of 71 Neo4j 5 probe queries unchanged, with real
auth, transactions and Neo4j error codes; FalkorDB's Bolt port, grand-cypher and Kùzu did not.
A child process rather than an in-process JVM: ArcadeDB writes logs into the working directory and
to file descriptors 1 and 2, and a JVM cannot be unloaded from the Python process that started it.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import select
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from graphinv.exc import CaseError, GraphinvError, MissingExtraError, StoreUnavailableError
from graphinv.store.casefile import CaseFile
from graphinv.store.graph import cache_dir
from graphinv.store.neo4j import BoltTarget, Progress, write_case, write_graph
from graphinv.store.stream import CaseStream

__all__ = ["ENGINE_USER", "LOADED_MARK", "EngineServer", "case_engine", "engine_root", "require_engine", "start_server"]

ENGINE_USER = "root"
#: Suffix of the file written beside a cached database once the whole case is in it.
LOADED_MARK = ".loaded"
#: Part of every cached database's name: bump it when what gets loaded changes, so old copies reload.
LOAD_FORMAT = "f1"
_SERVER_SCRIPT = Path(__file__).resolve().parent / "_arcade_server.py"
#: Starting the JVM and the server takes ~3 s here; a loaded 2-core machine may need far more.
START_TIMEOUT = 180.0
_LOCK_TIMEOUT = 600.0


def require_engine() -> None:
    """Fail early, with the fix, when the engine's optional extra is not installed."""
    if find_spec("arcadedb_embedded") is None:
        raise MissingExtraError(
            "Running playbooks with --case needs the no-server engine: pip install 'graphinv[engine]' "
            "(it brings arcadedb-embedded, which bundles its own Java runtime), or run them on a Neo4j "
            "server with --neo4j URI"
        )


def engine_root() -> Path:
    """Where engine databases are cached: beside the projected graphs, in this user's cache."""
    return cache_dir().parent / "engine"


@dataclass
class EngineServer:
    """A running private ArcadeDB server (a child process) and how to reach it over Bolt."""

    process: subprocess.Popen[bytes]
    uri: str
    password: str = field(repr=False)
    run_dir: Path
    log: Path
    user: str = ENGINE_USER

    def target(self, database: str, title: str = "the no-server engine") -> BoltTarget:
        return BoltTarget(uri=self.uri, user=self.user, password=self.password, database=database, title=title)

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:]).replace(self.password, "***")

    def stop(self, timeout: float = 60.0) -> None:
        """Close the lifeline; the server shuts down cleanly (killed if it does not within ``timeout``)."""
        if self.process.poll() is None:
            with contextlib.suppress(OSError):
                assert self.process.stdin is not None
                self.process.stdin.close()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        for stream in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError, AttributeError):
                stream.close()  # type: ignore[union-attr]
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def __enter__(self) -> EngineServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _query_heap_from_environment() -> int | None:
    configured = os.environ.get("GRAPHINV_ENGINE_QUERY_HEAP_MB", "").strip()
    if not configured:
        return None
    if not configured.isdigit() or int(configured) == 0:
        raise GraphinvError(
            f"GRAPHINV_ENGINE_QUERY_HEAP_MB={configured!r} is not a number of megabytes; set it to e.g. 9000, or unset it"
        )
    return int(configured)


def start_server(
    databases_dir: str | os.PathLike[str],
    *,
    create: tuple[str, ...] = (),
    heap: str | None = None,
    query_heap_mb: int | None = None,
    run_dir: str | os.PathLike[str] | None = None,
    timeout: float = START_TIMEOUT,
) -> EngineServer:
    """Start ArcadeDB with its Bolt plugin on 127.0.0.1 (random free ports, random root password).

    ``heap`` is the JVM heap (``GRAPHINV_ENGINE_HEAP``, e.g. ``8g``); ``query_heap_mb`` how much of
    it the queries running at once may hold (``GRAPHINV_ENGINE_QUERY_HEAP_MB``; ArcadeDB's default
    is half the heap, too little for whole-graph playbooks on a registry-sized case).
    Databases live in ``databases_dir``; those named in ``create`` are created if missing.
    The server's own settings and logs go to a private run folder that ``stop()`` removes.
    """
    require_engine()
    query_heap_mb = query_heap_mb or _query_heap_from_environment()  # checked before anything is written
    databases = Path(databases_dir).resolve()
    databases.mkdir(parents=True, exist_ok=True)
    run = Path(run_dir) if run_dir else Path(tempfile.mkdtemp(prefix="run-", dir=databases.parent))
    run.mkdir(parents=True, exist_ok=True)
    os.chmod(run, 0o700)
    log = run / "server.log"
    password = secrets.token_urlsafe(24)
    settings = {
        "password": password,
        "root": str(run / "root"),
        "databases": str(databases),
        "log": str(log),
        "create": list(create),
        "heap": heap or os.environ.get("GRAPHINV_ENGINE_HEAP") or None,
        "query_heap_mb": query_heap_mb,
    }
    process = subprocess.Popen(
        [sys.executable, str(_SERVER_SCRIPT)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=run,  # ArcadeDB writes ./log/ wherever it runs
        close_fds=True,
        start_new_session=True,  # a Ctrl-C at the terminal reaches graphinv, which stops the child cleanly
    )
    server = EngineServer(process=process, uri="", password=password, run_dir=run, log=log)
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write(json.dumps(settings).encode() + b"\n")
        process.stdin.flush()
        reply = _read_reply(process, timeout)
    except BaseException:
        server.stop(timeout=10)
        raise
    if not reply.get("ready"):
        tail = server.log_tail()
        server.stop(timeout=10)
        raise StoreUnavailableError(
            f"The no-server engine (ArcadeDB) did not start: {reply.get('error', 'no answer')}"
            + (f"\nits log ends:\n{tail}" if tail else "")
        )
    server.uri = f"bolt://127.0.0.1:{reply['bolt_port']}"
    return server


def _read_reply(process: subprocess.Popen[bytes], timeout: float) -> dict[str, object]:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    buffer = b""
    fd = process.stdout.fileno()
    while b"\n" not in buffer:
        left = deadline - time.monotonic()
        if left <= 0:
            return {"ready": False, "error": f"no answer within {timeout:.0f} s"}
        ready, _, _ = select.select([fd], [], [], min(left, 1.0))
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                return {"ready": False, "error": f"the engine process exited (status {process.wait()})"}
            buffer += chunk
    try:
        return json.loads(buffer.split(b"\n", 1)[0])
    except ValueError:
        return {"ready": False, "error": "an unreadable answer from the engine process"}


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    import fcntl

    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "a+b") as handle:
        deadline = time.monotonic() + _LOCK_TIMEOUT
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StoreUnavailableError(
                        f"Another graphinv process has used the engine cache {str(folder)!r} for over "
                        f"{_LOCK_TIMEOUT:.0f} s; wait for it to finish, or end it"
                    ) from None
                time.sleep(0.5)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def case_engine(
    case: str | os.PathLike[str] | CaseFile,
    *,
    progress: Progress | None = None,
    batch: int = 5000,
    discard: bool = False,
    rows: Callable[[CaseFile], Any] | None = None,
) -> Iterator[BoltTarget]:
    """A private server holding the case's graph, for the duration of the ``with`` block.

    The graph is loaded on first use of each case version and reused from the cache after that;
    ``discard`` drops the copy afterwards (a write playbook changed it, so it no longer is the
    case). ``rows`` gives what to load: a ``CaseStream`` (read in bounded memory) or a
    (nodes, links) pair of lists (default: ``CaseStream(case)``, the case's resolved graph).
    Runs on the same case wait for each other (one server owns a database folder at a time).
    """
    require_engine()
    opened = case if isinstance(case, CaseFile) else CaseFile(case)
    try:
        case_id, version = opened.case_id, opened.version
        # The revision changes with every change, and differs between copies of a case file that
        # went their own ways, so two such copies never share a cached database.
        try:
            revision = opened.revision[:12]
        except CaseError:  # a case file written before revisions existed
            revision = ""
        folder = engine_root() / case_id
        database = f"graph_v{version}_{revision}_{LOAD_FORMAT}" if revision else f"graph_v{version}_{LOAD_FORMAT}"
        with _locked(folder):
            databases = folder / "databases"
            mark = folder / f"{database}{LOADED_MARK}"
            loaded = mark.exists() and (databases / database).is_dir()
            for old in folder.glob(f"*{LOADED_MARK}"):
                if old != mark or not loaded:
                    old.unlink(missing_ok=True)
            if databases.exists():
                for old in databases.iterdir():
                    # Other versions are stale; a half-loaded copy of this one is started afresh.
                    if old.is_dir() and (old.name != database or not loaded):
                        shutil.rmtree(old, ignore_errors=True)
            try:
                with start_server(databases, create=(database,)) as server:
                    target = server.target(database)
                    if not loaded:
                        source = rows(opened) if rows else CaseStream(opened)
                        if isinstance(source, tuple):
                            write_graph(target, *source, batch=batch, progress=progress)
                        else:
                            with source:
                                write_case(target, source, batch=batch, progress=progress)
                        mark.write_text(
                            json.dumps({"case": str(opened.path), "case_id": case_id, "version": version, "revision": revision}),
                            encoding="utf-8",
                        )
                    yield target
            finally:
                if discard:
                    mark.unlink(missing_ok=True)
    finally:
        if not isinstance(case, CaseFile):
            opened.close()
