"""`werkmatch retention run`: erase long-inactive candidates, prune old audit entries.
Logic: service/gdpr/."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer

app = typer.Typer(
    help="Retention: erase inactive candidates after the term; prune audit entries (>= 183 days).",
    no_args_is_help=True,
)


@app.command("run")
def run(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count only; change nothing.")] = False,
) -> None:
    """Apply WERKMATCH_RETENTION_DAYS (unset: no candidate is erased) and WERKMATCH_AUDIT_RETENTION_DAYS."""
    from service.gdpr.retention import run_retention
    from service.persistence.db import begin_write, make_engine, make_sessionmaker, session_scope
    from service.persistence.migrate import upgrade
    from service.settings import get_settings

    settings = get_settings()
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            begin_write(session)
            report = run_retention(
                session,
                retention_days=settings.retention_days,
                audit_retention_days=settings.audit_retention_days,
                dry_run=dry_run,
            )
    finally:
        engine.dispose()
    typer.echo(json.dumps(asdict(report)))
