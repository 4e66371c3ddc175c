"""The child process that runs a private ArcadeDB server with its Bolt plugin (see graphinv.store.arcade).

Run by path (``python _arcade_server.py``), never imported: it needs only the standard library and
``arcadedb_embedded``, so it starts the same way from a wheel or a source checkout. Its settings
(the password among them) arrive as one JSON line on standard input, never on the command line,
which other users of the machine can read. Standard input then stays open as a lifeline: when
it closes (the parent finished, or died) the server stops and the process exits. The JVM's
verbose output goes to the log file; one JSON line on the original standard output says "ready"
(or why not).
"""

from __future__ import annotations

import json
import os
import socket
import sys
import traceback

__all__: list[str] = []


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> int:
    settings = json.loads(sys.stdin.readline())
    # Keep the real standard output for the one "ready" line, and send everything the JVM and
    # ArcadeDB print (they write to file descriptors 1 and 2 directly) to the log.
    reply = os.fdopen(os.dup(1), "w", encoding="utf-8")
    log = os.open(settings["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    sys.stdout = os.fdopen(1, "w", encoding="utf-8", errors="replace", buffering=1)
    sys.stderr = os.fdopen(2, "w", encoding="utf-8", errors="replace", buffering=1)
    server = None
    try:
        import arcadedb_embedded as adb

        jvm: dict[str, object] = {}
        if settings.get("heap"):
            jvm["heap_size"] = settings["heap"]
        if settings.get("query_heap_mb"):
            # ArcadeDB's budget for what all running queries hold in memory (half the heap unless set).
            jvm["jvm_args"] = [f"-Darcadedb.queryMaxHeapRAM={int(settings['query_heap_mb'])}"]
        last: Exception | None = None
        # A free port can be taken by someone else between the probe and the bind: try again.
        for _ in range(5):
            bolt_port, http_port = _free_port(), _free_port()
            server = adb.ArcadeDBServer(
                root_path=settings["root"],
                root_password=settings["password"],
                config={
                    "host": "127.0.0.1",
                    "http_port": http_port,
                    "server_plugins": "Bolt:com.arcadedb.bolt.BoltProtocolPlugin",
                    "bolt_port": bolt_port,
                    "server_databaseDirectory": settings["databases"],
                },
                jvm_kwargs=jvm,
            )
            try:
                server.start()
                break
            except Exception as exc:  # noqa: BLE001 - retried, then reported whole
                last = exc
                server = None
        if server is None:
            raise RuntimeError(f"ArcadeDB did not start: {last}")
        for name in settings.get("create", []):
            server.create_database(name)
        reply.write(json.dumps({"ready": True, "bolt_port": bolt_port, "http_port": http_port}) + "\n")
        reply.flush()
    except BaseException as exc:  # noqa: BLE001 - the parent must hear why, whatever it was
        traceback.print_exc()
        reply.write(json.dumps({"ready": False, "error": f"{type(exc).__name__}: {exc}"}) + "\n")
        reply.flush()
        if server is not None:
            server.stop()
        return 1
    try:
        while sys.stdin.readline():
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # The JVM keeps non-daemon threads after the server stops; leave without waiting for them.
    os._exit(code)
