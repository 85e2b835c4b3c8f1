"""`werkmatch bench --scale tiny` in a subprocess, so the benchmark command cannot rot.

No time is asserted: only that the command runs end to end, writes one JSON key per figure, and measures
every part that can run here. The PostgreSQL parts use a database of the test's own; they may be missing only
when no PostgreSQL answers and CI is not set (then they must be reported as not measured, with a reason).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from service.bench.datasets import postgres_reason

REPO = Path(__file__).resolve().parents[2]
PG_URL = "postgresql://postgres@127.0.0.1:5432/werkmatch_bench_smoke"

ALWAYS = (
    "machine_python_yardstick_ms",
    "machine_numpy_yardstick_ms",
    "machine_thread_handoff_ms",
    "engine_live_c2v_p50_ms",
    "engine_live_c2v_p95_ms",
    "engine_live_c2v_p99_ms",
    "engine_live_v2c_p50_ms",
    "engine_live_v2c_p95_ms",
    "engine_live_v2c_p99_ms",
    "loop_pairs_per_s",
    "engine_batch_pairs_per_s",
    "engine_batch_vs_loop_ratio",
    "batch_sqlite_seconds",
    "batch_sqlite_pairs_per_s",
    "batch_sqlite_peak_rss_mib",
    "batch_dask_seconds",
    "batch_dask_vs_local_wall_ratio",
)
WITH_POSTGRES = (
    "pg_peer_c2v_p50_ms",
    "pg_peer_c2v_p95_ms",
    "engine_vs_pg_p95_ratio",
    "batch_postgres_seconds",
    "batch_postgres_pairs_per_s",
    "batch_postgres_peak_rss_mib",
)


@pytest.fixture(scope="module")
def postgres_down() -> str | None:
    reason = postgres_reason(PG_URL)
    if reason is not None and os.environ.get("CI"):
        pytest.fail(f"CI is set but PostgreSQL is not reachable: {reason}")
    return reason


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory, postgres_down: str | None) -> tuple[dict, str]:
    work = tmp_path_factory.mktemp("bench")
    output = work / "results.json"
    args = [
        sys.executable,
        "-m",
        "scripts.cli",
        "bench",
        "--scale",
        "tiny",
        "--output",
        str(output),
        "--workdir",
        str(work),
        "--postgres-url",
        PG_URL,
        "--queries",
        "100",
        "--pg-queries",
        "30",
        "--fresh",
    ]
    if postgres_down is not None:
        args += ["--skip", "pg"]
    env = {**os.environ, "WERKMATCH_SECRET_KEY": "bench-smoke-secret-0123456789", "COLUMNS": "200"}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        args, cwd=REPO, env=env, capture_output=True, text=True, timeout=1200, check=False
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(output.read_text()), result.stdout


@pytest.mark.slow
class TestBenchSmoke:
    def test_prints_the_table_with_the_core_count(self, bench: tuple[dict, str]) -> None:
        data, stdout = bench
        assert "werkmatch bench" in stdout
        assert f"{os.cpu_count()} CPU cores" in stdout
        assert data["cpu_cores"] == os.cpu_count()
        assert data["scale"] == "tiny"

    def test_every_local_part_is_measured(self, bench: tuple[dict, str]) -> None:
        data, _ = bench
        missing = {key: data["not_measured"].get(key) for key in ALWAYS if data.get(key) is None}
        assert missing == {}
        assert all(isinstance(data[key], (int, float)) and data[key] > 0 for key in ALWAYS)

    def test_postgres_parts_are_measured_or_say_why_not(
        self, bench: tuple[dict, str], postgres_down: str | None
    ) -> None:
        data, _ = bench
        for key in WITH_POSTGRES:
            if postgres_down is None:
                assert isinstance(data.get(key), (int, float)), (key, data["not_measured"].get(key))
            else:
                assert data.get(key) is None
                assert data["not_measured"][key]

    def test_results_agree_across_paths(self, bench: tuple[dict, str]) -> None:
        data, _ = bench
        assert data["loop_top50_identical"] is True
        assert data["batch_dask_export_identical"] is True

    def test_one_key_per_figure_and_ratios_say_so(self, bench: tuple[dict, str]) -> None:
        data, _ = bench
        ratio_keys = [key for key in data if key.endswith("_ratio")]
        assert {"engine_batch_vs_loop_ratio", "batch_dask_vs_local_wall_ratio"} <= set(ratio_keys)
        for key, reason in data["not_measured"].items():
            assert data[key] is None
            assert reason
