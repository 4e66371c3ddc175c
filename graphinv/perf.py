"""Small performance helpers shared by the layers (they import nothing of graphinv but its errors)."""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import multiprocessing.pool
import os
from collections.abc import Callable, Iterator
from typing import TypeVar

from graphinv.exc import GraphinvError

__all__ = ["fork_call", "fork_map", "gc_paused", "worker_count"]

T = TypeVar("T")


@contextlib.contextmanager
def gc_paused(*, keep_young_over: int | None = None) -> Iterator[None]:
    """Pause the cyclic garbage collector around bulk work.

    Building millions of dicts that all stay alive makes the collector rescan them again and
    again (measured: 40% of a 100k-company projection, 11% of an ingest). That work creates no
    reference cycles, so nothing is lost by collecting once at the end instead.

    ``keep_young_over``: when the work leaves more than this many new objects that the collector
    tracks (a projected graph or its indexes, an investigation's answer: long-lived trees with no
    cycles), they are moved out of its sight (``gc.freeze``) instead of being walked by the next
    collection, which would find no cycle among them (2.6 s after projecting 100k companies,
    0.2–0.6 s for a 1M-company registry's answers). They are
    still freed by reference counting when the caller drops them. Whatever else the collector had
    not yet looked at is frozen with them: a reference cycle dropped just before stays in memory.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    except BaseException:
        if was_enabled:
            gc.enable()
        raise
    if keep_young_over is not None and gc.get_count()[0] > keep_young_over:
        gc.freeze()  # only after work that succeeded: a failure's half-built objects are collected
    if was_enabled:
        gc.enable()


def worker_count() -> int:
    """Processes bulk work may use: ``GRAPHINV_WORKERS`` if set, else the usable cores."""
    configured = os.environ.get("GRAPHINV_WORKERS", "").strip()
    if configured:
        try:
            return max(1, int(configured))
        except ValueError:
            raise GraphinvError(
                f"GRAPHINV_WORKERS={configured!r} is not a whole number; set it to e.g. 2, or unset it"
            ) from None
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


_TASK: Callable[[int, int], object] | None = None  # in a worker: its pool's task


def _set_task(task: Callable[[int, int], object]) -> None:
    global _TASK
    _TASK = task


def _run_slice(bounds: tuple[int, int]) -> object:
    assert _TASK is not None
    return _TASK(*bounds)


def fork_map(
    task: Callable[[int, int], T], total: int, *, min_items: int = 50_000, slices_per_worker: int = 8
) -> Iterator[T]:
    """``task(start, end)`` over consecutive slices of ``range(total)``, results in slice order.

    The slices run in forked worker processes, which see the caller's data as it was at the
    fork (copy-on-write: nothing is pickled on the way in; each slice's result is pickled on the
    way back). ``task`` must therefore only read shared state. The workers start at the call:
    the caller may do other work before it reads the results, and reads each as it comes.
    Below ``min_items``, with one worker, or where fork is unavailable, it is one call in this
    process: the result must not depend on how the range was sliced.
    """
    workers = worker_count()
    if workers < 2 or total < min_items or "fork" not in multiprocessing.get_all_start_methods():
        return iter((task(0, total),))
    size = max(1, -(-total // (workers * slices_per_worker)))
    bounds = [(start, min(start + size, total)) for start in range(0, total, size)]
    # The task reaches the workers through the fork itself (never pickled), also a worker the
    # pool starts again.
    pool = multiprocessing.get_context("fork").Pool(workers, initializer=_set_task, initargs=(task,))
    return _results(pool, pool.imap(_run_slice, bounds))


def _results(pool: multiprocessing.pool.Pool, results: Iterator[T]) -> Iterator[T]:
    with pool:  # stops the workers however the reading ends
        yield from results


def fork_call(task: Callable[[], T], items: int, *, min_items: int = 50_000) -> Callable[[], T]:
    """Start ``task()`` in a forked worker process and return at once; call the result to wait.

    The caller goes on with other work meanwhile: the two overlap on two cores. The worker sees
    the caller's data as it was at the fork (copy-on-write), so ``task`` must only read shared
    state; its result is pickled back. Below ``min_items`` (``items`` is the size of the
    task's work), with one worker, or where fork is unavailable, ``task`` runs here, before
    this returns.
    """
    if worker_count() < 2 or items < min_items or "fork" not in multiprocessing.get_all_start_methods():
        result = task()
        return lambda: result
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)

    def run() -> None:
        try:
            send.send((True, task()))
        except BaseException as exc:  # noqa: BLE001 (raised again in the caller)
            send.send((False, exc))

    worker = context.Process(target=run, daemon=True)
    worker.start()
    send.close()

    def wait() -> T:
        try:
            ok, value = receive.recv()
        except EOFError:  # the worker died: killed for memory, most likely
            ok, value = None, None
        finally:
            receive.close()
            worker.join()
        if ok is None:
            raise GraphinvError(
                f"a worker process stopped without an answer (exit code {worker.exitcode}); "
                "if memory is short, run with GRAPHINV_WORKERS=1"
            )
        if not ok:
            raise value
        return value

    return wait
