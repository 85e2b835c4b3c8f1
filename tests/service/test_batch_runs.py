"""The nightly batch as a real CLI subprocess: crash (SIGKILL) and resume, atomic publishing, Dask.

One seeded database per module (400 candidates × 200 vacancies) and one clean run whose export every other run
must reproduce byte for byte. Runs on SQLite, and on PostgreSQL when DATABASE_URL says so.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, func, select

from service.batch import store
from service.batch.models import MatchRun, MatchRunChunk
from service.batch.runner import export_lines
from service.persistence.db import make_sessionmaker
from tests.conftest import REPO_ROOT, truncate_all

CHUNK = "1"  # one profile per chunk: a run takes long enough to be killed between checkpoints


def werkmatch(database_url: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess against ``database_url``; fail the test on a non-zero exit."""
    result = subprocess.run(
        [sys.executable, "-m", "scripts.cli", *args],
        cwd=REPO_ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr
    return result


def export(database_url: str, run: str = "latest") -> str:
    return werkmatch(database_url, "batch", "export", run).stdout


@dataclass(frozen=True)
class Seeded:
    database_url: str
    engine: Engine
    clean_run: str
    clean_export: str


@pytest.fixture(scope="module")
def seeded(database_url: str, engine: Engine) -> Seeded:
    truncate_all(engine)
    werkmatch(database_url, "seed", "--candidates", "400", "--vacancies", "200", "--seed", "7")
    run_id = werkmatch(
        database_url, "batch", "run", "--chunk-size", CHUNK, "--workers", "1"
    ).stdout.splitlines()[-1]
    text = export(database_url)
    assert text.startswith("direction,subject_id,rank,other_id,score,distance_km\n")
    assert text.count("\n") > 1000
    return Seeded(
        database_url=database_url, engine=engine, clean_run=str(uuid.UUID(run_id)), clean_export=text
    )


def _chunks_of(engine: Engine, run_id: uuid.UUID) -> int:
    with make_sessionmaker(engine)() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(MatchRunChunk).where(MatchRunChunk.run_id == run_id)
            )
            or 0
        )


def _newest_run(engine: Engine, *, other_than: str) -> MatchRun | None:
    with make_sessionmaker(engine)() as session:
        return session.scalars(
            select(MatchRun).where(MatchRun.id != uuid.UUID(other_than)).order_by(MatchRun.started_at.desc())
        ).first()


class TestCrashAndResume:
    def test_killed_run_resumes_to_the_clean_result_and_readers_see_the_previous_run(
        self, seeded: Seeded
    ) -> None:
        url, engine = seeded.database_url, seeded.engine
        proc = subprocess.Popen(
            [sys.executable, "-m", "scripts.cli", "batch", "run", "--chunk-size", CHUNK, "--workers", "1"],
            cwd=REPO_ROOT,
            env={**os.environ, "DATABASE_URL": url},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 240
            run = None
            while time.monotonic() < deadline:
                run = _newest_run(engine, other_than=seeded.clean_run)
                if run is not None and _chunks_of(engine, run.id) >= 1:
                    break
                assert proc.poll() is None, proc.communicate()[1]
                time.sleep(0.02)
            assert run is not None, "the run never checkpointed a chunk"
            assert proc.poll() is None, "the run finished before it could be killed"
            # Freeze the run between checkpoints (a run takes seconds; the checks below could outlast it).
            os.kill(proc.pid, signal.SIGSTOP)
            # While the new run is under way, readers see only the previous complete run.
            with make_sessionmaker(engine)() as session:
                info, _rows = store.read_published_matches(
                    session, direction="c2v", subject_id=uuid.uuid4(), limit=10
                )
                assert info is not None
                assert str(info.id) == seeded.clean_run
                in_process = "".join(export_lines(store.iter_run_results(session, info.id)))
            assert in_process == seeded.clean_export
            assert export(url) == seeded.clean_export
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        with make_sessionmaker(engine)() as session:
            killed = session.get(MatchRun, run.id)
            assert killed is not None
            assert killed.status == "running"
            done = _chunks_of(engine, run.id)
            assert 1 <= done < killed.chunks_total, "kill came too late to test resuming"
            assert store.published_run_id(session) == uuid.UUID(seeded.clean_run)

        resumed = werkmatch(url, "batch", "run", "--resume", "--chunk-size", CHUNK, "--workers", "1")
        assert resumed.stdout.splitlines()[-1] == str(run.id)
        assert f"({done} already committed)" in resumed.stderr or "already committed" in resumed.stderr
        assert export(url) == seeded.clean_export
        assert export(url, str(run.id)) == seeded.clean_export

    def test_resume_without_an_unfinished_run_starts_a_new_one(self, seeded: Seeded) -> None:
        result = werkmatch(
            seeded.database_url, "batch", "run", "--resume", "--chunk-size", CHUNK, "--workers", "2"
        )
        assert "no unfinished run to resume" in result.stderr
        assert export(seeded.database_url) == seeded.clean_export


class TestDask:
    def test_a_run_on_a_dask_cluster_exports_the_same_bytes_as_the_local_run(self, seeded: Seeded) -> None:
        from dask.distributed import LocalCluster

        # Worker threads in this process keep the test quick; each still loads the profiles from the
        # database, and
        # the scheduler listens on TCP so the CLI subprocess can reach it.
        with LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=False,
            protocol="tcp",
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster:
            result = werkmatch(
                seeded.database_url,
                "batch",
                "run",
                "--chunk-size",
                CHUNK,
                "--scheduler",
                cluster.scheduler_address,
            )
        run_id = result.stdout.splitlines()[-1]
        assert run_id != seeded.clean_run
        assert export(seeded.database_url) == seeded.clean_export


class TestPruning:
    def test_only_the_last_three_complete_runs_are_kept(self, seeded: Seeded) -> None:
        werkmatch(seeded.database_url, "batch", "run", "--chunk-size", CHUNK, "--workers", "1")
        with make_sessionmaker(seeded.engine)() as session:
            complete = session.scalars(select(MatchRun.id).where(MatchRun.status == "complete")).all()
            assert len(complete) == 3
            assert store.published_run_id(session) in complete
        assert export(seeded.database_url) == seeded.clean_export
