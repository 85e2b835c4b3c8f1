"""Request and response models for vacancies (DOMAIN.md). The employer comes from the caller's key, never the
body."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

from service.candidates.schemas import ConceptOut
from service.validation import (
    CertificateLabel,
    ConceptIn,
    Contract,
    Country,
    DrivingLicence,
    EducationLevel,
    ExternalRef,
    HoursMixin,
    InputModel,
    LanguagesIn,
    Sector,
    VacancyStatus,
    bounded_text,
    unique_list,
)


class VacancyIn(InputModel, HoursMixin):
    """A vacancy as an employer portal creates or replaces it."""

    external_ref: ExternalRef | None = None
    title: bounded_text(200, min_length=1)  # type: ignore[valid-type]
    description: bounded_text(20_000) = ""  # type: ignore[valid-type]
    occupation: ConceptIn | None = None
    sector: Sector
    competences_required: list[ConceptIn] = Field(default_factory=list, max_length=50)
    competences_desired: list[ConceptIn] = Field(default_factory=list, max_length=50)
    education_level_min: EducationLevel | None = None
    languages_required: LanguagesIn = Field(default_factory=LanguagesIn)
    driving_licences_required: list[DrivingLicence] = Field(default_factory=list, max_length=8)
    certificates_required: list[CertificateLabel] = Field(default_factory=list, max_length=30)
    postcode: bounded_text(10, min_length=4)  # type: ignore[valid-type]
    country: Country = "NL"
    city: bounded_text(100) | None = None  # type: ignore[valid-type]
    hours_min: int = Field(default=0, ge=0, le=48)
    hours_max: int = Field(default=40, ge=0, le=48)
    contract: Contract = "permanent"
    positions: int = Field(default=1, ge=1, le=1000)
    garantiebaan: bool = False
    wage_subsidy_possible: bool = False
    closes_at: date | None = None
    status: VacancyStatus = "open"

    @field_validator("driving_licences_required", "certificates_required")
    @classmethod
    def _dedupe(cls, value: list[str]) -> list[str]:
        return unique_list(value)


class EmployerOut(BaseModel):
    id: uuid.UUID
    name: str


class VacancyOut(BaseModel):
    id: uuid.UUID
    employer: EmployerOut
    external_ref: str | None
    title: str
    description: str
    occupation: ConceptOut | None
    sector: str
    competences_required: list[ConceptOut]
    competences_desired: list[ConceptOut]
    education_level_min: str | None
    languages_required: dict[str, str]
    driving_licences_required: list[str]
    certificates_required: list[str]
    postcode: str
    country: str
    city: str | None
    hours_min: int
    hours_max: int
    contract: str
    positions: int
    garantiebaan: bool
    wage_subsidy_possible: bool
    closes_at: date | None
    status: str
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, vacancy: Any, *, employer_name: str) -> VacancyOut:
        data = {name: getattr(vacancy, name) for name in cls.model_fields if name != "employer"}
        data["employer"] = {"id": vacancy.employer_id, "name": employer_name}
        return cls.model_validate(data)


class VacancyPage(BaseModel):
    items: list[VacancyOut]
    total: int
    limit: int
    offset: int
