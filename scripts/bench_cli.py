"""`werkmatch bench`: benchmark figures side by side with the alternatives.

Thin: the logic is in service/bench/.
"""

from __future__ import annotations

import shlex
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="Benchmarks: engine vs PostgreSQL peer vs per-pair loop, batch, Dask, HTTP load.",
    invoke_without_command=True,
)


class ScaleChoice(StrEnum):
    tiny = "tiny"
    municipality = "municipality"
    twente = "twente"
    national_sample = "national-sample"


class HttpDatabase(StrEnum):
    sqlite = "sqlite"
    postgres = "postgres"


class Part(StrEnum):
    live = "live"
    pg = "pg"
    loop = "loop"
    batch = "batch"
    dask = "dask"


def _err(message: str) -> None:
    typer.echo(message, err=True)


@app.callback()
def bench(
    scale: Annotated[
        ScaleChoice | None,
        typer.Option(
            help="tiny 300×200, municipality 10k×5k, twente 50k×20k, national-sample 1M×100k (candidates × "
            "vacancies). Default: municipality; twente with --http."
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option(help="Write the figures as JSON (one key per figure).")
    ] = None,
    markdown: Annotated[Path | None, typer.Option(help="Also write the table as markdown.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of `werkmatch seed`.")] = 1,
    workdir: Annotated[
        Path | None,
        typer.Option(help="Where SQLite files and exports go (default: $TMPDIR/werkmatch-bench)."),
    ] = None,
    postgres_url: Annotated[
        str,
        typer.Option(
            envvar="WERKMATCH_BENCH_DATABASE_URL",
            help="PostgreSQL database of the bench's own (created when missing; never `test`).",
        ),
    ] = "postgresql://postgres@127.0.0.1:5432/werkmatch_bench",
    fresh: Annotated[bool, typer.Option("--fresh", help="Seed again even when the data set exists.")] = False,
    skip: Annotated[list[Part] | None, typer.Option(help="Leave a part out (repeatable).")] = None,
    queries: Annotated[
        int | None, typer.Option(min=1, help="Live queries per direction (default 1000).")
    ] = None,
    pg_queries: Annotated[int | None, typer.Option(min=1, help="PostgreSQL peer statements.")] = None,
    http: Annotated[
        bool,
        typer.Option(
            "--http",
            help="Run the HTTP load test (locust) instead: "
            "`werkmatch serve` with twente data, 70/20/10 mix, constant rate.",
        ),
    ] = False,
    rate: Annotated[float, typer.Option(help="--http: target requests/s.")] = 200.0,
    duration: Annotated[int, typer.Option(help="--http: seconds of load.")] = 60,
    http_database: Annotated[
        HttpDatabase | None,
        typer.Option(help="--http: serve from sqlite or postgres (default: postgres when it answers)."),
    ] = None,
) -> None:
    """Generate the data set with `werkmatch seed`, measure, print the table (and write JSON).

    Ratios are the headline; absolute times are printed with the machine's core count. A part that cannot
    run (PostgreSQL down, ...) is shown as not measured, with the reason.
    """
    import tempfile

    from service.bench.datasets import SCALES

    command = "werkmatch " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    work = workdir or Path(tempfile.gettempdir()) / "werkmatch-bench"
    if http:
        from service.bench.loadtest import LoadOptions, run_loadtest

        report = run_loadtest(
            LoadOptions(
                scale=SCALES[scale.value if scale else "twente"],
                seed=seed,
                workdir=work,
                postgres_url=postgres_url,
                rate=rate,
                duration=duration,
                fresh=fresh,
                command=command,
                log=_err,
                database=http_database.value if http_database else None,
            )
        )
    else:
        from service.bench.runner import BenchOptions, run_bench

        report = run_bench(
            BenchOptions(
                scale=scale.value if scale else "municipality",
                seed=seed,
                workdir=work,
                postgres_url=postgres_url,
                fresh=fresh,
                skip=frozenset(p.value for p in skip or ()),
                live_queries=queries,
                pg_queries=pg_queries,
                command=command,
                log=_err,
            )
        )
    report.print_table()
    if output is not None:
        report.write_json(output)
        _err(f"figures written to {output}")
    if markdown is not None:
        markdown.write_text(report.markdown())
