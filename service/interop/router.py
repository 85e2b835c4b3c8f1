"""`POST /api/v1/vacancies/jobposting`: an employer posts a schema.org JobPosting (JSON-LD) from its site."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import BaseModel

from service.concurrency import etag
from service.deps import EmployerDep, SessionDep
from service.errors import PayloadTooLarge
from service.interop.jobposting import MAX_BODY_BYTES, post_job_posting
from service.security.idempotency import IdempotencyKeyHeader, idempotent_response
from service.vacancies import operations as vacancy_operations
from service.vacancies.schemas import VacancyOut

router = APIRouter(prefix="/api/v1/vacancies", tags=["vacancies"])


class MappingOut(BaseModel):
    """What became of the posting: fields filled, properties not used, what the employer should complete."""

    mapped: list[str]
    ignored: list[str]
    needs_completion: list[str]
    notes: list[str]


class JobPostingResult(BaseModel):
    vacancy: VacancyOut
    mapping: MappingOut


async def raw_body(request: Request) -> bytes:
    """The body as bytes, read up to the JobPosting limit (the app-wide guard limits it too)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"A JobPosting may be at most {MAX_BODY_BYTES // 1024} KiB.")
        chunks.append(chunk)
    return b"".join(chunks)


_OPENAPI_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            media: {
                "schema": {
                    "type": "object",
                    "description": "A schema.org JobPosting in JSON-LD (alone, in @graph or in a list)",
                    "additionalProperties": True,
                }
            }
            for media in ("application/ld+json", "application/json")
        },
    }
}


@router.post(
    "/jobposting",
    status_code=status.HTTP_201_CREATED,
    response_model=JobPostingResult,
    openapi_extra=_OPENAPI_BODY,
    responses={
        200: {"model": JobPostingResult, "description": "An existing vacancy (same identifier) updated"}
    },
)
def post_job_posting_route(
    body: Annotated[bytes, Depends(raw_body)],
    session: SessionDep,
    principal: EmployerDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    def run() -> tuple[JobPostingResult, dict[str, str], int]:
        vacancy, created, report = post_job_posting(session, principal, body)
        headers = {"ETag": etag(vacancy.version), "Location": f"/api/v1/vacancies/{vacancy.id}"}
        result = JobPostingResult(
            vacancy=vacancy_operations.to_out(session, vacancy), mapping=MappingOut(**report.as_dict())
        )
        return result, headers, status.HTTP_201_CREATED if created else status.HTTP_200_OK

    # The raw document is the fingerprint: a retry with the same key and bytes replays the first answer.
    return idempotent_response(
        session,
        principal=principal,
        key=idempotency_key,
        operation="POST /api/v1/vacancies/jobposting",
        payload=body.decode("utf-8", "replace"),
        run=run,
    )
