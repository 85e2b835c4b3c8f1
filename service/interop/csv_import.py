"""Bulk import of candidates (SONAR-like CSV) and vacancies (CSV or JSONL), row by row validated, idempotent.

The column format is documented in docs/import-format.md. Every row passes the API's own request models
(through :func:`service.seeding.candidate_row` / :func:`service.seeding.vacancy_row`, which also resolve the
postcode). A row that does not is reported with its line number and reason and left out; the others are
written. Rows are keyed by ``external_ref`` (per municipality for candidates, per employer for vacancies):
a rerun creates nothing new, changed rows are updated (version + 1), identical rows are left alone.

Validate-then-write: a chunk of rows is validated first, then written in one transaction. Should the write
fail on a constraint (a concurrent writer took a reference), the chunk is rolled back and redone row by row
in savepoints, so each row is written whole or not at all.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from service.auth.keys import get_or_create_employer
from service.errors import ServiceError
from service.persistence.base import utcnow
from service.persistence.models import Candidate, ChangeEvent, Employer, Vacancy
from service.seeding import candidate_row, vacancy_row
from service.validation import MUNICIPALITY_RE

CHUNK = 2_000
MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_FIELD_CHARS = 20_000
LIST_SEPARATOR = ";"
CODE_SEPARATOR = "|"
_NUL = "\ufffe"  # stands in for NUL bytes so the row that held one can be rejected (and only that row)

# column → (payload field, description). The order is the documented (and exported) order.
CANDIDATE_COLUMNS: dict[str, tuple[str, str]] = {
    "klantnummer": (
        "external_ref",
        "client number in the municipality's system (required; key of the import)",
    ),
    "voornaam": ("given_name", "given name (required)"),
    "achternaam": ("family_name", "family name (required)"),
    "bsn": ("bsn", "optional; 9 digits passing the 11-check; stored encrypted, never shown"),
    "postcode": ("postcode", "NL `7511 AB` or DE `48599` (required)"),
    "land": ("country", "`NL` (default) or `DE`"),
    "reisafstand_km": ("max_travel_km", "0-200, default 25"),
    "uren_min": ("hours_min", "hours per week, 0-48"),
    "uren_max": ("hours_max", "hours per week, 0-48, not below uren_min"),
    "beschikbaar_vanaf": ("available_from", "date `2027-01-31` or `31-01-2027`"),
    "gewenste_beroepen": ("desired_occupations", "`;`-list of occupations (`label` or `code|label`), max 10"),
    "competenties": ("competences", "`;`-list of competences (`label` or `code|label`), max 100"),
    "werkervaring": ("experience", "`;`-list of `occupation:years` (`code|label:years` allowed), max 30"),
    "opleidingsniveau": (
        "education_level",
        "none, vmbo, mbo1-mbo4, havo_vwo, hbo, wo (`MBO 2`, `havo/vwo` ok)",
    ),
    "taal_nl": ("languages.nl", "1F-4F or A1-C2"),
    "taal_de": ("languages.de", "A1-C2"),
    "taal_en": ("languages.en", "A1-C2"),
    "rijbewijzen": ("driving_licences", "`;`-list of AM, A, B, BE, C1, C, CE, D"),
    "certificaten": ("certificates", "`;`-list (VCA-basis, heftruck, VOG, ...)"),
    "werklanden": ("work_countries", "`;`-list of NL, DE (default NL)"),
    "sectoren": ("sectors", "`;`-list: logistiek, zorg, ict, techniek, productie, bouw, horeca, ..."),
    "ondersteuning": ("support", "direct, with_support (`begeleiding`), wage_subsidy (`loonkostensubsidie`)"),
    "doelgroepregister": ("target_group_register", "ja/nee (also true/false, 1/0)"),
    "status": ("status", "active, placed, inactive (`actief`, `geplaatst`, `inactief` ok)"),
}
CANDIDATE_REQUIRED = ("klantnummer", "voornaam", "achternaam", "postcode")

VACANCY_COLUMNS: dict[str, tuple[str, str]] = {
    "vacaturenummer": ("external_ref", "the vacancy's own reference (required; key of the import)"),
    "titel": ("title", "title (required)"),
    "omschrijving": ("description", "description, plain text"),
    "beroep": ("occupation", "occupation (`label` or `code|label`)"),
    "sector": (
        "sector",
        "logistiek, zorg, ict, techniek, productie, bouw, horeca, detailhandel, ... (required)",
    ),
    "competenties_vereist": ("competences_required", "`;`-list (`label` or `code|label`), max 50"),
    "competenties_gewenst": ("competences_desired", "`;`-list (`label` or `code|label`), max 50"),
    "opleidingsniveau_min": ("education_level_min", "as opleidingsniveau"),
    "taal_nl": ("languages_required.nl", "1F-4F or A1-C2"),
    "taal_de": ("languages_required.de", "A1-C2"),
    "taal_en": ("languages_required.en", "A1-C2"),
    "rijbewijzen": ("driving_licences_required", "`;`-list"),
    "certificaten": ("certificates_required", "`;`-list"),
    "postcode": ("postcode", "NL or DE postcode (required)"),
    "land": ("country", "NL (default) or DE"),
    "plaats": ("city", "place name (default: from the postcode)"),
    "uren_min": ("hours_min", "0-48"),
    "uren_max": ("hours_max", "0-48"),
    "contract": (
        "contract",
        "permanent (`vast`), temporary (`tijdelijk`), flex, internship (`stage`), apprenticeship (`bbl`)",
    ),
    "aantal": ("positions", "1-1000, default 1"),
    "garantiebaan": ("garantiebaan", "ja/nee"),
    "loonkostensubsidie": ("wage_subsidy_possible", "ja/nee"),
    "sluitingsdatum": ("closes_at", "date"),
    "status": ("status", "open, filled, closed (`vervuld`, `gesloten` ok)"),
}
VACANCY_REQUIRED = ("vacaturenummer", "titel", "sector", "postcode")
_ALIASES = {"external_ref": None, "clientnummer": "klantnummer", "client_number": "klantnummer"}

_EDUCATION = {
    "geen": "none",
    "none": "none",
    "vmbo": "vmbo",
    "mbo1": "mbo1",
    "mbo2": "mbo2",
    "mbo3": "mbo3",
    "mbo4": "mbo4",
    "havo": "havo_vwo",
    "vwo": "havo_vwo",
    "havovwo": "havo_vwo",
    "hbo": "hbo",
    "wo": "wo",
}
_SUPPORT = {
    "direct": "direct",
    "withsupport": "with_support",
    "begeleiding": "with_support",
    "metbegeleiding": "with_support",
    "wagesubsidy": "wage_subsidy",
    "loonkostensubsidie": "wage_subsidy",
    "lks": "wage_subsidy",
}
_CANDIDATE_STATUS = {
    "active": "active",
    "actief": "active",
    "placed": "placed",
    "geplaatst": "placed",
    "inactive": "inactive",
    "inactief": "inactive",
}
_VACANCY_STATUS = {
    "open": "open",
    "filled": "filled",
    "vervuld": "filled",
    "closed": "closed",
    "gesloten": "closed",
}
_CONTRACT = {
    "permanent": "permanent",
    "vast": "permanent",
    "temporary": "temporary",
    "tijdelijk": "temporary",
    "flex": "flex",
    "uitzend": "flex",
    "internship": "internship",
    "stage": "internship",
    "apprenticeship": "apprenticeship",
    "bbl": "apprenticeship",
    "leerwerkplek": "apprenticeship",
}
_TRUE = {"ja", "j", "yes", "y", "true", "waar", "1", "x"}
_FALSE = {"nee", "n", "no", "false", "onwaar", "0", ""}


class UsageError(Exception):
    """The file as a whole cannot be imported (missing, not UTF-8, required columns absent): exit code 2."""


class RowProblem(Exception):
    """One field of one row is not acceptable."""

    def __init__(self, column: str, message: str, *, external_ref: str | None = None) -> None:
        super().__init__(f"{column}: {message}")
        self.external_ref = external_ref


@dataclass
class RowError:
    line: int
    external_ref: str | None
    reason: str


@dataclass
class ImportReport:
    """The outcome of one import: counts, and every rejected row with its line number and reason."""

    kind: str
    file: str
    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        """0 when every row was imported (or, dry run, would be), 1 when some were rejected."""
        return 1 if self.rejected else 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "file": self.file,
            "dry_run": self.dry_run,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": len(self.rejected),
            "ignored_columns": self.ignored_columns,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.rows / self.seconds, 1) if self.seconds > 0 else None,
            "errors": [
                {"line": e.line, "external_ref": e.external_ref, "reason": e.reason} for e in self.rejected
            ],
        }


# ------------------------------------------------------------------------------------------------ reading
def _read_text(path: Path) -> str:
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise UsageError(f"{path}: larger than {MAX_FILE_BYTES // 1024 // 1024} MiB; split the file")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UsageError(f"{path}: not UTF-8 (line {line}); export the file as UTF-8") from exc
    return text.replace("\x00", _NUL)


def sniff_delimiter(header_line: str) -> str:
    """`;` (Dutch Excel), `,` or tab: whichever the header line holds most of."""
    counts = {delimiter: header_line.count(delimiter) for delimiter in (";", ",", "\t")}
    best = max(counts, key=lambda d: (counts[d], d == ";"))
    return best if counts[best] else ";"


def _normalise_column(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def read_csv(
    path: Path, *, columns: dict[str, tuple[str, str]], required: tuple[str, ...], report: ImportReport
) -> Iterator[tuple[int, dict[str, str] | RowProblem]]:
    """(line number, {column: value}) per data row; a row that cannot be read yields a RowProblem instead."""
    text = _read_text(path)
    first_line = text.split("\n", 1)[0]
    if not first_line.strip():
        raise UsageError(f"{path}: the first line must be the column header")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(first_line))
    header = [_normalise_column(name) for name in next(reader)]
    header = [
        _ALIASES.get(name)
        or (
            "klantnummer"
            if name == "external_ref" and "klantnummer" in columns
            else "vacaturenummer"
            if name == "external_ref"
            else name
        )
        for name in header
    ]
    missing = [name for name in required if name not in header]
    if missing:
        raise UsageError(
            f"{path}: required column(s) missing: {', '.join(missing)} "
            f"(found: {', '.join(header)}); see docs/import-format.md"
        )
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise UsageError(f"{path}: column(s) appear twice: {', '.join(duplicates)}")
    report.ignored_columns = [name for name in header if name not in columns]
    key_index = next((header.index(key) for key in ("klantnummer", "vacaturenummer") if key in header), 0)
    line = reader.line_num
    for values in reader:
        start, line = line + 1, reader.line_num
        if not values or all(not v.strip() for v in values):
            continue
        ref = values[key_index].strip().replace(_NUL, "")[:64] or None if key_index < len(values) else None
        if len(values) != len(header):
            yield (
                start,
                RowProblem(
                    "rij",
                    f"{len(values)} velden, de kop heeft er {len(header)} "
                    "(scheidingsteken of aanhalingstekens?)",
                    external_ref=ref,
                ),
            )
            continue
        if any(_NUL in v for v in values):
            yield start, RowProblem("rij", "bevat een NUL-byte", external_ref=ref)
            continue
        too_long = next(
            (name for name, v in zip(header, values, strict=True) if len(v) > MAX_FIELD_CHARS), None
        )
        if too_long:
            yield start, RowProblem(too_long, f"langer dan {MAX_FIELD_CHARS} tekens", external_ref=ref)
            continue
        yield (
            start,
            {name: value.strip() for name, value in zip(header, values, strict=True) if name in columns},
        )


def count_lines(path: Path) -> int:
    """Physical lines of a file (for a progress total; a quoted field over several lines counts more)."""
    with path.open("rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))


# ------------------------------------------------------------------------------------------------ fields
def _items(value: str) -> list[str]:
    return [item.strip() for item in value.split(LIST_SEPARATOR) if item.strip()]


def _concept(item: str) -> dict[str, str]:
    code, sep, label = item.partition(CODE_SEPARATOR)
    if sep and code.strip() and label.strip():
        return {"code": code.strip(), "label": label.strip()}
    return {"label": item.strip(CODE_SEPARATOR + " ")}


def _int(column: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise RowProblem(column, "geen geheel getal") from None


def _date(column: str, value: str) -> str:
    for parse in (
        date.fromisoformat,
        lambda v: datetime.strptime(v, "%d-%m-%Y").date(),
        lambda v: datetime.strptime(v, "%d/%m/%Y").date(),
    ):
        try:
            return parse(value).isoformat()
        except ValueError:
            continue
    raise RowProblem(column, "geen datum (gebruik 2027-01-31 of 31-01-2027)")


def _bool(column: str, value: str) -> bool:
    folded = value.strip().lower()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise RowProblem(column, "gebruik ja of nee")


def _choice(column: str, value: str, table: dict[str, str]) -> str:
    key = re.sub(r"[\s_\-/]+", "", value.strip().lower())
    if key not in table:
        raise RowProblem(column, f"onbekende waarde (toegestaan: {', '.join(sorted(set(table.values())))})")
    return table[key]


def _experience(column: str, value: str) -> list[dict[str, Any]]:
    result = []
    for item in _items(value):
        label, sep, years = item.rpartition(":")
        if not sep or not label.strip():
            raise RowProblem(column, "gebruik beroep:jaren, gescheiden door ;")
        try:
            number = float(years.strip().replace(",", "."))
        except ValueError:
            raise RowProblem(column, f"jaren is geen getal in {item[:40]!r}") from None
        result.append({"occupation": _concept(label), "years": number})
    return result


def _upper_list(value: str) -> list[str]:
    return [item.upper() for item in re.split(r"[;,\s]+", value) if item]


def candidate_payload(row: dict[str, str], *, municipality: str) -> dict[str, Any]:
    """A CSV row as a CandidateIn-shaped payload (validation is CandidateIn's; this only parses cells)."""
    payload: dict[str, Any] = {"municipality": municipality, "languages": {}}
    for column, value in row.items():
        if value == "":
            continue
        target = CANDIDATE_COLUMNS[column][0]
        if column in ("reisafstand_km", "uren_min", "uren_max"):
            payload[target] = _int(column, value)
        elif column == "beschikbaar_vanaf":
            payload[target] = _date(column, value)
        elif column in ("gewenste_beroepen", "competenties"):
            payload[target] = [_concept(item) for item in _items(value)]
        elif column == "werkervaring":
            payload[target] = _experience(column, value)
        elif column == "opleidingsniveau":
            payload[target] = _choice(column, value, _EDUCATION)
        elif column.startswith("taal_"):
            payload["languages"][column[5:]] = value.upper().replace(" ", "")
        elif column in ("rijbewijzen", "werklanden"):
            payload[target] = _upper_list(value)
        elif column in ("certificaten",):
            payload[target] = _items(value)
        elif column == "sectoren":
            payload[target] = [item.lower() for item in _items(value)]
        elif column == "ondersteuning":
            payload[target] = _choice(column, value, _SUPPORT)
        elif column == "doelgroepregister":
            payload[target] = _bool(column, value)
        elif column == "status":
            payload[target] = _choice(column, value, _CANDIDATE_STATUS)
        elif column == "land":
            payload[target] = value.upper()
        else:
            payload[target] = value
    return payload


def vacancy_payload(row: dict[str, str]) -> dict[str, Any]:
    """A CSV row as a VacancyIn-shaped payload."""
    payload: dict[str, Any] = {"languages_required": {}}
    for column, value in row.items():
        if value == "":
            continue
        target = VACANCY_COLUMNS[column][0]
        if column in ("uren_min", "uren_max", "aantal"):
            payload[target] = _int(column, value)
        elif column == "sluitingsdatum":
            payload[target] = _date(column, value)
        elif column == "beroep":
            payload[target] = _concept(value)
        elif column in ("competenties_vereist", "competenties_gewenst"):
            payload[target] = [_concept(item) for item in _items(value)]
        elif column == "opleidingsniveau_min":
            level = _choice(column, value, _EDUCATION)
            if level != "none":
                payload[target] = level
        elif column.startswith("taal_"):
            payload["languages_required"][column[5:]] = value.upper().replace(" ", "")
        elif column == "rijbewijzen":
            payload[target] = _upper_list(value)
        elif column == "certificaten":
            payload[target] = _items(value)
        elif column in ("garantiebaan", "loonkostensubsidie"):
            payload[target] = _bool(column, value)
        elif column == "contract":
            payload[target] = _choice(column, value, _CONTRACT)
        elif column == "status":
            payload[target] = _choice(column, value, _VACANCY_STATUS)
        elif column == "sector":
            payload[target] = value.lower()
        elif column == "land":
            payload[target] = value.upper()
        else:
            payload[target] = value
    return payload


def _cell_concepts(concepts: list[dict[str, Any]]) -> str:
    return LIST_SEPARATOR.join(
        f"{c['code']}{CODE_SEPARATOR}{c['label']}" if c.get("code") else c["label"] for c in concepts
    )


def candidate_csv_row(payload: dict[str, Any]) -> dict[str, str]:
    """The CSV row of an API-shaped candidate payload (the inverse of :func:`candidate_payload`)."""
    languages = payload.get("languages") or {}
    flag = payload.get("target_group_register")
    return {
        "klantnummer": payload["external_ref"],
        "voornaam": payload["given_name"],
        "achternaam": payload["family_name"],
        "bsn": payload.get("bsn") or "",
        "postcode": payload["postcode"],
        "land": payload.get("country", ""),
        "reisafstand_km": str(payload.get("max_travel_km", "")),
        "uren_min": str(payload.get("hours_min", "")),
        "uren_max": str(payload.get("hours_max", "")),
        "beschikbaar_vanaf": payload.get("available_from") or "",
        "gewenste_beroepen": _cell_concepts(payload.get("desired_occupations", [])),
        "competenties": _cell_concepts(payload.get("competences", [])),
        "werkervaring": LIST_SEPARATOR.join(
            f"{_cell_concepts([e['occupation']])}:{e['years']:g}" for e in payload.get("experience", [])
        ),
        "opleidingsniveau": payload.get("education_level") or "",
        "taal_nl": languages.get("nl", ""),
        "taal_de": languages.get("de", ""),
        "taal_en": languages.get("en", ""),
        "rijbewijzen": LIST_SEPARATOR.join(payload.get("driving_licences", [])),
        "certificaten": LIST_SEPARATOR.join(payload.get("certificates", [])),
        "werklanden": LIST_SEPARATOR.join(payload.get("work_countries", [])),
        "sectoren": LIST_SEPARATOR.join(payload.get("sectors", [])),
        "ondersteuning": payload.get("support", ""),
        "doelgroepregister": "" if flag is None else ("ja" if flag else "nee"),
        "status": payload.get("status", ""),
    }


def read_jsonl(path: Path, report: ImportReport) -> Iterator[tuple[int, dict[str, Any] | RowProblem]]:
    """(line number, API-shaped vacancy payload) per non-empty line of a JSON Lines file."""
    for number, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        if _NUL in line:
            yield number, RowProblem("regel", "bevat een NUL-byte")
            continue
        try:
            payload = json.loads(line)
        except ValueError as exc:
            yield number, RowProblem("regel", f"geen JSON ({exc.msg})")
            continue
        if not isinstance(payload, dict):
            yield number, RowProblem("regel", "geen JSON-object")
            continue
        # The generator's employer_name is not an API field: the vacancy belongs to --employer.
        payload.pop("employer_name", None)
        yield number, payload


# ------------------------------------------------------------------------------------------------ writing
def _reason(exc: Exception, columns: dict[str, tuple[str, str]]) -> str:
    """A row's rejection reason in the file's own column names; never the rejected value (it may be a BSN)."""
    if isinstance(exc, ValidationError):
        by_field = {target: column for column, (target, _) in columns.items()}
        parts = []
        for error in exc.errors():
            loc = [str(p) for p in error["loc"]]
            dotted = (
                ".".join(loc[:2])
                if loc[:1] in (["languages"], ["languages_required"])
                else (loc[0] if loc else "")
            )
            column = by_field.get(dotted) or by_field.get(loc[0] if loc else "", "rij")
            if loc[:1] == ["municipality"]:
                column = "--municipality"
            suffix = f"[{loc[1]}]" if len(loc) > 1 and loc[1].isdigit() else ""
            parts.append(f"{column}{suffix}: {error['msg']}")
        return "; ".join(dict.fromkeys(parts))
    if isinstance(exc, ServiceError):
        return exc.detail
    return str(exc)


@dataclass(frozen=True)
class _Target:
    """Where an import writes: the table, the scope column and value, and the change-event entity name."""

    model: type[Candidate] | type[Vacancy]
    scope_column: str
    scope_value: Any
    entity: str
    compare_skip: frozenset[str]


_NEVER_COMPARED = frozenset({"id", "version", "created_at", "updated_at", "bsn_encrypted", "bsn_hash"})


def _existing(session: Session, target: _Target, refs: list[str]) -> dict[str, dict[str, Any]]:
    table = target.model.__table__
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(refs), 500):
        statement = select(table).where(
            table.c[target.scope_column] == target.scope_value,
            table.c.external_ref.in_(refs[start : start + 500]),
        )
        for row in session.execute(statement).mappings():
            found[row["external_ref"]] = dict(row)
    return found


