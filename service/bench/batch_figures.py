"""Nightly batch figures: `werkmatch batch run` end to end as a child process, locally and on Dask.

End to end means what an operator waits for: the command starts, loads profiles, computes both directions,
writes with the database's bulk path, publishes, and exits. Wall time and the peak RSS of the whole process
tree (the command and its worker processes) are measured from outside. The Dask comparison starts a
``LocalCluster`` with 2 worker processes, runs the same command with ``--scheduler``, and byte-compares
`werkmatch batch export` of both runs.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from service.bench.procs import Measured, run_measured, werkmatch_command

__all__ = ["BatchRun", "DaskComparison", "compare_on_dask", "export_digest", "run_batch"]


@dataclass(frozen=True, slots=True)
class BatchRun:
    """One measured `werkmatch batch run`."""

    run_id: str
    seconds: float
    peak_rss_bytes: int
    pairs_scored: int
    rows_written: int

    @property
    def pairs_per_second(self) -> float:
        return self.pairs_scored / self.seconds if self.seconds > 0 else 0.0


class BatchFailed(RuntimeError):
    """`werkmatch batch` exited with an error (the message carries the tail of its stderr)."""


def _check(measured: Measured, what: str) -> None:
    if measured.returncode != 0:
        raise BatchFailed(f"{what} exited {measured.returncode}: {measured.stderr.strip()[-600:]}")


def _run_info(database_url: str, run_id: str) -> dict[str, object]:
    measured = run_measured(
        [*werkmatch_command(), "batch", "runs", "--limit", "50"], env={"DATABASE_URL": database_url}
    )
    _check(measured, "werkmatch batch runs")
    for line in measured.stdout.splitlines():
        info = json.loads(line)
        if str(info.get("id")) == run_id:
            return info
    raise BatchFailed(f"run {run_id} not listed by `werkmatch batch runs`")


def run_batch(database_url: str, *, scheduler: str | None = None, timeout: float | None = None) -> BatchRun:
    """Run `werkmatch batch run` (local processes, or on ``scheduler``) and measure it from outside."""
    args = [*werkmatch_command(), "batch", "run"]
    if scheduler:
        args += ["--scheduler", scheduler]
    measured = run_measured(args, env={"DATABASE_URL": database_url}, timeout=timeout)
    _check(measured, "werkmatch batch run")
    run_id = measured.last_line()
    info = _run_info(database_url, run_id)
    return BatchRun(
        run_id,
        measured.seconds,
        measured.peak_rss_bytes,
        int(info.get("pairs_scored") or 0),
        int(info.get("rows_written") or 0),
    )


def export_digest(database_url: str, run_id: str, *, path: Path) -> tuple[str, int]:
    """SHA-256 and size of `werkmatch batch export RUN_ID` (written to ``path``)."""
    measured = run_measured(
        [*werkmatch_command(), "batch", "export", run_id],
        env={"DATABASE_URL": database_url},
        stdout_path=path,
    )
    _check(measured, "werkmatch batch export")
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest(), path.stat().st_size


@dataclass(frozen=True, slots=True)
class DaskComparison:
    """The same batch on a Dask LocalCluster: its run, and whether its export equals the local run's."""

    run: BatchRun
    cluster_seconds: float  # starting the LocalCluster (not part of the batch's wall time)
    exports_identical: bool
    local_digest: str
    dask_digest: str
    export_bytes: int


def compare_on_dask(
    database_url: str, *, local: BatchRun, workdir: Path, workers: int = 2, timeout: float | None = None
) -> DaskComparison:
    """Start a ``LocalCluster`` (``workers`` processes, 1 thread each), run the batch, compare exports."""
    from dask.distributed import LocalCluster

    started = time.perf_counter()
    with LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1"
    ) as cluster:
        cluster_seconds = time.perf_counter() - started
        run = run_batch(database_url, scheduler=cluster.scheduler_address, timeout=timeout)
    local_digest, size = export_digest(database_url, local.run_id, path=workdir / "export-local.csv")
    dask_digest, _ = export_digest(database_url, run.run_id, path=workdir / "export-dask.csv")
    return DaskComparison(run, cluster_seconds, local_digest == dask_digest, local_digest, dask_digest, size)
