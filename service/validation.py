"""Bounded input types shared by every request model: no unbounded string, list or number reaches the service.

NUL bytes are rejected everywhere (PostgreSQL cannot store them and they hide data from reviewers).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

MUNICIPALITY_RE = re.compile(r"GM\d{4}")

Sector = Literal[
    "logistiek",
    "zorg",
    "ict",
    "techniek",
    "productie",
    "bouw",
    "horeca",
    "detailhandel",
    "schoonmaak",
    "overig",
]
EducationLevel = Literal["none", "vmbo", "mbo1", "mbo2", "mbo3", "mbo4", "havo_vwo", "hbo", "wo"]
Country = Literal["NL", "DE"]
DrivingLicence = Literal["AM", "A", "B", "BE", "C1", "C", "CE", "D"]
Support = Literal["direct", "with_support", "wage_subsidy"]
CandidateStatus = Literal["active", "placed", "inactive"]
VacancyStatus = Literal["open", "filled", "closed"]
Contract = Literal["permanent", "temporary", "flex", "internship", "apprenticeship"]
CefrLevel = Literal["A1", "A2", "B1", "B2", "C1", "C2"]
DutchLevel = Literal["1F", "2F", "3F", "4F", "A1", "A2", "B1", "B2", "C1", "C2"]


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("NUL bytes are not allowed")
    return value


def bounded_text(max_length: int, *, min_length: int = 0) -> Any:
    """A stripped string of bounded length without NUL bytes."""
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
        AfterValidator(_no_nul),
    ]


Label = bounded_text(200, min_length=1)
Code = bounded_text(200, min_length=1)
Name = bounded_text(100, min_length=1)
ExternalRef = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:\-/]+$"),
]
Municipality = Annotated[str, StringConstraints(pattern=r"^GM\d{4}$")]
CertificateLabel = bounded_text(100, min_length=1)


class InputModel(BaseModel):
    """Base of every request body: unknown fields are an error."""

    model_config = ConfigDict(extra="forbid", str_max_length=20_000)


class ConceptIn(InputModel):
    """A competence or occupation: a taxonomy code (ESCO URI or ISCO code) and/or a free label."""

    code: Code | None = None
    label: Label


class LanguagesIn(InputModel):
    """Minimum or actual language levels: Dutch in 1F-4F or CEFR; German and English in CEFR."""

    nl: DutchLevel | None = None
    de: CefrLevel | None = None
    en: CefrLevel | None = None


def bsn_is_valid(bsn: str) -> bool:
    """The BSN 11-check: 9 digits d1..d9 with 9*d1 + 8*d2 + ... + 2*d8 - 1*d9 divisible by 11 (and not 0)."""
    if len(bsn) != 9 or not bsn.isdigit():
        return False
    total = sum(int(digit) * weight for digit, weight in zip(bsn[:8], range(9, 1, -1), strict=True))
    total -= int(bsn[8])
    return total % 11 == 0 and bsn != "000000000"


def check_bsn(value: str) -> str:
    if not bsn_is_valid(value):
        # Never echo the value: it may be a real person's number with a typo.
        raise ValueError("not a valid BSN (9 digits passing the 11-check)")
    return value


Bsn = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=9, min_length=9), AfterValidator(check_bsn)
]


def unique_list(values: list[Any]) -> list[Any]:
    """Drop duplicates while keeping order (licences, countries, sectors are sets in meaning)."""
    seen: list[Any] = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return seen


class HoursMixin(BaseModel):
    """Hours per week: 0-48, and the maximum is not below the minimum."""

    hours_min: int = Field(ge=0, le=48)
    hours_max: int = Field(ge=0, le=48)

    @model_validator(mode="after")
    def _max_not_below_min(self) -> Any:
        if self.hours_max < self.hours_min:
            raise ValueError("hours_max must be at least hours_min")
        return self
