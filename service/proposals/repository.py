"""All SQL about proposals. Coaches see proposals of their own municipalities' candidates; employers see the
proposals made to their own vacancies; no other role sees any."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session

from service.auth.principal import Principal, Role
from service.persistence.models import Candidate, Vacancy
from service.persistence.repository import RepositoryBase
from service.proposals.models import Proposal


class ProposalRepository(RepositoryBase[Proposal]):
    model = Proposal

    def __init__(self, session: Session) -> None:
        super().__init__(session)

    def readable_statement(self, principal: Principal) -> Select[tuple[Proposal]]:
        statement = select(Proposal)
        if principal.role is Role.COACH and principal.municipalities:
            return statement.where(Proposal.municipality.in_(sorted(principal.municipalities)))
        if principal.role is Role.EMPLOYER and principal.employer_id is not None:
            own = select(Vacancy.id).where(Vacancy.employer_id == principal.employer_id)
            return statement.where(Proposal.vacancy_id.in_(own))
        return statement.where(false())

    def get(self, principal: Principal, proposal_id: uuid.UUID) -> Proposal | None:
        return self.get_readable(self.readable_statement(principal), proposal_id)

    def list_for_vacancy(self, principal: Principal, vacancy_id: uuid.UUID) -> list[tuple[Proposal, Any]]:
        """Readable proposals of one vacancy with their candidate rows (None: erased)."""
        scoped = self.readable_statement(principal).where(Proposal.vacancy_id == vacancy_id).subquery()
        rows = self.session.execute(
            select(Proposal, Candidate)
            .join(scoped, scoped.c.id == Proposal.id)
            .outerjoin(Candidate, Candidate.id == Proposal.candidate_id)
            .order_by(Proposal.created_at, Proposal.id)
        ).all()
        return [(row[0], row[1]) for row in rows]

    def candidate_of(self, proposal: Proposal) -> Candidate | None:
        """The proposal's candidate. Unscoped on purpose: readability of the proposal is the authorization."""
        if proposal.candidate_id is None:
            return None
        return self.session.get(Candidate, proposal.candidate_id)

    def exists(self, *, vacancy_id: uuid.UUID, candidate_id: uuid.UUID) -> bool:
        return (
            self.session.scalar(
                select(Proposal.id).where(
                    Proposal.vacancy_id == vacancy_id, Proposal.candidate_id == candidate_id
                )
            )
            is not None
        )

    def add(self, proposal: Proposal) -> Proposal:
        self.session.add(proposal)
        self.session.flush()
        return proposal

    def mark_placed(self, candidate: Candidate) -> None:
        """A hire ends the search: the candidate becomes `placed` and leaves every live match index."""
        if candidate.status != "placed":
            candidate.status = "placed"
            self.session.flush()
            self.record_change("candidate", candidate.id)
