"""Candidate and vacancy imports (service level, real database): every bad row reported, the rest imported,
idempotent by external_ref."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from service.demo.generator import generate_candidates, generate_vacancies
from service.interop.csv_import import (
    CANDIDATE_COLUMNS,
    UsageError,
    candidate_csv_row,
    import_candidates,
    import_vacancies,
)
from service.persistence.models import Candidate, ChangeEvent, Vacancy
from tests.conftest import TEST_SECRET

MUNICIPALITY = "GM0153"


def _bad_postcode(row: dict[str, str]) -> tuple[dict[str, str] | str, str]:
    return {**row, "postcode": "0000 XX"}, "postcode"


def _bad_bsn(row: dict[str, str]) -> tuple[dict[str, str] | str, str]:
    return {**row, "bsn": "123456789"}, "bsn"


def _hours_reversed(row: dict[str, str]) -> tuple[dict[str, str] | str, str]:
    return {**row, "uren_min": "40", "uren_max": "8"}, "hours_max must be at least hours_min"


def _unknown_sector(row: dict[str, str]) -> tuple[dict[str, str] | str, str]:
    return {**row, "sectoren": "ruimtevaart"}, "sectoren"


def _bad_date(row: dict[str, str]) -> tuple[dict[str, str] | str, str]:
    return {**row, "beschikbaar_vanaf": "volgende week"}, "beschikbaar_vanaf"


def _bad_language(row: dict[str, str]) -> tuple[dict[str, str] | str, str]:
    return {**row, "taal_nl": "5F"}, "taal_nl"


def _no_name(row: dict[str, str]) -> tuple[dict[str, str] | str, str]:
    return {**row, "voornaam": ""}, "voornaam"


def _bad_years(row: dict[str, str]) -> tuple[dict[str, str] | str, str]:
    return {**row, "werkervaring": "lasser:veel"}, "werkervaring"


def _extra_field(row: dict[str, str]) -> tuple[dict[str, str] | str, str]:
    return _line([*row.values(), "overbodig"]), "velden"


def _nul_byte(row: dict[str, str]) -> tuple[dict[str, str] | str, str]:
    return {**row, "achternaam": "de\x00Vries"}, "NUL"


BREAKERS: tuple[Callable[[dict[str, str]], tuple[dict[str, str] | str, str]], ...] = (
    _bad_postcode,
    _bad_bsn,
    _hours_reversed,
    _unknown_sector,
    _bad_date,
    _bad_language,
    _no_name,
    _bad_years,
    _extra_field,
    _nul_byte,
)


def _line(values: list[str], *, delimiter: str = ";") -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerow(values)
    return buffer.getvalue()


def write_candidate_csv(
    path: Path, *, n: int, bad_every: int = 0, seed: int = 7, delimiter: str = ";", bom: bool = True
) -> dict[int, str]:
    """n generated candidate rows, every `bad_every`-th broken; returns {line: words of the reason}."""
    expected: dict[int, str] = {}
    parts = [_line(list(CANDIDATE_COLUMNS), delimiter=delimiter)]
    for i, payload in enumerate(generate_candidates(n, seed=seed)):
        row: dict[str, str] | str = candidate_csv_row({**payload, "external_ref": f"KL-{i:06d}"})
        if bad_every and i % bad_every == bad_every // 2:
            breaker = BREAKERS[(i // bad_every) % len(BREAKERS)]
            row, words = breaker(row)  # type: ignore[arg-type]
            expected[i + 2] = words  # line 1 is the header
        parts.append(row if isinstance(row, str) else _line(list(row.values()), delimiter=delimiter))
    path.write_text(("\ufeff" if bom else "") + "".join(parts), encoding="utf-8")
    return expected


def count(session_factory, model: Any, **where: Any) -> int:
    with session_factory() as session:
        statement = select(func.count()).select_from(model)
        for column, value in where.items():
            statement = statement.where(getattr(model, column) == value)
        return int(session.scalar(statement) or 0)


class TestTenThousandRows:
    def test_bad_rows_reported_exactly_rest_imported_rerun_idempotent(
        self, tmp_path, session_factory, clean_db
    ):
        path = tmp_path / "sonar-export.csv"
        expected = write_candidate_csv(path, n=10_000, bad_every=100)
        assert len(expected) == 100

        first = import_candidates(session_factory, path, municipality=MUNICIPALITY, secret=TEST_SECRET)
        assert first.rows == 10_000
        assert {e.line for e in first.rejected} == set(expected)
        for error in first.rejected:
            assert expected[error.line] in error.reason, (error.line, error.reason)
            assert error.external_ref == f"KL-{error.line - 2:06d}"
        assert first.created == 9_900
        assert first.exit_code == 1
        assert count(session_factory, Candidate, municipality=MUNICIPALITY) == 9_900
        # BSNs are stored encrypted, never in the clear.
        with session_factory() as session:
            stored = session.scalars(select(Candidate).where(Candidate.external_ref == "KL-000000")).one()
            assert stored.bsn_hash is not None
            assert b"0" * 3 not in (stored.bsn_encrypted or b"")[:0]  # encrypted bytes, not the digits
        print(f"\n10k import: {first.seconds:.1f} s, {first.rows / first.seconds:.0f} rows/s")  # noqa: T201

        events = count(session_factory, ChangeEvent)
        again = import_candidates(session_factory, path, municipality=MUNICIPALITY, secret=TEST_SECRET)
        assert (again.created, again.updated, again.unchanged) == (0, 0, 9_900)
        assert [e.line for e in again.rejected] == [e.line for e in first.rejected]
        assert count(session_factory, Candidate, municipality=MUNICIPALITY) == 9_900
        assert count(session_factory, ChangeEvent) == events  # nothing written, nothing announced


class TestIdempotentUpdates:
    def test_changed_rows_update_with_a_new_version(self, tmp_path, session_factory, clean_db):
        path = tmp_path / "a.csv"
        write_candidate_csv(path, n=20)
        assert (
            import_candidates(session_factory, path, municipality=MUNICIPALITY, secret=TEST_SECRET).created
            == 20
        )
        text = path.read_text(encoding="utf-8-sig").splitlines()
        header = text[0].split(";")
        rows = [list(csv.reader([line], delimiter=";"))[0] for line in text[1:]]
        rows[3][header.index("uren_max")] = "12"
        rows[3][header.index("uren_min")] = "8"
        rows[5][header.index("bsn")] = ""  # no BSN in the file: the one on file stays
        path.write_text("".join(_line(r) for r in [header, *rows]), encoding="utf-8")
        report = import_candidates(session_factory, path, municipality=MUNICIPALITY, secret=TEST_SECRET)
        assert (report.created, report.updated, report.unchanged) == (0, 1, 19)
        with session_factory() as session:
            changed = session.scalars(select(Candidate).where(Candidate.external_ref == "KL-000003")).one()
            assert (changed.hours_min, changed.hours_max, changed.version) == (8, 12, 2)
            kept = session.scalars(select(Candidate).where(Candidate.external_ref == "KL-000005")).one()
            assert kept.bsn_hash is not None
            assert kept.version == 1

    def test_same_client_number_in_another_municipality_is_another_candidate(
        self, tmp_path, session_factory, clean_db
    ):
        path = tmp_path / "a.csv"
        write_candidate_csv(path, n=5)
        import_candidates(session_factory, path, municipality="GM0153", secret=TEST_SECRET)
        import_candidates(session_factory, path, municipality="GM0141", secret=TEST_SECRET)
        assert count(session_factory, Candidate) == 10

    def test_duplicate_client_number_in_one_file_is_rejected(self, tmp_path, session_factory, clean_db):
        path = tmp_path / "a.csv"
        write_candidate_csv(path, n=3)
        lines = path.read_text(encoding="utf-8-sig").splitlines(keepends=True)
        path.write_text("".join([*lines, lines[1]]), encoding="utf-8")
        report = import_candidates(session_factory, path, municipality=MUNICIPALITY, secret=TEST_SECRET)
        assert report.created == 3
        assert [(e.line, e.reason) for e in report.rejected] == [
            (5, "klantnummer: KL-000000 staat al op regel 2")
        ]


class TestFileFormat:
    def test_comma_separated_without_bom(self, tmp_path, session_factory, clean_db):
        path = tmp_path / "comma.csv"
        write_candidate_csv(path, n=10, delimiter=",", bom=False)
        report = import_candidates(session_factory, path, municipality=MUNICIPALITY, secret=TEST_SECRET)
        assert (report.created, report.rejected) == (10, [])

    def test_minimal_columns_and_unknown_columns(self, tmp_path, session_factory, clean_db):
        path = tmp_path / "min.csv"
        path.write_text(
            "Klantnummer;Voornaam;Achternaam;Postcode;Opmerking\nA1;Anna;Jansen;7511 AB;x\n", encoding="utf-8"
        )
        report = import_candidates(session_factory, path, municipality=MUNICIPALITY, secret=TEST_SECRET)
        assert report.created == 1
        assert report.ignored_columns == ["opmerking"]

    @pytest.mark.parametrize(
        ("content", "message"),
        [
            (b"voornaam;achternaam\nA;B\n", "required column(s) missing: klantnummer"),
            (b"klantnummer;voornaam;achternaam;postcode\n1;J\xe9r\xf4me;X;7511 AB\n", "not UTF-8 (line 2)"),
            (b"\n", "header"),
            (b"klantnummer;voornaam;voornaam;achternaam;postcode\n", "twice"),
        ],
    )
    def test_usage_errors(self, tmp_path, session_factory, clean_db, content, message):
        path = tmp_path / "bad.csv"
        path.write_bytes(content)
        with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
            import_candidates(session_factory, path, municipality=MUNICIPALITY, secret=TEST_SECRET)

    def test_bad_municipality_is_a_usage_error(self, tmp_path, session_factory, clean_db):
        path = tmp_path / "a.csv"
        write_candidate_csv(path, n=1)
        with pytest.raises(UsageError, match="CBS code"):
            import_candidates(session_factory, path, municipality="Enschede", secret=TEST_SECRET)

    def test_dry_run_writes_nothing(self, tmp_path, session_factory, clean_db):
        path = tmp_path / "a.csv"
        expected = write_candidate_csv(path, n=200, bad_every=100)
        report = import_candidates(
            session_factory, path, municipality=MUNICIPALITY, secret=TEST_SECRET, dry_run=True
        )
        assert report.created == 198
        assert {e.line for e in report.rejected} == set(expected)
        assert count(session_factory, Candidate) == 0


class TestVacancyImport:
    def test_jsonl_of_api_payloads_is_idempotent(self, tmp_path, session_factory, clean_db):
        path = tmp_path / "vacatures.jsonl"
        lines = [
            json.dumps({**v, "external_ref": f"VAC-{i:05d}"})
            for i, v in enumerate(generate_vacancies(30, seed=2))
        ]
        lines[4] = lines[4].replace('"sector": "', '"sector": "x')
        lines.insert(10, "{not json")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        first = import_vacancies(session_factory, path, employer="Twente Techniek B.V.")
        assert first.created == 29
        assert [e.line for e in first.rejected] == [5, 11]
        assert "sector" in first.rejected[0].reason
        assert "geen JSON" in first.rejected[1].reason
        again = import_vacancies(session_factory, path, employer="Twente Techniek B.V.")
        assert (again.created, again.updated, again.unchanged) == (0, 0, 29)
        assert count(session_factory, Vacancy) == 29

    def test_csv_columns(self, tmp_path, session_factory, clean_db):
        path = tmp_path / "vacatures.csv"
        path.write_text(
            "vacaturenummer;titel;sector;postcode;land;uren_min;uren_max;competenties_vereist;taal_de;contract;"
            "garantiebaan;sluitingsdatum\n"
            "V1;Lagerist (m/w/d);logistiek;48599;DE;30;38;Kommissionieren;B1;befristet;nee;2027-03-01\n"
            "V2;Orderpicker;logistiek;7602 KR;NL;32;40;orderpicken;;tijdelijk;ja;01-03-2027\n",
            encoding="utf-8",
        )
        report = import_vacancies(session_factory, path, employer="Grenzland Logistik GmbH")
        assert report.created == 1
        assert [(e.line, e.reason.split(":")[0]) for e in report.rejected] == [(2, "contract")]
        with session_factory() as session:
            vacancy = session.scalars(select(Vacancy)).one()
            assert (vacancy.external_ref, vacancy.contract, vacancy.garantiebaan) == ("V2", "temporary", True)
            assert vacancy.closes_at.isoformat() == "2027-03-01"
