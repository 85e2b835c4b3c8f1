"""`werkmatch bench --http --scale tiny` in a subprocess, so the HTTP load test cannot rot.

No time is asserted: only that seeding, serving a fresh copy, the keys, locust and the report work end to end
(on SQLite, which is always there), that every request type was sent and answered without errors, and that
the JSON has one key per figure.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# Never import locust here: it monkey-patches the standard library (gevent) for the whole test process. It is
# in the test extra, so this test always runs.
assert importlib.util.find_spec("locust") is not None, "pip install -e '.[test]' installs locust"

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("bench-http")
    output = work / "results.json"
    script = Path(sys.executable).with_name("werkmatch")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "scripts.cli"]
    completed = subprocess.run(
        [
            *command,
            "bench",
            "--http",
            "--scale",
            "tiny",
            "--rate",
            "10",
            "--duration",
            "15",
            "--http-database",
            "sqlite",
            "--workdir",
            str(work),
            "--output",
            str(output),
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(output.read_text())


class TestHttpBenchSmoke:
    def test_every_request_type_was_sent_and_answered(self, results: dict) -> None:
        assert results["http_errors"] == 0, results.get("http_failures")
        for kind in ("match", "candidate_read", "vacancy_post"):
            assert results[f"http_{kind}_requests"] > 0
            assert results[f"http_{kind}_errors"] == 0
            for p in ("p50", "p95", "p99"):
                assert results[f"http_{kind}_{p}_ms"] is not None

    def test_the_report_says_how_it_was_measured(self, results: dict) -> None:
        assert results["http_achieved_rps"] > 0
        key = "http_server_cpu_ms_per_request"
        assert results[key] is not None or key in results["not_measured"]
        assert results["database"] == "sqlite"
        # The host's speed is part of every report (runs on different hosts are compared with it).
        assert results["machine_python_yardstick_ms"] > 0
        assert results["machine_numpy_yardstick_ms"] > 0
        assert results["machine_thread_handoff_ms"] > 0
