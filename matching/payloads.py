"""API-shaped payloads (DOMAIN.md) → engine features, keeping only allow-listed fields.

The service maps its ORM rows in ``service/matches/mapping.py``; the evaluation reads JSONL payloads. Both
follow the same rule, shown here in one place: the fields read below are the only ones that reach the engine.
Names, BSN, municipality, support (special-category), status and everything else in a payload are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from matching.geo import locate
from matching.types import CandidateFeatures, ConceptRef, Experience, VacancyFeatures

__all__ = [
    "CANDIDATE_FIELDS",
    "VACANCY_FIELDS",
    "UnknownPostcode",
    "candidate_from_payload",
    "vacancy_from_payload",
]

#: Payload fields that may reach the engine. Everything else is dropped.
CANDIDATE_FIELDS = frozenset(
    {
        "postcode",
        "country",
        "max_travel_km",
        "hours_min",
        "hours_max",
        "desired_occupations",
        "competences",
        "experience",
        "education_level",
        "languages",
        "driving_licences",
        "certificates",
        "work_countries",
        "sectors",
        "target_group_register",
    }
)
VACANCY_FIELDS = frozenset(
    {
        "title",
        "description",
        "occupation",
        "sector",
        "competences_required",
        "competences_desired",
        "education_level_min",
        "languages_required",
        "driving_licences_required",
        "certificates_required",
        "postcode",
        "country",
        "hours_min",
        "hours_max",
        "garantiebaan",
        "wage_subsidy_possible",
    }
)


class UnknownPostcode(ValueError):
    """A postcode that is malformed or not in the shipped gazetteer (an input error, never (0, 0))."""


def _ref(value: Mapping[str, Any] | str) -> ConceptRef:
    if isinstance(value, str):
        return ConceptRef(code=None, label=value)
    return ConceptRef(code=value.get("code") or None, label=str(value.get("label") or ""))


def _where(payload: Mapping[str, Any]) -> tuple[float, float, str]:
    country = str(payload.get("country") or "NL").upper()
    location = locate(str(payload.get("postcode") or ""), country)
    if location is None:
        raise UnknownPostcode(f"unknown postcode {payload.get('postcode')!r} for {country}")
    return location.lat, location.lon, country


def candidate_from_payload(payload: Mapping[str, Any], *, id: str) -> CandidateFeatures:  # noqa: A002
    """Candidate features from a DOMAIN.md candidate payload (only :data:`CANDIDATE_FIELDS` are read)."""
    p = {k: v for k, v in payload.items() if k in CANDIDATE_FIELDS}
    lat, lon, country = _where(p)
    return CandidateFeatures(
        id=id,
        competences=tuple(_ref(c) for c in p.get("competences") or ()),
        desired_occupations=tuple(_ref(c) for c in p.get("desired_occupations") or ()),
        experience=tuple(
            Experience(occupation=_ref(e["occupation"]), years=float(e.get("years") or 0))
            for e in p.get("experience") or ()
        ),
        education_level=p.get("education_level"),
        languages=dict(p.get("languages") or {}),
        lat=lat,
        lon=lon,
        country=country,
        max_travel_km=int(p.get("max_travel_km", 25)),
        hours_min=int(p.get("hours_min", 0)),
        hours_max=int(p.get("hours_max", 40)),
        driving_licences=frozenset(p.get("driving_licences") or ()),
        certificates=frozenset(p.get("certificates") or ()),
        work_countries=frozenset(p.get("work_countries") or ()),
        sectors=frozenset(p.get("sectors") or ()),
        target_group_register=bool(p.get("target_group_register", False)),
    )


def vacancy_from_payload(payload: Mapping[str, Any], *, id: str) -> VacancyFeatures:  # noqa: A002
    """Vacancy features from a DOMAIN.md vacancy payload (only :data:`VACANCY_FIELDS` are read)."""
    p = {k: v for k, v in payload.items() if k in VACANCY_FIELDS}
    lat, lon, country = _where(p)
    occupation = p.get("occupation")
    return VacancyFeatures(
        id=id,
        title=str(p.get("title") or ""),
        description=str(p.get("description") or ""),
        occupation=_ref(occupation) if occupation else None,
        sector=str(p.get("sector") or "overig"),
        competences_required=tuple(_ref(c) for c in p.get("competences_required") or ()),
        competences_desired=tuple(_ref(c) for c in p.get("competences_desired") or ()),
        education_level_min=p.get("education_level_min"),
        languages_required=dict(p.get("languages_required") or {}),
        driving_licences_required=frozenset(p.get("driving_licences_required") or ()),
        certificates_required=frozenset(p.get("certificates_required") or ()),
        lat=lat,
        lon=lon,
        country=country,
        hours_min=int(p.get("hours_min", 0)),
        hours_max=int(p.get("hours_max", 40)),
        garantiebaan=bool(p.get("garantiebaan", False)),
        wage_subsidy_possible=bool(p.get("wage_subsidy_possible", False)),
    )
