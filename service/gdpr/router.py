"""GDPR routes: the data subject's copy. (Erasure is `DELETE /api/v1/candidates/{id}`.)"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request

from service.audit import audited, record_candidate_access
from service.candidates import operations as candidate_operations
from service.deps import CoachDep, SessionDep
from service.gdpr.export import build_export
from service.gdpr.schemas import CandidateExport

router = APIRouter(prefix="/api/v1/candidates", tags=["gdpr"])


@router.get("/{candidate_id}/export", response_model=CandidateExport)
@audited
def export_candidate(
    candidate_id: uuid.UUID, request: Request, session: SessionDep, principal: CoachDep
) -> CandidateExport:
    """Everything held about one own candidate (GDPR art. 15), for the coach to hand to the person."""
    candidate = candidate_operations.get_candidate(session, principal, candidate_id)
    export = build_export(session, principal, candidate, request=request)
    record_candidate_access(
        session, principal=principal, request=request, action="candidate.export", candidate=candidate
    )
    return export
