"""Document the error responses every API operation can give (problem+json), so clients and schema-driven
tests know them: 400 bad request, 401 no/invalid key, 403 role, 404 unknown or foreign id, 409 conflict, 413
body too large, 422 invalid input, 428 precondition, 429 rate limit (with Retry-After), 503 audit log
unavailable."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["type", "title", "status", "detail"],
}
ERRORS = {
    "400": "Bad request",
    "401": "Missing, unknown or revoked API key",
    "403": "Not allowed for this role",
    "404": "Unknown, or not visible to you (the same answer for both)",
    "409": "Conflict (e.g. a stale If-Match)",
    "413": "Payload too large",
    "422": "Invalid input",
    "428": "Precondition required",
    "429": "Rate limit exceeded; see Retry-After",
    "503": "The access could not be recorded in the audit log",
}


def install_problem_responses(app: FastAPI) -> None:
    """Wrap `app.openapi` so every /api/ operation lists the problem responses (added where not
    documented)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            routes=app.routes,
            description=app.description,
        )
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for path, item in schema.get("paths", {}).items():
            if not path.startswith("/api/"):
                continue
            for operation in item.values():
                responses = operation.setdefault("responses", {})
                for status, description in ERRORS.items():
                    documented = responses.get(status)
                    if documented is None:
                        responses[status] = {"description": description, "content": problem}
                    elif status == "422":
                        # FastAPI documents its own validation shape; ours is a problem document.
                        responses[status] = {"description": description, "content": problem}
                responses["429"]["headers"] = {
                    "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait"}
                }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
