"""All SQL of the outcome reports: counts of proposals by status, grouped, scoped to the caller's
municipalities."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session

from service.gdpr.models import CandidateTombstone
from service.persistence.models import Candidate, Vacancy
from service.proposals.models import Proposal


class OutcomeRepository:
    """Aggregates only: every query groups and counts; no person-level row leaves this class."""

    def __init__(self, session: Session, *, municipalities: Collection[str] | None) -> None:
        self.session = session
        # None = the whole installation (admin); otherwise a coach's own municipalities.
        self.municipalities = None if municipalities is None else sorted(municipalities)

    def _scope(self) -> ColumnElement[bool]:
        if self.municipalities is None:
            return true()
        return Proposal.municipality.in_(self.municipalities)

    def counts_by(self, dimension: str) -> list[tuple[str, str, int]]:
        """(group, status, count) for `sector`, `country` (of the vacancy) or `municipality` (of the
        candidate)."""
        column: Any = {
            "sector": Vacancy.sector,
            "country": Vacancy.country,
            "municipality": Proposal.municipality,
        }[dimension]
        rows = self.session.execute(
            select(column, Proposal.status, func.count())
            .select_from(Proposal)
            .join(Vacancy, Vacancy.id == Proposal.vacancy_id)
            .where(self._scope())
            .group_by(column, Proposal.status)
        ).all()
        return [(str(group), str(status), int(count)) for group, status, count in rows]

    def hired_candidates(self) -> int:
        """Distinct candidates with a hire (an erased candidate's hire still counts once)."""
        distinct = self.session.scalar(
            select(func.count(func.distinct(Proposal.candidate_id))).where(
                self._scope(), Proposal.status == "hired"
            )
        )
        erased = self.session.scalar(
            select(func.count())
            .select_from(Proposal)
            .where(self._scope(), Proposal.status == "hired", Proposal.candidate_id.is_(None))
        )
        return int(distinct or 0) + int(erased or 0)

    def placed_candidates(self) -> int:
        """Candidates whose status is `placed`, however they got there (a hire or a coach's update), including
        erased candidates, whose tombstones keep their last status for these counts (GDPR art. 17)."""
        total = 0
        for model in (Candidate, CandidateTombstone):
            statement = select(func.count()).select_from(model).where(model.status == "placed")
            if self.municipalities is not None:
                statement = statement.where(model.municipality.in_(self.municipalities))
            total += int(self.session.scalar(statement) or 0)
        return total
