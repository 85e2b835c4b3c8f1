"""All SQL of the match endpoints: the summaries of ranked profiles, read through the callers' scoped
statements.

A ranking shows a summary of up to 200 profiles, so only the summary's columns are read (one statement, the
employer's name joined in): not the whole rows with their JSON profile columns, the encrypted BSN or the ORM
identity map, which were most of a match request's database time. The WHERE clause is still the caller's
``readable_statement``: what the principal may not read is simply absent.

Open vacancies of a live ranking need no statement at all: the live index keeps their summaries beside the
encoded profiles (:func:`load_open_vacancy_summaries`, refreshed by the same change events), so a page's
ranking and its summaries come from one snapshot. :meth:`MatchRepository.live_vacancies` hands them out only
to a principal who may read every vacancy (``VacancyRepository.reads_all``); anyone else gets the scoped
statement.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from service.auth.principal import Principal
from service.candidates.repository import CandidateRepository
from service.matches.mapping import OPEN_VACANCY
from service.persistence.models import Candidate, Employer, Vacancy
from service.vacancies.repository import VacancyRepository

#: Columns of a vacancy summary (:func:`vacancy_summary`); with them the occupation's label, read from its
#: JSON column by the database (``occupation_label``), and the employer's name joined in (``employer_name``).
_VACANCY_COLUMNS = (
    Vacancy.id,
    Vacancy.title,
    Vacancy.employer_id,
    Vacancy.sector,
    Vacancy.city,
    Vacancy.postcode,
    Vacancy.country,
    Vacancy.hours_min,
    Vacancy.hours_max,
    Vacancy.contract,
    Vacancy.positions,
    Vacancy.garantiebaan,
    Vacancy.closes_at,
    Vacancy.status,
)
#: Columns of a candidate summary (``operations.candidate_summary``), and the sectors the batch filter reads.
_CANDIDATE_COLUMNS = (
    Candidate.id,
    Candidate.external_ref,
    Candidate.municipality,
    Candidate.given_name,
    Candidate.family_name,
    Candidate.postcode,
    Candidate.country,
    Candidate.education_level,
    Candidate.hours_min,
    Candidate.hours_max,
    Candidate.status,
    Candidate.sectors,
)


#: Bounded IN lists when the live index loads summaries of changed vacancies (SQLite caps bound parameters).
_CHUNK = 500


def _wanted(ids: Iterable[str]) -> list[uuid.UUID]:
    return sorted({uuid.UUID(i) for i in ids})


#: Everything :func:`vacancy_summary` reads.
_VACANCY_SUMMARY_COLUMNS = (
    *_VACANCY_COLUMNS,
    Vacancy.occupation["label"].as_string().label("occupation_label"),
    Employer.name.label("employer_name"),
)


def vacancy_summary(row: Any) -> dict[str, Any]:
    """What a coach sees of a vacancy in a ranking, as plain data in the order of ``VacancySummary``'s
    fields, from a row with ``_VACANCY_SUMMARY_COLUMNS``."""
    return {
        "id": row.id,
        "title": row.title,
        "employer": {"id": row.employer_id, "name": row.employer_name},
        "occupation": row.occupation_label,
        "sector": row.sector,
        "city": row.city,
        "postcode": row.postcode,
        "country": row.country,
        "hours_min": row.hours_min,
        "hours_max": row.hours_max,
        "contract": row.contract,
        "positions": row.positions,
        "garantiebaan": row.garantiebaan,
        "closes_at": row.closes_at.isoformat() if row.closes_at else None,
        "status": row.status,
    }


def load_open_vacancy_summaries(
    session: Session, ids: Iterable[uuid.UUID] | None = None
) -> dict[str, dict[str, Any]]:
    """Summaries of the open vacancies (all, or just those of ``ids`` that are open) by id string, for the
    live index. Unscoped, like the index's own profile loaders: callers hand them out through
    :meth:`MatchRepository.live_vacancies`."""
    statement = (
        select(*_VACANCY_SUMMARY_COLUMNS)
        .join_from(Vacancy, Employer, Employer.id == Vacancy.employer_id)
        .where(Vacancy.status == OPEN_VACANCY)
    )
    shared = _Shared()
    if ids is None:
        return {str(row.id): shared(vacancy_summary(row)) for row in session.execute(statement)}
    wanted = sorted(set(ids))
    out: dict[str, dict[str, Any]] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        rows = session.execute(statement.where(Vacancy.id.in_(chunk)))
        out.update((str(row.id), shared(vacancy_summary(row))) for row in rows)
    return out


class _Shared:
    """One object per distinct value across the summaries of one load: sectors, cities, contracts, dates,
    employers and often titles repeat, and the driver returns a new object per row (twente's 17,223 open
    vacancies: 26.9 MiB of summaries unshared, 12.9 MiB shared)."""

    def __init__(self) -> None:
        self._values: dict[Any, Any] = {}

    def __call__(self, summary: dict[str, Any]) -> dict[str, Any]:
        keep = self._values.setdefault
        for key, value in summary.items():
            if key == "employer":
                summary[key] = keep((value["id"], value["name"]), value)
            elif value.__class__ is str:
                summary[key] = keep(value, value)
        return summary


class MatchRepository:
    """Loads the other side of a ranking, never more than the principal may read."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def vacancies(self, principal: Principal, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Summaries (:func:`vacancy_summary`) of the readable vacancies by id string; ids the principal may
        not read are absent."""
        wanted = _wanted(ids)
        if not wanted:
            return {}
        statement = (
            VacancyRepository(self.session)
            .readable_statement(principal)
            .where(Vacancy.id.in_(wanted))
            .with_only_columns(*_VACANCY_SUMMARY_COLUMNS)
            .join_from(Vacancy, Employer, Employer.id == Vacancy.employer_id)
        )
        return {str(row.id): vacancy_summary(row) for row in self.session.execute(statement)}

    def live_vacancies(
        self, principal: Principal, ids: Iterable[str], snapshot: Mapping[str, dict[str, Any]]
    ) -> dict[str, dict[str, Any]]:
        """Summaries of the vacancies of a live ranking, from the live index's ``snapshot`` (its open
        vacancies) when the principal may read every vacancy; otherwise from the scoped statement."""
        if not VacancyRepository.reads_all(principal):
            return self.vacancies(principal, ids)
        return {i: summary for i in ids if (summary := snapshot.get(i)) is not None}

    def candidates(self, principal: Principal, ids: Iterable[str]) -> dict[str, Row[Any]]:
        """Summary rows of the readable candidates (a coach's own municipalities) by id string; others are
        absent. Each row has the ``_CANDIDATE_COLUMNS``."""
        wanted = _wanted(ids)
        if not wanted:
            return {}
        statement = (
            CandidateRepository(self.session)
            .readable_statement(principal)
            .where(Candidate.id.in_(wanted))
            .with_only_columns(*_CANDIDATE_COLUMNS)
        )
        return {str(row.id): row for row in self.session.execute(statement)}
