"""All SQL of the web page that the resource repositories do not already offer.

Candidate reads start from :meth:`CandidateRepository.readable_statement`, so the web page sees
exactly what the API lets the same coach see.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.principal import Principal, Role
from service.batch.models import MatchRun, PublishedRun
from service.batch.store import c2v_pairs
from service.candidates.repository import CandidateRepository
from service.persistence.models import ApiKey, Candidate
from service.proposals.models import Proposal
from service.proposals.repository import ProposalRepository


def principal_for_key_id(session: Session, key_id: uuid.UUID) -> Principal | None:
    """The principal of an unrevoked key row (the web session stores the row id, never the key)."""
    row = session.get(ApiKey, key_id)
    if row is None or row.revoked_at is not None:
        return None
    return Principal(
        key_id=row.id,
        role=Role(row.role),
        municipalities=frozenset(row.municipalities or ()),
        employer_id=row.employer_id,
    )


@dataclass(frozen=True, slots=True)
class WorklistFilters:
    """What the coach narrowed the worklist to; None means no filter."""

    q: str | None = None
    sector: str | None = None
    support: str | None = None
    municipality: str | None = None
    status: str | None = None


def worklist(
    session: Session, principal: Principal, *, filters: WorklistFilters, limit: int, offset: int
) -> tuple[list[Candidate], int]:
    """Own candidates, most recently changed first, narrowed by the filters; and the total before paging."""
    statement = CandidateRepository(session).readable_statement(principal)
    if filters.municipality:
        statement = statement.where(Candidate.municipality == filters.municipality)
    if filters.support:
        statement = statement.where(Candidate.support == filters.support)
    if filters.status:
        statement = statement.where(Candidate.status == filters.status)
    if filters.q:
        pattern = f"%{filters.q.lower()}%"
        full_name = Candidate.given_name + " " + Candidate.family_name
        statement = statement.where(
            Candidate.external_ref.ilike(pattern)
            | full_name.ilike(pattern)
            | Candidate.family_name.ilike(pattern)
        )
    statement = statement.order_by(Candidate.updated_at.desc(), Candidate.id)
    rows = list(session.scalars(statement))
    if filters.sector:
        # Sectors are a JSON list; a caseload is small enough to filter after the scoped query.
        rows = [row for row in rows if filters.sector in (row.sectors or [])]
    return rows[offset : offset + limit], len(rows)


@dataclass(frozen=True, slots=True)
class BatchNews:
    """New good matches per candidate in the published batch run compared with the run before it."""

    published_at: datetime | None
    previous_published_at: datetime | None
    counts: dict[uuid.UUID, int]


def new_good_matches(session: Session, candidate_ids: list[uuid.UUID], *, min_score: float) -> BatchNews:
    """Per candidate: vacancies with score ≥ ``min_score`` in the published run that the previous
    complete run did not list as a good match. Without a previous run every good match is new. Empty
    before the first run.

    Callers pass only ids of candidates the coach may see (the rows hold ids and scores, nothing personal).
    """
    published = session.execute(
        select(PublishedRun.run_id, MatchRun.finished_at, MatchRun.published_at)
        .join(MatchRun, MatchRun.id == PublishedRun.run_id)
        .where(PublishedRun.id == 1)
    ).one_or_none()
    if published is None or not candidate_ids:
        return BatchNews(None, None, {})
    run_id, finished_at, published_at = published
    previous = session.execute(
        select(MatchRun.id, MatchRun.published_at)
        .where(MatchRun.status == "complete", MatchRun.id != run_id, MatchRun.finished_at < finished_at)
        .order_by(MatchRun.finished_at.desc())
        .limit(1)
    ).one_or_none()

    current = c2v_pairs(session, run_id, candidate_ids, min_score=min_score)
    before = set()
    if previous is not None:
        before = c2v_pairs(session, previous[0], candidate_ids, min_score=min_score)
    counts: dict[uuid.UUID, int] = {}
    for subject, _other in current - before:
        counts[subject] = counts.get(subject, 0) + 1
    return BatchNews(published_at or finished_at, previous[1] if previous else None, counts)


def proposal_statuses(
    session: Session, principal: Principal, *, candidate_id: uuid.UUID
) -> dict[uuid.UUID, str]:
    """Vacancy id → status of the proposals of one candidate that the principal may read."""
    statement = (
        ProposalRepository(session).readable_statement(principal).where(Proposal.candidate_id == candidate_id)
    )
    return {proposal.vacancy_id: proposal.status for proposal in session.scalars(statement)}
