"""The real `werkmatch` command in subprocesses: help, migrations, keys, seed, demo and serve."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import candidate_payload, vacancy_payload

WERKMATCH = [sys.executable, "-m", "scripts.cli"]
REPO = Path(__file__).resolve().parents[2]


def run(args: list[str], *, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*WERKMATCH, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False
    )


def sqlite_env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "WERKMATCH_SECRET_KEY": "cli-test-secret-0123456789",
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_health(base: str, process: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {process.stderr.read() if process.stderr else ''}")
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("server did not become healthy")


class TestHelp:
    def test_help_lists_the_commands(self, tmp_path):
        result = run(["--help"], env=sqlite_env(tmp_path))
        assert result.returncode == 0
        for command in ("serve", "demo", "db", "keys", "seed", "eval"):
            assert command in result.stdout

    def test_unknown_command_is_usage_error(self, tmp_path):
        result = run(["frobnicate"], env=sqlite_env(tmp_path))
        assert result.returncode == 2

    def test_a_database_without_the_schema_is_a_one_line_error(self, tmp_path):
        result = run(["batch", "export", "latest"], env=sqlite_env(tmp_path))
        assert result.returncode == 1
        assert "werkmatch db upgrade" in result.stderr
        assert "Traceback" not in result.stderr
        assert result.stdout == ""


class TestKeys:
    def test_key_is_last_line_and_works(self, tmp_path, client):
        env = sqlite_env(tmp_path)
        assert run(["db", "upgrade"], env=env).returncode == 0
        result = run(
            ["keys", "create", "--role", "coach", "--municipality", "GM0153", "--municipality", "GM0141"],
            env=env,
        )
        assert result.returncode == 0, result.stderr
        key = result.stdout.strip().splitlines()[-1]
        assert key.startswith("wm_")
        assert len(key) > 40
        employer = run(
            ["keys", "create", "--role", "employer", "--employer", "Grenzland Logistik GmbH"], env=env
        )
        assert employer.returncode == 0
        # The key is stored only as a digest.
        assert key.encode() not in (tmp_path / "cli.db").read_bytes()

    def test_coach_without_municipality_is_refused(self, tmp_path):
        result = run(["keys", "create", "--role", "coach"], env=sqlite_env(tmp_path))
        assert result.returncode == 2
        assert "municipality" in result.stderr

    def test_bad_role_is_usage_error(self, tmp_path):
        assert run(["keys", "create", "--role", "king"], env=sqlite_env(tmp_path)).returncode == 2


class TestSeed:
    def test_seed_is_deterministic_in_content(self, tmp_path):
        env = sqlite_env(tmp_path)
        result = run(["seed", "--candidates", "120", "--vacancies", "60", "--seed", "7"], env=env)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout.strip().splitlines()[-1])["candidates"] == 120


class TestServe:
    def test_serve_end_to_end(self, tmp_path):
        env = sqlite_env(tmp_path)
        coach = run(
            ["keys", "create", "--role", "coach", "--municipality", "GM0153"], env=env
        ).stdout.split()[-1]
        employer = run(
            ["keys", "create", "--role", "employer", "--employer", "Acme"], env=env
        ).stdout.split()[-1]
        other = run(["keys", "create", "--role", "employer", "--employer", "Other"], env=env).stdout.split()[
            -1
        ]
        port = free_port()
        process = subprocess.Popen(
            [*WERKMATCH, "serve", "--port", str(port)],
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for_health(base, process)
            auth = {"Authorization": f"Bearer {coach}"}
            created = httpx.post(f"{base}/api/v1/candidates", json=candidate_payload(), headers=auth)
            assert created.status_code == 201
            assert "111222333" not in created.text
            cid = created.json()["id"]
            # A coach's search puts a name in the query string; the access log must not keep it.
            found = httpx.get(f"{base}/api/v1/candidates", params={"q": "El Idrissi"}, headers=auth)
            assert found.status_code == 200
            assert found.json()["total"] == 1
            assert (
                httpx.get(
                    f"{base}/api/v1/candidates/{cid}", headers={"Authorization": f"Bearer {employer}"}
                ).status_code
                == 404
            )
            vacancy = httpx.post(
                f"{base}/api/v1/vacancies",
                json=vacancy_payload(),
                headers={"Authorization": f"Bearer {employer}"},
            )
            assert vacancy.status_code == 201
            vid = vacancy.json()["id"]
            assert httpx.get(f"{base}/api/v1/vacancies/{vid}", headers=auth).status_code == 200
            assert (
                httpx.get(
                    f"{base}/api/v1/vacancies/{vid}", headers={"Authorization": f"Bearer {other}"}
                ).status_code
                == 404
            )
        finally:
            process.terminate()
            _out, err = process.communicate(timeout=30)
        assert "111222333" not in err
        assert coach not in err
        # The access log is werkmatch's (method, path, status): no query strings, so no names.
        assert "method=GET path=/api/v1/candidates status=200" in err
        assert "Idrissi" not in err
        assert "q=" not in err


@pytest.mark.slow
class TestDemo:
    def test_demo_creates_data_and_keys(self, tmp_path):
        env = sqlite_env(tmp_path)
        result = run(["demo", "--database", str(tmp_path / "demo.db"), "--no-serve"], env=env, timeout=300)
        assert result.returncode == 0, result.stderr
        lines = [line for line in result.stdout.splitlines() if "wm_" in line]
        roles = {line.split()[0] for line in lines}
        assert roles == {"coach", "employer", "admin", "batch"}
