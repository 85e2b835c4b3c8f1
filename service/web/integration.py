"""The web page's use of the other modules: live matches, proposals, audit and taxonomy search.

The page calls the same operations as the API (never the API over HTTP) and turns their results into
small view objects the templates render. Keeping this in one module keeps the routes thin and the
coupling visible.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from fastapi import Request
from pydantic import ValidationError
from sqlalchemy.orm import Session

from matching.types import MatchFilters
from service.audit import record_access
from service.auth.principal import Principal
from service.errors import InvalidInput, ServiceError
from service.matches import operations as match_operations
from service.matches.live import get_live_index
from service.matches.schemas import CandidateMatch, VacancyMatch
from service.proposals import operations as proposal_operations
from service.proposals.schemas import ProposalIn
from service.web.repository import proposal_statuses

#: Dutch names of the engine's factors, in the order the bars show them.
FACTOR_LABELS: dict[str, str] = {
    "competences": "Competenties",
    "occupation": "Beroep",
    "language": "Taal",
    "travel": "Reisafstand",
    "hours": "Uren",
    "education": "Opleiding",
    "driving_licences": "Rijbewijs",
    "certificates": "Certificaten",
    "hard_requirements": "Niet voldaan aan eisen",
}


# ------------------------------------------------------------------------------------------------ audit
def audit_view(
    session: Session,
    principal: Principal,
    *,
    candidate_ids: Sequence[uuid.UUID],
    action: str,
    request: Request,
    object_type: str = "candidate",
    object_id: uuid.UUID | None = None,
    municipality: str | None = None,
) -> None:
    """One audit entry for a page that shows candidates (none when the page shows no candidate)."""
    subjects = list(dict.fromkeys(candidate_ids))
    if not subjects:
        return
    record_access(
        session,
        principal=principal,
        request=request,
        action=action,
        object_type=object_type,
        object_id=object_id,
        subjects=subjects,
        municipality=municipality,
    )


# ------------------------------------------------------------------------------------------------ taxonomy
def taxonomy_search(*, kind: str, q: str, lang: str | None, limit: int) -> list[dict[str, Any]]:
    """Suggestions for a competence (``kind="skills"``) or occupation field: code and label."""
    from matching.taxonomy import load_taxonomy

    if len(q.strip()) < 2:
        return []
    taxonomy = load_taxonomy()
    search = taxonomy.search_skills if kind == "skills" else taxonomy.search_occupations
    return [{"code": c.uri, "label": c.label} for c in search(q, lang=lang, limit=limit)]


# ------------------------------------------------------------------------------------------------ errors
def dutch_error(exc: ServiceError) -> str:
    """A short Dutch sentence for a refused operation."""
    if exc.status == 409:
        return "deze kandidaat is al voorgedragen voor deze vacature, of de vacature is niet meer open."
    if exc.status == 422:
        return "de invoer is ongeldig (is de notitie te lang?)."
    if exc.status == 403:
        return "dat mag u niet doen."
    return "er ging iets mis; probeer het opnieuw."


# ------------------------------------------------------------------------------------------------ views
def dutch_number(value: float) -> str:
    """One decimal with a decimal comma, as Dutch readers expect ("30,9")."""
    return f"{value:.1f}".replace(".", ",")


@dataclass(frozen=True, slots=True)
class Segment:
    """One factor's part of a score: its bar segment (``x`` is where it starts) and its explanation row."""

    factor: str
    label: str
    weight: float
    score: float
    contribution: float
    detail: str
    x: float = 0.0

    @property
    def points(self) -> str:
        return dutch_number(self.contribution)


@dataclass(frozen=True, slots=True)
class UnmetView:
    code: str
    detail: str


@dataclass(frozen=True, slots=True)
class Ranking:
    """A ranked list for a page, with the algorithm that made it; ``note`` says why it may be empty."""

    items: list[Any] = field(default_factory=list)
    algorithm: str | None = None
    version: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class MatchView:
    """One ranked row of a page: the other side's summary, the score, the bar's segments and the explanation.

    Numbers are formatted here, once, rather than with template filters (rendering 20 explained matches is the
    larger part of a candidate page's time).
    """

    id: uuid.UUID
    rank: int
    score: float
    distance_km: float
    segments: list[Segment]
    explanation: list[Segment]
    penalty: float
    penalty_x: float
    unmet: list[UnmetView]
    bar_label: str
    vacancy: Any = None
    candidate: Any = None
    employer: str | None = None

    @property
    def score_text(self) -> str:
        return f"{self.score:.0f}"

    @property
    def penalty_points(self) -> str:
        return dutch_number(self.penalty)


def _view(item: VacancyMatch | CandidateMatch, *, rank: int) -> MatchView:
    explanation = [
        Segment(
            factor=f.factor,
            label=FACTOR_LABELS.get(f.factor, f.factor),
            weight=f.weight,
            score=f.score,
            contribution=f.contribution,
            detail=f.detail,
        )
        for f in item.explanation
    ]
    segments, x = [], 0.0
    for segment in explanation:
        if segment.contribution > 0:
            segments.append(replace(segment, x=round(x, 2)))
            x += segment.contribution
    penalty = sum(s.contribution for s in explanation if s.contribution < 0)
    parts = [f"{s.label} {s.points}" for s in segments]
    if penalty < 0:
        parts.append(f"niet voldaan aan eisen {dutch_number(penalty)}")
    common: dict[str, Any] = {
        "rank": rank,
        "score": item.score,
        "distance_km": item.distance_km,
        "segments": segments,
        "explanation": explanation,
        "penalty": penalty,
        "penalty_x": round(x + penalty, 2),
        "unmet": [UnmetView(code=u.code, detail=u.detail) for u in item.unmet],
        "bar_label": f"Score {item.score:.0f} van 100: " + ", ".join(parts),
    }
    if isinstance(item, VacancyMatch):
        return MatchView(
            id=item.vacancy.id, vacancy=item.vacancy, employer=item.vacancy.employer.name, **common
        )
    return MatchView(id=item.candidate.id, candidate=item.candidate, **common)


