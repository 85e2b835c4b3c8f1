"""`werkmatch import ...` and `werkmatch export ...`: files in and out of the tools coaches and employers use.

Exit codes of the imports: 0 every row imported (or, with --dry-run, valid), 1 some rows rejected (each one on
stderr with its line number; all of them in the JSON summary on stdout), 2 usage errors (no file, not UTF-8,
required columns missing, bad option).
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

import_app = typer.Typer(
    help="Import candidates (CSV) and vacancies (CSV, JSONL); see docs/import-format.md.",
    no_args_is_help=True,
)
export_app = typer.Typer(help="Export matches for coaches who work in a spreadsheet.", no_args_is_help=True)


def _factory():  # noqa: ANN202 - imported lazily so `--help` stays fast
    from service.persistence.db import make_engine, make_sessionmaker
    from service.persistence.migrate import upgrade
    from service.settings import get_settings

    settings = get_settings()
    upgrade(settings.database_url)
    return make_sessionmaker(make_engine(settings.database_url)), settings


def _finish(report) -> None:  # noqa: ANN001 - ImportReport, imported lazily
    for error in report.rejected:
        ref = f" ({error.external_ref})" if error.external_ref else ""
        typer.echo(f"regel {error.line}{ref}: {error.reason}", err=True)
    summary = report.as_dict()
    verb = "would import" if report.dry_run else "imported"
    typer.echo(
        f"{report.kind}: {report.rows} rows, {verb} {report.created} new, {report.updated} changed, "
        f"{report.unchanged} unchanged, {len(report.rejected)} rejected "
        f"({summary['rows_per_second']} rows/s)",
        err=True,
    )
    if report.ignored_columns:
        typer.echo(f"columns not used: {', '.join(report.ignored_columns)}", err=True)
    typer.echo(json.dumps(summary, ensure_ascii=False))
    raise typer.Exit(report.exit_code)


def _usage(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


@import_app.command("candidates")
def import_candidates(
    file: Annotated[Path, typer.Argument(help="CSV file (UTF-8, `;` or `,` separated, header row).")],
    municipality: Annotated[str, typer.Option(help="CBS code of the municipality the candidates belong to.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate only; write nothing.")] = False,
) -> None:
    """Import candidates from a SONAR-like CSV; idempotent by klantnummer (a rerun creates no duplicates)."""
    from service.interop.csv_import import UsageError, count_lines
    from service.interop.csv_import import import_candidates as run
    from service.progress import Progress

    try:
        factory, settings = _factory()
        with Progress(
            total=max(count_lines(file) - 1, 0) if file.is_file() else None, description="import candidates"
        ) as progress:
            report = run(
                factory,
                file,
                municipality=municipality,
                secret=settings.secret_key,
                dry_run=dry_run,
                progress=progress.update,
            )
    except UsageError as exc:
        _usage(str(exc))
    _finish(report)


@import_app.command("vacancies")
def import_vacancies(
    file: Annotated[
        Path, typer.Argument(help="CSV file (columns as documented) or JSONL (one vacancy per line).")
    ],
    employer: Annotated[str, typer.Option(help="Employer that owns the vacancies (created when new).")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate only; write nothing.")] = False,
) -> None:
    """Import vacancies of one employer; idempotent by vacaturenummer / external_ref."""
    from service.interop.csv_import import UsageError, count_lines
    from service.interop.csv_import import import_vacancies as run
    from service.progress import Progress

    try:
        factory, _settings = _factory()
        with Progress(
            total=count_lines(file) if file.is_file() else None, description="import vacancies"
        ) as progress:
            report = run(factory, file, employer=employer, dry_run=dry_run, progress=progress.update)
    except UsageError as exc:
        _usage(str(exc))
    _finish(report)


class ExportFormat(str, Enum):  # noqa: UP042 - as RoleChoice in scripts/cli.py (typer choices)
    csv = "csv"
    xlsx = "xlsx"


@export_app.command("matches")
def export_matches(
    candidate: Annotated[
        str | None, typer.Option(help="Klantnummer (external_ref) of one candidate.")
    ] = None,
    municipality: Annotated[
        str | None,
        typer.Option(
            help="CBS code: every active candidate of it (with --candidate: where that client number lives)."
        ),
    ] = None,
    format_: Annotated[ExportFormat, typer.Option("--format", help="csv or xlsx.")] = ExportFormat.csv,
    output: Annotated[Path | None, typer.Option(help="File to write (default: stdout for csv).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200, help="Matches per candidate.")] = 10,
) -> None:
    """Top matches per candidate as a spreadsheet (one row per candidate-vacancy pair, best first)."""
    from service.interop.export import ExportError
    from service.interop.export import export_matches as run

    if candidate is None and municipality is None:
        _usage(
            "give --candidate REF (and --municipality if the number is not unique) or --municipality GM0153"
        )
    if format_ is ExportFormat.xlsx and output is None:
        _usage("--format xlsx needs --output FILE.xlsx")
    try:
        factory, _settings = _factory()
        count = run(
            factory,
            candidate_ref=candidate,
            municipality=municipality,
            fmt=format_.value,
            output=output if output is not None else sys.stdout,
            limit=limit,
        )
    except ExportError as exc:
        _usage(str(exc))
    typer.echo(f"exported {count} matches" + (f" to {output}" if output else ""), err=True)
