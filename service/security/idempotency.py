"""`Idempotency-Key` for POSTs of employer portals (draft-ietf-httpapi-idempotency-key-header).

    from service.security.idempotency import IdempotencyKeyHeader, idempotent_response

    @router.post("", status_code=201, response_model=VacancyOut)
    def create_vacancy(body: VacancyIn, session: SessionDep, principal: PrincipalDep,
                       idempotency_key: IdempotencyKeyHeader = None) -> Response:
        def run() -> tuple[BaseModel, dict[str, str], int]:
            vacancy = operations.create_vacancy(session, principal, body)
            return operations.to_out(session, vacancy), {"ETag": ..., "Location": ...}, 201
        return idempotent_response(session, principal=principal, key=idempotency_key,
                                   operation="POST /api/v1/vacancies", payload=body, run=run)

Same key + same body: the stored response again (with `Idempotent-Replayed: true`). Same key + another
body: 422. Without the header the request simply runs. Exactly one resource however many parallel retries:
the record is claimed with an `INSERT ... ON CONFLICT DO NOTHING` on (owner, key) *before* the work, in the
request's transaction. On PostgreSQL a concurrent claimer waits on the unique index until the first commits,
then finds the finished record; on SQLite the IMMEDIATE write transaction serialises the requests anyway. If
the work fails, the claim rolls back with it and a retry runs afresh. Records older than a day are purged by
`werkmatch retention run`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Header
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from service.auth.principal import Principal
from service.errors import Conflict, InvalidInput
from service.security.models import IdempotencyRecord

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="A unique key per logical request (e.g. a UUID); a retry with the same key and body "
        "returns the first response instead of creating a second resource.",
    ),
]

_REPLAYED_HEADERS = ("etag", "location")


def request_fingerprint(payload: BaseModel | Any) -> str:
    """sha256 of the canonical JSON of the parsed body (whitespace and key order do not matter)."""
    data = payload.model_dump(mode="json") if isinstance(payload, BaseModel) else jsonable_encoder(payload)
    encoded = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


def _owner(principal: Principal) -> str:
    return str(principal.employer_id or principal.key_id)


def _claim(session: Session, *, owner: str, key: str, operation: str, request_hash: str) -> bool:
    """Insert the pending record; False when (owner, key) exists already (after waiting for its
    transaction)."""
    values = {"owner": owner, "key": key, "operation": operation, "request_hash": request_hash}
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(IdempotencyRecord)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["owner", "key"])
        .returning(IdempotencyRecord.id)
    )
    return session.execute(statement).scalar_one_or_none() is not None


def _replay(record: IdempotencyRecord) -> JSONResponse:
    headers = {**(record.response_headers or {}), "Idempotent-Replayed": "true"}
    return JSONResponse(record.response_body, status_code=record.status_code or 200, headers=headers)


def idempotent_response(
    session: Session,
    *,
    principal: Principal,
    key: str | None,
    operation: str,
    payload: BaseModel | Any,
    run: Callable[[], tuple[BaseModel, dict[str, str], int]],
) -> JSONResponse:
    """Run `run` once per (caller, key) and answer with its result, or replay the stored answer.

    `run` returns the response model, its headers and its status code (an upsert may answer 200 or 201)."""
    if key is None:
        model, headers, status_code = run()
        return JSONResponse(jsonable_encoder(model), status_code=status_code, headers=headers)
    owner, request_hash = _owner(principal), request_fingerprint(payload)
    if not _claim(session, owner=owner, key=key, operation=operation, request_hash=request_hash):
        record = session.scalars(
            select(IdempotencyRecord).where(IdempotencyRecord.owner == owner, IdempotencyRecord.key == key)
        ).one()
        if record.request_hash != request_hash or record.operation != operation:
            raise InvalidInput(
                "This Idempotency-Key was used with a different request; use a new key for a new request.",
                errors=[
                    {
                        "loc": ["header", "Idempotency-Key"],
                        "msg": "reused with another body",
                        "type": "idempotency_key_reused",
                    }
                ],
            )
        if record.status_code is None:  # cannot happen after the claimer committed; kept as a guard
            raise Conflict("A request with this Idempotency-Key is still being processed; retry shortly.")
        return _replay(record)
    model, headers, status_code = run()
    body = jsonable_encoder(model)
    record = session.scalars(
        select(IdempotencyRecord).where(IdempotencyRecord.owner == owner, IdempotencyRecord.key == key)
    ).one()
    record.status_code = status_code
    record.response_body = body
    record.response_headers = {k: v for k, v in headers.items() if k.lower() in _REPLAYED_HEADERS}
    session.flush()
    return JSONResponse(body, status_code=status_code, headers=headers)
