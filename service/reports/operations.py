"""Outcome reports for the programme's indicators (uitstroom naar werk, plaatsingen zorg/ICT/Duitsland)."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy.orm import Session

from service.auth.principal import Principal, Role
from service.errors import Forbidden
from service.reports.repository import OutcomeRepository
from service.reports.schemas import Indicators, OutcomeCounts, OutcomeReport

STATUSES = ("proposed", "interview", "hired", "rejected")


def _groups(rows: list[tuple[str, str, int]]) -> list[OutcomeCounts]:
    table: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STATUSES, 0))
    for group, status, count in rows:
        table[group][status] = table[group].get(status, 0) + count
    return [_counts(key, table[key]) for key in sorted(table)]


def _counts(key: str, by_status: dict[str, int]) -> OutcomeCounts:
    return OutcomeCounts(
        key=key,
        proposals=sum(by_status.values()),
        proposed=by_status.get("proposed", 0),
        interview=by_status.get("interview", 0),
        hired=by_status.get("hired", 0),
        rejected=by_status.get("rejected", 0),
        placements=by_status.get("hired", 0),
    )


def outcome_report(session: Session, principal: Principal) -> OutcomeReport:
    """Counts per sector, municipality and country: a coach's own municipalities, or all for an admin."""
    if principal.role is Role.ADMIN:
        municipalities = None
    elif principal.role is Role.COACH:
        municipalities = sorted(principal.municipalities)
    else:
        raise Forbidden("Outcome reports are for coaches and admins.")
    repo = OutcomeRepository(session, municipalities=municipalities)
    by_sector = _groups(repo.counts_by("sector"))
    by_country = _groups(repo.counts_by("country"))
    totals: dict[str, int] = dict.fromkeys(STATUSES, 0)
    for group in by_country:
        for status in STATUSES:
            totals[status] += getattr(group, status)

    def hired_in(groups: list[OutcomeCounts], key: str) -> int:
        return next((g.hired for g in groups if g.key == key), 0)

    return OutcomeReport(
        scope=municipalities,
        totals=_counts("total", totals),
        by_sector=by_sector,
        by_municipality=_groups(repo.counts_by("municipality")),
        by_country=by_country,
        indicators=Indicators(
            uitstroom_naar_werk=repo.hired_candidates(),
            plaatsingen_zorg=hired_in(by_sector, "zorg"),
            plaatsingen_ict=hired_in(by_sector, "ict"),
            plaatsingen_duitsland=hired_in(by_country, "DE"),
            candidates_placed=repo.placed_candidates(),
        ),
    )
