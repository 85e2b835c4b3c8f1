"""Engines and sessions. The request's session commits on success and rolls back on error; scripts use
`session_scope`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from service.settings import normalise_database_url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the writer; busy_timeout waits for locks instead of failing at once.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    # Let SQLAlchemy emit BEGIN itself (see `_sqlite_begin`), instead of the driver's implicit transactions.
    dbapi_connection.isolation_level = None


def _sqlite_begin(conn: Any) -> None:
    # Writers take the write lock at BEGIN (IMMEDIATE) so that two writers queue on busy_timeout instead of
    # failing on a read-to-write lock upgrade; readers begin DEFERRED and never block under WAL.
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


WRITE_OPTIONS = {"sqlite_begin": "IMMEDIATE"}


def begin_write(session: Session) -> None:
    """Mark the session's transaction as a writer. Call before the first statement of a writing request."""
    if session.get_bind().dialect.name == "sqlite" and not session.in_transaction():
        session.connection(execution_options=WRITE_OPTIONS)


def writer_engine(engine: Engine) -> Engine:
    """The engine a writing request's session is bound to: on SQLite its transactions begin IMMEDIATE at
    their first statement (same pool and connections; ``begin_write`` without a statement of its own)."""
    return engine.execution_options(**WRITE_OPTIONS) if engine.dialect.name == "sqlite" else engine


def make_engine(url: str) -> Engine:
    """Create an engine for SQLite (WAL, busy_timeout, foreign keys) or PostgreSQL (psycopg 3)."""
    url = normalise_database_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # hide_parameters: exception messages (which get logged) never quote row values such as names.
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, hide_parameters=True)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction for a script step: commit on success, roll back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
