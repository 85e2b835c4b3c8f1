"""All SQL about vacancies. Employers see their own; coaches, admins and the batch read all."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, false, select

from service.auth.principal import Principal, Role
from service.persistence.models import Employer, Vacancy
from service.persistence.repository import RepositoryBase


class VacancyRepository(RepositoryBase[Vacancy]):
    model = Vacancy

    @staticmethod
    def reads_all(principal: Principal) -> bool:
        """Whether the principal may read every vacancy (everyone but an employer: see
        :meth:`readable_statement`)."""
        return principal.role is not Role.EMPLOYER

    def readable_statement(self, principal: Principal) -> Select[tuple[Vacancy]]:
        statement = select(Vacancy)
        if not self.reads_all(principal):
            if principal.employer_id is None:
                return statement.where(false())
            return statement.where(Vacancy.employer_id == principal.employer_id)
        return statement

    def writable_statement(self, principal: Principal) -> Select[tuple[Vacancy]]:
        """Only the owning employer changes a vacancy."""
        if principal.role is not Role.EMPLOYER or principal.employer_id is None:
            return select(Vacancy).where(false())
        return select(Vacancy).where(Vacancy.employer_id == principal.employer_id)

    def get(self, principal: Principal, vacancy_id: uuid.UUID) -> Vacancy | None:
        return self.get_readable(self.readable_statement(principal), vacancy_id)

    def get_writable(self, principal: Principal, vacancy_id: uuid.UUID) -> Vacancy | None:
        return self.get_readable(self.writable_statement(principal), vacancy_id)

    def get_by_ref(self, principal: Principal, external_ref: str) -> Vacancy | None:
        return self.session.scalars(
            self.writable_statement(principal).where(Vacancy.external_ref == external_ref)
        ).one_or_none()

    def list(
        self,
        principal: Principal,
        *,
        limit: int,
        offset: int,
        status: str | None = None,
        sector: str | None = None,
        country: str | None = None,
        q: str | None = None,
    ) -> tuple[list[Vacancy], int]:
        statement = self.readable_statement(principal)
        if status:
            statement = statement.where(Vacancy.status == status)
        if sector:
            statement = statement.where(Vacancy.sector == sector)
        if country:
            statement = statement.where(Vacancy.country == country)
        if q:
            statement = statement.where(Vacancy.title.ilike(f"%{q}%"))
        return self.paginate(statement, limit=limit, offset=offset, order_by=(Vacancy.created_at, Vacancy.id))

    def employer_names(self, employer_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
        if not employer_ids:
            return {}
        rows = self.session.execute(select(Employer.id, Employer.name).where(Employer.id.in_(employer_ids)))
        return {row.id: row.name for row in rows}

    def add(self, vacancy: Vacancy) -> Vacancy:
        self.session.add(vacancy)
        self.session.flush()
        self.record_change("vacancy", vacancy.id)
        return vacancy

    def touch(self, vacancy: Vacancy) -> None:
        self.session.flush()
        self.record_change("vacancy", vacancy.id)
