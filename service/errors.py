"""The one error family of werkmatch and its rendering as RFC 9457 problem details."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

logger = logging.getLogger("werkmatch.errors")

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://werkmatch.nl/problems/"


class ServiceError(Exception):
    """A business error that maps to one HTTP status and one problem type."""

    status: int = 400
    type_: str = "bad-request"
    title: str = "Bad request"

    def __init__(self, detail: str | None = None, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.headers = headers or {}


class NotFound(ServiceError):
    status, type_, title = 404, "not-found", "Not found"

    def __init__(self, detail: str | None = None) -> None:
        # One body for unknown and foreign ids: the detail never says which.
        super().__init__(detail or "The resource does not exist or is not visible to you.")


class Conflict(ServiceError):
    status, type_, title = 409, "conflict", "Conflict"


class PreconditionRequired(ServiceError):
    status, type_, title = 428, "precondition-required", "Precondition required"


class Unauthorized(ServiceError):
    status, type_, title = 401, "unauthorized", "Unauthorized"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or "A valid API key is required.", headers={"WWW-Authenticate": "Bearer"})


class Forbidden(ServiceError):
    status, type_, title = 403, "forbidden", "Forbidden"


class InvalidInput(ServiceError):
    """Payload-level validation that pydantic cannot express (e.g. an unknown postcode)."""

    status, type_, title = 422, "validation-error", "Invalid input"

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.errors = errors or []


class PayloadTooLarge(ServiceError):
    status, type_, title = 413, "payload-too-large", "Payload too large"


class TooManyRequests(ServiceError):
    status, type_, title = 429, "too-many-requests", "Too many requests"


def problem(
    *, status: int, type_: str, title: str, detail: str, request_id: str | None = None, **extra: Any
) -> JSONResponse:
    """Build a problem+json response."""
    body: dict[str, Any] = {"type": PROBLEM_BASE + type_, "title": title, "status": status, "detail": detail}
    if request_id:
        body["request_id"] = request_id
    body.update(extra)
    return JSONResponse(jsonable_encoder(body), status_code=status, media_type=PROBLEM_JSON)


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def _clean_validation_errors(errors: list[Any]) -> list[dict[str, Any]]:
    """Field paths and messages only: never echo the rejected input (it may hold a BSN)."""
    cleaned = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        cleaned.append({"loc": loc, "msg": str(error.get("msg", "")), "type": str(error.get("type", ""))})
    return cleaned


def install_error_handlers(app: FastAPI) -> None:
    """Render every error as problem+json; unexpected ones as a logged 500 with a request id."""

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
        extra: dict[str, Any] = {}
        if isinstance(exc, InvalidInput):
            extra["errors"] = exc.errors
        response = problem(
            status=exc.status,
            type_=exc.type_,
            title=exc.title,
            detail=exc.detail,
            request_id=_request_id(request),
            **extra,
        )
        response.headers.update(exc.headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _clean_validation_errors(list(exc.errors()))
        return problem(
            status=422,
            type_="validation-error",
            title="Invalid input",
            detail="The request does not match the schema; see `errors`.",
            request_id=_request_id(request),
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        titles = {404: "Not found", 405: "Method not allowed", 401: "Unauthorized", 403: "Forbidden"}
        status = exc.status_code
        response = problem(
            status=status,
            type_=f"http-{status}",
            title=titles.get(status, "HTTP error"),
            detail=str(exc.detail)
            if status != 404
            else "The resource does not exist or is not visible to you.",
            request_id=_request_id(request),
        )
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError) -> JSONResponse:
        return problem(
            status=409,
            type_="conflict",
            title="Conflict",
            detail="The resource was changed by someone else; reload it and apply your change again.",
            request_id=_request_id(request),
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        return problem(
            status=409,
            type_="conflict",
            title="Conflict",
            detail="The request conflicts with existing data (a duplicate reference?).",
            request_id=_request_id(request),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        from service.security.redaction import redact  # late: security imports errors

        logger.exception(
            "unhandled error request_id=%s path=%s", _request_id(request), redact(request.url.path)
        )
        return problem(
            status=500,
            type_="internal-error",
            title="Internal server error",
            detail="An unexpected error occurred; it has been logged with the request id.",
            request_id=_request_id(request),
        )
