"""`python -m benchmarks.record_memory` on a seeded SQLite file, so the diagnostic cannot rot.

Nothing about memory or instructions is asserted (figures vary with the host and the allocator): only that
it reads the profiles, prints both record types field by field, and that the fields it names are the records'.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from matching.encoding import EncodedCandidate, EncodedVacancy
from tests.scripts.test_cli import REPO, run, sqlite_env


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = sqlite_env(tmp_path_factory.mktemp("record-memory"))
    seeded = run(["seed", "--candidates", "120", "--vacancies", "60", "--seed", "7"], env=env)
    assert seeded.returncode == 0, seeded.stderr
    return env


def test_prints_every_record_field_of_both_kinds(env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.record_memory", env["DATABASE_URL"]],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    out = result.stdout
    assert "MiB per 100k profiles" in out
    counts = dict(re.findall(r"^(candidate|vacancy) records: (\d+),", out, flags=re.MULTILINE))
    assert set(counts) == {"candidate", "vacancy"}
    assert all(int(n) > 0 for n in counts.values())
    named = set(re.findall(r"^  (\w+) ", out, flags=re.MULTILINE))
    fields = (set(EncodedCandidate.__slots__) | set(EncodedVacancy.__slots__)) - {"related_of"}
    assert named <= fields
    assert {"skill_keys", "required"} <= named


def test_a_reader_that_stops_early_ends_it_quietly(env: dict[str, str]) -> None:
    # `python -m benchmarks.record_memory URL | head -1`: the reader is gone before the script writes.
    read_end, write_end = os.pipe()
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.record_memory", env["DATABASE_URL"]],
        cwd=REPO,
        env=env,
        stdout=write_end,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(write_end)
    os.close(read_end)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 1
    assert "Traceback" not in stderr, stderr[-4000:]
