"""The data subject's copy (GDPR art. 15): profile, matches with explanations, proposals, and the audit trail.

The BSN is not in the export: the number is held encrypted and never leaves the service by any API, so the
export says only whether one is on file (`bsn_on_file`). A data subject who asks for it gets it from the
coach, who reads it in the municipality's own system (werkmatch is not the source of the BSN). The audit trail
omits the client addresses of staff (their personal data, not the subject's); it names role, municipality and
key id per access.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.audit.repository import AuditRepository
from service.auth.principal import Principal
from service.candidates.schemas import CandidateOut
from service.gdpr.schemas import CandidateExport, ExportAuditEntry, ExportProposal
from service.persistence.models import Candidate, Employer, Vacancy

logger = logging.getLogger("werkmatch.gdpr")

EXPORT_MATCH_LIMIT = 50


def _matches(
    session: Session, principal: Principal, candidate: Candidate, request: Request
) -> dict[str, Any]:
    """The current live ranking with explanations, when the matches module is installed and its index
    builds."""
    try:
        from matching.types import MatchFilters
        from service.matches import operations as match_operations
        from service.matches.router import fresh_live_index
    except ImportError:
        return {"available": False, "reason": "matching is not installed"}
    page, _ = match_operations.candidate_matches(
        session,
        principal,
        candidate.id,
        live=fresh_live_index(request),
        limit=EXPORT_MATCH_LIMIT,
        filters=MatchFilters(),
        source="live",
    )
    return {"available": True, **page.model_dump(mode="json")}


def _proposals(session: Session, candidate: Candidate) -> list[ExportProposal]:
    try:
        from service.proposals.models import Proposal
    except ImportError:
        return []
    rows = session.execute(
        select(Proposal, Vacancy.title, Employer.name)
        .join(Vacancy, Vacancy.id == Proposal.vacancy_id)
        .join(Employer, Employer.id == Vacancy.employer_id)
        .where(Proposal.candidate_id == candidate.id)
        .order_by(Proposal.created_at, Proposal.id)
    ).all()
    return [
        ExportProposal(
            id=p.id,
            vacancy_id=p.vacancy_id,
            vacancy_title=title,
            employer=employer,
            status=p.status,
            note=p.note,
            created_at=p.created_at,
            updated_at=p.updated_at,
        )
        for p, title, employer in rows
    ]


def build_export(
    session: Session, principal: Principal, candidate: Candidate, *, request: Request
) -> CandidateExport:
    """Everything werkmatch holds about one candidate (the caller is authorised already)."""
    audit = [
        ExportAuditEntry(
            seq=e.seq,
            at=e.at,
            actor_role=e.actor_role,
            actor_key_id=e.actor_key_id,
            municipality=e.municipality,
            action=e.action,
            object_type=e.object_type,
            object_id=e.object_id,
            result=e.result,
        )
        for e in AuditRepository(session).for_candidate(candidate.id)
    ]
    return CandidateExport(
        generated_at=datetime.now(UTC),
        candidate=CandidateOut.from_row(candidate),
        bsn_on_file=candidate.bsn_hash is not None,
        bsn_note=(
            "The BSN is stored encrypted and is not included in this export; the coach can confirm it "
            "from the municipality's own records."
        ),
        matches=_matches(session, principal, candidate, request),
        proposals=_proposals(session, candidate),
        audit=audit,
        export_id=uuid.uuid4(),
    )
