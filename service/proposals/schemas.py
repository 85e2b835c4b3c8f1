"""Request and response models of proposals: a coach's full view and an employer's anonymous view.

The employer view is built from an explicit allow-list (:class:`AnonymousCandidate`): competences, language
levels, hours, a distance band, education level and the coach's note. It has no field that could carry a name,
BSN, contact data, exact postcode, client number, candidate id, support level or doelgroepregister flag.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from service.matches.schemas import CandidateSummary
from service.validation import InputModel, bounded_text

ProposalStatus = Literal["proposed", "interview", "hired", "rejected"]


class ProposalIn(InputModel):
    """A coach proposes one of the own candidates, with an optional note for the employer."""

    candidate_id: uuid.UUID
    note: bounded_text(2000) | None = None  # type: ignore[valid-type]


class ProposalPatch(InputModel):
    """A status change: `proposed → interview → hired | rejected` (or `proposed → rejected`)."""

    status: ProposalStatus


class AnonymousCandidate(BaseModel):
    """What an employer may see of a proposed candidate."""

    competences: list[str]
    languages: dict[str, str]
    hours_min: int
    hours_max: int
    distance_band: str = Field(description="distance from home to the vacancy, e.g. '10–25 km'")
    education_level: str | None


class EmployerProposalOut(BaseModel):
    """A proposal as the owning employer sees it (anonymous; identified by the proposal id only)."""

    id: uuid.UUID
    vacancy_id: uuid.UUID
    status: str
    note: str | None
    candidate: AnonymousCandidate | None = Field(description="null when the candidate has since been erased")
    version: int
    created_at: datetime
    updated_at: datetime


class CoachCandidate(CandidateSummary):
    """An own candidate in a proposal: the summary plus the profile the employer sees anonymously."""

    competences: list[str]
    languages: dict[str, str]
    distance_band: str


class CoachProposalOut(BaseModel):
    """A proposal as a coach of the candidate's municipality sees it."""

    id: uuid.UUID
    vacancy_id: uuid.UUID
    candidate_id: uuid.UUID | None
    municipality: str
    status: str
    note: str | None
    proposed_by: uuid.UUID
    candidate: CoachCandidate | None
    version: int
    created_at: datetime
    updated_at: datetime


class CoachProposalPage(BaseModel):
    items: list[CoachProposalOut]


class EmployerProposalPage(BaseModel):
    items: list[EmployerProposalOut]
