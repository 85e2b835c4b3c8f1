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

import json
import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import JSON, Select, Text, cast, select
from sqlalchemy.orm import Session

from matching.index import collector_paused
from matching.types import CandidateFeatures, ConceptRef, Experience, VacancyFeatures
from service.persistence.models import Candidate, Vacancy

__all__ = [
    "CANDIDATE_COLUMNS",
    "VACANCY_COLUMNS",
    "candidate_features",
    "iter_candidate_features",
    "iter_vacancy_features",
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


# ------------------------------------------------------------------------------------------ bulk loading
# The bulk loaders read JSON columns as their text (CAST … AS TEXT: the same on SQLite and PostgreSQL, and no
# per-value result processing), parse all JSON of a row with ONE json.loads, and share one ConceptRef object
# per distinct (code, label) within a load: caseloads repeat the same competences and occupations thousands of
# times. The features are equal to what candidate_features/vacancy_features make of the same row.


def _raw_columns(model: Any, names: Sequence[str]) -> list[Any]:
    """Columns ``id`` + ``names``, JSON columns cast to text (parsed by the loaders, see :func:`_loads`)."""
    columns: list[Any] = [model.id]
    for name in names:
        column = getattr(model, name)
        columns.append(cast(column, Text).label(name) if isinstance(column.type, JSON) else column)
    return columns


_CANDIDATE_RAW = _raw_columns(Candidate, CANDIDATE_COLUMNS)
_VACANCY_RAW = _raw_columns(Vacancy, VACANCY_COLUMNS)


def _candidate_select() -> Select[Any]:
    return select(*_CANDIDATE_RAW)


def _vacancy_select() -> Select[Any]:
    return select(*_VACANCY_RAW)


def _text(value: Any) -> str:
    """JSON text of a column read with CAST … AS TEXT (SQL NULL → ``null``)."""
    if value.__class__ is str:
        return value  # type: ignore[no-any-return]
    return "null" if value is None else json.dumps(value)  # a driver that parsed it anyway


def _loads(*values: Any) -> list[Any]:
    """Several JSON columns of one row parsed by one ``json.loads``."""
    return json.loads("[" + ",".join(map(_text, values)) + "]")  # type: ignore[no-any-return]


# Competence and occupation columns are decoded with objects as tuples of pairs: hashable, so a repeated
# competence is one dict lookup (see _RefMemo); _plain turns such a value back into what json.loads gives.
_decode_pairs = json.JSONDecoder(object_pairs_hook=tuple).decode


def _loads_pairs(*values: Any) -> list[Any]:
    """Like :func:`_loads`, objects as tuples of pairs."""
    return _decode_pairs("[" + ",".join(map(_text, values)) + "]")  # type: ignore[no-any-return]


def _plain(value: Any) -> Any:
    """A value decoded with objects as tuples of pairs, as plain ``json.loads`` would have returned it."""
    if value.__class__ is tuple:
        return {k: _plain(v) for k, v in value}
    if value.__class__ is list:
        return [_plain(v) for v in value]
    return value


class _RefMemo(dict[Any, ConceptRef]):
    """Decoded competence/occupation (tuple of pairs, or a plain label) → one shared :class:`ConceptRef`.

    Hits are plain C dict lookups (``map(memo.__getitem__, items)``); a miss builds the ref with :func:`_ref`.
    """

    def __missing__(self, key: Any) -> ConceptRef:
        ref = self[key] = _ref(_plain(key))
        return ref

    def refs(self, items: Any) -> tuple[ConceptRef, ...]:
        """The refs of a decoded list (``None`` or empty: none)."""
        if not items:
            return ()
        try:
            return tuple(map(self.__getitem__, items))
        except TypeError:  # unhashable (nested lists): no sharing, same result
            return tuple(_ref(x) for x in _plain(items))

    def one(self, item: Any) -> ConceptRef:
        """The ref of one decoded value."""
        try:
            return self[item]
        except TypeError:
            return _ref(_plain(item))

    def plain_one(self, item: Mapping[str, Any] | str) -> ConceptRef:
        """The ref of a value decoded by plain ``json.loads`` (an object is keyed by its items)."""
        try:
            key = tuple(item.items()) if isinstance(item, dict) else item
            return self[key]
        except TypeError:
            return _ref(item)


def _candidates_from_rows(rows: Iterable[Sequence[Any]]) -> Iterator[tuple[Sequence[Any], CandidateFeatures]]:
    """(row, features) per row of :func:`_candidate_select` (possibly with extra columns after those)."""
    memo = _RefMemo()
    for row in rows:
        (
            id_,
            competences,
            desired_occupations,
            experience,
            education_level,
            languages,
            lat,
            lon,
            country,
            max_travel_km,
            hours_min,
            hours_max,
            driving_licences,
            certificates,
            work_countries,
            sectors,
            target_group_register,
        ) = row[: 1 + len(CANDIDATE_COLUMNS)]
        competences, desired_occupations = _loads_pairs(competences, desired_occupations)
        experience, languages, driving_licences, certificates, work_countries, sectors = _loads(
            experience, languages, driving_licences, certificates, work_countries, sectors
        )
        features = CandidateFeatures(
            id=str(id_),
            competences=memo.refs(competences),
            desired_occupations=memo.refs(desired_occupations),
            experience=tuple(
                Experience(
                    occupation=memo.plain_one(e.get("occupation") or {}), years=float(e.get("years") or 0)
                )
                for e in experience or ()
            ),
            education_level=education_level,
            languages=dict(languages or {}),
            lat=float(lat),
            lon=float(lon),
            country=str(country),
            max_travel_km=int(max_travel_km),
            hours_min=int(hours_min),
            hours_max=int(hours_max),
            driving_licences=frozenset(driving_licences or ()),
            certificates=frozenset(certificates or ()),
            work_countries=frozenset(work_countries or ()),
            sectors=frozenset(sectors or ()),
            target_group_register=bool(target_group_register),
        )
        yield row, features


def _vacancies_from_rows(rows: Iterable[Sequence[Any]]) -> Iterator[tuple[Sequence[Any], VacancyFeatures]]:
    """(row, features) per row of :func:`_vacancy_select`."""
    memo = _RefMemo()
    for row in rows:
        (
            id_,
            title,
            description,
            occupation,
            sector,
            competences_required,
            competences_desired,
            education_level_min,
            languages_required,
            driving_licences_required,
            certificates_required,
            lat,
            lon,
            country,
            hours_min,
            hours_max,
            garantiebaan,
            wage_subsidy_possible,
        ) = row[: 1 + len(VACANCY_COLUMNS)]
        occupation, competences_required, competences_desired = _loads_pairs(
            occupation, competences_required, competences_desired
        )
        languages_required, driving_licences_required, certificates_required = _loads(
            languages_required, driving_licences_required, certificates_required
        )
        features = VacancyFeatures(
            id=str(id_),
            title=str(title),
            description=str(description or ""),
            occupation=memo.one(occupation) if occupation else None,
            sector=str(sector),
            competences_required=memo.refs(competences_required),
            competences_desired=memo.refs(competences_desired),
            education_level_min=education_level_min,
            languages_required=dict(languages_required or {}),
            driving_licences_required=frozenset(driving_licences_required or ()),
            certificates_required=frozenset(certificates_required or ()),
            lat=float(lat),
            lon=float(lon),
            country=str(country),
            hours_min=int(hours_min),
            hours_max=int(hours_max),
            garantiebaan=bool(garantiebaan),
            wage_subsidy_possible=bool(wage_subsidy_possible),
        )
        yield row, features


#: Whole-table loads read their rows in batches (a server-side cursor on PostgreSQL) instead of buffering all
#: rows first. On PostgreSQL the buffered rows raised a batch worker's peak RSS by 32 MiB at twente (991 → 959
#: MiB; the batch's process tree 2,016-2,024 → 1,950 MiB); SQLite was not affected.
_STREAMED = {"yield_per": 2_000}


def iter_vacancy_features(session: Session) -> Iterator[VacancyFeatures]:
    """All open vacancies as engine features, ordered by id (deterministic concept-column allocation), one
    at a time: a caller that encodes them as they come never holds all of them (see
    ``MatchEngine.build_vacancy_index``)."""
    rows = session.execute(
        _vacancy_select().where(Vacancy.status == OPEN_VACANCY).order_by(Vacancy.id),
        execution_options=_STREAMED,
    )
    for _row, features in _vacancies_from_rows(rows):
        yield features


def load_vacancy_features(session: Session) -> list[VacancyFeatures]:
    """:func:`iter_vacancy_features` as a list."""
    with collector_paused():
        return list(iter_vacancy_features(session))


def iter_candidate_features(
    session: Session, municipalities: Collection[str] | None = None
) -> Iterator[CandidateFeatures]:
    """Active candidates (optionally of some municipalities only) as engine features, ordered by id, one at a
    time (see :func:`iter_vacancy_features`)."""
    statement = _candidate_select().where(Candidate.status == ACTIVE_CANDIDATE)
    if municipalities is not None:
        statement = statement.where(Candidate.municipality.in_(sorted(municipalities)))
    rows = session.execute(statement.order_by(Candidate.id), execution_options=_STREAMED)
    for _row, features in _candidates_from_rows(rows):
        yield features


def load_candidate_features(
    session: Session, municipalities: Collection[str] | None = None
) -> list[CandidateFeatures]:
    """:func:`iter_candidate_features` as a list."""
    with collector_paused():
        return list(iter_candidate_features(session, municipalities))


def _chunks(ids: Sequence[uuid.UUID], size: int = 500) -> Iterable[Sequence[uuid.UUID]]:
    # Bounded IN lists: SQLite caps bound parameters, PostgreSQL plans big IN lists poorly.
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def load_vacancy_features_by_id(session: Session, ids: Iterable[uuid.UUID]) -> dict[str, VacancyFeatures]:
    """The given vacancies that are open, by id string (absent ids are closed, filled or gone)."""
    out: dict[str, VacancyFeatures] = {}
    for chunk in _chunks(sorted(set(ids))):
        statement = _vacancy_select().where(Vacancy.id.in_(chunk), Vacancy.status == OPEN_VACANCY)
        for _row, features in _vacancies_from_rows(session.execute(statement)):
            out[features.id] = features
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
        for row, features in _candidates_from_rows(session.execute(statement)):
            out[features.id] = (row.municipality, features)
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
    with collector_paused():
        for row, features in _candidates_from_rows(session.execute(statement)):
            out[row.municipality].append(features)
    return dict(out)
