"""Response models of the batch admin endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from service.batch.store import RunInfo


class RunOut(BaseModel):
    """One batch run: status, times, counts, the algorithm that ranked it, and whether readers see it."""

    id: uuid.UUID
    status: str
    started_at: datetime
    finished_at: datetime | None
    published_at: datetime | None
    published: bool
    top_k: int
    algorithm: str
    algorithm_version: str
    candidates: int
    vacancies: int
    chunks_total: int
    chunks_done: int
    pairs_scored: int
    rows_written: int

    @classmethod
    def of(cls, info: RunInfo) -> RunOut:
        return cls(
            id=info.id,
            status=info.status,
            started_at=info.started_at,
            finished_at=info.finished_at,
            published_at=info.published_at,
            published=info.published,
            top_k=info.top_k,
            algorithm=info.algorithm,
            algorithm_version=info.algorithm_version,
            candidates=info.candidates,
            vacancies=info.vacancies,
            chunks_total=info.chunks_total,
            chunks_done=info.chunks_done,
            pairs_scored=info.pairs_scored,
            rows_written=info.rows_written,
        )


class RunPage(BaseModel):
    """Runs, newest first."""

    items: list[RunOut]
