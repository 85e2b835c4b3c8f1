"""Shared fixtures: a real database built by the Alembic migrations, the real app over httpx, real API keys.

The database is a SQLite file by default; when `DATABASE_URL` names PostgreSQL (as `.ci/run`'s second pass
does), the same suite runs against it, and an unreachable server is an error, never a skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from service.auth.keys import create_api_key
from service.auth.principal import Role
from service.main import create_app
from service.persistence.base import Base
from service.persistence.db import make_engine, make_sessionmaker, session_scope
from service.persistence.migrate import upgrade
from service.settings import Settings, normalise_database_url

TEST_SECRET = "werkmatch-test-secret-0123456789abcdef"

# Scans all log output of the run for BSNs and API keys (issue 5); fails the run on a hit.
pytest_plugins = ["tests.log_scan"]


def _postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return normalise_database_url(url) if url.startswith(("postgresql", "postgres")) else None


def reset_postgres(url: str) -> None:
    """Drop everything in the public schema so the migrations build it from scratch."""
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated database for the whole session (PostgreSQL when DATABASE_URL says so, else a SQLite
    file)."""
    url = _postgres_url()
    if url is None:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'werkmatch-test.db'}"
    else:
        reset_postgres(url)
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, environment="test", secret_key=TEST_SECRET)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


def truncate_all(engine: Engine, *, attempts: int = 3) -> None:
    """Empty every table. On PostgreSQL, TRUNCATE takes each table's exclusive lock in turn, so it can
    deadlock with a read of the app under test that is still running (a live-index poll after a response);
    the server then aborts one side, and when that is this statement it is simply run again."""
    tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
    for attempt in range(attempts):
        try:
            with engine.begin() as connection:
                if engine.dialect.name == "postgresql":
                    connection.execute(
                        text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
                    )
                else:
                    for table in tables:
                        connection.execute(text(f'DELETE FROM "{table}"'))
            return
        except OperationalError as exc:
            if attempt + 1 == attempts or getattr(exc.orig, "sqlstate", None) != "40P01":  # deadlock_detected
                raise


@pytest.fixture
def clean_db(engine: Engine) -> Engine:
    """Every test starts from empty tables (the schema stays)."""
    truncate_all(engine)
    return engine


@pytest.fixture
def app(settings: Settings, clean_db: Engine) -> Iterator[FastAPI]:
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@dataclass(frozen=True)
class Key:
    """An API key made for a test, with its ready-to-use header."""

    key: str
    role: str
    municipalities: tuple[str, ...] = ()
    employer: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@pytest.fixture
def make_key(session_factory: sessionmaker[Session], clean_db: Engine) -> Callable[..., Key]:
    def _make(role: str, *, municipalities: tuple[str, ...] = (), employer: str | None = None) -> Key:
        with session_scope(session_factory) as session:
            issued = create_api_key(
                session, role=Role(role), municipalities=list(municipalities), employer_name=employer
            )
        return Key(key=issued.key, role=role, municipalities=municipalities, employer=employer)

    return _make


@pytest.fixture
def keys(make_key: Callable[..., Key]) -> dict[str, Key]:
    """The cast of the authorization tests: coaches of two municipalities, two employers, admin, batch."""
    return {
        "coach_a": make_key("coach", municipalities=("GM0153",)),
        "coach_b": make_key("coach", municipalities=("GM0141",)),
        "employer_x": make_key("employer", employer="Logistiek XL Almelo B.V."),
        "employer_y": make_key("employer", employer="Zorggroep Hengelo"),
        "admin": make_key("admin"),
        "batch": make_key("batch"),
    }


def create(client: TestClient, path: str, body: dict[str, object], key: Key) -> dict:  # type: ignore[type-arg]
    """POST ``body`` to ``path`` with ``key``; the test fails unless the resource is created (201)."""
    response = client.post(path, json=body, headers=key.headers)
    assert response.status_code == 201, response.text
    return response.json()


def candidate_payload(**overrides: object) -> dict[str, object]:
    """A valid candidate body (keyword overrides replace fields)."""
    body: dict[str, object] = {
        "external_ref": f"KL-{uuid.uuid4().hex[:8]}",
        "municipality": "GM0153",
        "bsn": "111222333",
        "given_name": "Fatima",
        "family_name": "El Idrissi",
        "postcode": "7511 AB",
        "country": "NL",
        "max_travel_km": 25,
        "hours_min": 24,
        "hours_max": 36,
        "desired_occupations": [{"label": "magazijnmedewerker"}],
        "competences": [{"label": "orderpicken"}, {"label": "heftruck besturen"}],
        "experience": [{"occupation": {"label": "orderpicker"}, "years": 2}],
        "education_level": "mbo2",
        "languages": {"nl": "2F", "en": "A2"},
        "driving_licences": ["B"],
        "certificates": ["VCA-basis", "heftruck"],
        "work_countries": ["NL", "DE"],
        "sectors": ["logistiek"],
        "support": "direct",
        "target_group_register": False,
        "status": "active",
    }
    body.update(overrides)
    return body


def vacancy_payload(**overrides: object) -> dict[str, object]:
    """A valid vacancy body (keyword overrides replace fields)."""
    body: dict[str, object] = {
        "external_ref": f"VAC-{uuid.uuid4().hex[:8]}",
        "title": "Orderpicker / magazijnmedewerker XL Businesspark",
        "description": "Je verzamelt orders met de reachtruck in ons distributiecentrum.",
        "occupation": {"label": "magazijnmedewerker"},
        "sector": "logistiek",
        "competences_required": [{"label": "orderpicken"}, {"label": "heftruck besturen"}],
        "competences_desired": [{"label": "voorraadbeheer"}],
        "education_level_min": "vmbo",
        "languages_required": {"nl": "1F"},
        "driving_licences_required": [],
        "certificates_required": ["VCA-basis"],
        "postcode": "7602 KR",
        "country": "NL",
        "hours_min": 32,
        "hours_max": 40,
        "contract": "temporary",
        "positions": 3,
        "garantiebaan": False,
        "wage_subsidy_possible": True,
        "closes_at": "2027-03-01",
        "status": "open",
    }
    body.update(overrides)
    return body


REPO_ROOT = Path(__file__).resolve().parents[1]
