"""ORM rows ↔ engine features: the ONE place that knows both the ORM models and `matching.types`.

Only allow-listed columns are read (see :data:`CANDIDATE_COLUMNS`, :data:`VACANCY_COLUMNS`). Names, BSN,
contact data, postcode text, municipality, external references, ``support`` (special-category: loonwaarde) and
status never reach the engine. ``target_group_register`` (doelgroepregister) is passed for garantiebaan
eligibility only; the engine never scores it.

Bulk loaders select plain columns (no ORM identity map, no per-row object construction) so that loading 50,000
profiles stays fast; ``candidate_features(row)`` / ``vacancy_features(row)`` accept either an ORM object or
such a column row, since both expose the same attribute names.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from matching.types import CandidateFeatures, ConceptRef, Experience, VacancyFeatures
from service.persistence.models import Candidate, Vacancy

__all__ = [
    "CANDIDATE_COLUMNS",
    "VACANCY_COLUMNS",
    "candidate_features",
    "load_candidate_features",
    "load_candidate_features_by_id",
    "load_candidate_features_by_id_with_municipality",
    "load_candidate_features_by_municipality",
    "load_vacancy_features",
    "load_vacancy_features_by_id",
    "vacancy_features",
]

#: Candidate columns that may reach the engine (besides ``id``). Everything else stays in the service.
CANDIDATE_COLUMNS: tuple[str, ...] = (
    "competences",
    "desired_occupations",
    "experience",
    "education_level",
    "languages",
    "lat",
    "lon",
    "country",
    "max_travel_km",
    "hours_min",
    "hours_max",
    "driving_licences",
    "certificates",
    "work_countries",
    "sectors",
    "target_group_register",  # eligibility for garantiebanen only
)

#: Vacancy columns that may reach the engine (besides ``id``).
VACANCY_COLUMNS: tuple[str, ...] = (
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
    "lat",
    "lon",
    "country",
    "hours_min",
    "hours_max",
    "garantiebaan",  # eligibility only
    "wage_subsidy_possible",  # eligibility only
)

#: Which rows the live index and the batch rank.
ACTIVE_CANDIDATE = "active"
OPEN_VACANCY = "open"


def _ref(value: Mapping[str, Any] | str) -> ConceptRef:
    if isinstance(value, str):
        return ConceptRef(code=None, label=value)
    return ConceptRef(code=value.get("code") or None, label=str(value.get("label") or ""))


def _experience(value: Mapping[str, Any]) -> Experience:
    return Experience(occupation=_ref(value.get("occupation") or {}), years=float(value.get("years") or 0))


def candidate_features(row: Any) -> CandidateFeatures:
    """Engine features of a candidate (an ORM row or a row with :data:`CANDIDATE_COLUMNS` and ``id``)."""
    return CandidateFeatures(
        id=str(row.id),
        competences=tuple(_ref(x) for x in row.competences or ()),
        desired_occupations=tuple(_ref(x) for x in row.desired_occupations or ()),
        experience=tuple(_experience(e) for e in row.experience or ()),
        education_level=row.education_level,
        languages=dict(row.languages or {}),
        lat=float(row.lat),
        lon=float(row.lon),
        country=str(row.country),
        max_travel_km=int(row.max_travel_km),
        hours_min=int(row.hours_min),
        hours_max=int(row.hours_max),
        driving_licences=frozenset(row.driving_licences or ()),
        certificates=frozenset(row.certificates or ()),
        work_countries=frozenset(row.work_countries or ()),
        sectors=frozenset(row.sectors or ()),
        target_group_register=bool(row.target_group_register),
    )


def vacancy_features(row: Any) -> VacancyFeatures:
    """Engine features of a vacancy (an ORM `Vacancy` or a row with :data:`VACANCY_COLUMNS` and ``id``)."""
    return VacancyFeatures(
        id=str(row.id),
        title=str(row.title),
        description=str(row.description or ""),
        occupation=_ref(row.occupation) if row.occupation else None,
        sector=str(row.sector),
        competences_required=tuple(_ref(x) for x in row.competences_required or ()),
        competences_desired=tuple(_ref(x) for x in row.competences_desired or ()),
        education_level_min=row.education_level_min,
        languages_required=dict(row.languages_required or {}),
        driving_licences_required=frozenset(row.driving_licences_required or ()),
        certificates_required=frozenset(row.certificates_required or ()),
        lat=float(row.lat),
        lon=float(row.lon),
        country=str(row.country),
        hours_min=int(row.hours_min),
        hours_max=int(row.hours_max),
        garantiebaan=bool(row.garantiebaan),
        wage_subsidy_possible=bool(row.wage_subsidy_possible),
    )


def _candidate_select() -> Select[Any]:
    return select(Candidate.id, *(getattr(Candidate, name) for name in CANDIDATE_COLUMNS))


def _vacancy_select() -> Select[Any]:
    return select(Vacancy.id, *(getattr(Vacancy, name) for name in VACANCY_COLUMNS))


def load_vacancy_features(session: Session) -> list[VacancyFeatures]:
    """All open vacancies as engine features, ordered by id (deterministic concept-column allocation)."""
    rows = session.execute(_vacancy_select().where(Vacancy.status == OPEN_VACANCY).order_by(Vacancy.id))
    return [vacancy_features(row) for row in rows]


def load_candidate_features(
    session: Session, municipalities: Collection[str] | None = None
) -> list[CandidateFeatures]:
    """Active candidates (optionally of some municipalities only) as engine features, ordered by id."""
    statement = _candidate_select().where(Candidate.status == ACTIVE_CANDIDATE)
    if municipalities is not None:
        statement = statement.where(Candidate.municipality.in_(sorted(municipalities)))
    return [candidate_features(row) for row in session.execute(statement.order_by(Candidate.id))]


def _chunks(ids: Sequence[uuid.UUID], size: int = 500) -> Iterable[Sequence[uuid.UUID]]:
    # Bounded IN lists: SQLite caps bound parameters, PostgreSQL plans big IN lists poorly.
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def load_vacancy_features_by_id(session: Session, ids: Iterable[uuid.UUID]) -> dict[str, VacancyFeatures]:
    """The given vacancies that are open, by id string (absent ids are closed, filled or gone)."""
    out: dict[str, VacancyFeatures] = {}
    for chunk in _chunks(sorted(set(ids))):
        statement = _vacancy_select().where(Vacancy.id.in_(chunk), Vacancy.status == OPEN_VACANCY)
        for row in session.execute(statement):
            out[str(row.id)] = vacancy_features(row)
    return out


def load_candidate_features_by_id(session: Session, ids: Iterable[uuid.UUID]) -> dict[str, CandidateFeatures]:
    """The given candidates that are active, by id string (absent ids are placed, inactive or gone)."""
    return {
        key: features
        for key, (_, features) in load_candidate_features_by_id_with_municipality(session, ids).items()
    }


def load_candidate_features_by_id_with_municipality(
    session: Session, ids: Iterable[uuid.UUID]
) -> dict[str, tuple[str, CandidateFeatures]]:
    """The given active candidates as ``id → (municipality, features)``.

    The municipality routes a candidate to its municipality's live index; it is not an engine feature.
    """
    out: dict[str, tuple[str, CandidateFeatures]] = {}
    for chunk in _chunks(sorted(set(ids))):
        statement = (
            _candidate_select()
            .add_columns(Candidate.municipality)
            .where(Candidate.id.in_(chunk), Candidate.status == ACTIVE_CANDIDATE)
        )
        for row in session.execute(statement):
            out[str(row.id)] = (row.municipality, candidate_features(row))
    return out


def load_candidate_features_by_municipality(session: Session) -> dict[str, list[CandidateFeatures]]:
    """All active candidates grouped by municipality (each group ordered by id)."""
    statement = (
        _candidate_select()
        .add_columns(Candidate.municipality)
        .where(Candidate.status == ACTIVE_CANDIDATE)
        .order_by(Candidate.id)
    )
    out: dict[str, list[CandidateFeatures]] = defaultdict(list)
    for row in session.execute(statement):
        out[row.municipality].append(candidate_features(row))
    return dict(out)
