"""Vacancy use cases: employers create, replace, upsert by their own reference and close their own
vacancies."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.auth.principal import Principal, Role
from service.concurrency import check_version
from service.errors import Conflict, Forbidden, NotFound
from service.location import location_postcode, resolve_postcode
from service.persistence.models import Vacancy
from service.vacancies.repository import VacancyRepository
from service.vacancies.schemas import VacancyIn, VacancyOut


def _values(data: VacancyIn) -> dict[str, Any]:
    """The column values a payload stands for (postcode canonical, coordinates resolved)."""
    location = resolve_postcode(data.postcode, data.country)
    values: dict[str, Any] = data.model_dump(exclude={"languages_required"}, mode="python")
    values["languages_required"] = data.languages_required.model_dump(exclude_none=True)
    values["postcode"] = location_postcode(data.postcode, data.country)
    values["city"] = data.city or location.place
    values["lat"], values["lon"] = location.lat, location.lon
    return values


def _require_employer(principal: Principal) -> uuid.UUID:
    if principal.role is not Role.EMPLOYER or principal.employer_id is None:
        raise Forbidden("Only employer keys create or change vacancies.")
    return principal.employer_id


def to_out(session: Session, vacancy: Vacancy) -> VacancyOut:
    names = VacancyRepository(session).employer_names({vacancy.employer_id})
    return VacancyOut.from_row(vacancy, employer_name=names.get(vacancy.employer_id, ""))


def create_vacancy(session: Session, principal: Principal, data: VacancyIn) -> Vacancy:
    employer_id = _require_employer(principal)
    repo = VacancyRepository(session)
    if data.external_ref and repo.get_by_ref(principal, data.external_ref) is not None:
        raise Conflict(
            f"A vacancy with external_ref {data.external_ref!r} exists; "
            "use PUT /vacancies/by-ref/{ref} to update."
        )
    vacancy = Vacancy(employer_id=employer_id, **_values(data))
    try:
        return repo.add(vacancy)
    except IntegrityError as exc:
        raise Conflict(f"A vacancy with external_ref {data.external_ref!r} exists.") from exc


def get_vacancy(session: Session, principal: Principal, vacancy_id: uuid.UUID) -> Vacancy:
    vacancy = VacancyRepository(session).get(principal, vacancy_id)
    if vacancy is None:
        raise NotFound()
    return vacancy


def list_vacancies(session: Session, principal: Principal, **filters: Any) -> tuple[list[VacancyOut], int]:
    repo = VacancyRepository(session)
    rows, total = repo.list(principal, **filters)
    names = repo.employer_names({row.employer_id for row in rows})
    return [VacancyOut.from_row(row, employer_name=names.get(row.employer_id, "")) for row in rows], total


def _writable(session: Session, principal: Principal, vacancy_id: uuid.UUID) -> Vacancy:
    vacancy = VacancyRepository(session).get_writable(principal, vacancy_id)
    if vacancy is None:
        raise NotFound()
    return vacancy


def _assign(vacancy: Vacancy, values: dict[str, Any]) -> bool:
    """Set changed columns; True when anything changed (an identical PUT leaves the version alone)."""
    changed = False
    for key, value in values.items():
        if getattr(vacancy, key) != value:
            setattr(vacancy, key, value)
            changed = True
    return changed


def replace_vacancy(
    session: Session,
    principal: Principal,
    vacancy_id: uuid.UUID,
    data: VacancyIn,
    *,
    expected_version: int | None,
) -> Vacancy:
    _require_employer(principal)
    vacancy = _writable(session, principal, vacancy_id)
    check_version(expected=expected_version, actual=vacancy.version)
    repo = VacancyRepository(session)
    if data.external_ref and data.external_ref != vacancy.external_ref:
        other = repo.get_by_ref(principal, data.external_ref)
        if other is not None and other.id != vacancy.id:
            raise Conflict(f"Another vacancy has external_ref {data.external_ref!r}.")
    if _assign(vacancy, _values(data)):
        repo.touch(vacancy)
    return vacancy


def upsert_vacancy_by_ref(
    session: Session, principal: Principal, external_ref: str, data: VacancyIn
) -> tuple[Vacancy, bool]:
    """Idempotent create-or-replace keyed by the portal's own reference. Returns (vacancy, created)."""
    _require_employer(principal)
    if data.external_ref is not None and data.external_ref != external_ref:
        raise Conflict("external_ref in the body differs from the one in the path.")
    data = data.model_copy(update={"external_ref": external_ref})
    repo = VacancyRepository(session)
    vacancy = repo.get_by_ref(principal, external_ref)
    if vacancy is None:
        return create_vacancy(session, principal, data), True
    if _assign(vacancy, _values(data)):
        repo.touch(vacancy)
    return vacancy, False


def close_vacancy(session: Session, principal: Principal, vacancy_id: uuid.UUID) -> None:
    """DELETE closes: the vacancy stays for proposals and reports but is no longer matched."""
    _require_employer(principal)
    vacancy = _writable(session, principal, vacancy_id)
    if vacancy.status != "closed":
        vacancy.status = "closed"
        VacancyRepository(session).touch(vacancy)
