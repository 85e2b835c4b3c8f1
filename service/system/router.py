"""Health and service information."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from service.deps import SessionDep

router = APIRouter(prefix="/api/v1", tags=["system"])


class Health(BaseModel):
    status: str
    database: str
    version: str


@router.get("/health", response_model=Health)
def health(session: SessionDep) -> Health:
    """Liveness and database reachability; needs no key and reveals nothing."""
    from importlib.metadata import PackageNotFoundError, version

    session.execute(text("SELECT 1"))
    try:
        app_version = version("werkmatch")
    except PackageNotFoundError:
        app_version = "unknown"
    return Health(status="ok", database=session.get_bind().dialect.name, version=app_version)
