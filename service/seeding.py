"""Bulk loading of candidate and vacancy payloads (demo data, synthetic seeds, imports of trusted generators).

Every payload passes the same request models as the API; rows are written with the database's bulk path
(executemany in one transaction per chunk), not row by row through the ORM unit of work.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from service.auth.keys import get_or_create_employer
from service.candidates.schemas import CandidateIn
from service.location import location_postcode, resolve_postcode
from service.persistence.base import utcnow
from service.persistence.models import Candidate, ChangeEvent, Vacancy
from service.privacy import bsn_lookup_hash, encrypt_bsn
from service.vacancies.schemas import VacancyIn

CHUNK = 2_000


@dataclass
class LoadReport:
    candidates: int = 0
    vacancies: int = 0
    employers: int = 0


def candidate_row(payload: dict[str, Any], *, secret: str) -> dict[str, Any]:
    """Validate one API-shaped candidate payload and turn it into column values."""
    data = CandidateIn.model_validate(payload)
    location = resolve_postcode(data.postcode, data.country)
    now = utcnow()
    row = data.model_dump(exclude={"bsn", "languages"})
    row.update(
        id=uuid.uuid4(),
        postcode=location_postcode(data.postcode, data.country),
        lat=location.lat,
        lon=location.lon,
        languages=data.languages.model_dump(exclude_none=True),
        version=1,
        created_at=now,
        updated_at=now,
        bsn_encrypted=encrypt_bsn(data.bsn, secret=secret) if data.bsn else None,
        bsn_hash=bsn_lookup_hash(data.bsn, secret=secret) if data.bsn else None,
    )
    return row


def vacancy_row(payload: dict[str, Any], *, employer_id: uuid.UUID) -> dict[str, Any]:
    """Validate one API-shaped vacancy payload and turn it into column values."""
    data = VacancyIn.model_validate(payload)
    location = resolve_postcode(data.postcode, data.country)
    now = utcnow()
    row = data.model_dump(exclude={"languages_required"})
    row.update(
        id=uuid.uuid4(),
        employer_id=employer_id,
        postcode=location_postcode(data.postcode, data.country),
        city=data.city or location.place,
        lat=location.lat,
        lon=location.lon,
        languages_required=data.languages_required.model_dump(exclude_none=True),
        version=1,
        created_at=now,
        updated_at=now,
    )
    return row


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def load_payloads(
    session_factory: Callable[[], Session],
    *,
    candidates: Iterable[dict[str, Any]],
    vacancies: Iterable[dict[str, Any]],
    secret: str,
    progress: Callable[[str, int], None] | None = None,
) -> LoadReport:
    """Insert payloads in chunks, each chunk one transaction.

    Each chunk records one `reload` change event: running services rebuild their match index once instead of
    reading every bulk-loaded row as a separate change."""
    report = LoadReport()
    employers: dict[str, uuid.UUID] = {}
    for chunk in _chunks(candidates, CHUNK):
        rows = [candidate_row(payload, secret=secret) for payload in chunk]
        with session_factory() as session, session.begin():
            session.execute(insert(Candidate), rows)
            session.add(ChangeEvent(entity="reload", entity_id=rows[-1]["id"]))
        report.candidates += len(rows)
        if progress:
            progress("candidates", len(rows))
    for chunk in _chunks(vacancies, CHUNK):
        with session_factory() as session, session.begin():
            rows = []
            for payload in chunk:
                payload = dict(payload)
                name = payload.pop("employer_name", None) or "Onbekende werkgever"
                if name not in employers:
                    employers[name] = get_or_create_employer(session, name).id
                rows.append(vacancy_row(payload, employer_id=employers[name]))
            session.execute(insert(Vacancy), rows)
            session.add(ChangeEvent(entity="reload", entity_id=rows[-1]["id"]))
        report.vacancies += len(rows)
        if progress:
            progress("vacancies", len(rows))
    report.employers = len(employers)
    return report
