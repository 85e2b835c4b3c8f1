"""Audit routes: the whole log for admins; the trail of one own candidate for coaches."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from service.audit.recorder import AUDIT_ACTIONS, audited, record_access, record_candidate_access
from service.audit.repository import AuditRepository
from service.audit.schemas import AuditEntryOut, AuditPage
from service.auth.principal import Role
from service.candidates import operations as candidate_operations
from service.deps import AdminDep, CoachDep, SessionDep

router = APIRouter(prefix="/api/v1", tags=["audit"])

AuditAction = Literal[AUDIT_ACTIONS]  # type: ignore[valid-type]
ObjectType = Literal["candidate", "vacancy", "proposal", "export", "audit_entry"]
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[int | None, Query(ge=1, le=2**62)]


def _out(rows: list, *, with_origin: bool) -> list[AuditEntryOut]:  # type: ignore[type-arg]
    items = []
    for row in rows:
        item = AuditEntryOut.model_validate(row, from_attributes=True)
        if not with_origin:
            item.origin = None
        items.append(item)
    return items


@router.get("/audit", response_model=AuditPage)
@audited
def list_audit_entries(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: AdminDep,
    limit: Limit = 50,
    before_seq: Cursor = None,
    candidate_id: uuid.UUID | None = None,
    actor_key_id: uuid.UUID | None = None,
    action: AuditAction | None = None,
    object_type: ObjectType | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> AuditPage:
    """The audit log for admins, newest first, with filters. Reading the log is itself recorded
    (`audit.list`)."""
    rows, cursor = AuditRepository(session).page(
        limit=limit,
        before_seq=before_seq,
        candidate_id=candidate_id,
        actor_key_id=actor_key_id,
        action=action,
        object_type=object_type,
        since=since,
        until=until,
    )
    record_access(
        session,
        principal=principal,
        request=request,
        action="audit.list",
        object_type="audit_entry",
        object_id=None,
        subjects=[],
    )
    return AuditPage(items=_out(rows, with_origin=True), limit=limit, next_before_seq=cursor)


@router.get("/candidates/{candidate_id}/audit", response_model=AuditPage)
@audited
def candidate_audit_trail(
    candidate_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CoachDep,
    limit: Limit = 50,
    before_seq: Cursor = None,
) -> AuditPage:
    """Who looked at or changed one candidate of the coach's own municipality (404 for any other)."""
    candidate = candidate_operations.get_candidate(session, principal, candidate_id)
    rows, cursor = AuditRepository(session).page(
        limit=limit, before_seq=before_seq, candidate_id=candidate.id
    )
    record_candidate_access(
        session, principal=principal, request=request, action="candidate.audit", candidate=candidate
    )
    # Coaches see who and what, not their colleagues' client addresses.
    return AuditPage(
        items=_out(rows, with_origin=principal.role is Role.ADMIN), limit=limit, next_before_seq=cursor
    )
