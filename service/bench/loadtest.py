"""`werkmatch bench --http`: locust (headless) against `werkmatch serve`, server and load generator on
different cores.

The data set (twente: 50,000 candidates × 20,000 vacancies) is seeded once with `werkmatch seed` into a seed
database of the load test's own (``<bench database>_http_seed`` on PostgreSQL, ``http-<scale>-seed.db`` for
SQLite) and reused while its marker matches. Every run serves a fresh copy of it (``CREATE DATABASE ...
TEMPLATE`` on PostgreSQL, a file copy for SQLite), because the load test writes vacancies and audit entries:
reruns measure the same data without seeding again. ``--http-database`` picks the database (default:
PostgreSQL when it answers, else SQLite). API keys — one coach and one employer key per simulated user — are
created with the same function as `werkmatch keys create`. The server runs as `taskset -c 0 werkmatch serve`
on loopback; once a match query answers (the live index is built in the background at start), locust runs
pinned with `taskset -c 1` at the given mean arrival rate (see ``locustfile``) for the given duration. Its
CSV statistics give, per request type, the count, errors and p50/p95/p99; the server's own CPU time during the
run shows how busy its core was.
"""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from service.bench import yardstick
from service.bench.datasets import Scale, ensure_postgres_database, postgres_reason, seed_database
from service.bench.procs import werkmatch_command
from service.bench.report import Figure, Report, at_least, at_most

__all__ = ["MATCH", "POST", "READ", "LoadOptions", "run_loadtest"]

SECTION = "HTTP load (locust)"
# Request names in locust's statistics (the locustfile uses them too).
MATCH = "coach: GET /candidates/{id}/matches"
READ = "coach: GET /candidates/{id}"
POST = "employer: POST /vacancies"


@dataclass
class LoadOptions:
    """What `werkmatch bench --http` can be told."""

    scale: Scale
    seed: int
    workdir: Path
    postgres_url: str
    rate: float = 200.0
    duration: int = 60
    users: int | None = None
    fresh: bool = False
    command: str = "werkmatch bench --http"
    log: Callable[[str], None] = print
    ready_timeout: float = 900.0
    database: str | None = None  # "sqlite" or "postgres"; None: PostgreSQL when it answers, else SQLite


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pin(core: int) -> list[str]:
    """``taskset -c core`` when the machine has that core and taskset exists; else nothing (reported)."""
    usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
    if shutil.which("taskset") and core in usable and len(usable) > 1:
        return ["taskset", "-c", str(core)]
    return []


def _prepare_inputs(url: str, *, users: int, seed: int, path: Path) -> dict[str, int]:
    """Keys (one coach + one employer per user), candidate ids to query and vacancy payloads to post."""
    from sqlalchemy import func, select

    from service.auth.keys import create_api_key
    from service.auth.principal import Role
    from service.demo.generator import generate_vacancies
    from service.persistence.db import make_engine, make_sessionmaker, session_scope
    from service.persistence.models import Candidate

    engine = make_engine(url)
    try:
        factory = make_sessionmaker(engine)
        with session_scope(factory) as session:
            municipalities = sorted(session.scalars(select(Candidate.municipality).distinct()).all())
            ids = [
                str(i)
                for i in session.scalars(
                    select(Candidate.id)
                    .where(Candidate.status == "active")
                    .order_by(func.random())
                    .limit(5000)
                )
            ]
            coach_keys = [
                create_api_key(
                    session,
                    role=Role("coach"),
                    municipalities=municipalities,
                    employer_name=None,
                    label=f"bench coach {n}",
                ).key
                for n in range(users)
            ]
            employer_keys = [
                create_api_key(
                    session,
                    role=Role("employer"),
                    municipalities=[],
                    employer_name=f"Bench Werkgever {n % 10}",
                    label=f"bench employer {n}",
                ).key
                for n in range(users)
            ]
    finally:
        engine.dispose()
    payloads = []
    for payload in generate_vacancies(400, seed=seed + 1000):
        payload = dict(payload)
        payload.pop("employer_name", None)
        payloads.append(payload)
    path.write_text(
        json.dumps(
            {
                "coach_keys": coach_keys,
                "employer_keys": employer_keys,
                "candidate_ids": ids,
                "vacancy_payloads": payloads,
            }
        )
    )
    return {"municipalities": len(municipalities), "candidate_ids": len(ids)}


def _wait_ready(
    base: str, *, key: str, candidate_id: str, timeout: float, server: subprocess.Popen[bytes]
) -> float:
    """Seconds until a match query answers 200 (the live index builds on first use)."""
    started = time.perf_counter()
    headers = {"Authorization": f"Bearer {key}"}
    while time.perf_counter() - started < timeout:
        if server.poll() is not None:
            raise RuntimeError(f"werkmatch serve exited with {server.returncode}")
        try:
            response = httpx.get(
                f"{base}/api/v1/candidates/{candidate_id}/matches?limit=50", headers=headers, timeout=600
            )
            if response.status_code == 200:
                return time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(1.0)
    raise TimeoutError(f"no match answer within {timeout:.0f} s")


