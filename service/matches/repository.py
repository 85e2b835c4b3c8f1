"""All SQL of the match endpoints: the summaries of ranked profiles, read through the callers' scoped
statements.

A ranking shows a summary of up to 200 profiles, so only the summary's columns are read (one statement, the
employer's name joined in): not the whole rows with their JSON profile columns, the encrypted BSN or the ORM
identity map, which were most of a match request's database time. The WHERE clause is still the caller's
``readable_statement``: what the principal may not read is simply absent.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from service.auth.principal import Principal
from service.candidates.repository import CandidateRepository
from service.persistence.models import Candidate, Employer, Vacancy
from service.vacancies.repository import VacancyRepository

#: Columns of a vacancy summary (``operations.vacancy_summary``); the occupation's label is read from its JSON
#: column by the database (``occupation_label``), the employer's name joined in (``employer_name``).
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


def _wanted(ids: Iterable[str]) -> list[uuid.UUID]:
    return sorted({uuid.UUID(i) for i in ids})


class MatchRepository:
    """Loads the other side of a ranking, never more than the principal may read."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def vacancies(self, principal: Principal, ids: Iterable[str]) -> dict[str, Row[Any]]:
        """Summary rows of the readable vacancies by id string (ids the principal may not read are absent).

        Each row has the ``_VACANCY_COLUMNS`` plus ``occupation_label`` and ``employer_name``.
        """
        wanted = _wanted(ids)
        if not wanted:
            return {}
        statement = (
            VacancyRepository(self.session)
            .readable_statement(principal)
            .where(Vacancy.id.in_(wanted))
            .with_only_columns(
                *_VACANCY_COLUMNS,
                Vacancy.occupation["label"].as_string().label("occupation_label"),
                Employer.name.label("employer_name"),
            )
            .join_from(Vacancy, Employer, Employer.id == Vacancy.employer_id)
        )
        return {str(row.id): row for row in self.session.execute(statement)}

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
