"""`python -m benchmarks.record_memory` on a seeded SQLite file, so the diagnostic cannot rot.

Nothing about memory or instructions is asserted (figures vary with the host and the allocator): only that
it reads the profiles, prints both record types field by field, and that the fields it names are the records'.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from matching.encoding import EncodedCandidate, EncodedVacancy
from tests.scripts.test_cli import REPO, run, sqlite_env


def test_prints_every_record_field_of_both_kinds(tmp_path: Path) -> None:
    env = sqlite_env(tmp_path)
    seeded = run(["seed", "--candidates", "120", "--vacancies", "60", "--seed", "7"], env=env)
    assert seeded.returncode == 0, seeded.stderr
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
