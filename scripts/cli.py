"""The `werkmatch` command line. Thin: every command calls into service/ or matching/.

Unix habits: `--help` everywhere, results on stdout, progress and diagnostics on stderr, exit code 0 on
success, 1 on failure, 2 on usage errors.
"""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from scripts.audit_cli import app as audit_app
from scripts.batch_cli import app as batch_app
from scripts.bench_cli import app as bench_app
from scripts.interop_cli import export_app, import_app
from scripts.retention_cli import app as retention_app

app = typer.Typer(
    help="werkmatch: explainable candidate-vacancy matching for Dutch municipalities.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
eval_app = typer.Typer(help="Quality figures on evaluation sets.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(eval_app, name="eval")
app.add_typer(batch_app, name="batch")
app.add_typer(bench_app, name="bench")
app.add_typer(audit_app, name="audit")
app.add_typer(retention_app, name="retention")
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")


class RoleChoice(StrEnum):
    coach = "coach"
    employer = "employer"
    admin = "admin"
    batch = "batch"


def _err(message: str) -> None:
    typer.echo(message, err=True)


def _settings():  # noqa: ANN202 - imported lazily so `--help` stays fast
    from service.settings import get_settings

    return get_settings()


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Option(help="Target revision.")] = "head") -> None:
    """Apply migrations to the database in DATABASE_URL."""
    from service.persistence.migrate import upgrade

    upgrade(_settings().database_url, revision)
    _err(f"database at revision {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Option(help="Target revision.")] = "base") -> None:
    """Revert migrations (default: all of them)."""
    from service.persistence.migrate import downgrade

    downgrade(_settings().database_url, revision)
    _err(f"database at revision {revision}")


@keys_app.command("create")
def keys_create(
    role: Annotated[RoleChoice, typer.Option(help="Role of the key.")],
    municipality: Annotated[
        list[str] | None, typer.Option(help="CBS code (GM0153); repeat for several.")
    ] = None,
    employer: Annotated[str | None, typer.Option(help="Employer name (created when new).")] = None,
    label: Annotated[str | None, typer.Option(help="A note on who holds the key.")] = None,
) -> None:
    """Create an API key. The key is printed once, as the last line of stdout; only its digest is stored."""
    from service.auth.keys import create_api_key
    from service.auth.principal import Role
    from service.errors import ServiceError
    from service.persistence.db import make_engine, make_sessionmaker, session_scope
    from service.persistence.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url)
    factory = make_sessionmaker(make_engine(settings.database_url))
    try:
        with session_scope(factory) as session:
            issued = create_api_key(
                session,
                role=Role(role.value),
                municipalities=municipality or [],
                employer_name=employer,
                label=label,
            )
    except ServiceError as exc:
        _err(f"error: {exc.detail}")
        raise typer.Exit(2) from exc
    typer.echo(f"key id: {issued.key_id} role: {issued.role.value}")
    typer.echo(issued.key)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="uvicorn worker processes.")] = 1,
) -> None:
    """Apply migrations, then serve the API for the database in DATABASE_URL."""
    import uvicorn

    from service.persistence.migrate import upgrade

    upgrade(_settings().database_url)
    os.environ.setdefault("WERKMATCH_WARM_INDEX_ON_START", "true")
    uvicorn.run(
        "service.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=False,
        access_log=False,
        log_config=_log_config(),
    )


