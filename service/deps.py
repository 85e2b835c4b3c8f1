"""FastAPI dependencies: the request's session (commit on success, roll back on error) and the caller's
principal.

`Annotated` aliases keep route signatures short: `session: SessionDep`, `principal: CoachDep`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from service.audit.recorder import is_audited
from service.auth.keys import authenticate
from service.auth.principal import Principal, Role
from service.errors import Forbidden, Unauthorized


def _is_writer(request: Request) -> bool:
    # Audited GETs write an audit entry, so they begin as writers too (see service.audit.audited).
    return request.method not in ("GET", "HEAD", "OPTIONS") or is_audited(request.scope.get("endpoint"))


async def sqlite_write_gate(request: Request) -> AsyncIterator[None]:
    """On SQLite, one writing request per process at a time, queued on the event loop.

    Without it, writers wait for SQLite's write lock inside threadpool threads; when every thread is taken by
    a waiting writer, the writer holding the lock gets no thread to run its route and all of them stall until
    busy_timeout ("database is locked"). Waiting here costs no thread. The gate is released after the commit
    (FastAPI tears dependencies down in reverse order). Other processes still queue on busy_timeout."""
    app_state = request.app.state
    if not app_state.settings.is_sqlite or not _is_writer(request):
        yield
        return
    lock = getattr(app_state, "sqlite_write_lock", None)
    if lock is None:
        lock = app_state.sqlite_write_lock = asyncio.Lock()
    async with lock:
        yield


#: Connections kept free of request sessions: the live index's poll and build use their own.
_RESERVED_CONNECTIONS = 2
#: At most this many requests hold a session while waiting in the threadpool (anyio's default is 40 threads).
_MAX_SESSIONS_IN_THREADS = 32


def _session_slots(app_state: object) -> int:
    pool = app_state.engine.pool  # type: ignore[attr-defined]
    try:
        capacity = int(pool.size()) + max(int(getattr(pool, "_max_overflow", 0)), 0)
    except (AttributeError, TypeError):  # a pool without a fixed size (NullPool, StaticPool)
        capacity = _MAX_SESSIONS_IN_THREADS
    return max(1, min(capacity - _RESERVED_CONNECTIONS, _MAX_SESSIONS_IN_THREADS))


async def session_gate(request: Request) -> AsyncIterator[None]:
    """At most as many requests hold a session as the connection pool can serve, queued on the event loop.

    Without it, a burst of requests (50 concurrent at twente scale on PostgreSQL) takes every threadpool
    thread: some wait for a pooled connection, some for the audit lock, and the requests that hold a
    connection (or the audit lock) get no thread to commit and release it; everything stalls until the pool's
    30 s timeout. With fewer sessions than connections and threads, waiting costs no thread and no
    connection. Released after the commit, like the SQLite write gate."""
    app_state = request.app.state
    gate = getattr(app_state, "session_semaphore", None)
    if gate is None:
        gate = app_state.session_semaphore = asyncio.Semaphore(_session_slots(app_state))
    async with gate:
        yield


async def get_session(
    request: Request,
    _slots: Annotated[None, Depends(session_gate, scope="function")],
    _gate: Annotated[None, Depends(sqlite_write_gate, scope="function")],
) -> AsyncIterator[Session]:
    """One transaction per request: commit when the route returns, roll back when it raises.

    Function scope: the commit runs before the response is sent, so a failed commit (a conflict, a failed
    audit write) becomes the response instead of being lost after a 200 went out.

    Async, so opening costs no worker-thread trip: creating a session does no I/O (the connection is taken
    at the first statement, in the principal's or the route's worker thread; a writing request's session is
    bound to ``app.state.write_engine``, so its first statement begins the transaction as a writer). Ending
    it (commit or rollback, then close) does I/O and runs in one worker-thread trip, shielded from
    cancellation, so a client that goes away never leaves a transaction open. As a sync generator it took
    two trips and more CPU per request (docs/performance.md).
    """
    state = request.app.state
    writer = _is_writer(request)
    session: Session = state.sessionmaker(bind=state.write_engine) if writer else state.sessionmaker()
    try:
        yield session
    except BaseException:
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(_end_session, session, commit=False)
        raise
    if session.in_transaction():
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(_end_session, session, commit=True)
    else:
        session.close()  # nothing was executed: no I/O


def _end_session(session: Session, *, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_principal(request: Request, session: SessionDep) -> Principal:
    """Authenticate `Authorization: Bearer <key>`; unknown, revoked or missing keys are a 401."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized()
    principal = authenticate(session, token.strip())
    if principal is None:
        raise Unauthorized("The API key is unknown or revoked.")
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_roles(*roles: Role) -> object:
    """A dependency that admits only the given roles (403 otherwise)."""

    # Async: a pure check needs no worker thread (a sync dependency costs a threadpool round trip).
    async def _check(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            raise Forbidden(f"This operation is not available to the role {principal.role.value!r}.")
        return principal

    return Depends(_check)


CoachDep = Annotated[Principal, require_roles(Role.COACH)]
EmployerDep = Annotated[Principal, require_roles(Role.EMPLOYER)]
AdminDep = Annotated[Principal, require_roles(Role.ADMIN)]