def _plan(
    rows: list[tuple[int, dict[str, Any]]],
    existing: dict[str, dict[str, Any]],
    target: _Target,
    report: ImportReport,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Split validated rows into inserts and updates (identical rows count as unchanged and are skipped)."""
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    now = utcnow()
    for _line, values in rows:
        old = existing.get(values["external_ref"])
        if old is None:
            inserts.append(values)
            continue
        changed = {k: v for k, v in values.items() if k not in _NEVER_COMPARED and old.get(k) != v}
        new_bsn = values.get("bsn_hash")
        if new_bsn is not None and new_bsn != old.get("bsn_hash"):
            changed.update(bsn_hash=new_bsn, bsn_encrypted=values["bsn_encrypted"])
        if not changed:
            report.unchanged += 1
            continue
        update = {k: v for k, v in values.items() if k not in _NEVER_COMPARED}
        if "bsn_hash" in old:
            # A row without a BSN keeps the one on file (as the API's PUT does); executemany needs every key.
            update["bsn_hash"] = changed.get("bsn_hash", old["bsn_hash"])
            update["bsn_encrypted"] = changed.get("bsn_encrypted", old["bsn_encrypted"])
        update.update(b_id=old["id"], version=old["version"] + 1, updated_at=now)
        updates.append(update)
    return inserts, updates


def _write(
    session: Session, target: _Target, inserts: list[dict[str, Any]], updates: list[dict[str, Any]]
) -> None:
    table = target.model.__table__
    now = utcnow()
    if inserts:
        session.execute(insert(table), inserts)
    if updates:
        session.execute(table.update().where(table.c.id == bindparam("b_id")), updates)
    ids = [row["id"] for row in inserts] + [row["b_id"] for row in updates]
    if ids:
        # One change event per written row keeps every process's match index exact.
        session.execute(
            insert(ChangeEvent.__table__),
            [{"entity": target.entity, "entity_id": i, "changed_at": now} for i in ids],
        )


def _write_chunk(
    factory: sessionmaker[Session],
    target: _Target,
    rows: list[tuple[int, dict[str, Any]]],
    report: ImportReport,
    *,
    dry_run: bool,
) -> None:
    with factory() as session, session.begin():
        existing = _existing(session, target, [values["external_ref"] for _line, values in rows])
        inserts, updates = _plan(rows, existing, target, report)
        if dry_run:
            report.created += len(inserts)
            report.updated += len(updates)
            return
        try:
            with session.begin_nested():
                _write(session, target, inserts, updates)
        except IntegrityError:
            # Someone else wrote one of these references meanwhile: redo row by row, each in a savepoint.
            by_ref = {values["external_ref"]: line for line, values in rows}
            done_inserts: list[dict[str, Any]] = []
            done_updates: list[dict[str, Any]] = []
            for kind, items, done in (("insert", inserts, done_inserts), ("update", updates, done_updates)):
                for item in items:
                    try:
                        with session.begin_nested():
                            _write(
                                session,
                                target,
                                [item] if kind == "insert" else [],
                                [item] if kind == "update" else [],
                            )
                        done.append(item)
                    except IntegrityError:
                        report.rejected.append(
                            RowError(
                                by_ref[item["external_ref"]],
                                item["external_ref"],
                                "conflict with data written meanwhile; import again",
                            )
                        )
            inserts, updates = done_inserts, done_updates
    report.created += len(inserts)
    report.updated += len(updates)


def _run(
    factory: sessionmaker[Session],
    target: _Target,
    items: Iterator[tuple[int, dict[str, Any] | RowProblem]],
    *,
    to_values: Callable[[dict[str, Any]], dict[str, Any]],
    key_column: str,
    columns: dict[str, tuple[str, str]],
    report: ImportReport,
    dry_run: bool,
    progress: Callable[[int], None] | None,
) -> ImportReport:
    started = time.perf_counter()
    seen: dict[str, int] = {}
    chunk: list[tuple[int, dict[str, Any]]] = []
    for line, item in items:
        report.rows += 1
        ref = None
        try:
            if isinstance(item, RowProblem):
                ref = item.external_ref
                raise item
            ref = str(item.get("external_ref") or "") or None
            if ref is None:
                raise RowProblem(key_column, "ontbreekt (sleutel van de import)")
            if ref in seen:
                raise RowProblem(key_column, f"{ref} staat al op regel {seen[ref]}")
            values = to_values(item)
            seen[ref] = line
            chunk.append((line, values))
        except (RowProblem, ValidationError, ServiceError) as exc:
            report.rejected.append(RowError(line, ref, _reason(exc, columns)))
        if progress:
            progress(1)
        if len(chunk) >= CHUNK:
            _write_chunk(factory, target, chunk, report, dry_run=dry_run)
            chunk = []
    if chunk:
        _write_chunk(factory, target, chunk, report, dry_run=dry_run)
    report.rejected.sort(key=lambda e: e.line)
    report.seconds = time.perf_counter() - started
    return report


def import_candidates(
    factory: sessionmaker[Session],
    path: Path,
    *,
    municipality: str,
    secret: str,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a SONAR-like candidate CSV into one municipality (see docs/import-format.md)."""
    if not MUNICIPALITY_RE.fullmatch(municipality):
        raise UsageError(f"--municipality {municipality!r} is not a CBS code like GM0153")
    report = ImportReport(kind="candidates", file=str(path), dry_run=dry_run)
    rows = read_csv(path, columns=CANDIDATE_COLUMNS, required=CANDIDATE_REQUIRED, report=report)
    items = (
        (line, row if isinstance(row, RowProblem) else candidate_payload_safe(row, municipality))
        for line, row in rows
    )
    target = _Target(Candidate, "municipality", municipality, "candidate", _NEVER_COMPARED)

    def to_values(payload: dict[str, Any]) -> dict[str, Any]:
        return candidate_row(payload, secret=secret)

    return _run(
        factory,
        target,
        items,
        to_values=to_values,
        key_column="klantnummer",
        columns=CANDIDATE_COLUMNS,
        report=report,
        dry_run=dry_run,
        progress=progress,
    )


def candidate_payload_safe(row: dict[str, str], municipality: str) -> dict[str, Any] | RowProblem:
    """:func:`candidate_payload`, returning a cell problem (with the row reference), not raising it."""
    try:
        return candidate_payload(row, municipality=municipality)
    except RowProblem as problem:
        problem.external_ref = row.get("klantnummer") or None
        return problem


def import_vacancies(
    factory: sessionmaker[Session],
    path: Path,
    *,
    employer: str,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import vacancies of one employer from CSV (columns as documented) or JSONL (API-shaped payloads)."""
    employer = employer.strip()
    if not employer or len(employer) > 200:
        raise UsageError("--employer must be a name of 1-200 characters")
    report = ImportReport(kind="vacancies", file=str(path), dry_run=dry_run)
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        items: Iterator[tuple[int, Any]] = read_jsonl(path, report)
    else:
        rows = read_csv(path, columns=VACANCY_COLUMNS, required=VACANCY_REQUIRED, report=report)
        items = (
            (line, row if isinstance(row, RowProblem) else _vacancy_payload_safe(row)) for line, row in rows
        )
    with factory() as session, session.begin():
        if dry_run:
            found = session.scalars(select(Employer).where(Employer.name == employer)).one_or_none()
            employer_id = found.id if found is not None else uuid.uuid4()
        else:
            employer_id = get_or_create_employer(session, employer).id
    target = _Target(Vacancy, "employer_id", employer_id, "vacancy", _NEVER_COMPARED)

    def to_values(payload: dict[str, Any]) -> dict[str, Any]:
        return vacancy_row(payload, employer_id=employer_id)

    return _run(
        factory,
        target,
        items,
        to_values=to_values,
        key_column="vacaturenummer",
        columns=VACANCY_COLUMNS,
        report=report,
        dry_run=dry_run,
        progress=progress,
    )


def _vacancy_payload_safe(row: dict[str, str]) -> dict[str, Any] | RowProblem:
    try:
        return vacancy_payload(row)
    except RowProblem as problem:
        problem.external_ref = row.get("vacaturenummer") or None
        return problem
