"""Response models of the GDPR endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from service.candidates.schemas import CandidateOut


class ExportProposal(BaseModel):
    id: uuid.UUID
    vacancy_id: uuid.UUID
    vacancy_title: str
    employer: str
    status: str
    note: str | None
    created_at: datetime
    updated_at: datetime


class ExportAuditEntry(BaseModel):
    """One access to the subject's data: who (role, key, municipality), what, when, with which result."""

    seq: int
    at: datetime
    actor_role: str
    actor_key_id: uuid.UUID | None
    municipality: str | None
    action: str
    object_type: str
    object_id: str | None
    result: str


class CandidateExport(BaseModel):
    """GDPR art. 15 copy of everything werkmatch holds about one candidate."""

    export_id: uuid.UUID
    generated_at: datetime
    candidate: CandidateOut
    bsn_on_file: bool = Field(description="Whether a BSN is on file; the number itself is never exported.")
    bsn_note: str
    matches: dict[str, Any] = Field(description="The current ranking of open vacancies with explanations.")
    proposals: list[ExportProposal]
    audit: list[ExportAuditEntry] = Field(description="Every recorded access to this candidate's data.")