def _read_stats(prefix: Path) -> dict[str, dict[str, str]]:
    with open(f"{prefix}_stats.csv", encoding="utf-8", newline="") as handle:
        return {row["Name"]: row for row in csv.DictReader(handle)}


def _with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


def _copy_postgres(seed_url: str, run_url: str) -> None:
    """Replace the run database with a copy of the seed database (a file-level copy: seconds, not a seed)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from service.settings import normalise_database_url

    seed_name = make_url(normalise_database_url(seed_url)).database
    run_name = make_url(normalise_database_url(run_url)).database
    admin = make_url(normalise_database_url(run_url)).set(database="postgres")
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{run_name}" WITH (FORCE)'))
            # CREATE DATABASE ... TEMPLATE fails while anything is connected to the template (a seeding run
            # that was killed, a psql session): those connections are closed first.
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": seed_name},
            )
            connection.execute(text(f'CREATE DATABASE "{run_name}" TEMPLATE "{seed_name}"'))
    finally:
        engine.dispose()


def _copy_sqlite(seed_url: str, run_url: str) -> None:
    """Replace the run database file with a copy of the seed file (checkpointed first, so one file is all)."""
    import sqlite3

    seed = Path(seed_url.removeprefix("sqlite:///"))
    run = Path(run_url.removeprefix("sqlite:///"))
    with sqlite3.connect(seed) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{run}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(seed, run)


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process (None when it cannot be read)."""
    try:
        import psutil

        times = psutil.Process(pid).cpu_times()
    except Exception:  # noqa: BLE001 - a figure that cannot be read is reported as missing
        return None
    return float(times.user + times.system)


