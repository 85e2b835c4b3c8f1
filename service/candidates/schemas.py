"""Request and response models for candidates (DOMAIN.md). The BSN is write-only: no response model has it."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from service.validation import (
    Bsn,
    CandidateStatus,
    CertificateLabel,
    ConceptIn,
    Country,
    DrivingLicence,
    EducationLevel,
    ExternalRef,
    HoursMixin,
    InputModel,
    LanguagesIn,
    Municipality,
    Name,
    Sector,
    Support,
    bounded_text,
    unique_list,
)


class ExperienceIn(InputModel):
    occupation: ConceptIn
    years: float = Field(ge=0, le=60)


class CandidateIn(InputModel, HoursMixin):
    """A candidate as a coach creates or replaces it (PUT replaces the whole profile)."""

    external_ref: ExternalRef
    municipality: Municipality
    bsn: Bsn | None = None
    given_name: Name
    family_name: Name
    postcode: bounded_text(10, min_length=4)  # type: ignore[valid-type]
    country: Country = "NL"
    max_travel_km: int = Field(default=25, ge=0, le=200)
    hours_min: int = Field(default=0, ge=0, le=48)
    hours_max: int = Field(default=40, ge=0, le=48)
    available_from: date | None = None
    desired_occupations: list[ConceptIn] = Field(default_factory=list, max_length=10)
    competences: list[ConceptIn] = Field(default_factory=list, max_length=100)
    experience: list[ExperienceIn] = Field(default_factory=list, max_length=30)
    education_level: EducationLevel | None = None
    languages: LanguagesIn = Field(default_factory=LanguagesIn)
    driving_licences: list[DrivingLicence] = Field(default_factory=list, max_length=8)
    certificates: list[CertificateLabel] = Field(default_factory=list, max_length=30)
    work_countries: list[Country] = Field(default_factory=lambda: ["NL"], max_length=2)
    sectors: list[Sector] = Field(default_factory=list, max_length=10)
    support: Support = "direct"
    target_group_register: bool = False
    status: CandidateStatus = "active"

    @field_validator("driving_licences", "work_countries", "sectors", "certificates")
    @classmethod
    def _dedupe(cls, value: list[str]) -> list[str]:
        return unique_list(value)


class ConceptOut(BaseModel):
    code: str | None = None
    label: str


class ExperienceOut(BaseModel):
    occupation: ConceptOut
    years: float


class CandidateOut(BaseModel):
    """A candidate as coaches see it. Never the BSN."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    external_ref: str
    municipality: str
    given_name: str
    family_name: str
    postcode: str
    country: str
    max_travel_km: int
    hours_min: int
    hours_max: int
    available_from: date | None
    desired_occupations: list[ConceptOut]
    competences: list[ConceptOut]
    experience: list[ExperienceOut]
    education_level: str | None
    languages: dict[str, str]
    driving_licences: list[str]
    certificates: list[str]
    work_countries: list[str]
    sectors: list[str]
    support: str
    target_group_register: bool
    status: str
    has_bsn: bool = Field(description="Whether a BSN is on file; the number itself is never returned.")
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, candidate: Any) -> CandidateOut:
        """Map an ORM row; the BSN columns are read only to say whether one is on file."""
        data = {name: getattr(candidate, name) for name in cls.model_fields if name != "has_bsn"}
        data["has_bsn"] = candidate.bsn_hash is not None
        return cls.model_validate(data)


class CandidatePage(BaseModel):
    items: list[CandidateOut]
    total: int
    limit: int
    offset: int
