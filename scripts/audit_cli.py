"""`werkmatch audit ...`: verify the tamper-evident audit chain. Thin: the logic is in service/audit/."""

from __future__ import annotations

import json
from typing import Annotated

import typer

app = typer.Typer(help="Audit log: verify the hash chain.", no_args_is_help=True)


@app.command("verify")
def verify(
    anchor: Annotated[
        str | None,
        typer.Option(
            help=(
                "SEQ:HASH of an entry published earlier (e.g. a previous run's head); "
                "it must still be in the chain."
            ),
        ),
    ] = None,
) -> None:
    """Exit 0 when the chain is intact; exit 1 naming each edited or removed entry's seq otherwise.

    Prints `{"entries": N, "head_seq": S, "head_hash": H, "intact": true}` on stdout; keep the head somewhere
    else (a ticket, a WORM store) and pass it back with --anchor to detect a recomputed chain."""
    from service.audit.verify import verify_chain
    from service.persistence.db import make_engine, make_sessionmaker
    from service.settings import get_settings

    anchor_pair: tuple[int, str] | None = None
    if anchor is not None:
        seq, _, digest = anchor.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            typer.echo("error: --anchor must be SEQ:HASH (64 hex digits)", err=True)
            raise typer.Exit(2)
        anchor_pair = (int(seq), digest.lower())
    engine = make_engine(get_settings().database_url)
    try:
        with make_sessionmaker(engine)() as session:
            report = verify_chain(session, anchor=anchor_pair)
    finally:
        engine.dispose()
    for problem in report.problems:
        typer.echo(f"audit chain broken at {problem}", err=True)
    typer.echo(
        json.dumps(
            {
                "entries": report.entries,
                "head_seq": report.head_seq,
                "head_hash": report.head_hash,
                "intact": report.intact,
                "problems": [str(p) for p in report.problems],
            }
        )
    )
    raise typer.Exit(0 if report.intact else 1)
