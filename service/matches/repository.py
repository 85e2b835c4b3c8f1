"""All SQL of the match endpoints: the summaries of ranked profiles, read through the callers' scoped
statements."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy.orm import Session

from service.auth.principal import Principal
from service.candidates.repository import CandidateRepository
from service.persistence.models import Candidate, Vacancy
from service.vacancies.repository import VacancyRepository


class MatchRepository:
    """Loads the other side of a ranking, never more than the principal may read."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def vacancies(self, principal: Principal, ids: Iterable[str]) -> dict[str, Vacancy]:
        """Readable vacancies by id string (ids the principal may not read are simply absent)."""
        wanted = sorted({uuid.UUID(i) for i in ids})
        if not wanted:
            return {}
        repo = VacancyRepository(self.session)
        rows = self.session.scalars(repo.readable_statement(principal).where(Vacancy.id.in_(wanted)))
        return {str(row.id): row for row in rows}

    def employer_names(self, employer_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
        return VacancyRepository(self.session).employer_names(employer_ids)

    def candidates(self, principal: Principal, ids: Iterable[str]) -> dict[str, Candidate]:
        """Readable candidates (a coach's own municipalities) by id string; others are absent."""
        wanted = sorted({uuid.UUID(i) for i in ids})
        if not wanted:
            return {}
        repo = CandidateRepository(self.session)
        rows = self.session.scalars(repo.readable_statement(principal).where(Candidate.id.in_(wanted)))
        return {str(row.id): row for row in rows}
