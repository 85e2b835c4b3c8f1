"""The FastAPI application factory."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from service.errors import install_error_handlers
from service.middleware import GuardMiddleware
from service.persistence.db import make_engine, make_sessionmaker
from service.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for one database. Migrations are applied by `werkmatch serve` / `db upgrade`, not here."""
    from service.candidates.router import router as candidates_router
    from service.system.router import router as system_router
    from service.vacancies.router import router as vacancies_router

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
    install_error_handlers(app)
    for router in (system_router, candidates_router, vacancies_router):
        app.include_router(router)
    app.add_middleware(GuardMiddleware, max_body_bytes=settings.max_body_bytes)
    logging.getLogger("werkmatch").setLevel(logging.INFO)
    return app
