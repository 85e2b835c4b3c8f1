"""Tamper-evident audit log of every response that reveals a candidate (BIO 8.15, GDPR art. 15, AI Act
logging).

Public API for other modules (see `service.audit.recorder` for the full contract):

    from service.audit import audited, record_access

    @router.get("/{candidate_id}/matches")
    @audited                                   # GET routes that audit: takes the SQLite write lock up front
    def candidate_matches(candidate_id: uuid.UUID, request: Request, session: SessionDep,
                          principal: CoachDep) -> MatchPage:
        page = operations.matches_for_candidate(session, principal, candidate_id)
        record_access(session, principal=principal, request=request, action="candidate.matches",
                      object_type="candidate", object_id=str(candidate_id), subjects=[candidate_id],
                      municipality=page.candidate_municipality)
        return page

A response about one candidate row: ``record_candidate_access(session, principal=principal, request=request,
action="candidate.read", candidate=candidate)``.
"""

from service.audit.recorder import (
    AUDIT_ACTIONS,
    audited,
    is_audited,
    record_access,
    record_candidate_access,
)

__all__ = ["AUDIT_ACTIONS", "audited", "is_audited", "record_access", "record_candidate_access"]
