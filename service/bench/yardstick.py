"""A machine yardstick: how fast this host runs a fixed amount of Python and of numpy work right now.

Shared 2-core virtual machines differ from day to day: the same code measured a per-pair reference loop of
86,700 pairs/s on one host and 32,700 on another a day later. Every bench report therefore starts with the
time of two fixed workloads, so figures from different runs (or machines) can be compared with the host's
speed in view, and a missed target can be told apart from a slow host.

* ``python``: interpreter-bound work like a request's (dict and set operations, string formatting, small
  integer arithmetic, attribute access), single core.
* ``numpy``: array work like the batch engine's (gathers, a sort, a reduction), single thread.
* ``thread hand-off``: round trips between two threads through queues, as a web request makes between the
  event loop and the worker thread that runs its route. Its cost is the kernel's (futex wake-ups), not the
  interpreter's, and it differs between virtual machines independently of the other two: session 7's host
  ran the Python yardstick faster than session 6's, and the engine too, yet spent more server CPU per HTTP
  request; a round trip took it 84–170 µs (wall), most of it CPU.

Each is the best of ``repeats`` runs (the best run is the least disturbed by other processes).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable

import numpy as np

from service.bench.report import Figure, Report

__all__ = ["KEYS", "measure", "record"]


def _python_work() -> int:
    table: dict[str, int] = {}
    seen: set[int] = set()
    total = 0
    for i in range(60_000):
        key = f"k{i % 997}"
        table[key] = table.get(key, 0) + i
        if i % 3 == 0:
            seen.add(i % 1013)
        total += (i * 7) ^ (i >> 3)
    return total + len(table) + len(seen)


def _numpy_work(rng: np.random.Generator) -> float:
    values = rng.random(400_000)
    rows = rng.integers(0, values.size, size=400_000)
    gathered = values[rows]
    order = np.argsort(gathered, kind="stable")
    return float(np.add.reduceat(gathered[order], np.arange(0, gathered.size, 1_000)).sum())


HANDOFF_ROUND_TRIPS = 500


def _handoff_work() -> int:
    """:data:`HANDOFF_ROUND_TRIPS` round trips: the caller puts a number, a second thread answers it (through
    ``queue.Queue``, as anyio's worker threads take their calls)."""
    requests: queue.Queue[int | None] = queue.Queue()
    replies: queue.Queue[int] = queue.Queue()

    def answer() -> None:
        while (item := requests.get()) is not None:
            replies.put(item + 1)

    worker = threading.Thread(target=answer, daemon=True)
    worker.start()
    total = 0
    for i in range(HANDOFF_ROUND_TRIPS):
        requests.put(i)
        total += replies.get()
    requests.put(None)
    worker.join()
    return total


def _best_ms(work: Callable[[], object], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return round(best * 1000, 2)


#: (key, label, work) of the yardstick figures, in report order; every figure is in milliseconds.
_FIGURES: list[tuple[str, str, Callable[[np.random.Generator], object]]] = [
    (
        "machine_python_yardstick_ms",
        "pure-Python yardstick, fixed work, 1 core (lower is faster)",
        lambda _rng: _python_work(),
    ),
    ("machine_numpy_yardstick_ms", "numpy yardstick, fixed work, 1 thread (lower is faster)", _numpy_work),
    (
        "machine_thread_handoff_ms",
        f"thread hand-off yardstick, {HANDOFF_ROUND_TRIPS} round trips between 2 threads (lower is faster)",
        lambda _rng: _handoff_work(),
    ),
]
#: The yardstick's figure keys.
KEYS = [key for key, _label, _work in _FIGURES]


def measure(repeats: int = 5) -> dict[str, float]:
    """The yardstick figures by key (milliseconds, best of ``repeats``)."""
    rng = np.random.default_rng(0)
    return {key: _best_ms(lambda work=work: work(rng), repeats) for key, _label, work in _FIGURES}


def record(report: Report, log: Callable[[str], None]) -> None:
    """Measure the yardstick and add its figures to ``report`` (section "0 machine"), logging each."""
    log("machine yardstick (fixed work; compare runs and hosts with it)")
    values = measure()
    for key, label, _work in _FIGURES:
        figure = report.add(Figure(key, "0 machine", label, values[key], " ms"))
        log(f"  {label}: {figure.shown()}")
