"""Batch scoring benchmark: CPU seconds of ``BatchContext.rank_rows`` on a seeded database, per direction.

Loads the profiles the way a batch worker does (``service.batch.worker.load_profiles``), then ranks query
rows in the worker's order and chunk size, and prints CPU seconds and pairs per CPU-second (live queries ×
live targets, as the batch counts them). With ``--check`` it also ranks the same rows with the full-grid
path (every cell scored, no pruning) and asserts identical results (counts, targets, scores, order).

    .venv/bin/python -m benchmarks.batch_rank_bench --database sqlite:////tmp/twente.db \\
        --c2v-rows 4000 --v2c-rows 2000 --check

Rows: the first N of each direction's subject order, or all with 0 (``--c2v-rows 0``). The machine is
shared, so CPU time (not wall time) is the figure.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from matching import batch as mb
from service.batch.models import C2V, V2C
from service.batch.store import current_snapshot
from service.batch.worker import load_profiles
from service.persistence.db import make_engine, make_sessionmaker


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _grid(context: mb.BatchContext, candidates_query: bool, rows: np.ndarray, k: int) -> tuple:
    job = mb._GridJob(context, candidates_query, k)
    job._block = job._block_grid  # type: ignore[method-assign]
    return job.run(rows)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", required=True)
    parser.add_argument("--c2v-rows", type=int, default=4000)
    parser.add_argument("--v2c-rows", type=int, default=2000)
    parser.add_argument("--chunk", type=int, default=2000)
    parser.add_argument("--top-k", type=int, default=50)
    parser.add_argument("--check", action="store_true", help="compare with the full-grid path")
    args = parser.parse_args()

    db = make_engine(args.database)
    with make_sessionmaker(db)() as session:
        snapshot = current_snapshot(session)
    started = time.perf_counter()
    loaded = load_profiles(args.database, snapshot)
    _out(f"loaded {snapshot} in {time.perf_counter() - started:.1f} s wall")
    context = loaded.context
    figures: dict[str, object] = {}
    for direction, candidates_query, n in ((C2V, True, args.c2v_rows), (V2C, False, args.v2c_rows)):
        order = loaded.order[direction]
        order = order if n <= 0 else order[:n]
        chunks = [order[i : i + args.chunk] for i in range(0, order.size, args.chunk)]
        context.rank_rows(candidates_query, order[:10], args.top_k)  # lazily built tables, not timed
        cpu = time.process_time()
        outs = [context.rank_rows(candidates_query, rows, args.top_k) for rows in chunks]
        cpu = time.process_time() - cpu
        pairs = order.size * context.direction(candidates_query).t_rows.size
        figures[f"{direction}_rows"] = int(order.size)
        figures[f"{direction}_cpu_s"] = round(cpu, 2)
        figures[f"{direction}_pairs_per_cpu_s"] = round(pairs / max(cpu, 1e-9))
        _out(
            f"{direction}: {order.size} rows, {cpu:.2f} CPU-s, "
            f"{pairs / max(cpu, 1e-9) / 1e6:.1f} M pairs/CPU-s"
        )
        if args.check:
            cpu = time.process_time()
            for rows, out in zip(chunks, outs, strict=True):
                expected = _grid(context, candidates_query, rows, args.top_k)
                for got, want in zip(out, expected, strict=True):
                    assert got.dtype == want.dtype, direction
                    assert np.array_equal(got, want), direction
            cpu = time.process_time() - cpu
            figures[f"{direction}_grid_cpu_s"] = round(cpu, 2)
            _out(f"{direction}: identical to the full-grid path ({cpu:.2f} CPU-s there)")
    _out(json.dumps(figures))


if __name__ == "__main__":
    from benchmarks._pipes import run

    run(main)
