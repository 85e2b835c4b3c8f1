"""A machine yardstick: how fast this host runs a fixed amount of Python and of numpy work right now.

Shared 2-core virtual machines differ from day to day: the same code measured a per-pair reference loop of
86,700 pairs/s on one host and 32,700 on another a day later. Every bench report therefore starts with the
time of two fixed workloads, so figures from different runs (or machines) can be compared with the host's
speed in view, and a missed target can be told apart from a slow host.

* ``python``: interpreter-bound work like a request's (dict and set operations, string formatting, small
  integer arithmetic, attribute access), single core.
* ``numpy``: array work like the batch engine's (gathers, a sort, a reduction), single thread.

Each is the best of ``repeats`` runs (the best run is the least disturbed by other processes).
"""

from __future__ import annotations

import time

import numpy as np

__all__ = ["KEYS", "measure"]

#: (key, label, unit) of the two yardstick figures.
KEYS = [
    ("machine_python_yardstick_ms", "pure-Python yardstick, fixed work, 1 core (lower is faster)", " ms"),
    ("machine_numpy_yardstick_ms", "numpy yardstick, fixed work, 1 thread (lower is faster)", " ms"),
]


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


def _best_ms(work, repeats: int) -> float:  # noqa: ANN001 - a zero-argument callable
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return round(best * 1000, 2)


def measure(repeats: int = 5) -> dict[str, float]:
    """The yardstick figures by key (milliseconds, best of ``repeats``)."""
    rng = np.random.default_rng(0)
    return {
        "machine_python_yardstick_ms": _best_ms(_python_work, repeats),
        "machine_numpy_yardstick_ms": _best_ms(lambda: _numpy_work(rng), repeats),
    }
