"""Response models of the match endpoints and of ``GET /algorithms`` (DOMAIN.md, "Matches")."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field

Source = Literal["live", "batch"]


class UnmetOut(BaseModel):
    """A hard requirement that is not met, with what would close the gap."""

    code: str
    detail: str


class FactorOut(BaseModel):
    """One factor's share of a score; the contributions of a result add up to its score."""

    factor: str
    weight: float
    score: float
    contribution: float
    detail: str


class AlgorithmRef(BaseModel):
    name: str
    version: str


class EmployerRef(BaseModel):
    id: uuid.UUID
    name: str


class VacancySummary(BaseModel):
    """What a coach sees of a matched vacancy."""

    id: uuid.UUID
    title: str
    employer: EmployerRef
    occupation: str | None
    sector: str
    city: str | None
    postcode: str
    country: str
    hours_min: int
    hours_max: int
    contract: str
    positions: int
    garantiebaan: bool
    closes_at: str | None
    status: str


class CandidateSummary(BaseModel):
    """What a coach sees of a matched candidate of an own municipality (names included; never the BSN)."""

    id: uuid.UUID
    external_ref: str
    municipality: str
    given_name: str
    family_name: str
    postcode: str
    country: str
    education_level: str | None
    hours_min: int
    hours_max: int
    status: str


class _MatchItem(BaseModel):
    score: float = Field(description="0-100; the explanation's contributions add up to it")
    rank: int
    distance_km: float
    unmet: list[UnmetOut]
    explanation: list[FactorOut]
    changed_since_run: bool | None = Field(
        default=None,
        description="source=batch: the profiles changed after the run; the stored score is not re-explained",
    )


class VacancyMatch(_MatchItem):
    vacancy: VacancySummary


class CandidateMatch(_MatchItem):
    candidate: CandidateSummary


class _MatchPage(BaseModel):
    algorithm: AlgorithmRef
    source: Source
    run_id: uuid.UUID | None = Field(
        default=None, description="source=batch: the published run the ranking is from"
    )
    limit: int


class VacancyMatchPage(_MatchPage):
    """Open vacancies ranked for one candidate."""

    candidate_id: uuid.UUID
    items: list[VacancyMatch]


class CandidateMatchPage(_MatchPage):
    """Active candidates of the coach's own municipalities ranked for one vacancy."""

    vacancy_id: uuid.UUID
    items: list[CandidateMatch]


class FactorDoc(BaseModel):
    name: str
    weight: float
    description: str


class AlgorithmOut(BaseModel):
    name: str
    version: str
    default: bool
    factors: list[FactorDoc]
    weights: dict[str, float]
    thresholds: dict[str, float]
    unmet_rule: str


class AlgorithmPage(BaseModel):
    items: list[AlgorithmOut]
