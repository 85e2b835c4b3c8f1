"""Run the batch's chunk tasks on a Dask distributed cluster.

The tasks are the same small :class:`~service.batch.worker.ChunkTask` values the local process pool runs: a
database URL, the run's id and snapshot, and chunk boundaries. Every Dask worker process loads the candidate
and
vacancy indexes from the database itself (once, then reuses them for its next chunks) and writes its chunk's
rows and checkpoint directly, so only task descriptions and counts travel through the scheduler. A chunk a
worker runs twice (retry after a lost worker) stores nothing the second time (its checkpoint exists).

The workers need the werkmatch code (same version) and network access to the database; with SQLite they must
share the database file, i.e. run on the same host.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from service.batch.runner import Executor
from service.batch.worker import ChunkOutcome, ChunkTask, run_chunk


def dask_executor(address: str, *, retries: int = 2) -> Executor:
    """An executor that submits chunks to the Dask scheduler at ``address`` (``tcp://host:8786``)."""

    def execute(tasks: Sequence[ChunkTask]) -> Iterator[ChunkOutcome]:
        from dask.distributed import Client, as_completed

        if not tasks:
            return
        with Client(address) as client:
            keys = [f"werkmatch-batch-{t.run_id}-{t.direction}-{t.chunk_no}" for t in tasks]
            futures = client.map(run_chunk, list(tasks), key=keys, retries=retries, pure=False)
            try:
                for future in as_completed(futures):
                    yield future.result()
            finally:
                client.cancel(futures)

    return execute
