"""Admin view of the nightly batch: the runs, newest first, and one run (triggering stays a CLI/cron job)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from service.batch import store
from service.batch.schemas import RunOut, RunPage
from service.deps import AdminDep, SessionDep
from service.errors import NotFound

router = APIRouter(prefix="/api/v1/batch", tags=["batch"])


@router.get("/runs", response_model=RunPage)
def list_runs(
    session: SessionDep, _admin: AdminDep, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> RunPage:
    """Runs with status, times, counts, algorithm and version; ``published`` marks the one readers see."""
    return RunPage(items=[RunOut.of(info) for info in store.list_runs(session, limit=limit)])


@router.get("/runs/{run_id}", response_model=RunOut)
def get_run(run_id: uuid.UUID, session: SessionDep, _admin: AdminDep) -> RunOut:
    """One run (progress of a running one: ``chunks_done`` of ``chunks_total``)."""
    info = store.get_run(session, run_id)
    if info is None:
        raise NotFound()
    return RunOut.of(info)
