"""Screenshots of the coach's web page for the README: docs/worklist.png and docs/candidate.png at 1366×768.

Builds a scratch SQLite database with the `werkmatch demo` data, runs the nightly batch twice (the second
time after new vacancies arrived, so the worklist has "new good matches"), serves it with uvicorn on a free
port and drives Debian's Chromium through Playwright::

    .venv/bin/python scripts/screenshots.py [--output docs]
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import uvicorn

from scripts.cli import DEMO_KEYS
from service.auth.keys import create_api_key
from service.auth.principal import Role
from service.batch.runner import run_batch
from service.demo.generator import demo_dataset, generate_vacancies
from service.main import create_app
from service.persistence.db import make_engine, make_sessionmaker, session_scope
from service.persistence.migrate import upgrade
from service.seeding import load_payloads
from service.settings import Settings

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SECRET = "werkmatch-screenshots-secret-0123456789"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build_database(directory: Path) -> tuple[str, str]:
    """A demo database with two published batch runs; its URL and a coach key (Almelo, Enschede, Hengelo)."""
    url = f"sqlite:///{directory / 'screenshots.db'}"
    upgrade(url)
    factory = make_sessionmaker(make_engine(url))
    candidates, vacancies = demo_dataset()
    load_payloads(factory, candidates=candidates, vacancies=vacancies, secret=SECRET)
    run_batch(url, workers=1)
    # New vacancies after the first run: the second run finds new good matches for some candidates.
    extra = [dict(v, external_ref=f"NEW-{i}") for i, v in enumerate(generate_vacancies(60, seed=7))]
    load_payloads(factory, candidates=[], vacancies=extra, secret=SECRET)
    run_batch(url, workers=1)
    municipalities = next(m for role, m, _employer, _label in DEMO_KEYS if role == "coach")
    with session_scope(factory) as session:
        key = create_api_key(session, role=Role.COACH, municipalities=list(municipalities)).key
    return url, key


def take(url: str, key: str, output: Path) -> None:
    """Sign in, capture the worklist and the candidate with the most new good matches."""
    from playwright.sync_api import sync_playwright

    app = create_app(Settings(database_url=url, environment="test", secret_key=SECRET))
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="nl-NL")
            page.goto(base + "/aanmelden")
            page.get_by_label("Sleutel (API-key)").fill(key)
            page.get_by_role("button", name="Aanmelden").click()
            page.screenshot(path=str(output / "worklist.png"))
            badge = page.locator("table.worklist tbody tr", has=page.locator(".badge")).first
            (badge if badge.count() else page.locator("table.worklist tbody tr").first).locator(
                "a"
            ).first.click()
            page.locator("ol.match-list").wait_for()
            page.screenshot(path=str(output / "candidate.png"))
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("docs"))
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("WERKMATCH_ENVIRONMENT", "test")
    with tempfile.TemporaryDirectory() as directory:
        url, key = build_database(Path(directory))
        take(url, key, args.output)
    sys.stderr.write(f"wrote {args.output / 'worklist.png'} and {args.output / 'candidate.png'}\n")


if __name__ == "__main__":
    main()
