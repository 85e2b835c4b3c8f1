"""Web page benchmark: render time of the coach's candidate page at 20,000 open vacancies (prints figures).

    .venv/bin/python -m benchmarks.web_bench [--vacancies 20000] [--candidates 200] [--requests 300]

A scratch SQLite file (or ``DATABASE_URL`` when it names PostgreSQL — use a scratch database, it is reset) is
filled with synthetic Twente data through the same loader as ``werkmatch seed``; a coach signs in through the
real sign-in form of a uvicorn server (in a thread of this process) and ``GET /kandidaten/{id}`` is requested
over HTTP with keep-alive for different candidates: session cookie, live ranking with explanations of the top
20, Jinja2 rendering, the audit write and its commit. All vacancies are open (the figure is "at N open
vacancies"). The index is built before timing (the server warms it at start). Target (issue 8): p95 ≤ 100 ms.
One client, so the figure is latency, not throughput.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from service.auth.keys import create_api_key
from service.auth.principal import Role
from service.demo.generator import generate_candidates, generate_vacancies
from service.main import create_app
from service.matches.live import get_live_index
from service.persistence.db import make_engine, make_sessionmaker, session_scope
from service.persistence.migrate import upgrade
from service.persistence.models import Candidate
from service.seeding import load_payloads
from service.settings import Settings, normalise_database_url
from tests.web.conftest import ServerThread, free_port

SECRET = "werkmatch-bench-secret-0123456789abcdef"


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")


def _database(directory: Path) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgresql", "postgres")):
        from sqlalchemy import text

        url = normalise_database_url(url)
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        return url
    return f"sqlite:///{directory / 'web-bench.db'}"


def main() -> None:
    parser = argparse.ArgumentParser(description="Candidate page render time at N vacancies.")
    parser.add_argument("--vacancies", type=int, default=20_000)
    parser.add_argument("--candidates", type=int, default=200)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        url = _database(Path(directory))
        upgrade(url)
        factory = make_sessionmaker(make_engine(url))
        started = time.perf_counter()
        load_payloads(
            factory,
            candidates=generate_candidates(args.candidates, seed=args.seed),
            vacancies=(dict(v, status="open") for v in generate_vacancies(args.vacancies, seed=args.seed)),
            secret=SECRET,
        )
        with session_scope(factory) as session:
            municipalities = sorted({m for (m,) in session.query(Candidate.municipality).distinct()})
            ids = [str(i) for (i,) in session.query(Candidate.id).order_by(Candidate.id)]
            key = create_api_key(session, role=Role.COACH, municipalities=municipalities).key
        load_s = time.perf_counter() - started

        app = create_app(Settings(database_url=url, environment="test", secret_key=SECRET))
        server = ServerThread(app, free_port())
        server.start()
        try:
            with httpx.Client(base_url=server.base_url, timeout=60) as client:
                form = client.get("/aanmelden").text
                token = re.search(r'name="csrf_token" value="([^"]+)"', form)
                assert token is not None
                signed_in = client.post(
                    "/aanmelden", data={"api_key": key, "csrf_token": token.group(1)}, follow_redirects=False
                )
                assert signed_in.status_code == 303, signed_in.text
                started = time.perf_counter()
                get_live_index(app).ensure_fresh()
                index_s = time.perf_counter() - started
                counts = get_live_index(app).counts()
                for candidate_id in ids[:10]:  # warm-up: templates compiled, connections pooled
                    assert client.get(f"/kandidaten/{candidate_id}").status_code == 200
                timings: list[float] = []
                matches: list[int] = []
                for n in range(args.requests):
                    candidate_id = ids[n % len(ids)]
                    started = time.perf_counter()
                    response = client.get(f"/kandidaten/{candidate_id}")
                    timings.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200
                    matches.append(response.text.count('<li class="match"'))
        finally:
            server.stop()
        app.state.engine.dispose()

    timings.sort()
    p50 = statistics.median(timings)
    p95 = timings[max(0, int(round(0.95 * len(timings))) - 1)]
    figures = {
        "database": url.split(":", 1)[0],
        "open_vacancies_indexed": counts["vacancies"],
        "active_candidates_indexed": counts["candidates"],
        "requests": len(timings),
        "matches_shown_mean": round(statistics.mean(matches), 1),
        "candidate_page_p50_ms": round(p50, 1),
        "candidate_page_p95_ms": round(p95, 1),
        "candidate_page_max_ms": round(timings[-1], 1),
        "seed_load_s": round(load_s, 1),
        "index_build_s": round(index_s, 1),
        # Other processes on the machine inflate latency; the load average says how busy it was.
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }
    _out(
        f"candidate page, {counts['vacancies']} open vacancies, {len(timings)} requests: "
        f"p50 {p50:.1f} ms, p95 {p95:.1f} ms (target p95 <= 100 ms), max {timings[-1]:.1f} ms"
    )
    _out(json.dumps(figures))


if __name__ == "__main__":
    from benchmarks._pipes import run

    run(main)
