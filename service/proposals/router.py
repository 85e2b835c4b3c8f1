"""Proposal routes: coaches propose and see their own candidates; employers see anonymous summaries."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response, status

from service.audit import audited, record_access
from service.auth.principal import Principal, Role
from service.concurrency import etag, parse_if_match
from service.deps import CoachDep, SessionDep, require_roles
from service.proposals import operations
from service.proposals.schemas import (
    CoachProposalOut,
    CoachProposalPage,
    EmployerProposalOut,
    EmployerProposalPage,
    ProposalIn,
    ProposalPatch,
)

router = APIRouter(prefix="/api/v1", tags=["proposals"])

CoachOrEmployer = Annotated[Principal, require_roles(Role.COACH, Role.EMPLOYER)]


@router.post(
    "/vacancies/{vacancy_id}/proposals", status_code=status.HTTP_201_CREATED, response_model=CoachProposalOut
)
def create_proposal(
    vacancy_id: uuid.UUID,
    body: ProposalIn,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CoachDep,
) -> CoachProposalOut:
    """Propose one of the coach's own candidates to an open vacancy."""
    proposal, candidate, vacancy = operations.create_proposal(session, principal, vacancy_id, body)
    record_access(
        session,
        principal=principal,
        request=request,
        action="proposal.create",
        object_type="proposal",
        object_id=proposal.id,
        subjects=[candidate.id],
        municipality=candidate.municipality,
    )
    response.headers["ETag"] = etag(proposal.version)
    response.headers["Location"] = f"/api/v1/proposals/{proposal.id}"
    return operations.coach_view(proposal, candidate, vacancy)


@router.get("/vacancies/{vacancy_id}/proposals", response_model=CoachProposalPage | EmployerProposalPage)
@audited
def list_proposals(
    vacancy_id: uuid.UUID, request: Request, session: SessionDep, principal: CoachOrEmployer
) -> CoachProposalPage | EmployerProposalPage:
    """Coach: proposals of own municipalities' candidates in full. Employer (own vacancy): anonymous
    summaries."""
    items, proposals = operations.list_proposals(session, principal, vacancy_id)
    subjects = [p.candidate_id for p in proposals if p.candidate_id is not None]
    municipality = ",".join(sorted({p.municipality for p in proposals})) or None
    record_access(
        session,
        principal=principal,
        request=request,
        action="proposal.list",
        object_type="vacancy",
        object_id=vacancy_id,
        subjects=subjects,
        municipality=None if principal.role is Role.COACH else municipality,
    )
    if principal.role is Role.COACH:
        return CoachProposalPage(items=items)  # type: ignore[arg-type]
    return EmployerProposalPage(items=items)  # type: ignore[arg-type]


@router.patch("/proposals/{proposal_id}", response_model=CoachProposalOut | EmployerProposalOut)
def change_proposal(
    proposal_id: uuid.UUID,
    body: ProposalPatch,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CoachOrEmployer,
    if_match: Annotated[str | None, Header(max_length=64)] = None,
) -> CoachProposalOut | EmployerProposalOut:
    """Record an outcome: `proposed → interview → hired | rejected`; `hired` marks the candidate placed."""
    proposal, candidate, vacancy = operations.change_status(
        session, principal, proposal_id, body, expected_version=parse_if_match(if_match)
    )
    record_access(
        session,
        principal=principal,
        request=request,
        action="proposal.update",
        object_type="proposal",
        object_id=proposal.id,
        subjects=[proposal.candidate_id] if proposal.candidate_id is not None else [],
        municipality=proposal.municipality,
    )
    response.headers["ETag"] = etag(proposal.version)
    return operations.view(principal, proposal, candidate, vacancy)
