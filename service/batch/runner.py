"""The nightly batch: plan a run in chunks, have workers rank and store them, then publish the run atomically.

Flow: take a snapshot (change counter + counts) and create (or, with ``resume``, pick up) a run; plan chunks
of
``chunk_size`` subjects per direction; hand the chunks that have no checkpoint to an executor (local
processes,
or a Dask cluster); when every chunk is checkpointed, mark the run complete and flip the published pointer in
ONE transaction; prune old runs in a later transaction. A killed run keeps status ``running`` with its
checkpoints; ``resume`` continues it and, because a chunk's rows depend only on the data and its boundaries,
the
published result equals a clean run's. If the data changed since the killed run started, its checkpoints are
dropped and it is computed again (mixing two moments would not equal any clean run).
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context

from service.batch import store
from service.batch.models import C2V, V2C
from service.batch.worker import ChunkOutcome, ChunkTask, run_chunk
from service.persistence.db import begin_write, make_engine, make_sessionmaker, session_scope
from service.progress import Progress
from service.settings import normalise_database_url

#: Runs chunk tasks and yields their outcomes as they finish (in any order).
Executor = Callable[[Sequence[ChunkTask]], Iterator[ChunkOutcome]]

DEFAULT_CHUNK_SIZE = 2_000


@dataclass(frozen=True, slots=True)
class BatchSummary:
    """What a finished run did."""

    run_id: uuid.UUID
    resumed: bool
    candidates: int
    vacancies: int
    chunks_total: int
    chunks_run: int
    rows_written: int
    pairs_scored: int
    pruned: int


def plan_chunks(
    *, database_url: str, run_id: uuid.UUID, snapshot: store.Snapshot, top_k: int, chunk_size: int
) -> list[ChunkTask]:
    """Every chunk of a run: positions ``[start, stop)`` of the subject order, candidates first, then
    vacancies."""
    tasks: list[ChunkTask] = []
    for direction, total in ((C2V, snapshot.candidates), (V2C, snapshot.vacancies)):
        for chunk_no, start in enumerate(range(0, total, chunk_size)):
            tasks.append(
                ChunkTask(
                    database_url=database_url,
                    run_id=str(run_id),
                    direction=direction,
                    chunk_no=chunk_no,
                    start=start,
                    stop=min(start + chunk_size, total),
                    top_k=top_k,
                    snapshot=snapshot,
                )
            )
    return tasks


def local_executor(workers: int) -> Executor:
    """Chunks on ``workers`` local processes (each loads the indexes once); in this process when ``workers``
    is 1."""

    def execute(tasks: Sequence[ChunkTask]) -> Iterator[ChunkOutcome]:
        if workers <= 1 or len(tasks) <= 1:
            for task in tasks:
                yield run_chunk(task)
            return
        # spawn: children must not inherit this process's database connections (a forked psycopg connection
        # closed by a child's garbage collector would end the parent's session).
        with ProcessPoolExecutor(
            max_workers=min(workers, len(tasks)), mp_context=get_context("spawn")
        ) as pool:
            futures = [pool.submit(run_chunk, task) for task in tasks]
            try:
                for future in as_completed(futures):
                    yield future.result()
            except BaseException:
                for future in futures:
                    future.cancel()
                raise

    return execute


def _start_or_resume(
    database_url: str, *, top_k: int, chunk_size: int, resume: bool, params: dict[str, object]
) -> tuple[uuid.UUID, store.Snapshot, int, int, bool, set[tuple[str, int]]]:
    from matching.algorithms import DEFAULT_ALGORITHM

    db = make_engine(database_url)
    try:
        with session_scope(make_sessionmaker(db)) as session:
            begin_write(session)
            snapshot = store.current_snapshot(session)
            run = store.latest_unfinished_run(session) if resume else None
            if run is None:
                if resume:
                    _note("batch: no unfinished run to resume; starting a new run")
                n_chunks = len(
                    plan_chunks(
                        database_url=database_url,
                        run_id=uuid.UUID(int=0),
                        snapshot=snapshot,
                        top_k=top_k,
                        chunk_size=chunk_size,
                    )
                )
                run = store.create_run(
                    session,
                    top_k=top_k,
                    chunk_size=chunk_size,
                    algorithm=DEFAULT_ALGORITHM.name,
                    algorithm_version=DEFAULT_ALGORITHM.version,
                    snapshot=snapshot,
                    chunks_total=n_chunks,
                    params=dict(params),
                )
                return run.id, snapshot, run.top_k, run.chunk_size, False, set()
            # A resumed run keeps its own parameters: its checkpoints were made with them.
            if (run.top_k, run.chunk_size) != (top_k, chunk_size):
                _note(
                    f"batch: resuming run {run.id} with its own top-k {run.top_k} "
                    f"and chunk size {run.chunk_size}"
                )
            if (run.algorithm, run.algorithm_version) != (DEFAULT_ALGORITHM.name, DEFAULT_ALGORITHM.version):
                raise RuntimeError(
                    f"run {run.id} used {run.algorithm}@{run.algorithm_version}; start a new run"
                )
            n_chunks = len(
                plan_chunks(
                    database_url=database_url,
                    run_id=run.id,
                    snapshot=snapshot,
                    top_k=run.top_k,
                    chunk_size=run.chunk_size,
                )
            )
            recorded = store.Snapshot(
                watermark=int(run.params.get("watermark", -1)),
                candidates=run.candidates,
                vacancies=run.vacancies,
            )
            if recorded != snapshot:
                _note(f"batch: data changed since run {run.id} started; computing it again from the start")
                store.restart_run(session, run, snapshot=snapshot, chunks_total=n_chunks)
            else:
                store.mark_running(session, run.id)
            done = store.committed_chunks(session, run.id)
            return run.id, snapshot, run.top_k, run.chunk_size, True, done
    finally:
        db.dispose()


def _note(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def run_batch(
    database_url: str,
    *,
    top_k: int = 50,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    executor: Executor | None = None,
) -> BatchSummary:
    """Run (or resume) the nightly batch and publish it. ``scheduler``: a Dask scheduler address
    (``tcp://host:8786``); otherwise ``workers`` local processes (default: one per CPU)."""
    database_url = normalise_database_url(database_url)
    workers = workers or os.cpu_count() or 1
    params: dict[str, object] = {"workers": workers, "scheduler": scheduler}
    run_id, snapshot, top_k, chunk_size, resumed, done = _start_or_resume(
        database_url, top_k=top_k, chunk_size=chunk_size, resume=resume, params=params
    )
    tasks = plan_chunks(
        database_url=database_url, run_id=run_id, snapshot=snapshot, top_k=top_k, chunk_size=chunk_size
    )
    pending = [t for t in tasks if (t.direction, t.chunk_no) not in done]
    if executor is None:
        if scheduler is not None:
            from service.batch.dask_runner import dask_executor

            executor = dask_executor(scheduler)
        else:
            executor = local_executor(workers)
    _note(
        f"batch run {run_id}: {snapshot.candidates} candidates, {snapshot.vacancies} vacancies, "
        f"{len(tasks)} chunks ({len(tasks) - len(pending)} already committed)"
    )
    db = make_engine(database_url)
    factory = make_sessionmaker(db)
    try:
        total = snapshot.candidates + snapshot.vacancies
        with Progress(total=total, description=f"batch {str(run_id)[:8]}") as progress:
            progress.update(sum(t.stop - t.start for t in tasks if (t.direction, t.chunk_no) in done))
            try:
                for outcome in executor(pending):
                    progress.update(outcome.subjects)
            except BaseException as exc:
                with session_scope(factory) as session:
                    begin_write(session)
                    store.fail_run(session, run_id, error=f"{type(exc).__name__}: {exc}")
                raise
        with session_scope(factory) as session:
            run = store.complete_and_publish(session, run_id)
            rows_written, pairs_scored = run.rows_written, run.pairs_scored
        with session_scope(factory) as session:
            pruned = store.prune_runs(session)
    finally:
        db.dispose()
    return BatchSummary(
        run_id=run_id,
        resumed=resumed,
        candidates=snapshot.candidates,
        vacancies=snapshot.vacancies,
        chunks_total=len(tasks),
        chunks_run=len(pending),
        rows_written=rows_written,
        pairs_scored=pairs_scored,
        pruned=len(pruned),
    )


CSV_HEADER = "direction,subject_id,rank,other_id,score,distance_km\n"


def export_lines(rows: Iterable[store.ResultRow]) -> Iterator[str]:
    """CSV lines (header first) with stable number formatting: score with 2 decimals, distance with 1."""
    yield CSV_HEADER
    for direction, subject, rank, other, score, km in rows:
        yield f"{direction},{subject},{rank},{other},{score:.2f},{km:.1f}\n"