def _log_config() -> dict[str, object]:
    """uvicorn's logging, with werkmatch's access log in place of uvicorn's.

    uvicorn's access line carries the query string, and a coach's candidate search puts a name there
    (``GET /api/v1/candidates?q=...``). ``werkmatch.access`` (service/middleware.py) logs request id, method,
    path, status and time, never query strings or bodies, through the same redacting handler."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["werkmatch"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


@app.command()
def seed(
    candidates: Annotated[int, typer.Option(min=0, max=5_000_000, help="Number of candidates.")] = 1000,
    vacancies: Annotated[int, typer.Option(min=0, max=1_000_000, help="Number of vacancies.")] = 500,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same data.")] = 1,
) -> None:
    """Fill the database in DATABASE_URL with deterministic synthetic candidates and vacancies."""
    from service.demo.generator import generate_candidates, generate_vacancies
    from service.persistence.db import make_engine, make_sessionmaker
    from service.persistence.migrate import upgrade
    from service.progress import Progress
    from service.seeding import load_payloads

    settings = _settings()
    upgrade(settings.database_url)
    factory = make_sessionmaker(make_engine(settings.database_url))
    with Progress(total=candidates + vacancies, description="seed") as progress:
        report = load_payloads(
            factory,
            candidates=generate_candidates(candidates, seed=seed),
            vacancies=generate_vacancies(vacancies, seed=seed),
            secret=settings.secret_key,
            progress=lambda _kind, n: progress.update(n),
        )
    typer.echo(
        json.dumps(
            {"candidates": report.candidates, "vacancies": report.vacancies, "employers": report.employers}
        )
    )


DEMO_KEYS = (
    ("coach", ["GM0141", "GM0153", "GM0164"], None, "adviseur werk Almelo/Enschede/Hengelo"),
    ("coach", ["GM0147"], None, "adviseur werk Borne"),
    ("employer", [], "Logistiek XL Almelo B.V.", "werkgeversportaal"),
    ("admin", [], None, "functioneel beheer"),
    ("batch", [], None, "nachtelijke batch"),
)


@app.command()
def demo(
    database: Annotated[Path, typer.Option(help="SQLite file to (re)create.")] = Path("werkmatch-demo.db"),
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Create the database and keys, then exit.")
    ] = False,
) -> None:
    """Create a SQLite demo database with Twente data, print demo keys for each role and serve it."""

    from service.auth.keys import create_api_key
    from service.auth.principal import Role
    from service.demo.generator import demo_dataset
    from service.persistence.db import make_engine, make_sessionmaker, session_scope
    from service.persistence.migrate import upgrade
    from service.seeding import load_payloads
    from service.settings import get_settings

    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{database.resolve()}"
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    settings = get_settings()
    upgrade(url)
    factory = make_sessionmaker(make_engine(url))
    candidates, vacancies = demo_dataset()
    report = load_payloads(factory, candidates=candidates, vacancies=vacancies, secret=settings.secret_key)
    _err(
        f"demo database {database}: {report.candidates} candidates, {report.vacancies} vacancies, "
        f"{report.employers} employers"
    )
    with session_scope(factory) as session:
        for role, municipalities, employer, label in DEMO_KEYS:
            issued = create_api_key(
                session, role=Role(role), municipalities=municipalities, employer_name=employer, label=label
            )
            scope = ",".join(municipalities) or employer or "installation"
            typer.echo(f"{role:<9} {scope:<28} {issued.key}")
    if no_serve:
        return
    typer.echo(f"serving on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    sys.stdout.flush()
    import uvicorn

    os.environ.setdefault("WERKMATCH_WARM_INDEX_ON_START", "true")
    uvicorn.run(
        "service.main:create_app",
        factory=True,
        host=host,
        port=port,
        log_level="info",
        access_log=False,
        log_config=_log_config(),
    )


@eval_app.command("ranking")
def eval_ranking(
    path: Annotated[
        Path,
        typer.Argument(
            exists=True, file_okay=False, help="Folder with candidates.jsonl, vacancies.jsonl, qrels.tsv."
        ),
    ],
) -> None:
    """NDCG@10 of candidate→vacancy rankings, and top-10 items with unmet hard requirements ranked too
    high."""
    from matching.evaluation import evaluate_ranking

    typer.echo(json.dumps(evaluate_ranking(path), indent=2, sort_keys=True))


@eval_app.command("occupations")
def eval_occupations(
    path: Annotated[
        Path, typer.Argument(exists=True, file_okay=False, help="Folder with queries.tsv and qrels.tsv.")
    ],
) -> None:
    """MRR and recall@10 of job title → ESCO occupation linking, per language."""
    from matching.evaluation_occupations import evaluate_occupations

    typer.echo(json.dumps(evaluate_occupations(path), indent=2, sort_keys=True))


def _missing_schema(exc: BaseException) -> bool:
    """Whether a database error says the werkmatch tables are not there (SQLite: "no such table"; PostgreSQL:
    undefined table, sqlstate 42P01)."""
    orig = getattr(exc, "orig", None)
    return "no such table" in str(orig) or getattr(orig, "sqlstate", None) == "42P01"


def main() -> None:
    """The console entry point: :data:`app`, with a one-line error instead of a traceback when the database
    has no werkmatch schema yet (the usual first mistake: a new ``DATABASE_URL`` without ``db upgrade``)."""
    from sqlalchemy.exc import DBAPIError

    try:
        app()
    except DBAPIError as exc:
        if not _missing_schema(exc):
            raise
        typer.echo(
            "error: the database at DATABASE_URL has no werkmatch tables; run `werkmatch db upgrade` first",
            err=True,
        )
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
