"""Response models of the audit API."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field


class AuditEntryOut(BaseModel):
    """One audit entry. Subjects are candidate ids only; the log holds no names or BSNs."""

    seq: int
    at: datetime
    actor_key_id: uuid.UUID | None
    actor_role: str
    municipality: str | None
    action: str
    object_type: str
    object_id: str | None
    subjects: list[uuid.UUID]
    result: str
    origin: str | None = Field(description="Client address; shown to admins only.")
    request_id: str | None
    prev_hash: str
    hash: str


class AuditPage(BaseModel):
    """Newest first. Pass `next_before_seq` as `before_seq` for the next page (null: no more entries)."""

    items: list[AuditEntryOut]
    limit: int
    next_before_seq: int | None