def _hours_overlap(vacancy: Any, *, hours_min: int | None, hours_max: int | None) -> bool:
    low = hours_min if hours_min is not None else 0
    high = hours_max if hours_max is not None else 48
    return bool(vacancy.hours_max >= low and vacancy.hours_min <= high)


def rank_vacancies(
    session: Session, principal: Principal, *, candidate: Any, filters: Any, limit: int, app: Any
) -> Ranking:
    """Open vacancies for a candidate the principal may read, live, best first, with their explanations.

    ``filters`` has ``sector``, ``country``, ``max_km`` (passed to the engine) and ``hours_min``/``hours_max``
    (the vacancy's hours must overlap that range; applied to a longer ranking since the engine has no hours
    filter, then renumbered).
    """
    live = get_live_index(app)
    live.ensure_fresh()
    if live.counts()["vacancies"] == 0:
        # Nothing to rank (a fresh installation); the engine is not asked to rank against an empty index.
        return Ranking(note="Er staan nog geen open vacatures in werkmatch.")
    engine_filters = MatchFilters(
        sector=filters.sector,
        country=filters.country,
        max_km=float(filters.max_km) if filters.max_km is not None else None,
    )
    hours_filter = filters.hours_min is not None or filters.hours_max is not None
    page, _ = match_operations.candidate_matches(
        session,
        principal,
        candidate.id,
        live=live,
        limit=match_operations.MAX_LIMIT if hours_filter else limit,
        filters=engine_filters,
        source="live",
    )
    found = [
        item
        for item in page.items
        if not hours_filter
        or _hours_overlap(item.vacancy, hours_min=filters.hours_min, hours_max=filters.hours_max)
    ][:limit]
    items = [_view(item, rank=rank) for rank, item in enumerate(found, start=1)]
    return Ranking(
        items=items,
        algorithm=page.algorithm.name,
        version=page.algorithm.version,
        note=None if items else "Geen open vacatures gevonden die bij dit profiel en deze filters passen.",
    )


def rank_candidates(session: Session, principal: Principal, *, vacancy: Any, limit: int, app: Any) -> Ranking:
    """Active candidates of the coach's own municipalities for a vacancy, live, best first (with names)."""
    live = get_live_index(app)
    live.ensure_fresh()
    if live.counts()["candidates"] == 0:
        return Ranking(note="Er staan nog geen actieve kandidaten in werkmatch.")
    page = match_operations.vacancy_matches(
        session,
        principal,
        vacancy.id,
        live=live,
        limit=limit,
        filters=MatchFilters(),
        source="live",
    )
    items = [_view(item, rank=item.rank) for item in page.items]
    return Ranking(
        items=items,
        algorithm=page.algorithm.name,
        version=page.algorithm.version,
        note=None if items else "Geen actieve kandidaten uit uw gemeenten die bij deze vacature passen.",
    )


# ------------------------------------------------------------------------------------------------ proposals
@dataclass(frozen=True, slots=True)
class ProposalView:
    """A proposal as the coach sees it on a vacancy page (an erased candidate stays unnamed)."""

    id: uuid.UUID
    candidate_id: uuid.UUID | None
    candidate_name: str
    status: str
    note: str | None
    created_at: Any


def proposed_vacancy_ids(
    session: Session, principal: Principal, *, candidate_id: uuid.UUID
) -> dict[uuid.UUID, str]:
    """Vacancies this (readable) candidate was already proposed to, with each proposal's status."""
    return proposal_statuses(session, principal, candidate_id=candidate_id)


def vacancy_proposals(session: Session, principal: Principal, *, vacancy_id: uuid.UUID) -> list[ProposalView]:
    """Proposals made to a vacancy that the coach may see (candidates of own municipalities), oldest first."""
    proposals, _ = proposal_operations.list_proposals(session, principal, vacancy_id)
    views = []
    for proposal in proposals:
        candidate = getattr(proposal, "candidate", None)
        name = (
            f"{candidate.given_name} {candidate.family_name}"
            if candidate is not None
            else "(gewiste kandidaat)"
        )
        views.append(
            ProposalView(
                id=proposal.id,
                candidate_id=proposal.candidate_id,
                candidate_name=name,
                status=proposal.status,
                note=proposal.note,
                created_at=proposal.created_at,
            )
        )
    return views


def propose(
    session: Session,
    principal: Principal,
    *,
    candidate_id: uuid.UUID,
    vacancy_id: uuid.UUID,
    note: str,
    request: Request,
) -> None:
    """Propose an own candidate to a vacancy with the coach's note, audited like `POST
    /vacancies/{id}/proposals`."""
    try:
        data = ProposalIn(candidate_id=candidate_id, note=note or None)
    except ValidationError as exc:
        raise InvalidInput("The note is not valid.", errors=[dict(e) for e in exc.errors()]) from exc
    proposal, candidate, _ = proposal_operations.create_proposal(session, principal, vacancy_id, data)
    record_access(
        session,
        principal=principal,
        request=request,
        action="proposal.create",
        object_type="proposal",
        object_id=proposal.id,
        subjects=[candidate.id],
        municipality=candidate.municipality,
    )
