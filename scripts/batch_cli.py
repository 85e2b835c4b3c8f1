"""`werkmatch batch ...`: the nightly batch (run, resume, export, list). Thin: the logic is in
service/batch/."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

app = typer.Typer(
    help="Nightly batch: top-K matches for every active candidate and open vacancy.", no_args_is_help=True
)


def _database_url() -> str:
    from service.settings import get_settings

    return get_settings().database_url


@app.command("run")
def run(
    top_k: Annotated[int, typer.Option("--top-k", min=1, max=500, help="Matches kept per profile.")] = 50,
    workers: Annotated[
        int | None, typer.Option(min=1, max=256, help="Local worker processes (default: one per CPU).")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address, e.g. tcp://HOST:8786.")
    ] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the latest unfinished run.")] = False,
    chunk_size: Annotated[
        int,
        typer.Option(min=1, max=1_000_000, help="Profiles per chunk (the unit of work and of checkpoints)."),
    ] = 2_000,
) -> None:
    """Compute, store and publish a run; the run id is the last line of stdout."""
    from service.batch.runner import run_batch
    from service.persistence.migrate import upgrade

    url = _database_url()
    upgrade(url)
    summary = run_batch(
        url, top_k=top_k, chunk_size=chunk_size, workers=workers, scheduler=scheduler, resume=resume
    )
    typer.echo(
        json.dumps(
            {
                "run_id": str(summary.run_id),
                "resumed": summary.resumed,
                "candidates": summary.candidates,
                "vacancies": summary.vacancies,
                "chunks": summary.chunks_total,
                "chunks_run": summary.chunks_run,
                "rows_written": summary.rows_written,
                "pruned_runs": summary.pruned,
            }
        ),
        err=True,
    )
    typer.echo(str(summary.run_id))


@app.command("export")
def export(
    run: Annotated[str, typer.Argument(help="A complete run's id, or `latest` (the published run).")],
) -> None:
    """The run's matches as CSV on stdout, sorted by (direction, subject_id, rank)."""
    from service.batch import store
    from service.batch.runner import export_lines
    from service.persistence.db import make_engine, make_sessionmaker

    engine = make_engine(_database_url())
    try:
        with make_sessionmaker(engine)() as session:
            found = store.resolve_run(session, run)
            if found is None:
                typer.echo(f"error: no complete run {run!r}", err=True)
                raise typer.Exit(1)
            out = sys.stdout
            buffer: list[str] = []
            for line in export_lines(store.iter_run_results(session, found.id)):
                buffer.append(line)
                if len(buffer) >= 10_000:
                    out.write("".join(buffer))
                    buffer.clear()
            out.write("".join(buffer))
            out.flush()
    finally:
        engine.dispose()


@app.command("runs")
def runs(limit: Annotated[int, typer.Option(min=1, max=1000, help="How many, newest first.")] = 20) -> None:
    """List runs (newest first) as JSON lines."""
    from service.batch import store
    from service.persistence.db import make_engine, make_sessionmaker

    engine = make_engine(_database_url())
    try:
        with make_sessionmaker(engine)() as session:
            for info in store.list_runs(session, limit=limit):
                typer.echo(json.dumps(_as_dict(info)))
    finally:
        engine.dispose()


def _as_dict(info: object) -> dict[str, object]:
    from dataclasses import asdict

    return {k: (v if v is None or isinstance(v, (int, bool)) else str(v)) for k, v in asdict(info).items()}
