"""All SQL about candidates. Coaches see the candidates of their own municipalities; every other role sees
none."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, false, or_, select

from service.auth.principal import Principal
from service.persistence.models import Candidate
from service.persistence.repository import RepositoryBase


class CandidateRepository(RepositoryBase[Candidate]):
    model = Candidate

    def readable_statement(self, principal: Principal) -> Select[tuple[Candidate]]:
        statement = select(Candidate)
        if not principal.is_coach or not principal.municipalities:
            return statement.where(false())
        return statement.where(Candidate.municipality.in_(sorted(principal.municipalities)))

    def get(self, principal: Principal, candidate_id: uuid.UUID) -> Candidate | None:
        return self.get_readable(self.readable_statement(principal), candidate_id)

    def list(
        self,
        principal: Principal,
        *,
        limit: int,
        offset: int,
        status: str | None = None,
        municipality: str | None = None,
        sector: str | None = None,
        q: str | None = None,
    ) -> tuple[list[Candidate], int]:
        statement = self.readable_statement(principal)
        if status:
            statement = statement.where(Candidate.status == status)
        if municipality:
            statement = statement.where(Candidate.municipality == municipality)
        if q:
            pattern = f"%{q.lower()}%"
            statement = statement.where(
                or_(
                    Candidate.external_ref.ilike(pattern),
                    Candidate.given_name.ilike(pattern),
                    Candidate.family_name.ilike(pattern),
                )
            )
        if sector:
            # Sectors live in a JSON list; filter after the scoped query (a caseload is small).
            rows = [
                row
                for row in self.session.scalars(statement.order_by(Candidate.created_at, Candidate.id))
                if sector in (row.sectors or [])
            ]
            return rows[offset : offset + limit], len(rows)
        return self.paginate(
            statement, limit=limit, offset=offset, order_by=(Candidate.created_at, Candidate.id)
        )

    def find_by_ref(self, *, municipality: str, external_ref: str) -> Candidate | None:
        """Unscoped on purpose: used to enforce the per-municipality uniqueness of client numbers."""
        return self.session.scalars(
            select(Candidate).where(
                Candidate.municipality == municipality, Candidate.external_ref == external_ref
            )
        ).one_or_none()

    def add(self, candidate: Candidate) -> Candidate:
        self.session.add(candidate)
        self.session.flush()
        self.record_change("candidate", candidate.id)
        return candidate

    def touch(self, candidate: Candidate) -> None:
        self.session.flush()
        self.record_change("candidate", candidate.id)

    def delete(self, candidate: Candidate) -> None:
        candidate_id = candidate.id
        self.session.delete(candidate)
        self.session.flush()
        self.record_change("candidate", candidate_id)
