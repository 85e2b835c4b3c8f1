"""The real `werkmatch import` and `werkmatch export` commands in subprocesses: exit codes, reports, files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from openpyxl import load_workbook

from tests.service.test_import_csv import write_candidate_csv

WERKMATCH = [sys.executable, "-m", "scripts.cli"]
REPO = Path(__file__).resolve().parents[2]


def run(args: list[str], *, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*WERKMATCH, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )


def cli_env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "WERKMATCH_SECRET_KEY": "cli-test-secret-0123456789",
    }


class TestImportCommand:
    def test_bad_rows_exit_1_with_line_numbers_and_rerun_creates_nothing(self, tmp_path):
        env = cli_env(tmp_path)
        path = tmp_path / "klanten.csv"
        expected = write_candidate_csv(path, n=300, bad_every=100)
        result = run(["import", "candidates", str(path), "--municipality", "GM0153"], env=env)
        assert result.returncode == 1, result.stderr
        summary = json.loads(result.stdout.strip().splitlines()[-1])
        assert (summary["created"], summary["rejected"]) == (297, 3)
        assert [e["line"] for e in summary["errors"]] == sorted(expected)
        for line in expected:
            assert f"regel {line} (KL-{line - 2:06d}):" in result.stderr
        assert summary["rows_per_second"] > 0

        rerun = run(["import", "candidates", str(path), "--municipality", "GM0153"], env=env)
        assert rerun.returncode == 1
        summary = json.loads(rerun.stdout.strip().splitlines()[-1])
        assert (summary["created"], summary["updated"], summary["unchanged"]) == (0, 0, 297)

    def test_clean_file_exits_0_and_dry_run_writes_nothing(self, tmp_path):
        env = cli_env(tmp_path)
        path = tmp_path / "klanten.csv"
        write_candidate_csv(path, n=20)
        dry = run(["import", "candidates", str(path), "--municipality", "GM0153", "--dry-run"], env=env)
        assert dry.returncode == 0, dry.stderr
        assert json.loads(dry.stdout)["created"] == 20
        real = run(["import", "candidates", str(path), "--municipality", "GM0153"], env=env)
        assert real.returncode == 0
        assert json.loads(real.stdout)["created"] == 20  # the dry run wrote nothing

    def test_usage_errors_exit_2(self, tmp_path):
        env = cli_env(tmp_path)
        missing = run(
            ["import", "candidates", str(tmp_path / "nope.csv"), "--municipality", "GM0153"], env=env
        )
        assert missing.returncode == 2
        assert "no such file" in missing.stderr
        header_only = tmp_path / "kop.csv"
        header_only.write_text("naam;adres\n", encoding="utf-8")
        columns = run(["import", "candidates", str(header_only), "--municipality", "GM0153"], env=env)
        assert columns.returncode == 2
        assert "klantnummer" in columns.stderr
        no_option = run(["import", "candidates", str(header_only)], env=env)
        assert no_option.returncode == 2

    def test_vacancies_jsonl(self, tmp_path):
        env = cli_env(tmp_path)
        path = tmp_path / "vacatures.jsonl"
        path.write_text(
            json.dumps(
                {
                    "external_ref": "V-1",
                    "title": "Magazijnmedewerker",
                    "sector": "logistiek",
                    "postcode": "7602 KR",
                    "hours_min": 32,
                    "hours_max": 40,
                }
            )
            + "\n",
            encoding="utf-8",
        )
        result = run(["import", "vacancies", str(path), "--employer", "Logistiek XL Almelo B.V."], env=env)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["created"] == 1


class TestExportCommand:
    def test_csv_and_xlsx_of_a_municipality(self, tmp_path):
        env = cli_env(tmp_path)
        assert run(["seed", "--candidates", "0", "--vacancies", "60"], env=env).returncode == 0
        path = tmp_path / "klanten.csv"
        write_candidate_csv(path, n=5)
        assert run(["import", "candidates", str(path), "--municipality", "GM0153"], env=env).returncode == 0

        one = run(
            ["export", "matches", "--candidate", "KL-000001", "--format", "csv", "--limit", "3"], env=env
        )
        assert one.returncode == 0, one.stderr
        lines = one.stdout.lstrip("\ufeff").splitlines()
        assert lines[0].startswith("klantnummer;voornaam;achternaam;gemeente;rang;score")
        assert len(lines) == 4
        assert all(line.startswith("KL-000001;") for line in lines[1:])

        xlsx = tmp_path / "matches.xlsx"
        result = run(
            [
                "export",
                "matches",
                "--municipality",
                "GM0153",
                "--format",
                "xlsx",
                "--output",
                str(xlsx),
                "--limit",
                "2",
            ],
            env=env,
        )
        assert result.returncode == 0, result.stderr
        sheet = load_workbook(xlsx).active
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0][:3] == ("klantnummer", "voornaam", "achternaam")
        # Active candidates only (the generator makes some inactive), at most two matches each, best first.
        assert 1 < len(rows) <= 1 + 5 * 2
        assert {row[4] for row in rows[1:]} <= {1, 2}
        assert "bsn" not in [str(c).lower() for c in rows[0]]

    def test_unknown_candidate_and_missing_options_exit_2(self, tmp_path):
        env = cli_env(tmp_path)
        assert run(["export", "matches", "--candidate", "X-1", "--format", "csv"], env=env).returncode == 2
        assert run(["export", "matches", "--format", "csv"], env=env).returncode == 2
        assert (
            run(["export", "matches", "--municipality", "GM0153", "--format", "xlsx"], env=env).returncode
            == 2
        )
