"""Nightly batch benchmark: seed N candidates × M vacancies, run `werkmatch batch run`, print figures.

Figures: wall time of the run including the database write, pairs ranked per second (active candidates × open
vacancies, both directions), rows written, and peak RSS — the largest sum over the process tree (the run and
its
worker processes, sampled every 0.2 s) and the largest single process. Prints one JSON object per database.

    .venv/bin/python -m benchmarks.batch_bench --sqlite /tmp/bench.db \\
        --postgres postgresql://postgres@127.0.0.1:5432/bench --candidates 50000 --vacancies 20000

Seeding happens only when the database does not already hold exactly that many profiles (it is not timed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psutil
from sqlalchemy import func, select

from service.batch.models import MatchRun
from service.persistence.db import make_engine, make_sessionmaker
from service.persistence.migrate import upgrade
from service.persistence.models import Candidate, Vacancy

ROOT = Path(__file__).resolve().parents[1]
WERKMATCH = [sys.executable, "-m", "scripts.cli"]


def _counts(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            return (
                int(session.scalar(select(func.count()).select_from(Candidate)) or 0),
                int(session.scalar(select(func.count()).select_from(Vacancy)) or 0),
            )
    finally:
        engine.dispose()


def _run_sampled(args: list[str], env: dict[str, str]) -> tuple[float, int, int, str, str]:
    """Run a command; return wall seconds, peak tree RSS, peak single-process RSS, stdout, stderr."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    root = psutil.Process(proc.pid)
    peak_tree = peak_one = 0
    out_parts: list[str] = []
    err_parts: list[str] = []
    assert proc.stdout is not None
    assert proc.stderr is not None
    stdout, stderr = proc.stdout, proc.stderr
    readers = [
        threading.Thread(target=lambda: out_parts.append(stdout.read()), daemon=True),
        threading.Thread(target=lambda: err_parts.append(stderr.read()), daemon=True),
    ]
    for reader in readers:
        reader.start()
    while proc.poll() is None:
        try:
            procs = [root, *root.children(recursive=True)]
            sizes = []
            for p in procs:
                try:
                    sizes.append(p.memory_info().rss)
                except psutil.Error:
                    pass
            peak_tree = max(peak_tree, sum(sizes))
            peak_one = max(peak_one, max(sizes, default=0))
        except psutil.Error:
            pass
        time.sleep(0.2)
    wall = time.perf_counter() - started
    for reader in readers:
        reader.join()
    return wall, peak_tree, peak_one, "".join(out_parts), "".join(err_parts)


def bench(
    url: str, *, candidates: int, vacancies: int, workers: int | None, chunk_size: int, top_k: int
) -> dict:
    """Seed when needed, run the batch once, return the figures."""
    env = {**os.environ, "DATABASE_URL": url}
    upgrade(url)
    if _counts(url) != (candidates, vacancies):
        if any(_counts(url)):
            raise SystemExit(f"{url} holds other data; use an empty database")
        subprocess.run(
            [*WERKMATCH, "seed", "--candidates", str(candidates), "--vacancies", str(vacancies)],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    args = [*WERKMATCH, "batch", "run", "--top-k", str(top_k), "--chunk-size", str(chunk_size)]
    if workers:
        args += ["--workers", str(workers)]
    load_before = os.getloadavg()[0]
    wall, peak_tree, peak_one, out, err = _run_sampled(args, env)
    if not out.strip():
        raise SystemExit(f"batch run failed:\n{err}")
    run_id = out.strip().splitlines()[-1]
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        run = session.scalars(select(MatchRun).where(MatchRun.id == uuid.UUID(run_id))).one()
        pairs, rows = run.pairs_scored, run.rows_written
        n_c, n_v = run.candidates, run.vacancies
    engine.dispose()
    return {
        "database": url.split(":", 1)[0],
        "active_candidates": n_c,
        "open_vacancies": n_v,
        "top_k": top_k,
        "chunk_size": chunk_size,
        "workers": workers or os.cpu_count(),
        "wall_s": round(wall, 1),
        "pairs_ranked": pairs,
        "pairs_per_s": round(pairs / wall),
        "rows_written": rows,
        "rows_per_s": round(rows / wall),
        "peak_rss_tree_mib": round(peak_tree / 2**20),
        "peak_rss_process_mib": round(peak_one / 2**20),
        "loadavg_1min_before": round(load_before, 2),
        "loadavg_1min_after": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sqlite", type=Path, help="SQLite file to use (created when missing).")
    parser.add_argument("--postgres", help="PostgreSQL URL of an empty (or already seeded) database.")
    parser.add_argument("--candidates", type=int, default=50_000)
    parser.add_argument("--vacancies", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--chunk-size", type=int, default=2_000)
    parser.add_argument("--top-k", type=int, default=50)
    options = parser.parse_args()
    urls = []
    if options.sqlite:
        urls.append(f"sqlite:///{options.sqlite.resolve()}")
    if options.postgres:
        urls.append(options.postgres)
    if not urls:
        parser.error("give --sqlite and/or --postgres")
    for url in urls:
        figures = bench(
            url,
            candidates=options.candidates,
            vacancies=options.vacancies,
            workers=options.workers,
            chunk_size=options.chunk_size,
            top_k=options.top_k,
        )
        print(json.dumps(figures), flush=True)  # noqa: T201 - a benchmark prints its figures


if __name__ == "__main__":
    from benchmarks._pipes import run

    run(main)
