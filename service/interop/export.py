"""Matches as a spreadsheet (CSV or xlsx) for coaches: per candidate the top open vacancies, best first.

The ranking is the live engine's (service/matches), the same a coach sees in the API, with its explanation in
words. The export is made by an operator on the server for one municipality's coaches: it shows candidate
names and client numbers (as the coach's own view does), never a BSN or special-category data, and it is
recorded in the audit log as one entry naming every candidate it reveals.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from matching.types import MatchFilters
from service.audit.recorder import append_entry
from service.auth.principal import Principal, Role
from service.matches.live import LiveIndex
from service.matches.operations import candidate_matches
from service.persistence.models import Candidate
from service.validation import MUNICIPALITY_RE

COLUMNS = (
    "klantnummer",
    "voornaam",
    "achternaam",
    "gemeente",
    "rang",
    "score",
    "vacature",
    "werkgever",
    "beroep",
    "sector",
    "plaats",
    "postcode",
    "land",
    "afstand_km",
    "uren",
    "contract",
    "sluitingsdatum",
    "ontbreekt",
    "uitleg",
    "vacature_id",
    "algoritme",
)
MAX_CANDIDATES = 5_000


class ExportError(Exception):
    """The export cannot be made as asked (unknown candidate, bad municipality): a usage error."""


def _candidates(session: Session, *, candidate_ref: str | None, municipality: str | None) -> list[Candidate]:
    statement = select(Candidate)
    if candidate_ref is not None:
        statement = statement.where(Candidate.external_ref == candidate_ref)
    else:
        statement = statement.where(Candidate.status == "active")
    if municipality is not None:
        statement = statement.where(Candidate.municipality == municipality)
    rows = list(
        session.scalars(
            statement.order_by(Candidate.municipality, Candidate.external_ref).limit(MAX_CANDIDATES + 1)
        )
    )
    if candidate_ref is not None and not rows:
        raise ExportError(
            f"no candidate with klantnummer {candidate_ref!r}"
            + (f" in {municipality}" if municipality else "")
        )
    if candidate_ref is not None and len({row.municipality for row in rows}) > 1:
        raise ExportError(
            f"klantnummer {candidate_ref!r} exists in several municipalities; add --municipality"
        )
    if len(rows) > MAX_CANDIDATES:
        raise ExportError(
            f"more than {MAX_CANDIDATES} candidates; export per candidate or use the batch export"
        )
    return rows


def match_rows(
    factory: sessionmaker[Session],
    *,
    candidate_ref: str | None,
    municipality: str | None,
    limit: int,
    live: LiveIndex | None = None,
) -> Iterator[dict[str, Any]]:
    """One dict per (candidate, matched vacancy) in COLUMNS order; candidates by municipality, klantnummer."""
    if municipality is not None and not MUNICIPALITY_RE.fullmatch(municipality):
        raise ExportError(f"--municipality {municipality!r} is not a CBS code like GM0153")
    index = live or LiveIndex(factory, poll_seconds=0.0)
    with factory() as session, session.begin():
        candidates = _candidates(session, candidate_ref=candidate_ref, municipality=municipality)
        rows: list[dict[str, Any]] = []
        for candidate in candidates:
            principal = Principal(
                key_id=uuid.UUID(int=0), role=Role.COACH, municipalities=frozenset({candidate.municipality})
            )
            page, _ = candidate_matches(
                session,
                principal,
                candidate.id,
                live=index,
                limit=limit,
                filters=MatchFilters(),
                source="live",
            )
            algorithm = f"{page.algorithm.name} {page.algorithm.version}"
            for item in page.items:
                vacancy = item.vacancy
                rows.append(
                    dict(
                        zip(
                            COLUMNS,
                            (
                                candidate.external_ref,
                                candidate.given_name,
                                candidate.family_name,
                                candidate.municipality,
                                item.rank,
                                round(item.score, 1),
                                vacancy.title,
                                vacancy.employer.name,
                                vacancy.occupation or "",
                                vacancy.sector,
                                vacancy.city or "",
                                vacancy.postcode,
                                vacancy.country,
                                round(item.distance_km, 1),
                                f"{vacancy.hours_min}-{vacancy.hours_max}",
                                vacancy.contract,
                                vacancy.closes_at or "",
                                "; ".join(u.detail for u in item.unmet),
                                " | ".join(
                                    f"{e.factor} {e.contribution:.1f}: {e.detail}" for e in item.explanation
                                ),
                                str(vacancy.id),
                                algorithm,
                            ),
                            strict=True,
                        )
                    )
                )
        if candidates:
            append_entry(
                session,
                actor_key_id=None,
                actor_role="system",
                action="candidate.matches",
                object_type="export",
                object_id=candidate_ref or municipality,
                subjects=[c.id for c in candidates],
                municipality=",".join(sorted({c.municipality for c in candidates})),
            )
    yield from rows


def _cell(value: Any) -> Any:
    """Text that starts with = + - @ would run as a formula in a spreadsheet (CSV injection): keep it text."""
    return f"'{value}" if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") else value


def _write_csv(rows: list[dict[str, Any]], out: IO[str]) -> None:
    # `;` and a BOM: what Excel with Dutch regional settings opens correctly by double-click.
    out.write("\ufeff")
    writer = csv.DictWriter(out, fieldnames=COLUMNS, delimiter=";", lineterminator="\n")
    writer.writeheader()
    writer.writerows({key: _cell(value) for key, value in row.items()} for row in rows)


def _write_xlsx(rows: list[dict[str, Any]], path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "matches"
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_cell(value) for value in row.values()])
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    for column, width in zip(
        "ABCDEFGHIJKLMNOPQRSTU",
        (12, 12, 16, 9, 6, 7, 36, 28, 24, 12, 14, 9, 5, 10, 7, 11, 12, 30, 60, 38, 14),
        strict=True,
    ):
        sheet.column_dimensions[column].width = width
    workbook.save(path)


def export_matches(
    factory: sessionmaker[Session],
    *,
    candidate_ref: str | None,
    municipality: str | None,
    fmt: str,
    output: Path | IO[str],
    limit: int = 10,
    live: LiveIndex | None = None,
) -> int:
    """Write the matches of one candidate or of a municipality's active candidates; returns the row count."""
    rows = list(
        match_rows(factory, candidate_ref=candidate_ref, municipality=municipality, limit=limit, live=live)
    )
    if fmt == "xlsx":
        if not isinstance(output, Path):
            raise ExportError("xlsx needs an output file")
        _write_xlsx(rows, output)
    elif isinstance(output, Path):
        with output.open("w", encoding="utf-8", newline="") as fh:
            _write_csv(rows, fh)
    else:
        _write_csv(rows, output)
    return len(rows)
