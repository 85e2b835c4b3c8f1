"""Wiring of the transport protections into the app (called once from `create_app`, after the request
guard)."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from service.security.headers import SecurityHeadersMiddleware
from service.security.openapi import install_problem_responses
from service.security.ratelimit import RateLimitMiddleware
from service.security.redaction import install_log_redaction
from service.settings import Settings


def install_security(app: FastAPI, settings: Settings) -> None:
    """Security headers, CORS allow-list (none when empty), rate limits and log redaction.

    Resulting order, outermost first: security headers (so every response has them, 413 and 429 included), the
    request guard (request id, body limit), rate limits (cheap rejections before any database work), CORS,
    app."""
    app.user_middleware.insert(
        0, Middleware(SecurityHeadersMiddleware, hsts=settings.environment == "production")
    )
    app.user_middleware.append(
        Middleware(
            RateLimitMiddleware,
            per_minute=settings.rate_limit_per_minute,
            burst=settings.rate_limit_burst,
            auth_failures_per_minute=settings.auth_failure_limit_per_minute,
            auth_failure_burst=settings.auth_failure_burst,
        )
    )
    if settings.cors_origins:
        app.user_middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),  # an explicit allow-list; never "*"
                allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                allow_headers=["Authorization", "Content-Type", "If-Match", "Idempotency-Key"],
                expose_headers=["ETag", "Location", "Retry-After", "X-Request-ID"],
                allow_credentials=False,
                max_age=600,
            )
        )
    install_log_redaction()
    install_problem_responses(app)
