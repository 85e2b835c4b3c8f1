"""Vacancy routes: employers write their own; every authenticated role with a reason reads."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response, status

from service.concurrency import etag, parse_if_match
from service.deps import PrincipalDep, SessionDep
from service.security.idempotency import IdempotencyKeyHeader, idempotent_response
from service.vacancies import operations
from service.vacancies.schemas import VacancyIn, VacancyOut, VacancyPage
from service.validation import Country, Sector, VacancyStatus, bounded_text

router = APIRouter(prefix="/api/v1/vacancies", tags=["vacancies"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=VacancyOut)
def create_vacancy(
    body: VacancyIn,
    session: SessionDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    def run() -> tuple[VacancyOut, dict[str, str], int]:
        vacancy = operations.create_vacancy(session, principal, body)
        headers = {"ETag": etag(vacancy.version), "Location": f"/api/v1/vacancies/{vacancy.id}"}
        return operations.to_out(session, vacancy), headers, status.HTTP_201_CREATED

    # A portal's retry with the same Idempotency-Key gets the first response, never a second vacancy.
    return idempotent_response(
        session,
        principal=principal,
        key=idempotency_key,
        operation="POST /api/v1/vacancies",
        payload=body,
        run=run,
    )


@router.get("", response_model=VacancyPage)
def list_vacancies(
    session: SessionDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    status_: Annotated[VacancyStatus | None, Query(alias="status")] = None,
    sector: Sector | None = None,
    country: Country | None = None,
    q: Annotated[bounded_text(100) | None, Query()] = None,  # type: ignore[valid-type]
) -> VacancyPage:
    items, total = operations.list_vacancies(
        session, principal, limit=limit, offset=offset, status=status_, sector=sector, country=country, q=q
    )
    return VacancyPage(items=items, total=total, limit=limit, offset=offset)


@router.put("/by-ref/{external_ref}", response_model=VacancyOut)
def upsert_vacancy_by_ref(
    external_ref: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:\-]+$")],
    body: VacancyIn,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
) -> VacancyOut:
    vacancy, created = operations.upsert_vacancy_by_ref(session, principal, external_ref, body)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    response.headers["ETag"] = etag(vacancy.version)
    return operations.to_out(session, vacancy)


@router.get("/{vacancy_id}", response_model=VacancyOut)
def read_vacancy(
    vacancy_id: uuid.UUID, response: Response, session: SessionDep, principal: PrincipalDep
) -> VacancyOut:
    vacancy = operations.get_vacancy(session, principal, vacancy_id)
    response.headers["ETag"] = etag(vacancy.version)
    return operations.to_out(session, vacancy)


@router.put("/{vacancy_id}", response_model=VacancyOut)
def replace_vacancy(
    vacancy_id: uuid.UUID,
    body: VacancyIn,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    if_match: Annotated[str | None, Header(max_length=64)] = None,
) -> VacancyOut:
    vacancy = operations.replace_vacancy(
        session, principal, vacancy_id, body, expected_version=parse_if_match(if_match)
    )
    response.headers["ETag"] = etag(vacancy.version)
    return operations.to_out(session, vacancy)


@router.delete("/{vacancy_id}", status_code=status.HTTP_204_NO_CONTENT)
def close_vacancy(vacancy_id: uuid.UUID, session: SessionDep, principal: PrincipalDep) -> Response:
    operations.close_vacancy(session, principal, vacancy_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