def run_loadtest(options: LoadOptions) -> Report:
    """Seed, serve, run locust, and report per request type (raises when the load test cannot run)."""
    import importlib.util

    # Never import locust here: it monkey-patches the standard library (gevent) for the whole process.
    if importlib.util.find_spec("locust") is None:
        raise RuntimeError("locust is not installed: pip install -e '.[bench]'")

    log = options.log
    scale = options.scale
    workdir = options.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    report = Report(scale.name, options.command)
    yardstick.record(report, log)
    users = options.users or max(10, round(options.rate / 4))
    targets = scale.name == "twente" and options.rate >= 200 and options.duration >= 60
    reason = (
        postgres_reason(options.postgres_url) if options.database != "sqlite" else "--http-database sqlite"
    )
    if options.database == "postgres" and reason is not None:
        raise RuntimeError(f"--http-database postgres: {reason}")
    if reason is None:
        bench_db = options.postgres_url.rsplit("/", 1)[1]
        seed_url = _with_database(options.postgres_url, f"{bench_db}_http_seed")
        url = _with_database(options.postgres_url, f"{bench_db}_http")
        ensure_postgres_database(seed_url)
        database = "postgresql"
        copy: Callable[[str, str], None] = _copy_postgres
    else:
        seed_url = f"sqlite:///{(workdir / f'http-{scale.name}-seed.db').resolve()}"
        url = f"sqlite:///{(workdir / f'http-{scale.name}.db').resolve()}"
        database = "sqlite" if options.database == "sqlite" else f"sqlite ({reason})"
        copy = _copy_sqlite
    log(f"load test data set: {scale.candidates:,} × {scale.vacancies:,} in {seed_url.split('@')[-1]}")
    dataset = seed_database(
        seed_url,
        scale=scale,
        seed=options.seed,
        marker=workdir / f"http-{scale.name}-{database.split()[0]}.json",
        fresh=options.fresh,
    )
    log(f"serving a fresh copy: {url.split('@')[-1]}")
    copy(seed_url, url)
    data_path = workdir / "locust-data.json"
    prepared = _prepare_inputs(url, users=users, seed=options.seed, path=data_path)
    report.context.update(
        {
            "database": database,
            "users": users,
            "target_rate": options.rate,
            "duration_s": options.duration,
            "arrivals": os.environ.get("WERKMATCH_LOCUST_ARRIVALS", "poisson"),
            "candidates_active": dataset.active_candidates,
            "vacancies_open": dataset.open_vacancies,
            **prepared,
        }
    )
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server_pin, load_pin = _pin(0), _pin(1)
    report.context["pinning"] = (
        f"server {' '.join(server_pin) or 'unpinned'}; locust {' '.join(load_pin) or 'unpinned'}"
    )
    server_log = open(workdir / "serve.log", "wb")  # noqa: SIM115 - closed in finally
    server = subprocess.Popen(
        [*server_pin, *werkmatch_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, "DATABASE_URL": url},
        stdout=server_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        data = json.loads(data_path.read_text())
        log(f"werkmatch serve on {base}; waiting for the live index")
        ready = _wait_ready(
            base,
            key=data["coach_keys"][0],
            candidate_id=random.Random(1).choice(data["candidate_ids"]),
            timeout=options.ready_timeout,
            server=server,
        )
        report.context["server_ready_seconds"] = round(ready, 1)
        cpu_before = _cpu_seconds(server.pid)
        load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
        started = time.perf_counter()
        prefix = workdir / "locust"
        log(f"locust: {users} users × {options.rate / users:.2f} req/s for {options.duration} s")
        locust = [str(Path(sys.executable).with_name("locust"))]
        if not Path(locust[0]).exists():
            locust = [sys.executable, "-m", "locust"]
        result = subprocess.run(
            [
                *load_pin,
                *locust,
                "-f",
                str(Path(__file__).with_name("locustfile.py")),
                "--headless",
                "-u",
                str(users),
                "-r",
                str(users),
                "-t",
                f"{options.duration}s",
                "--host",
                base,
                "--csv",
                str(prefix),
                "--only-summary",
                "--stop-timeout",
                "10",
                "--exit-code-on-error",
                "0",
            ],
            env={
                **os.environ,
                "WERKMATCH_LOCUST_DATA": str(data_path),
                "WERKMATCH_LOCUST_USER_RATE": f"{options.rate / users:.6f}",
            },
            capture_output=True,
            text=True,
            timeout=options.duration + 180,
        )
        elapsed = time.perf_counter() - started
        cpu_after = _cpu_seconds(server.pid)
        (workdir / "locust.log").write_text(result.stdout + result.stderr)
        stats = _read_stats(prefix)
        if hasattr(os, "getloadavg"):
            report.context["load_average"] = {"start": load_before, "end": os.getloadavg()[0]}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        server_log.close()
    total = stats.get("Aggregated")
    if total is None:
        raise RuntimeError(f"locust wrote no statistics; see {workdir / 'locust.log'}")
    achieved = float(total["Requests/s"])
    errors = int(total["Failure Count"])
    report.add(
        Figure(
            "http_achieved_rps",
            SECTION,
            f"achieved rate (offered {options.rate:g}/s)",
            round(achieved, 1),
            " req/s",
            at_least(200, " req/s") if targets else None,
        )
    )
    report.add(
        Figure(
            "http_errors",
            SECTION,
            "errors (all request types)",
            errors,
            "",
            at_most(0, "") if targets else None,
        )
    )
    report.add(Figure("http_requests", SECTION, "requests", int(total["Request Count"])))
    if cpu_before is not None and cpu_after is not None and elapsed > 0:
        busy = (cpu_after - cpu_before) / elapsed
        report.add(
            Figure(
                "http_server_cpu_share", SECTION, "server CPU: share of its core", round(busy * 100, 1), " %"
            )
        )
        requests = int(total["Request Count"])
        if requests:
            per_request = (cpu_after - cpu_before) * 1000 / requests
            report.add(
                Figure(
                    "http_server_cpu_ms_per_request",
                    SECTION,
                    "server CPU per request (mix)",
                    round(per_request, 2),
                    " ms",
                )
            )
    else:
        for key, label, unit in (
            ("http_server_cpu_share", "server CPU: share of its core", " %"),
            ("http_server_cpu_ms_per_request", "server CPU per request (mix)", " ms"),
        ):
            report.missing(
                key=key, section=SECTION, label=label, reason="psutil could not read it", unit=unit
            )
    for name, key in ((MATCH, "match"), (READ, "candidate_read"), (POST, "vacancy_post")):
        row = stats.get(name)
        if row is None:
            for p in ("p50", "p95", "p99"):
                report.missing(
                    key=f"http_{key}_{p}_ms",
                    section=SECTION,
                    label=f"{name} {p}",
                    reason="no such requests in locust's statistics",
                    unit=" ms",
                )
            continue
        report.add(Figure(f"http_{key}_requests", SECTION, f"{name}: requests", int(row["Request Count"])))
        report.add(Figure(f"http_{key}_errors", SECTION, f"{name}: errors", int(row["Failure Count"])))
        for p, column in (("p50", "50%"), ("p95", "95%"), ("p99", "99%")):
            target = at_most(25, " ms") if targets and key == "match" and p == "p95" else None
            value = row.get(column, "N/A")
            if value in ("N/A", ""):
                report.missing(
                    key=f"http_{key}_{p}_ms",
                    section=SECTION,
                    label=f"{name} {p}",
                    reason="no successful requests",
                    unit=" ms",
                )
            else:
                report.add(Figure(f"http_{key}_{p}_ms", SECTION, f"{name} {p}", float(value), " ms", target))
    failures = Path(f"{prefix}_failures.csv")
    if failures.exists():
        report.context["http_failures"] = failures.read_text()[:4000]
    return report
