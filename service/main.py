"""The FastAPI application factory."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from service.errors import install_error_handlers
from service.middleware import GuardMiddleware
from service.persistence.db import make_engine, make_sessionmaker, writer_engine
from service.security import install_security
from service.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for one database. Migrations are applied by `werkmatch serve` / `db upgrade`, not
    here."""
    from service.audit.router import router as audit_router
    from service.batch.router import router as batch_router
    from service.candidates.router import router as candidates_router
    from service.gdpr.router import router as gdpr_router
    from service.interop.router import router as interop_router
    from service.matches.router import router as matches_router
    from service.proposals.router import router as proposals_router
    from service.reports.router import router as reports_router
    from service.system.router import router as system_router
    from service.taxonomy.router import router as taxonomy_router
    from service.vacancies.router import router as vacancies_router
    from service.web.router import router as web_router
    from service.web.router import static_files

    settings = settings or get_settings()
    docs = settings.docs_enabled and settings.environment != "production"
    app = FastAPI(
        title="werkmatch",
        version="0.1.0",
        summary="Explainable candidate-vacancy matching for Dutch municipalities",
        docs_url="/docs" if docs else None,
        redoc_url=None,
        openapi_url="/openapi.json" if docs else None,
    )
    engine = make_engine(settings.database_url)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.write_engine = writer_engine(engine)
    install_error_handlers(app)
    for router in (
        system_router,
        candidates_router,
        vacancies_router,
        audit_router,
        gdpr_router,
        web_router,
        matches_router,
        proposals_router,
        reports_router,
        taxonomy_router,
        interop_router,
        batch_router,
    ):
        app.include_router(router)
    app.mount("/static", static_files(), name="static")
    app.add_middleware(GuardMiddleware, max_body_bytes=settings.max_body_bytes)
    install_security(app, settings)  # security headers, CORS allow-list, rate limits, log redaction
    logging.getLogger("werkmatch").setLevel(logging.INFO)
    if settings.warm_index_on_start:
        from service.matches.live import warm_up

        warm_up(app)
    return app
