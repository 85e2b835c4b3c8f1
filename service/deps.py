"""FastAPI dependencies: the request's session (commit on success, roll back on error) and the caller's principal.

`Annotated` aliases keep route signatures short: `session: SessionDep`, `principal: CoachDep`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from service.auth.keys import authenticate
from service.auth.principal import Principal, Role
from service.errors import Forbidden, Unauthorized
from service.persistence.db import begin_write


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: commit when the route returns, roll back when it raises."""
    session: Session = request.app.state.sessionmaker()
    try:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            begin_write(session)
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


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

    def _check(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            raise Forbidden(f"This operation is not available to the role {principal.role.value!r}.")
        return principal

    return Depends(_check)


CoachDep = Annotated[Principal, require_roles(Role.COACH)]
EmployerDep = Annotated[Principal, require_roles(Role.EMPLOYER)]
AdminDep = Annotated[Principal, require_roles(Role.ADMIN)]
