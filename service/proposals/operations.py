"""Proposal use cases: propose an own candidate, list proposals (coach: full; employer: anonymous), record
outcomes.

Business rules: the vacancy must be readable and open, the candidate one of the coach's own and active, one
proposal per (vacancy, candidate). Status moves `proposed → interview → hired | rejected` (also `proposed →
rejected`); anything else is a 409. `hired` marks the candidate `placed` (a change event, so every process's
live match index drops the candidate).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matching.geo import haversine_km
from service.auth.principal import Principal, Role
from service.candidates.repository import CandidateRepository
from service.concurrency import check_version
from service.errors import Conflict, NotFound
from service.matches.operations import candidate_summary
from service.persistence.models import Candidate, Vacancy
from service.proposals.models import TRANSITIONS, Proposal
from service.proposals.repository import ProposalRepository
from service.proposals.schemas import (
    AnonymousCandidate,
    CoachCandidate,
    CoachProposalOut,
    EmployerProposalOut,
    ProposalIn,
    ProposalPatch,
)
from service.vacancies.repository import VacancyRepository

#: Upper bounds (km) of the distance bands an employer sees instead of an address.
DISTANCE_BANDS: tuple[tuple[float, str], ...] = (
    (10.0, "0–10 km"),
    (25.0, "10–25 km"),
    (50.0, "25–50 km"),
    (100.0, "50–100 km"),
)


def distance_band(candidate: Candidate, vacancy: Vacancy) -> str:
    """A coarse distance from the candidate's home to the vacancy (never an address or exact figure)."""
    km = float(haversine_km(candidate.lat, candidate.lon, vacancy.lat, vacancy.lon))
    for upper, label in DISTANCE_BANDS:
        if km < upper:
            return label
    return "> 100 km"


def _labels(concepts: list[Any] | None) -> list[str]:
    return [str(c.get("label", "")) if isinstance(c, dict) else str(c) for c in concepts or ()]


def anonymous_candidate(candidate: Candidate, vacancy: Vacancy) -> AnonymousCandidate:
    """The employer's view of a candidate: an allow-list of profile facts, nothing identifying."""
    return AnonymousCandidate(
        competences=_labels(candidate.competences),
        languages=dict(candidate.languages or {}),
        hours_min=candidate.hours_min,
        hours_max=candidate.hours_max,
        distance_band=distance_band(candidate, vacancy),
        education_level=candidate.education_level,
    )


def employer_view(proposal: Proposal, candidate: Candidate | None, vacancy: Vacancy) -> EmployerProposalOut:
    return EmployerProposalOut(
        id=proposal.id,
        vacancy_id=proposal.vacancy_id,
        status=proposal.status,
        note=proposal.note,
        candidate=anonymous_candidate(candidate, vacancy) if candidate is not None else None,
        version=proposal.version,
        created_at=proposal.created_at,
        updated_at=proposal.updated_at,
    )


def coach_view(proposal: Proposal, candidate: Candidate | None, vacancy: Vacancy) -> CoachProposalOut:
    coach_candidate = None
    if candidate is not None:
        coach_candidate = CoachCandidate(
            **candidate_summary(candidate).model_dump(),
            competences=_labels(candidate.competences),
            languages=dict(candidate.languages or {}),
            distance_band=distance_band(candidate, vacancy),
        )
    return CoachProposalOut(
        id=proposal.id,
        vacancy_id=proposal.vacancy_id,
        candidate_id=proposal.candidate_id,
        municipality=proposal.municipality,
        status=proposal.status,
        note=proposal.note,
        proposed_by=proposal.proposed_by,
        candidate=coach_candidate,
        version=proposal.version,
        created_at=proposal.created_at,
        updated_at=proposal.updated_at,
    )


def view(
    principal: Principal, proposal: Proposal, candidate: Candidate | None, vacancy: Vacancy
) -> CoachProposalOut | EmployerProposalOut:
    """The view the caller's role may see."""
    if principal.role is Role.COACH:
        return coach_view(proposal, candidate, vacancy)
    return employer_view(proposal, candidate, vacancy)


def _readable_vacancy(session: Session, principal: Principal, vacancy_id: uuid.UUID) -> Vacancy:
    vacancy = VacancyRepository(session).get(principal, vacancy_id)
    if vacancy is None:
        raise NotFound()
    return vacancy


def create_proposal(
    session: Session, principal: Principal, vacancy_id: uuid.UUID, data: ProposalIn
) -> tuple[Proposal, Candidate, Vacancy]:
    """A coach proposes an own, active candidate to an open vacancy."""
    vacancy = _readable_vacancy(session, principal, vacancy_id)
    candidate = CandidateRepository(session).get(principal, data.candidate_id)
    if candidate is None:
        raise NotFound()
    if vacancy.status != "open":
        raise Conflict("The vacancy is not open.")
    if candidate.status != "active":
        raise Conflict(f"The candidate is {candidate.status}, not active.")
    repo = ProposalRepository(session)
    if repo.exists(vacancy_id=vacancy.id, candidate_id=candidate.id):
        raise Conflict("This candidate has already been proposed to this vacancy.")
    proposal = Proposal(
        vacancy_id=vacancy.id,
        candidate_id=candidate.id,
        municipality=candidate.municipality,
        proposed_by=principal.key_id,
        note=data.note or None,
        status="proposed",
    )
    try:
        repo.add(proposal)
    except IntegrityError as exc:  # a concurrent proposal of the same pair
        raise Conflict("This candidate has already been proposed to this vacancy.") from exc
    return proposal, candidate, vacancy


def list_proposals(
    session: Session, principal: Principal, vacancy_id: uuid.UUID
) -> tuple[list[CoachProposalOut] | list[EmployerProposalOut], list[Proposal]]:
    """Proposals of a readable vacancy in the caller's view (coach: own municipalities only)."""
    vacancy = _readable_vacancy(session, principal, vacancy_id)
    rows = ProposalRepository(session).list_for_vacancy(principal, vacancy.id)
    if principal.role is Role.COACH:
        return [coach_view(p, c, vacancy) for p, c in rows], [p for p, _ in rows]
    return [employer_view(p, c, vacancy) for p, c in rows], [p for p, _ in rows]


def change_status(
    session: Session,
    principal: Principal,
    proposal_id: uuid.UUID,
    data: ProposalPatch,
    *,
    expected_version: int | None,
) -> tuple[Proposal, Candidate | None, Vacancy]:
    """Move a proposal along `proposed → interview → hired | rejected`; `hired` places the candidate."""
    repo = ProposalRepository(session)
    proposal = repo.get(principal, proposal_id)
    if proposal is None:
        raise NotFound()
    check_version(expected=expected_version, actual=proposal.version)
    vacancy = session.get(Vacancy, proposal.vacancy_id)
    assert vacancy is not None  # the foreign key restricts deleting a proposed vacancy
    candidate = repo.candidate_of(proposal)
    if data.status != proposal.status:
        if data.status not in TRANSITIONS[proposal.status]:
            raise Conflict(f"A proposal cannot move from {proposal.status!r} to {data.status!r}.")
        if data.status == "hired" and candidate is None:
            raise Conflict("The candidate of this proposal has been erased.")
        proposal.status = data.status
        session.flush()
        if data.status == "hired" and candidate is not None:
            repo.mark_placed(candidate)
    return proposal, candidate, vacancy
