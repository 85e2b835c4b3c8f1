"""Fixtures of the web page tests: a real uvicorn server on a free port over the migrated test database,
seeded through the real API, and a headless Chromium driven by Playwright.

Chromium is Debian's package (`apt-get install chromium`), never a Playwright download. Without it the browser
tests skip with a reason — except under `CI=true`, where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from service.auth.keys import create_api_key
from service.auth.principal import Role
from service.main import create_app
from service.persistence.db import session_scope
from service.settings import Settings
from tests.conftest import candidate_payload, truncate_all, vacancy_payload

CHROMIUM = os.environ.get("WERKMATCH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str | None:
    """The Chromium binary, or None. Under CI a missing browser fails the run instead of skipping."""
    path = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if path is None and os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI is set but Chromium is missing at {CHROMIUM} (apt-get install chromium)")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerThread:
    """uvicorn serving one app in a background thread (started and stopped by the fixture)."""

    def __init__(self, app: Any, port: int) -> None:
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        )
        self.thread = threading.Thread(target=self.server.run, name="werkmatch-test-server", daemon=True)
        self.base_url = f"http://127.0.0.1:{port}"

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@dataclass
class Seeded:
    """What the web tests run against: a server, keys and ids of the seeded profiles."""

    base_url: str
    keys: dict[str, str]
    candidates: dict[str, str] = field(default_factory=dict)
    vacancies: dict[str, str] = field(default_factory=dict)


def _key(factory: sessionmaker[Session], role: str, **kwargs: Any) -> str:
    with session_scope(factory) as session:
        return create_api_key(session, role=Role(role), **kwargs).key


def seed(base_url: str, factory: sessionmaker[Session]) -> Seeded:
    """Keys, candidates in Enschede (GM0153) and Almelo (GM0141) and vacancies, through the real API."""
    keys = {
        "coach_a": _key(factory, "coach", municipalities=["GM0153"]),
        "coach_b": _key(factory, "coach", municipalities=["GM0141"]),
        "employer": _key(factory, "employer", employer_name="Logistiek XL Almelo B.V."),
        "employer_zorg": _key(factory, "employer", employer_name="Zorggroep Hengelo"),
    }
    seeded = Seeded(base_url=base_url, keys=keys)
    with httpx.Client(base_url=base_url, timeout=30) as http:

        def post(path: str, key: str, body: dict[str, Any]) -> str:
            response = http.post(path, json=body, headers={"Authorization": f"Bearer {key}"})
            assert response.status_code == 201, response.text
            return str(response.json()["id"])

        seeded.candidates["fatima"] = post(
            "/api/v1/candidates",
            keys["coach_a"],
            candidate_payload(external_ref="KL-1001", given_name="Fatima", family_name="El Idrissi"),
        )
        seeded.candidates["jan"] = post(
            "/api/v1/candidates",
            keys["coach_a"],
            candidate_payload(
                external_ref="KL-1002",
                given_name="Jan",
                family_name="Bosch",
                sectors=["zorg"],
                support="with_support",
                desired_occupations=[{"label": "helpende zorg en welzijn"}],
                competences=[{"label": "persoonlijke verzorging"}],
                certificates=[],
            ),
        )
        seeded.candidates["sanne"] = post(
            "/api/v1/candidates",
            keys["coach_b"],
            candidate_payload(
                external_ref="AL-2001",
                municipality="GM0141",
                given_name="Sanne",
                family_name="Mulder",
                postcode="7607 AA",
            ),
        )
        seeded.vacancies["orderpicker"] = post(
            "/api/v1/vacancies",
            keys["employer"],
            vacancy_payload(external_ref="VAC-1", title="Orderpicker XL Businesspark"),
        )
        seeded.vacancies["reachtruck"] = post(
            "/api/v1/vacancies",
            keys["employer"],
            vacancy_payload(
                external_ref="VAC-2",
                title="Reachtruckchauffeur",
                certificates_required=["VCA-basis", "reachtruck"],
            ),
        )
        seeded.vacancies["zorg"] = post(
            "/api/v1/vacancies",
            keys["employer_zorg"],
            vacancy_payload(
                external_ref="VAC-3",
                title="Helpende zorg",
                sector="zorg",
                occupation={"label": "helpende zorg"},
                competences_required=[{"label": "persoonlijke verzorging"}],
                competences_desired=[],
                certificates_required=[],
                postcode="7552 AA",
            ),
        )
    return seeded


@pytest.fixture(scope="module")
def live_server(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session]
) -> Iterator[Seeded]:
    """A seeded database served by uvicorn on a free port, for the whole module."""
    truncate_all(engine)
    app = create_app(settings)
    server = ServerThread(app, free_port())
    server.start()
    try:
        yield seed(server.base_url, session_factory)
    finally:
        server.stop()
        app.state.engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium through Playwright (skips without it, unless CI is set)."""
    path = chromium_path()
    if path is None:
        pytest.skip(f"Chromium not installed at {CHROMIUM} (apt-get install chromium); CI is not set")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) at 1366×768."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="nl-NL")
    try:
        yield context.new_page()
    finally:
        context.close()


def sign_in(page: Any, base_url: str, key: str) -> None:
    """Fill the sign-in form like a coach would."""
    page.goto(base_url + "/aanmelden")
    page.get_by_label("Sleutel (API-key)").fill(key)
    # Wait for the form's answer page (signed in or refused) to load:
    # keys pressed during the navigation get lost.
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name="Aanmelden").click()


__all__ = ["Seeded", "chromium_path", "sign_in"]
