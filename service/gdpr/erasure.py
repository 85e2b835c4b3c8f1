"""Erasure (GDPR art. 17): the candidate row and everything that points at it go; person-free counts stay.

What happens, in the caller's transaction:
1. a `CandidateTombstone` keeps municipality, sectors, status and registration date (no id, no person);
2. every column that references `candidate.id` (found from the ORM metadata, so new modules are covered) is
   set to NULL where nullable (proposals keep their outcome for reports) or its rows are deleted otherwise;
3. stored batch matches that name the candidate are deleted (they hold only ids and scores, but are derived
   data);
4. the candidate row is deleted (name, BSN ciphertext and lookup hash, postcode, coordinates, profile) and a
   change event tells every process's match index to drop it.
Audit entries stay (they hold the candidate's random id only, no personal data; BIO requires keeping them).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from service.candidates.repository import CandidateRepository
from service.gdpr.models import CandidateTombstone
from service.persistence.base import Base
from service.persistence.models import Candidate

ErasureReason = Literal["request", "retention"]


def _registered_on(candidate: Candidate) -> datetime:
    created = candidate.created_at or datetime.now(UTC)
    return created


def _detach_references(session: Session, candidate: Candidate) -> None:
    candidate_table = Candidate.__table__
    for table in Base.metadata.sorted_tables:
        for foreign_key in table.foreign_keys:
            if foreign_key.column.table is not candidate_table or foreign_key.column.name != "id":
                continue
            column = foreign_key.parent
            if column.nullable:
                session.execute(update(table).where(column == candidate.id).values({column.name: None}))
            else:
                session.execute(delete(table).where(column == candidate.id))


def _delete_stored_matches(session: Session, candidate: Candidate) -> None:
    from service.batch.store import erase_from_rankings

    erase_from_rankings(session, candidate.id)


def erase_candidate(session: Session, candidate: Candidate, *, reason: ErasureReason) -> CandidateTombstone:
    """Erase one candidate (already authorised by the caller) and return the tombstone that replaces it."""
    tombstone = CandidateTombstone(
        municipality=candidate.municipality,
        sectors=sorted(candidate.sectors or []),
        status=candidate.status,
        registered_on=_registered_on(candidate).date(),
        reason=reason,
    )
    session.add(tombstone)
    session.flush()
    _detach_references(session, candidate)
    _delete_stored_matches(session, candidate)
    CandidateRepository(session).delete(candidate)
    return tombstone
