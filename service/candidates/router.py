"""Candidate routes (coach only): thin, one operation each."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status

from service.audit import audited, record_access, record_candidate_access
from service.candidates import operations
from service.candidates.schemas import CandidateIn, CandidateOut, CandidatePage
from service.concurrency import etag, parse_if_match
from service.deps import CoachDep, PrincipalDep, SessionDep
from service.gdpr.erasure import erase_candidate
from service.validation import CandidateStatus, Municipality, Sector, bounded_text

router = APIRouter(prefix="/api/v1/candidates", tags=["candidates"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CandidateOut)
def create_candidate(
    body: CandidateIn, request: Request, response: Response, session: SessionDep, principal: CoachDep
) -> CandidateOut:
    candidate = operations.create_candidate(
        session, principal, body, secret=request.app.state.settings.secret_key
    )
    record_candidate_access(
        session, principal=principal, request=request, action="candidate.create", candidate=candidate
    )
    response.headers["ETag"] = etag(candidate.version)
    response.headers["Location"] = f"/api/v1/candidates/{candidate.id}"
    return CandidateOut.from_row(candidate)


@router.get("", response_model=CandidatePage)
@audited
def list_candidates(
    request: Request,
    session: SessionDep,
    principal: CoachDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    status_: Annotated[CandidateStatus | None, Query(alias="status")] = None,
    municipality: Municipality | None = None,
    sector: Sector | None = None,
    q: Annotated[bounded_text(100) | None, Query()] = None,  # type: ignore[valid-type]
) -> CandidatePage:
    items, total = operations.list_candidates(
        session,
        principal,
        limit=limit,
        offset=offset,
        status=status_,
        municipality=municipality,
        sector=sector,
        q=q,
    )
    # One entry per list response, naming every candidate on the page (an empty page is recorded too).
    record_access(
        session,
        principal=principal,
        request=request,
        action="candidate.list",
        object_type="candidate",
        object_id=None,
        subjects=[c.id for c in items],
    )
    return CandidatePage(
        items=[CandidateOut.from_row(c) for c in items], total=total, limit=limit, offset=offset
    )


@router.get("/{candidate_id}", response_model=CandidateOut)
@audited
def read_candidate(
    candidate_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
) -> CandidateOut:
    candidate = operations.get_candidate(session, principal, candidate_id)
    record_candidate_access(
        session, principal=principal, request=request, action="candidate.read", candidate=candidate
    )
    response.headers["ETag"] = etag(candidate.version)
    return CandidateOut.from_row(candidate)


@router.put("/{candidate_id}", response_model=CandidateOut)
def replace_candidate(
    candidate_id: uuid.UUID,
    body: CandidateIn,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    if_match: Annotated[str | None, Header(max_length=64)] = None,
) -> CandidateOut:
    candidate = operations.replace_candidate(
        session,
        principal,
        candidate_id,
        body,
        expected_version=parse_if_match(if_match),
        secret=request.app.state.settings.secret_key,
    )
    record_candidate_access(
        session, principal=principal, request=request, action="candidate.update", candidate=candidate
    )
    response.headers["ETag"] = etag(candidate.version)
    return CandidateOut.from_row(candidate)


@router.delete("/{candidate_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_candidate(
    candidate_id: uuid.UUID, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    # DELETE is erasure (GDPR art. 17): the person goes, an anonymous tombstone keeps the counts.
    erase_candidate(session, operations.get_candidate(session, principal, candidate_id), reason="request")
    record_access(
        session,
        principal=principal,
        request=request,
        action="candidate.erase",
        object_type="candidate",
        object_id=candidate_id,
        subjects=[candidate_id],
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
